use asset_server::types::*;
use scenarios::AssetClient;
use scenarios::site::{sample_site, site_file};
use serde_bytes::ByteBuf;

use super::site_client;

fn call(client: &mut AssetClient, method: &str, arg: impl candid::CandidType) {
    let admin = client.controller();
    client
        .update::<_, ()>(admin, method, (arg,))
        .unwrap_or_else(|e| panic!("{method}: {e}"));
}

pub fn overwrite_delete_and_clear_leave_nothing_stale(wasm: &[u8]) {
    let mut client = site_client(wasm);
    let admin = client.controller();
    let old_js = sample_site()[2].body.clone();
    client
        .upload(
            admin,
            &[site_file("/app.js", "text/javascript", "v2()")],
            1_900_000,
        )
        .unwrap();
    assert_eq!(client.fetch_verified("/app.js").body, b"v2()");
    assert!(
        !client.verifies_with_body("/app.js", &old_js),
        "the old body must not verify"
    );

    call(
        &mut client,
        "delete_asset",
        DeleteAssetArguments {
            key: "/app.css".into(),
        },
    );
    assert!(!client.verifies_with_body("/app.css", b"body { color: teal }"));
    assert_eq!(
        client.fetch_verified("/app.css").body,
        sample_site()[0].body,
        "falls back to the index page"
    );

    call(&mut client, "clear", ClearArguments {});
    assert!(client.list().is_empty());
    for file in sample_site() {
        let url = scenarios::site::url_of(&file.key);
        assert!(
            !client.verifies_with_body(&url, &file.body),
            "{url} still verifies after clear"
        );
    }
}

pub fn every_write_method_certifies_its_change(wasm: &[u8]) {
    let mut client = site_client(wasm);
    let store = |key: &str, body: &[u8]| StoreArguments {
        key: key.into(),
        content_type: "text/plain".into(),
        content_encoding: "identity".into(),
        content: ByteBuf::from(body.to_vec()),
        sha256: None,
    };
    call(&mut client, "store", store("/stored.txt", b"stored"));
    assert_eq!(client.fetch_verified("/stored.txt").body, b"stored");

    call(
        &mut client,
        "create_asset",
        CreateAssetArguments {
            key: "/direct.html".into(),
            content_type: "text/html".into(),
            max_age: Some(60),
            headers: None,
            enable_aliasing: None,
            allow_raw_access: None,
        },
    );
    call(
        &mut client,
        "set_asset_content",
        SetAssetContentArguments {
            key: "/direct.html".into(),
            content_encoding: "identity".into(),
            chunk_ids: vec![],
            last_chunk: Some(ByteBuf::from(b"direct".to_vec())),
            sha256: None,
        },
    );
    let response = client.fetch_verified("/direct");
    assert_eq!(response.body, b"direct");
    assert_eq!(response.header("cache-control"), Some("max-age=60"));

    call(
        &mut client,
        "set_asset_properties",
        SetAssetPropertiesArguments {
            key: "/direct.html".into(),
            max_age: None,
            headers: None,
            allow_raw_access: None,
            is_aliased: Some(Some(false)),
        },
    );
    assert_eq!(
        client.fetch_verified("/direct").body,
        sample_site()[0].body,
        "alias gone, fallback verifies"
    );

    call(
        &mut client,
        "unset_asset_content",
        UnsetAssetContentArguments {
            key: "/stored.txt".into(),
            content_encoding: "identity".into(),
        },
    );
    assert!(!client.verifies_with_body("/stored.txt", b"stored"));
    assert_eq!(
        client.fetch_verified("/stored.txt").body,
        sample_site()[0].body
    );
}

pub fn a_thousand_small_assets_commit_in_one_message(wasm: &[u8]) {
    let mut client = site_client(wasm);
    let admin = client.controller();
    let batch_id = client.create_batch(admin).unwrap();
    let mut operations = Vec::new();
    for i in 0..1000 {
        let key = format!("/many/{i}.txt");
        operations.push(BatchOperationKind::CreateAsset(CreateAssetArguments {
            key: key.clone(),
            content_type: "text/plain".into(),
            max_age: None,
            headers: None,
            enable_aliasing: None,
            allow_raw_access: None,
        }));
        operations.push(BatchOperationKind::SetAssetContent(
            SetAssetContentArguments {
                key,
                content_encoding: "identity".into(),
                chunk_ids: vec![],
                last_chunk: Some(ByteBuf::from(format!("small file {i}").into_bytes())),
                sha256: None,
            },
        ));
    }
    let instructions = client
        .commit_batch(
            admin,
            CommitBatchArguments {
                batch_id,
                operations,
            },
        )
        .expect("one commit");
    if let Some(instructions) = instructions {
        println!("  measured: commit of 1,000 small assets: {instructions} instructions");
    }
    for i in [0, 500, 999] {
        assert_eq!(
            client.fetch_verified(&format!("/many/{i}.txt")).body,
            format!("small file {i}").as_bytes()
        );
    }
    let wasm = client.wasm.clone();
    if let Some(instructions) = client
        .backend
        .upgrade(
            &wasm,
            candid::encode_one(None::<AssetCanisterArgs>).unwrap(),
        )
        .unwrap()
    {
        println!("  measured: upgrade with 1,008 assets: {instructions} instructions");
    }
    assert_eq!(
        client.fetch_verified("/many/999.txt").body,
        b"small file 999"
    );
}
