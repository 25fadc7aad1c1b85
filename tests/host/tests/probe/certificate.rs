//! The certificate a query obtains verifies and certifies what the update
//! set.

use ic_cbor::CertificateToCbor;
use ic_certificate_verification::VerifyCertificate;
use ic_certification::{Certificate, hash_tree::LookupResult};

use crate::common::*;

#[test]
fn query_certificate_verifies_and_holds_the_certified_data() {
    let mut host = installed(0);
    let data = [0x42u8; 32];
    update::<_, ()>(&mut host, "set_certified", (data.to_vec(),)).unwrap();
    let (cert,) = query::<_, (Option<Vec<u8>>,)>(&mut host, "certificate", ()).unwrap();
    let cert = Certificate::from_cbor(&cert.expect("a certificate in a query")).unwrap();

    let id = host.canister_id();
    let now = host.time() as u128;
    cert.verify(
        id.as_slice(),
        &host.root_key_der(),
        &now,
        &(300 * 1_000_000_000),
    )
    .expect("the certificate verifies against the host's root key");

    let path: [&[u8]; 3] = [b"canister", id.as_slice(), b"certified_data"];
    match cert.tree.lookup_path(path) {
        LookupResult::Found(leaf) => assert_eq!(leaf, data),
        other => panic!("no certified_data leaf: {other:?}"),
    }
    let mut time = Vec::new();
    let mut t = host.time();
    loop {
        let byte = (t & 0x7f) as u8;
        t >>= 7;
        if t == 0 {
            time.push(byte);
            break;
        }
        time.push(byte | 0x80);
    }
    assert_eq!(cert.tree.lookup_path([b"time"]), LookupResult::Found(&time));
    assert_eq!(host.root_key_der().len(), 133);
}

#[test]
fn a_wrong_root_key_fails_verification() {
    let mut host = installed(0);
    let (cert,) = query::<_, (Option<Vec<u8>>,)>(&mut host, "certificate", ()).unwrap();
    let cert = Certificate::from_cbor(&cert.unwrap()).unwrap();
    let other = asset_testkit::TestSubnet::new(b"another subnet").root_key_der();
    let now = host.time() as u128;
    assert!(
        cert.verify(
            host.canister_id().as_slice(),
            &other,
            &now,
            &(300 * 1_000_000_000)
        )
        .is_err()
    );
}
