//! Switching in place: a canister running DFINITY's asset canister is
//! upgraded to ours and keeps its whole site; memory we cannot read is
//! never touched.

use std::io::Write;

use asset_server::types::*;
use candid::{Nat, Principal};
use scenarios::backend::principal;
use scenarios::site::{SiteFile, sample_site, site_file, url_of};
use scenarios::{AssetClient, fixture_wasm, select_backend};
use serde_bytes::ByteBuf;
use sha2::{Digest, Sha256};

use super::site_client;

const PREPARER: u8 = 7;
const COMMITTER: u8 = 8;
const MANAGER: u8 = 9;

/// What a user of the old canister can see, to compare after the switch.
#[derive(Debug, PartialEq)]
struct Observed {
    assets: Vec<AssetDetails>,
    properties: Vec<AssetProperties>,
    permitted: Vec<Vec<Principal>>,
}

fn observe(client: &mut AssetClient) -> Observed {
    let mut assets = client.list();
    assets.sort_by(|a, b| a.key.cmp(&b.key));
    for asset in &mut assets {
        asset
            .encodings
            .sort_by(|a, b| a.content_encoding.cmp(&b.content_encoding));
    }
    let properties = assets
        .iter()
        .map(|asset| {
            let ((properties,), _): ((AssetProperties,), _) = client
                .query(
                    Principal::anonymous(),
                    "get_asset_properties",
                    (asset.key.clone(),),
                )
                .expect("get_asset_properties");
            properties
        })
        .collect();
    let permitted = Permission::ALL
        .iter()
        .map(|&permission| {
            // An update in DFINITY's interface, a query in ours: an update
            // call reaches both.
            let ((mut list,), _): ((Vec<Principal>,), _) = client
                .update(
                    Principal::anonymous(),
                    "list_permitted",
                    (ListPermitted { permission },),
                )
                .expect("list_permitted");
            list.sort();
            list
        })
        .collect();
    Observed {
        assets,
        properties,
        permitted,
    }
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(body).unwrap();
    encoder.finish().unwrap()
}

fn sha(body: &[u8]) -> Option<ByteBuf> {
    Some(ByteBuf::from(Sha256::digest(body).to_vec()))
}

/// A page with every property set, and gzip beside identity.
fn page_with_properties() -> SiteFile {
    site_file(
        "/docs/guide.html",
        "text/html",
        "<!doctype html><title>guide</title>".repeat(40),
    )
}

/// Uploads, on the old canister, what the switch must carry over.
fn populate_dfinity_canister(client: &mut AssetClient) -> Vec<SiteFile> {
    let admin = client.controller();
    let mut site = sample_site();
    client
        .upload(admin, &site, 1_900_000)
        .expect("upload the sample site");

    let page = page_with_properties();
    let compressed = gzip(&page.body);
    let batch_id = client.create_batch(admin).unwrap();
    let (gzip_chunk, _) = client.create_chunk(admin, &batch_id, &compressed).unwrap();
    let operations = vec![
        BatchOperationKind::CreateAsset(CreateAssetArguments {
            key: page.key.clone(),
            content_type: page.content_type.clone(),
            max_age: Some(600),
            headers: Some(vec![("x-frame-options".into(), "DENY".into())]),
            enable_aliasing: Some(false),
            allow_raw_access: Some(false),
        }),
        BatchOperationKind::SetAssetContent(SetAssetContentArguments {
            key: page.key.clone(),
            content_encoding: "identity".into(),
            chunk_ids: vec![],
            last_chunk: Some(ByteBuf::from(page.body.clone())),
            sha256: sha(&page.body),
        }),
        BatchOperationKind::SetAssetContent(SetAssetContentArguments {
            key: page.key.clone(),
            content_encoding: "gzip".into(),
            chunk_ids: vec![gzip_chunk],
            last_chunk: None,
            sha256: sha(&compressed),
        }),
    ];
    client
        .commit_batch(
            admin,
            CommitBatchArguments {
                batch_id,
                operations,
            },
        )
        .expect("commit the page with properties");
    site.push(page);

    for (who, permission) in [
        (PREPARER, Permission::Prepare),
        (COMMITTER, Permission::Commit),
        (MANAGER, Permission::ManagePermissions),
    ] {
        let grant = GrantPermission {
            to_principal: principal(who),
            permission,
        };
        client
            .update::<_, ()>(admin, "grant_permission", (grant,))
            .expect("grant_permission");
    }
    // A batch left in flight: the switch drops it.
    let in_flight = client.create_batch(admin).unwrap();
    client
        .create_chunk(admin, &in_flight, b"never committed")
        .unwrap();
    site
}

fn switch_in_place(wasm: &[u8], cbor: bool) {
    let reference = fixture_wasm("reference_asset_canister");
    let mut client = AssetClient::install(select_backend(), reference);
    let site = populate_dfinity_canister(&mut client);
    let before = observe(&mut client);
    if cbor {
        client
            .update::<_, ()>(client.controller(), "save_state_as_cbor", ())
            .expect("choose the CBOR form");
    }

    let no_argument = candid::encode_one(None::<AssetCanisterArgs>).unwrap();
    let instructions = client
        .backend
        .upgrade(wasm, no_argument)
        .expect("upgrade DFINITY's asset canister to ours");
    client.wasm = wasm.to_vec();
    if let Some(instructions) = instructions {
        let bytes: u64 = site.iter().map(|f| f.body.len() as u64).sum();
        println!(
            "  measured: import of {} assets ({bytes} bytes, {} form): {instructions} instructions",
            site.len(),
            if cbor { "CBOR" } else { "candid" }
        );
    }

    assert_eq!(
        observe(&mut client),
        before,
        "list, properties and permissions carry over"
    );
    client.assert_all_verify(&site);

    // Same URLs, same headers, and the gzip encoding is served and verifies.
    let page = page_with_properties();
    let request = client
        .gateway_request(&url_of(&page.key))
        .with_header("accept-encoding", "gzip");
    let response = client.fetch(&request).unwrap();
    client.verify(&request, &response).expect("gzip verifies");
    assert_eq!(response.header("content-encoding"), Some("gzip"));
    assert_eq!(response.header("x-frame-options"), Some("DENY"));
    assert_eq!(response.header("cache-control"), Some("max-age=600"));
    assert!(
        !client.verifies_with_body("/docs/guide", &page.body),
        "aliasing stays off where it was off"
    );

    // The permissions work, not only list: Commit commits, Prepare does not.
    let committer = principal(COMMITTER);
    let after = site_file(
        "/after-switch.txt",
        "text/plain",
        "committed by a Commit holder",
    );
    client
        .upload(committer, std::slice::from_ref(&after), 1_900_000)
        .expect("a Commit holder commits after the switch");
    assert_eq!(client.fetch_verified("/after-switch.txt").body, after.body);
    let preparer = principal(PREPARER);
    let batch_id = client
        .create_batch(preparer)
        .expect("Prepare creates batches");
    let commit = CommitBatchArguments {
        batch_id,
        operations: vec![],
    };
    assert!(client.commit_batch(preparer, commit).is_err());
    // Batch ids continue after the old canister's: none is handed out twice.
    let fresh: Nat = client.create_batch(client.controller()).unwrap();
    assert!(fresh >= 3u8, "batch id {fresh} reused an old one");
}

pub fn a_dfinity_asset_canister_switches_in_place_and_every_file_verifies(wasm: &[u8]) {
    switch_in_place(wasm, false);
}

pub fn a_dfinity_canister_saved_as_cbor_switches_in_place(wasm: &[u8]) {
    switch_in_place(wasm, true);
}

pub fn unknown_stable_memory_is_refused_and_left_untouched(wasm: &[u8]) {
    let probe = fixture_wasm("host_probe");
    let mut client = AssetClient {
        backend: select_backend(),
        wasm: probe.clone(),
    };
    client
        .backend
        .install(&probe, candid::encode_one(None::<u64>).unwrap())
        .expect("install another canister");
    let bytes: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let admin = client.controller();
    client
        .update::<_, ()>(admin, "stable_put", (8u64, bytes.clone()))
        .unwrap();

    let error = client
        .backend
        .upgrade(wasm, candid::encode_one(None::<AssetCanisterArgs>).unwrap())
        .expect_err("an upgrade over memory we cannot read must fail");
    assert!(
        error.contains("upgrade refused") && error.contains("Nothing was changed"),
        "{error}"
    );
    let ((kept,), _): ((Vec<u8>,), _) = client
        .query(admin, "stable_get", (8u64, bytes.len() as u64))
        .expect("the old canister still runs");
    assert!(kept == bytes, "stable memory changed");
}

pub fn a_downgrade_to_dfinity_asset_canister_fails_and_keeps_the_site(wasm: &[u8]) {
    let mut client = site_client(wasm);
    let before = client.list();
    let reference = fixture_wasm("reference_asset_canister");
    let no_argument = candid::encode_one(None::<AssetCanisterArgs>).unwrap();
    client
        .backend
        .upgrade(&reference, no_argument)
        .expect_err("DFINITY's canister cannot read our stores");
    assert_eq!(client.list(), before);
    client.assert_all_verify(&sample_site());
}
