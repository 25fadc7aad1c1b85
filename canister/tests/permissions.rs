//! Who may write. Every refused call changes nothing: the certified root,
//! the listing and the permission lists stay as they were.

mod support;

use asset_server::AssetServer;
use asset_server::access::Caller;
use asset_server::error::AssetError;
use asset_server::types::*;
use candid::Principal;
use ic_stable_structures::VectorMemory;
use serde_bytes::ByteBuf;
use support::*;

type Call = Box<dyn Fn(&mut AssetServer<VectorMemory>, Caller, u64) -> Result<(), AssetError>>;

/// Every method that writes, called with valid arguments.
fn write_methods(batch: u64) -> Vec<(&'static str, Call)> {
    let op = |operation: BatchOperationKind| -> Call {
        Box::new(move |s, c, now| s.apply_operation(c, now, operation.clone()))
    };
    vec![
        (
            "create_batch",
            Box::new(|s, c, now| s.create_batch(c, now).map(drop)),
        ),
        (
            "create_chunk",
            Box::new(move |s, c, now| {
                s.create_chunk(
                    c,
                    now,
                    CreateChunkArguments {
                        batch_id: nat(batch),
                        content: ByteBuf::from(vec![1]),
                    },
                )
                .map(drop)
            }),
        ),
        (
            "create_chunks",
            Box::new(move |s, c, now| {
                s.create_chunks(
                    c,
                    now,
                    CreateChunksArguments {
                        batch_id: nat(batch),
                        content: vec![ByteBuf::from(vec![1])],
                    },
                )
                .map(drop)
            }),
        ),
        (
            "commit_batch",
            Box::new(move |s, c, now| {
                s.commit_batch(
                    c,
                    now,
                    CommitBatchArguments {
                        batch_id: nat(batch),
                        operations: vec![BatchOperationKind::DeleteAsset(DeleteAssetArguments {
                            key: "/app.js".into(),
                        })],
                    },
                )
            }),
        ),
        (
            "delete_batch",
            Box::new(move |s, c, _| {
                s.delete_batch(
                    c,
                    DeleteBatchArguments {
                        batch_id: nat(batch),
                    },
                )
            }),
        ),
        (
            "store",
            Box::new(|s, c, now| {
                s.store(
                    c,
                    now,
                    StoreArguments {
                        key: "/index.html".into(),
                        content_type: "text/html".into(),
                        content_encoding: "identity".into(),
                        content: ByteBuf::from(b"defaced".to_vec()),
                        sha256: None,
                    },
                )
            }),
        ),
        (
            "create_asset",
            op(BatchOperationKind::CreateAsset(CreateAssetArguments {
                key: "/new".into(),
                content_type: "text/plain".into(),
                max_age: None,
                headers: None,
                enable_aliasing: None,
                allow_raw_access: None,
            })),
        ),
        (
            "set_asset_content",
            op(BatchOperationKind::SetAssetContent(
                SetAssetContentArguments {
                    key: "/index.html".into(),
                    content_encoding: "identity".into(),
                    chunk_ids: vec![],
                    last_chunk: Some(ByteBuf::from(b"defaced".to_vec())),
                    sha256: None,
                },
            )),
        ),
        (
            "unset_asset_content",
            op(BatchOperationKind::UnsetAssetContent(
                UnsetAssetContentArguments {
                    key: "/index.html".into(),
                    content_encoding: "identity".into(),
                },
            )),
        ),
        (
            "delete_asset",
            op(BatchOperationKind::DeleteAsset(DeleteAssetArguments {
                key: "/index.html".into(),
            })),
        ),
        ("clear", op(BatchOperationKind::Clear(ClearArguments {}))),
        (
            "set_asset_properties",
            op(BatchOperationKind::SetAssetProperties(
                SetAssetPropertiesArguments {
                    key: "/index.html".into(),
                    max_age: Some(Some(1)),
                    headers: None,
                    allow_raw_access: None,
                    is_aliased: Some(Some(false)),
                },
            )),
        ),
        (
            "authorize / grant_permission",
            Box::new(|s, c, _| {
                s.grant_permission(
                    c,
                    GrantPermission {
                        to_principal: principal(77),
                        permission: Permission::Commit,
                    },
                )
            }),
        ),
        (
            "deauthorize / revoke_permission",
            Box::new(|s, c, _| {
                s.revoke_permission(
                    c,
                    RevokePermission {
                        of_principal: principal(1),
                        permission: Permission::Commit,
                    },
                )
            }),
        ),
        ("take_ownership", Box::new(|s, c, _| s.take_ownership(c))),
    ]
}

fn snapshot(h: &Harness) -> ([u8; 32], Vec<AssetDetails>, Vec<Vec<Principal>>, u64) {
    let permissions = Permission::ALL
        .iter()
        .map(|p| h.server.list_permitted(*p))
        .collect();
    (
        h.certified_data,
        h.server.list(),
        permissions,
        h.server.stored_chunk_count(),
    )
}

fn site_with_batch() -> (Harness, u64) {
    let mut h = Harness::new();
    h.upload(&sample_site(), 1_900_000);
    let admin = h.admin();
    let batch = h
        .write(admin, |s, c, now| s.create_batch(c, now))
        .unwrap()
        .batch_id;
    let batch = u64::try_from(batch.0).unwrap();
    (h, batch)
}

#[test]
fn anonymous_callers_cannot_write_anything() {
    let (mut h, batch) = site_with_batch();
    // Even a controller-flagged anonymous caller is refused.
    for caller in [
        Caller::user(Principal::anonymous()),
        Caller::controller(Principal::anonymous()),
    ] {
        for (name, call) in write_methods(batch) {
            let before = snapshot(&h);
            let error = h
                .write(caller, |s, c, now| call(s, c, now))
                .expect_err(name);
            assert!(
                matches!(
                    error,
                    AssetError::AnonymousCaller | AssetError::NotController { .. }
                ),
                "{name}: {error}"
            );
            assert_eq!(snapshot(&h), before, "{name} changed something");
        }
    }
    h.get_verified("/index.html");
}

#[test]
fn unpermitted_callers_cannot_write_anything() {
    let (mut h, batch) = site_with_batch();
    let stranger = Caller::user(principal(42));
    for (name, call) in write_methods(batch) {
        let before = snapshot(&h);
        let error = h
            .write(stranger, |s, c, now| call(s, c, now))
            .expect_err(name);
        assert!(
            error.to_string().contains("does not have")
                || error.to_string().contains("not a controller"),
            "{name}: {error}"
        );
        assert_eq!(snapshot(&h), before, "{name} changed something");
    }
    assert_eq!(
        h.get_verified("/index.html").body,
        b"<!doctype html><h1>home</h1>"
    );
}

#[test]
fn controllers_may_call_every_write_method() {
    for (index, (name, _)) in write_methods(0).into_iter().enumerate() {
        let (mut h, batch) = site_with_batch();
        let call = &write_methods(batch)[index].1;
        let other_controller = Caller::controller(principal(9));
        h.write(other_controller, |s, c, now| call(s, c, now))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn prepare_may_upload_but_not_commit() {
    let (mut h, _) = site_with_batch();
    let admin = h.admin();
    let preparer = Caller::user(principal(5));
    h.write(admin, |s, c, _| {
        s.grant_permission(
            c,
            GrantPermission {
                to_principal: preparer.principal,
                permission: Permission::Prepare,
            },
        )
    })
    .unwrap();
    let batch = h
        .write(preparer, |s, c, now| s.create_batch(c, now))
        .unwrap()
        .batch_id;
    h.write(preparer, |s, c, now| {
        s.create_chunk(
            c,
            now,
            CreateChunkArguments {
                batch_id: batch.clone(),
                content: ByteBuf::from(vec![1]),
            },
        )
    })
    .unwrap();
    let error = h
        .write(preparer, |s, c, now| {
            s.commit_batch(
                c,
                now,
                CommitBatchArguments {
                    batch_id: batch.clone(),
                    operations: vec![],
                },
            )
        })
        .unwrap_err();
    assert_eq!(
        error,
        AssetError::NotPermitted {
            caller: preparer.principal,
            needs: Permission::Commit
        }
    );
    // The installer, a controller here, commits what was prepared.
    h.write(admin, |s, c, now| {
        s.commit_batch(
            c,
            now,
            CommitBatchArguments {
                batch_id: batch,
                operations: vec![],
            },
        )
    })
    .unwrap();
}

#[test]
fn commit_may_upload_and_commit_but_not_manage_permissions() {
    let mut h = Harness::new();
    let admin = h.admin();
    let committer = Caller::user(principal(6));
    h.write(admin, |s, c, _| {
        s.grant_permission(
            c,
            GrantPermission {
                to_principal: committer.principal,
                permission: Permission::Commit,
            },
        )
    })
    .unwrap();
    h.upload_as(committer, &sample_site(), 1_900_000, "identity")
        .unwrap();
    h.get_verified("/app.css");
    let error = h
        .write(committer, |s, c, _| {
            s.grant_permission(
                c,
                GrantPermission {
                    to_principal: principal(7),
                    permission: Permission::Commit,
                },
            )
        })
        .unwrap_err();
    assert_eq!(
        error,
        AssetError::NotPermitted {
            caller: committer.principal,
            needs: Permission::ManagePermissions
        }
    );
    // Anyone may give up their own permission.
    h.write(committer, |s, c, _| {
        s.revoke_permission(
            c,
            RevokePermission {
                of_principal: c.principal,
                permission: Permission::Commit,
            },
        )
    })
    .unwrap();
    assert!(
        h.upload_as(committer, &sample_site(), 1_900_000, "identity")
            .is_err()
    );
}

#[test]
fn manage_permissions_may_grant_and_revoke() {
    let mut h = Harness::new();
    let admin = h.admin();
    let manager = Caller::user(principal(8));
    h.write(admin, |s, c, _| {
        s.grant_permission(
            c,
            GrantPermission {
                to_principal: manager.principal,
                permission: Permission::ManagePermissions,
            },
        )
    })
    .unwrap();
    h.write(manager, |s, c, _| {
        s.grant_permission(
            c,
            GrantPermission {
                to_principal: principal(9),
                permission: Permission::Commit,
            },
        )
    })
    .unwrap();
    assert!(
        h.server
            .list_permitted(Permission::Commit)
            .contains(&principal(9))
    );
    h.write(manager, |s, c, _| {
        s.revoke_permission(
            c,
            RevokePermission {
                of_principal: principal(9),
                permission: Permission::Commit,
            },
        )
    })
    .unwrap();
    assert!(
        !h.server
            .list_permitted(Permission::Commit)
            .contains(&principal(9))
    );
    // A manager cannot write assets by itself.
    assert!(
        h.upload_as(manager, &sample_site(), 1_900_000, "identity")
            .is_err()
    );
}

#[test]
fn the_anonymous_principal_cannot_be_granted_anything() {
    let mut h = Harness::new();
    let admin = h.admin();
    let error = h
        .write(admin, |s, c, _| {
            s.grant_permission(
                c,
                GrantPermission {
                    to_principal: Principal::anonymous(),
                    permission: Permission::Commit,
                },
            )
        })
        .unwrap_err();
    assert_eq!(error, AssetError::CannotGrantToAnonymous);
}

#[test]
fn the_installer_gets_every_permission_and_init_arguments_can_set_the_lists() {
    let h = Harness::new();
    for permission in Permission::ALL {
        assert_eq!(
            h.server.list_permitted(permission),
            vec![h.controller],
            "{permission}"
        );
    }
    let mut server = AssetServer::create(VectorMemory::default());
    let installer = principal(1);
    let lists = SetPermissions {
        prepare: vec![principal(2)],
        commit: vec![principal(3)],
        manage_permissions: vec![],
    };
    server
        .install(
            installer,
            Some(AssetCanisterArgs::Init(InitArgs {
                set_permissions: Some(lists),
            })),
        )
        .unwrap();
    assert_eq!(
        server.list_permitted(Permission::Prepare),
        vec![principal(2)]
    );
    assert_eq!(
        server.list_permitted(Permission::Commit),
        vec![principal(3)]
    );
    assert!(
        server
            .list_permitted(Permission::ManagePermissions)
            .is_empty()
    );
    assert!(
        server
            .install(
                installer,
                Some(AssetCanisterArgs::Upgrade(UpgradeArgs::default()))
            )
            .is_err()
    );
    assert!(
        server
            .upgrade(Some(AssetCanisterArgs::Init(InitArgs::default())))
            .is_err()
    );
}

#[test]
fn take_ownership_leaves_only_the_controller() {
    let mut h = Harness::new();
    let admin = h.admin();
    h.write(admin, |s, c, _| {
        s.grant_permission(
            c,
            GrantPermission {
                to_principal: principal(3),
                permission: Permission::Prepare,
            },
        )
    })
    .unwrap();
    let new_owner = Caller::controller(principal(4));
    h.write(new_owner, |s, c, _| s.take_ownership(c)).unwrap();
    assert_eq!(
        h.server.list_permitted(Permission::Commit),
        vec![principal(4)]
    );
    assert!(h.server.list_permitted(Permission::Prepare).is_empty());
    assert!(
        h.server
            .list_permitted(Permission::ManagePermissions)
            .is_empty()
    );
}
