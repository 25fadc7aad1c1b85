use asset_server::types::*;
use scenarios::site::{sample_site, site_file};
use serde_bytes::ByteBuf;

use super::site_client;

pub fn upgrade_keeps_every_asset_its_certificate_and_a_batch_in_flight(wasm: &[u8]) {
    let mut client = site_client(wasm);
    let admin = client.controller();
    let listing = client.list();
    let batch_id = client.create_batch(admin).unwrap();
    let (chunk_id, _) = client
        .create_chunk(admin, &batch_id, b"uploaded before the upgrade")
        .unwrap();

    let arg = candid::encode_one(Some(AssetCanisterArgs::Upgrade(UpgradeArgs {
        set_permissions: None,
    })))
    .unwrap();
    let wasm = client.wasm.clone();
    let instructions = client.backend.upgrade(&wasm, arg).expect("upgrade");
    if let Some(instructions) = instructions {
        println!(
            "  measured: upgrade with {} assets: {instructions} instructions",
            listing.len()
        );
    }
    // The host shows the log: the tree came back from pre_upgrade's
    // snapshot instead of being hashed again, and still verifies below.
    let log = client.backend.take_debug_log();
    if !log.is_empty() {
        assert!(
            log.iter()
                .any(|line| line.contains("restored from the snapshot")),
            "{log:?}"
        );
    }
    assert_eq!(client.list(), listing, "every asset survives");
    client.assert_all_verify(&sample_site());

    let operations = vec![
        BatchOperationKind::CreateAsset(CreateAssetArguments {
            key: "/after.txt".into(),
            content_type: "text/plain".into(),
            max_age: None,
            headers: None,
            enable_aliasing: None,
            allow_raw_access: None,
        }),
        BatchOperationKind::SetAssetContent(SetAssetContentArguments {
            key: "/after.txt".into(),
            content_encoding: "identity".into(),
            chunk_ids: vec![chunk_id],
            last_chunk: None,
            sha256: None,
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
        .expect("finish the batch after the upgrade");
    assert_eq!(
        client.fetch_verified("/after.txt").body,
        b"uploaded before the upgrade"
    );
}

pub fn a_call_that_traps_halfway_changes_nothing(wasm: &[u8]) {
    let mut client = site_client(wasm);
    let admin = client.controller();
    let listing = client.list();
    let batch_id = client.create_batch(admin).unwrap();
    let (good, _) = client.create_chunk(admin, &batch_id, b"good").unwrap();
    let (bad, _) = client.create_chunk(admin, &batch_id, b"bad").unwrap();
    // The commit deletes and replaces files, then hits a wrong sha256 on
    // its last operation and traps: none of it may stay.
    let operations = vec![
        BatchOperationKind::DeleteAsset(DeleteAssetArguments {
            key: "/app.css".into(),
        }),
        BatchOperationKind::SetAssetContent(SetAssetContentArguments {
            key: "/index.html".into(),
            content_encoding: "identity".into(),
            chunk_ids: vec![good],
            last_chunk: None,
            sha256: None,
        }),
        BatchOperationKind::SetAssetContent(SetAssetContentArguments {
            key: "/app.js".into(),
            content_encoding: "identity".into(),
            chunk_ids: vec![bad],
            last_chunk: None,
            sha256: Some(ByteBuf::from(vec![0; 32])),
        }),
    ];
    let error = client
        .commit_batch(
            admin,
            CommitBatchArguments {
                batch_id,
                operations,
            },
        )
        .unwrap_err();
    assert!(error.contains("sha256 mismatch"), "{error}");
    assert_eq!(client.list(), listing);
    client.assert_all_verify(&sample_site());

    // An oversize upload is refused as a whole too.
    let result = client.upload(
        admin,
        &[site_file(
            "/huge.bin",
            "application/octet-stream",
            vec![0; 2_200_000],
        )],
        2_200_000,
    );
    assert!(result.is_err(), "a chunk over 2 MiB cannot be uploaded");
    assert_eq!(client.list(), listing);
}

pub fn an_idle_batch_expires_after_five_minutes(wasm: &[u8]) {
    let mut client = site_client(wasm);
    let admin = client.controller();
    let start = client.backend.time_ns();
    let batch_id = client.create_batch(admin).unwrap();
    let (chunk_id, _) = client.create_chunk(admin, &batch_id, b"too late").unwrap();
    client
        .backend
        .advance_time(std::time::Duration::from_secs(4 * 60));
    client
        .create_chunk(admin, &batch_id, b"keeps it alive")
        .unwrap();
    client.backend.set_time_ns(start + 10 * 60 * 1_000_000_000);
    let operations = vec![BatchOperationKind::SetAssetContent(
        SetAssetContentArguments {
            key: "/index.html".into(),
            content_encoding: "identity".into(),
            chunk_ids: vec![chunk_id],
            last_chunk: None,
            sha256: None,
        },
    )];
    let error = client
        .commit_batch(
            admin,
            CommitBatchArguments {
                batch_id,
                operations,
            },
        )
        .unwrap_err();
    assert!(error.contains("expired"), "{error}");
    // Certificates follow the clock, and everything still verifies.
    client.assert_all_verify(&sample_site());
}
