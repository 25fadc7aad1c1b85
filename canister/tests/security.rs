//! Security regressions that `permissions.rs` does not already name: what
//! a caller holding only Prepare may not do, whatever route it takes to a
//! commit; and that losing a permission stops an upload started with it.
//! (Anonymous and unpermitted callers on every write method are
//! `permissions.rs`'s `anonymous_callers_cannot_write_anything` and
//! `unpermitted_callers_cannot_write_anything`; certified data never set
//! from a query is the scenario
//! `reliability_certified_data_is_never_set_from_a_query`, on the wasm.)

mod support;

use asset_server::access::Caller;
use asset_server::error::AssetError;
use asset_server::types::*;
use candid::{Nat, Principal};
use serde_bytes::ByteBuf;
use support::*;

/// What a refused call must leave as it was.
fn snapshot(h: &Harness) -> ([u8; 32], [u8; 32], Vec<AssetDetails>, Vec<Vec<Principal>>) {
    (
        h.certified_data,
        h.server.certified_root(),
        h.server.list(),
        Permission::ALL
            .iter()
            .map(|p| h.server.list_permitted(*p))
            .collect(),
    )
}

fn grant(h: &mut Harness, to: Caller, permission: Permission) {
    let admin = h.admin();
    h.write(admin, |s, c, _| {
        s.grant_permission(
            c,
            GrantPermission {
                to_principal: to.principal,
                permission,
            },
        )
    })
    .unwrap();
}

fn revoke(h: &mut Harness, by: Caller, of: Caller, permission: Permission) {
    h.write(by, |s, c, _| {
        s.revoke_permission(
            c,
            RevokePermission {
                of_principal: of.principal,
                permission,
            },
        )
    })
    .unwrap();
}

/// A batch with one chunk of `body`, created by `caller`; the operations
/// that commit it as `/page.html`.
fn staged(h: &mut Harness, caller: Caller, body: &[u8]) -> (Nat, Vec<BatchOperationKind>) {
    let batch_id = h
        .write(caller, |s, c, now| s.create_batch(c, now))
        .unwrap()
        .batch_id;
    let args = CreateChunksArguments {
        batch_id: batch_id.clone(),
        content: vec![ByteBuf::from(body.to_vec())],
    };
    let chunk_ids = h
        .write(caller, |s, c, now| s.create_chunks(c, now, args))
        .unwrap()
        .chunk_ids;
    let operations = vec![
        BatchOperationKind::CreateAsset(CreateAssetArguments {
            key: "/page.html".into(),
            content_type: "text/html".into(),
            max_age: None,
            headers: None,
            enable_aliasing: None,
            allow_raw_access: None,
        }),
        BatchOperationKind::SetAssetContent(SetAssetContentArguments {
            key: "/page.html".into(),
            content_encoding: "identity".into(),
            chunk_ids,
            last_chunk: None,
            sha256: Some(ByteBuf::from(sha256(body).to_vec())),
        }),
    ];
    (batch_id, operations)
}

fn commit(
    h: &mut Harness,
    caller: Caller,
    batch_id: &Nat,
    operations: &[BatchOperationKind],
) -> Result<(), AssetError> {
    let args = CommitBatchArguments {
        batch_id: batch_id.clone(),
        operations: operations.to_vec(),
    };
    h.write(caller, |s, c, now| s.commit_batch(c, now, args))
}

fn is_refusal(error: &AssetError) -> bool {
    matches!(error, AssetError::NotPermitted { .. })
}

#[test]
fn a_prepare_caller_cannot_commit_by_any_route() {
    let mut h = Harness::new();
    h.upload(&sample_site(), 1000);
    let preparer = Caller::user(principal(5));
    grant(&mut h, preparer, Permission::Prepare);
    let (batch_id, operations) = staged(&mut h, preparer, b"<h1>prepared</h1>");
    // Prepare may propose and compute the evidence, as in DFINITY's canister.
    let args = CommitBatchArguments {
        batch_id: batch_id.clone(),
        operations: operations.clone(),
    };
    h.write(preparer, |s, c, now| s.propose_commit_batch(c, now, args))
        .unwrap();
    let evidence = loop {
        let args = ComputeEvidenceArguments {
            batch_id: batch_id.clone(),
            max_iterations: None,
        };
        if let Some(evidence) = h
            .write(preparer, |s, c, now| s.compute_evidence(c, now, args))
            .unwrap()
        {
            break evidence;
        }
    };
    let before = snapshot(&h);
    let key = "/index.html".to_string();
    let direct: Vec<(&str, BatchOperationKind)> = vec![
        ("create_asset", operations[0].clone()),
        (
            "set_asset_content",
            BatchOperationKind::SetAssetContent(SetAssetContentArguments {
                key: key.clone(),
                content_encoding: "identity".into(),
                chunk_ids: vec![],
                last_chunk: Some(ByteBuf::from(b"replaced".to_vec())),
                sha256: None,
            }),
        ),
        (
            "unset_asset_content",
            BatchOperationKind::UnsetAssetContent(UnsetAssetContentArguments {
                key: key.clone(),
                content_encoding: "identity".into(),
            }),
        ),
        (
            "delete_asset",
            BatchOperationKind::DeleteAsset(DeleteAssetArguments { key: key.clone() }),
        ),
        ("clear", BatchOperationKind::Clear(ClearArguments {})),
        (
            "set_asset_properties",
            BatchOperationKind::SetAssetProperties(SetAssetPropertiesArguments {
                max_age: Some(Some(1)),
                ..properties(&key)
            }),
        ),
    ];
    for (name, operation) in direct {
        let error = h
            .write(preparer, |s, c, now| s.apply_operation(c, now, operation))
            .unwrap_err();
        assert!(is_refusal(&error), "{name}: {error}");
    }
    // The proposal's own batch, committed directly and by its evidence.
    let error = commit(&mut h, preparer, &batch_id, &operations).unwrap_err();
    assert!(is_refusal(&error), "commit_batch: {error}");
    let args = CommitProposedBatchArguments {
        batch_id: batch_id.clone(),
        evidence: ByteBuf::from(evidence.clone()),
    };
    let error = h
        .write(preparer, |s, c, now| s.commit_proposed_batch(c, now, args))
        .unwrap_err();
    assert!(is_refusal(&error), "commit_proposed_batch: {error}");
    // Under batch 0, as ic-asset commits the parts of a large deploy.
    let error = commit(&mut h, preparer, &Nat::from(0u8), &operations).unwrap_err();
    assert!(is_refusal(&error), "commit_batch under batch 0: {error}");
    let args = StoreArguments {
        key: key.clone(),
        content_type: "text/html".into(),
        content_encoding: "identity".into(),
        content: ByteBuf::from(b"stored".to_vec()),
        sha256: None,
    };
    let error = h
        .write(preparer, |s, c, now| s.store(c, now, args))
        .unwrap_err();
    assert!(is_refusal(&error), "store: {error}");
    let args = ConfigureArguments {
        max_batches: Some(Some(0)),
        max_chunks: None,
        max_bytes: None,
    };
    let error = h
        .write(preparer, |s, c, _| s.configure(c, args))
        .unwrap_err();
    assert!(is_refusal(&error), "configure: {error}");
    // Nor may it give itself Commit.
    let error = h
        .write(preparer, |s, c, _| {
            s.grant_permission(
                c,
                GrantPermission {
                    to_principal: preparer.principal,
                    permission: Permission::Commit,
                },
            )
        })
        .unwrap_err();
    assert!(is_refusal(&error), "grant_permission: {error}");
    assert_eq!(snapshot(&h), before, "a refused call changed something");
    assert!(h.verifies("/index.html", b"<!doctype html><h1>home</h1>"));

    // A committer commits the proposal with the evidence: nothing was lost.
    let admin = h.admin();
    let args = CommitProposedBatchArguments {
        batch_id,
        evidence: ByteBuf::from(evidence),
    };
    h.write(admin, |s, c, now| s.commit_proposed_batch(c, now, args))
        .unwrap();
    assert!(h.verifies("/page.html", b"<h1>prepared</h1>"));
}

#[test]
fn a_revoked_caller_cannot_finish_an_upload_started_before() {
    let mut h = Harness::new();
    h.upload(&sample_site(), 1000);
    let admin = h.admin();
    // Revoked by a manager, and given up by the caller itself.
    for self_revoked in [false, true] {
        let uploader = Caller::user(principal(if self_revoked { 6 } else { 5 }));
        grant(&mut h, uploader, Permission::Commit);
        let (batch_id, operations) = staged(&mut h, uploader, b"<h1>half done</h1>");
        let revoker = if self_revoked { uploader } else { admin };
        revoke(&mut h, revoker, uploader, Permission::Commit);
        // An upgrade in between restores nothing.
        h.upgrade();
        let before = snapshot(&h);
        let chunks_before = h.server.stored_chunk_count();
        let error = commit(&mut h, uploader, &batch_id, &operations).unwrap_err();
        assert!(is_refusal(&error), "commit_batch: {error}");
        let error = commit(&mut h, uploader, &Nat::from(0u8), &operations).unwrap_err();
        assert!(is_refusal(&error), "commit_batch under batch 0: {error}");
        let args = CreateChunksArguments {
            batch_id: batch_id.clone(),
            content: vec![ByteBuf::from(b"more".to_vec())],
        };
        let error = h
            .write(uploader, |s, c, now| s.create_chunks(c, now, args))
            .unwrap_err();
        assert!(is_refusal(&error), "create_chunks: {error}");
        let args = CommitBatchArguments {
            batch_id: batch_id.clone(),
            operations: operations.clone(),
        };
        let error = h
            .write(uploader, |s, c, now| s.propose_commit_batch(c, now, args))
            .unwrap_err();
        assert!(is_refusal(&error), "propose_commit_batch: {error}");
        let error = h
            .write(uploader, |s, c, _| {
                s.delete_batch(
                    c,
                    DeleteBatchArguments {
                        batch_id: batch_id.clone(),
                    },
                )
            })
            .unwrap_err();
        assert!(is_refusal(&error), "delete_batch: {error}");
        assert_eq!(snapshot(&h), before, "a refused call changed something");
        assert_eq!(h.server.stored_chunk_count(), chunks_before);
        assert!(!h.verifies("/page.html", b"<h1>half done</h1>"));
        // The batch is intact: someone still permitted commits it.
        commit(&mut h, admin, &batch_id, &operations).unwrap();
        assert!(h.verifies("/page.html", b"<h1>half done</h1>"));
        let delete = BatchOperationKind::DeleteAsset(DeleteAssetArguments {
            key: "/page.html".into(),
        });
        h.apply(delete).unwrap();
    }
}

#[test]
fn a_revoked_preparer_cannot_compute_the_evidence_of_its_proposal() {
    let mut h = Harness::new();
    h.upload(&sample_site(), 1000);
    let admin = h.admin();
    let preparer = Caller::user(principal(5));
    grant(&mut h, preparer, Permission::Prepare);
    let (batch_id, operations) = staged(&mut h, preparer, b"<h1>proposed</h1>");
    let args = CommitBatchArguments {
        batch_id: batch_id.clone(),
        operations,
    };
    h.write(preparer, |s, c, now| s.propose_commit_batch(c, now, args))
        .unwrap();
    revoke(&mut h, admin, preparer, Permission::Prepare);
    let before = snapshot(&h);
    let args = ComputeEvidenceArguments {
        batch_id: batch_id.clone(),
        max_iterations: None,
    };
    let error = h
        .write(preparer, |s, c, now| s.compute_evidence(c, now, args))
        .unwrap_err();
    assert!(is_refusal(&error), "compute_evidence: {error}");
    assert_eq!(snapshot(&h), before);
    // The anonymous principal is refused too, though it may hold nothing.
    let args = ComputeEvidenceArguments {
        batch_id,
        max_iterations: None,
    };
    let error = h
        .write(Caller::user(Principal::anonymous()), |s, c, now| {
            s.compute_evidence(c, now, args)
        })
        .unwrap_err();
    assert_eq!(error, AssetError::AnonymousCaller);
}
