//! The reference clients' candid types (DFINITY's `ic-certified-assets`
//! 0.3.0, whose types `dfx` and `icx-asset` share) encode arguments our
//! canister accepts.

use candid::Nat;
use ic_certified_assets::types as reference;
use scenarios::AssetClient;
use scenarios::select_backend;
use serde_bytes::ByteBuf;
use sha2::{Digest, Sha256};

pub fn reference_client_types_are_accepted(wasm: &[u8]) {
    let mut client = AssetClient::install(select_backend(), wasm.to_vec());
    let admin = client.controller();
    let ((batch,), _): ((reference::CreateBatchResponse,), _) = client
        .update(admin, "create_batch", (reference::ClearArguments {},))
        .unwrap();
    let chunk = reference::CreateChunkArg {
        batch_id: batch.batch_id.clone(),
        content: ByteBuf::from(b"ref ".to_vec()),
    };
    let ((chunk,), _): ((reference::CreateChunkResponse,), _) =
        client.update(admin, "create_chunk", (chunk,)).unwrap();
    let body = b"ref body".to_vec();
    let headers = std::collections::HashMap::from([("x-ref".to_string(), "1".to_string())]);
    let commit = reference::CommitBatchArguments {
        batch_id: batch.batch_id,
        operations: vec![
            reference::BatchOperation::CreateAsset(reference::CreateAssetArguments {
                key: "/ref.html".into(),
                content_type: "text/html".into(),
                max_age: Some(5),
                headers: Some(headers),
                enable_aliasing: Some(true),
                allow_raw_access: Some(false),
            }),
            reference::BatchOperation::SetAssetContent(reference::SetAssetContentArguments {
                key: "/ref.html".into(),
                content_encoding: "identity".into(),
                chunk_ids: vec![chunk.chunk_id],
                last_chunk: Some(ByteBuf::from(b"body".to_vec())),
                sha256: Some(ByteBuf::from(Sha256::digest(&body).to_vec())),
            }),
            reference::BatchOperation::SetAssetProperties(reference::SetAssetPropertiesArguments {
                key: "/ref.html".into(),
                max_age: Some(Some(7)),
                headers: None,
                allow_raw_access: None,
                is_aliased: None,
            }),
        ],
    };
    client
        .update::<_, ()>(admin, "commit_batch", (commit,))
        .expect("reference commit accepted");
    let response = client.fetch_verified("/ref");
    assert_eq!(response.body, body);
    assert_eq!(response.header("cache-control"), Some("max-age=7"));
    assert_eq!(response.header("x-ref"), Some("1"));

    let grant = reference::GrantPermissionArguments {
        to_principal: scenarios::backend::principal(3),
        permission: reference::Permission::Prepare,
    };
    client
        .update::<_, ()>(admin, "grant_permission", (grant,))
        .expect("reference grant accepted");
    let list = reference::ListPermittedArguments {
        permission: reference::Permission::Prepare,
    };
    let ((permitted,), _): ((Vec<candid::Principal>,), _) =
        client.update(admin, "list_permitted", (list,)).unwrap();
    assert!(permitted.contains(&scenarios::backend::principal(3)));

    let ((version,), _): ((u16,), _) = client.query(admin, "api_version", ()).unwrap();
    assert_eq!(version, 2);
    let _ = Nat::from(0u8);
}
