//! Certificates for `ic0.data_certificate_copy`, signed by the test subnet
//! of `asset-testkit`. BLS signing costs about a millisecond, so each
//! (canister, certified data, time) is signed once per process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use asset_testkit::TestSubnet;
use ic_certification::hash_tree::HashTree;

fn subnet() -> &'static TestSubnet {
    static SUBNET: OnceLock<TestSubnet> = OnceLock::new();
    SUBNET.get_or_init(TestSubnet::default)
}

/// The subnet's 133-byte DER root key.
pub(crate) fn root_key_der() -> Vec<u8> {
    static KEY: OnceLock<Vec<u8>> = OnceLock::new();
    KEY.get_or_init(|| subnet().root_key_der()).clone()
}

type Key = (Vec<u8>, Vec<u8>, u64);

/// A certificate whose tree holds `/canister/<id>/certified_data` and
/// `/time`.
pub(crate) fn certificate(canister_id: &[u8], certified_data: &[u8], time: u64) -> Arc<Vec<u8>> {
    static CACHE: OnceLock<Mutex<HashMap<Key, Arc<Vec<u8>>>>> = OnceLock::new();
    let key = (canister_id.to_vec(), certified_data.to_vec(), time);
    let cache = CACHE.get_or_init(Default::default);
    if let Some(cert) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return cert.clone();
    }
    let cert = Arc::new(subnet().certificate(canister_id, certified_data, time));
    cache
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key, cert.clone());
    cert
}

/// Signs a state tree as the subnet: the replica endpoint's certificates.
pub(crate) fn sign_tree(tree: HashTree<Vec<u8>>) -> Vec<u8> {
    subnet().sign_tree(tree)
}
