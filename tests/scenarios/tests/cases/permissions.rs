use asset_server::types::*;
use candid::Principal;
use scenarios::backend::principal;
use scenarios::site::{sample_site, site_file};

use super::site_client;

pub fn anonymous_and_unpermitted_callers_cannot_write(wasm: &[u8]) {
    let mut client = site_client(wasm);
    let admin = client.controller();
    let batch_id = client.create_batch(admin).unwrap();
    for caller in [Principal::anonymous(), principal(42)] {
        assert!(client.create_batch(caller).is_err());
        assert!(client.create_chunk(caller, &batch_id, b"x").is_err());
        let delete = CommitBatchArguments {
            batch_id: batch_id.clone(),
            operations: vec![BatchOperationKind::DeleteAsset(DeleteAssetArguments {
                key: "/index.html".into(),
            })],
        };
        assert!(client.commit_batch(caller, delete).is_err());
        let store = StoreArguments {
            key: "/index.html".into(),
            content_type: "text/html".into(),
            content_encoding: "identity".into(),
            content: serde_bytes::ByteBuf::from(b"defaced".to_vec()),
            sha256: None,
        };
        assert!(client.update::<_, ()>(caller, "store", (store,)).is_err());
        assert!(
            client
                .update::<_, ()>(caller, "clear", (ClearArguments {},))
                .is_err()
        );
        assert!(
            client
                .update::<_, ()>(
                    caller,
                    "delete_asset",
                    (DeleteAssetArguments {
                        key: "/app.js".into()
                    },)
                )
                .is_err()
        );
        assert!(
            client
                .update::<_, ()>(caller, "authorize", (caller,))
                .is_err()
        );
        assert!(
            client
                .update::<_, ()>(
                    caller,
                    "grant_permission",
                    (GrantPermission {
                        to_principal: caller,
                        permission: Permission::Commit
                    },)
                )
                .is_err()
        );
        assert!(
            client
                .update::<_, ()>(caller, "take_ownership", ())
                .is_err()
        );
        // Every file still verifies after each refused call.
        client.assert_all_verify(&sample_site());
    }
}

pub fn permissions_granted_through_the_api_work(wasm: &[u8]) {
    let mut client = site_client(wasm);
    let admin = client.controller();
    let uploader = principal(7);
    assert!(
        client
            .upload(
                uploader,
                &[site_file("/new.txt", "text/plain", "new")],
                1000
            )
            .is_err()
    );
    client
        .update::<_, ()>(admin, "authorize", (uploader,))
        .unwrap();
    let ((listed,), _): ((Vec<Principal>,), _) =
        client.update(admin, "list_authorized", ()).unwrap();
    assert!(listed.contains(&uploader));
    client
        .upload(
            uploader,
            &[site_file("/new.txt", "text/plain", "new")],
            1000,
        )
        .unwrap();
    assert_eq!(client.fetch_verified("/new.txt").body, b"new");

    client
        .update::<_, ()>(admin, "deauthorize", (uploader,))
        .unwrap();
    assert!(
        client
            .upload(
                uploader,
                &[site_file("/newer.txt", "text/plain", "x")],
                1000
            )
            .is_err()
    );

    let preparer = principal(8);
    let grant = GrantPermission {
        to_principal: preparer,
        permission: Permission::Prepare,
    };
    client
        .update::<_, ()>(admin, "grant_permission", (grant,))
        .unwrap();
    let batch_id = client.create_batch(preparer).unwrap();
    client
        .create_chunk(preparer, &batch_id, b"prepared")
        .unwrap();
    assert!(
        client
            .commit_batch(
                preparer,
                CommitBatchArguments {
                    batch_id,
                    operations: vec![]
                }
            )
            .is_err()
    );
    client.assert_all_verify(&sample_site());
}
