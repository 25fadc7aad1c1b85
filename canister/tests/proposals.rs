//! Deploys by proposal (`propose_commit_batch`, `compute_evidence`,
//! `commit_proposed_batch`), the upload limits (`configure`) and the SNS
//! `validate_*` methods: success, refusal, permissions and expiry.

mod support;

use asset_server::access::Caller;
use asset_server::error::AssetError;
use asset_server::server::governance;
use asset_server::types::*;
use asset_server::upload::BATCH_EXPIRY_NS;
use candid::Principal;
use serde_bytes::ByteBuf;
use support::*;

const BIG: usize = 5000;

fn big_body() -> Vec<u8> {
    (0..BIG).map(|i| (i % 251) as u8).collect()
}

fn new_batch(h: &mut Harness, caller: Caller) -> Result<u64, AssetError> {
    let id = h
        .write(caller, |s, c, now| s.create_batch(c, now))?
        .batch_id;
    Ok(u64::try_from(id.0).unwrap())
}

fn chunk(h: &mut Harness, caller: Caller, batch: u64, bytes: &[u8]) -> Result<u64, AssetError> {
    let args = CreateChunkArguments {
        batch_id: nat(batch),
        content: ByteBuf::from(bytes.to_vec()),
    };
    let id = h
        .write(caller, |s, c, now| s.create_chunk(c, now, args))?
        .chunk_id;
    Ok(u64::try_from(id.0).unwrap())
}

fn propose(
    h: &mut Harness,
    caller: Caller,
    batch: u64,
    operations: Vec<BatchOperationKind>,
) -> Result<(), AssetError> {
    h.write(caller, |s, c, now| {
        s.propose_commit_batch(
            c,
            now,
            CommitBatchArguments {
                batch_id: nat(batch),
                operations,
            },
        )
    })
}

fn compute(
    h: &mut Harness,
    caller: Caller,
    batch: u64,
    max_iterations: Option<u16>,
) -> Result<Option<Vec<u8>>, AssetError> {
    h.write(caller, |s, c, now| {
        s.compute_evidence(
            c,
            now,
            ComputeEvidenceArguments {
                batch_id: nat(batch),
                max_iterations,
            },
        )
    })
}

/// Calls `compute_evidence` one step at a time until it answers; returns
/// the evidence and how many calls answered `None`.
fn compute_stepwise(h: &mut Harness, batch: u64) -> (Vec<u8>, usize) {
    let admin = h.admin();
    let mut pending = 0;
    loop {
        match compute(h, admin, batch, Some(1)).unwrap() {
            Some(evidence) => return (evidence, pending),
            None => pending += 1,
        }
    }
}

fn commit_proposed(
    h: &mut Harness,
    caller: Caller,
    batch: u64,
    evidence: &[u8],
) -> Result<(), AssetError> {
    h.write(caller, |s, c, now| {
        s.commit_proposed_batch(c, now, proposed_args(batch, evidence))
    })
}

fn proposed_args(batch: u64, evidence: &[u8]) -> CommitProposedBatchArguments {
    CommitProposedBatchArguments {
        batch_id: nat(batch),
        evidence: ByteBuf::from(evidence.to_vec()),
    }
}

fn create(key: &str, content_type: &str) -> CreateAssetArguments {
    CreateAssetArguments::new(key, content_type)
}

/// A site already online (`/old.txt`, `/index.html`), then a batch that
/// creates `/index.html`'s replacement, a multi-chunk `/big.bin`, a
/// `/small.txt` sent as last_chunk, changes properties and deletes
/// `/old.txt`. Returns the batch and its operations.
fn prepared(h: &mut Harness) -> (u64, Vec<BatchOperationKind>) {
    h.upload(
        &[
            file("/old.txt", "text/plain", "going away"),
            file("/index.html", "text/html", "<h1>v1</h1>"),
        ],
        1_900_000,
    );
    let admin = h.admin();
    let batch = new_batch(h, admin).unwrap();
    let body = big_body();
    let ids: Vec<u64> = body
        .chunks(2000)
        .map(|part| chunk(h, admin, batch, part).unwrap())
        .collect();
    assert_eq!(ids.len(), 3, "a multi-chunk file");
    let index = chunk(h, admin, batch, b"<h1>v2</h1>").unwrap();
    let mut big = create("/big.bin", "application/octet-stream");
    big.max_age = Some(3600);
    big.headers = Some(vec![
        ("X-Zeta".into(), "z".into()),
        ("X-Alpha".into(), "a".into()),
    ]);
    big.enable_aliasing = Some(false);
    let operations = vec![
        BatchOperationKind::DeleteAsset(DeleteAssetArguments {
            key: "/index.html".into(),
        }),
        BatchOperationKind::CreateAsset(create("/index.html", "text/html")),
        BatchOperationKind::SetAssetContent(SetAssetContentArguments {
            key: "/index.html".into(),
            content_encoding: "identity".into(),
            chunk_ids: vec![nat(index)],
            last_chunk: None,
            sha256: Some(ByteBuf::from(sha256(b"<h1>v2</h1>").to_vec())),
        }),
        BatchOperationKind::CreateAsset(big),
        BatchOperationKind::SetAssetContent(SetAssetContentArguments {
            key: "/big.bin".into(),
            content_encoding: "identity".into(),
            chunk_ids: ids.iter().copied().map(nat).collect(),
            last_chunk: None,
            sha256: None,
        }),
        BatchOperationKind::CreateAsset(create("/small.txt", "text/plain")),
        BatchOperationKind::SetAssetContent(SetAssetContentArguments {
            key: "/small.txt".into(),
            content_encoding: "identity".into(),
            chunk_ids: vec![],
            last_chunk: Some(ByteBuf::from(b"small".to_vec())),
            sha256: None,
        }),
        BatchOperationKind::SetAssetProperties(SetAssetPropertiesArguments {
            key: "/small.txt".into(),
            max_age: Some(Some(60)),
            headers: Some(None),
            allow_raw_access: None,
            is_aliased: Some(Some(true)),
        }),
        BatchOperationKind::DeleteAsset(DeleteAssetArguments {
            key: "/old.txt".into(),
        }),
    ];
    (batch, operations)
}

/// The evidence of `prepared`'s operations, spelled out byte by byte as
/// DFINITY's `evidence.rs` hashes them (tags: 2 none, 3 some, 4 create,
/// 5 set content, 7 delete, 9 set properties; u64 big-endian).
fn expected_evidence() -> [u8; 32] {
    let mut b: Vec<u8> = Vec::new();
    b.push(7);
    b.extend(b"/index.html");
    b.push(4);
    b.extend(b"/index.htmltext/html");
    b.extend([2, 2, 2, 2]); // max_age, headers, allow_raw_access, enable_aliasing
    b.push(5);
    b.extend(b"/index.htmlidentity");
    b.push(3);
    b.extend(sha256(b"<h1>v2</h1>"));
    b.extend(b"<h1>v2</h1>");
    b.push(4);
    b.extend(b"/big.binapplication/octet-stream");
    b.push(3);
    b.extend(3600u64.to_be_bytes());
    b.push(3);
    b.extend(b"X-AlphaaX-Zetaz"); // sorted by name
    b.push(2); // allow_raw_access
    b.extend([3, 0]); // enable_aliasing = false
    b.push(5);
    b.extend(b"/big.binidentity");
    b.push(2);
    b.extend(big_body());
    b.push(4);
    b.extend(b"/small.txttext/plain");
    b.extend([2, 2, 2, 2]);
    b.push(5);
    b.extend(b"/small.txtidentity");
    b.push(2);
    b.extend(b"small");
    b.push(9);
    b.extend(b"/small.txt");
    b.extend([3, 3]);
    b.extend(60u64.to_be_bytes());
    b.extend([3, 2]); // headers: Some(None)
    b.push(2); // allow_raw_access unchanged
    b.extend([3, 3, 1]); // is_aliased: Some(Some(true))
    b.push(7);
    b.extend(b"/old.txt");
    sha256(&b)
}

#[test]
fn a_proposed_batch_commits_with_its_evidence_and_every_file_verifies() {
    let mut h = Harness::new();
    let (batch, operations) = prepared(&mut h);
    let admin = h.admin();
    let root = h.server.certified_root();
    propose(&mut h, admin, batch, operations).unwrap();
    assert_eq!(
        h.server.certified_root(),
        root,
        "proposing changes no asset"
    );
    h.get_verified("/old.txt");

    let (evidence, pending) = compute_stepwise(&mut h, batch);
    assert_eq!(evidence, expected_evidence(), "DFINITY's evidence encoding");
    assert!(
        pending > 5,
        "computed in steps ({pending} calls answered None)"
    );
    // Asking again answers the same evidence.
    assert_eq!(
        compute(&mut h, admin, batch, None).unwrap().as_deref(),
        Some(&evidence[..])
    );

    assert_eq!(
        h.server
            .validate_commit_proposed_batch(proposed_args(batch, &evidence)),
        Ok(format!(
            "commit proposed batch {batch} with evidence {}",
            hex::encode(&evidence)
        ))
    );
    commit_proposed(&mut h, admin, batch, &evidence).unwrap();

    assert_eq!(h.get_verified("/index.html").body, b"<h1>v2</h1>");
    assert_eq!(h.get_verified("/big.bin").body, big_body());
    let small = h.get_verified("/small.txt");
    assert_eq!(small.body, b"small");
    assert!(
        small
            .headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("cache-control") && v == "max-age=60")
    );
    assert!(!h.verifies("/old.txt", b"going away"), "deleted");
    assert!(h.server.list().iter().all(|a| a.key != "/old.txt"));
    // The batch is gone, and new batches can be created again.
    let error = commit_proposed(&mut h, admin, batch, &evidence).unwrap_err();
    assert_eq!(error, AssetError::BatchNotFound(batch));
    new_batch(&mut h, admin).unwrap();
}

#[test]
fn the_evidence_and_its_progress_survive_an_upgrade() {
    let mut h = Harness::new();
    let (batch, operations) = prepared(&mut h);
    let admin = h.admin();
    propose(&mut h, admin, batch, operations).unwrap();
    for _ in 0..4 {
        assert_eq!(compute(&mut h, admin, batch, Some(1)).unwrap(), None);
    }
    h.upgrade();
    let (evidence, _) = compute_stepwise(&mut h, batch);
    assert_eq!(evidence, expected_evidence());
    h.upgrade();
    commit_proposed(&mut h, admin, batch, &evidence).unwrap();
    assert_eq!(h.get_verified("/big.bin").body, big_body());
}

#[test]
fn a_wrong_or_missing_evidence_is_refused_and_changes_nothing() {
    let mut h = Harness::new();
    let (batch, operations) = prepared(&mut h);
    let admin = h.admin();
    propose(&mut h, admin, batch, operations).unwrap();
    let listing = h.server.list();
    let root = h.server.certified_root();

    let error = commit_proposed(&mut h, admin, batch, &[0; 32]).unwrap_err();
    assert_eq!(error, AssetError::EvidenceNotComputed(batch));
    assert!(
        h.server
            .validate_commit_proposed_batch(proposed_args(batch, &[0; 32]))
            .is_err()
    );

    let (evidence, _) = compute_stepwise(&mut h, batch);
    let mut wrong = evidence.clone();
    wrong[0] ^= 1;
    let error = commit_proposed(&mut h, admin, batch, &wrong).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("does not match presented evidence"),
        "{error}"
    );
    let validation = h
        .server
        .validate_commit_proposed_batch(proposed_args(batch, &wrong));
    assert!(validation.unwrap_err().contains(&hex::encode(&evidence)));
    assert_eq!(h.server.list(), listing);
    assert_eq!(h.server.certified_root(), root);
    h.get_verified("/old.txt");

    let error = commit_proposed(&mut h, admin, batch + 1, &evidence).unwrap_err();
    assert_eq!(error, AssetError::BatchNotFound(batch + 1));
    // The right evidence still commits.
    commit_proposed(&mut h, admin, batch, &evidence).unwrap();
    assert_eq!(h.get_verified("/big.bin").body, big_body());
}

#[test]
fn a_proposed_batch_is_fixed_and_blocks_other_batches_until_deleted() {
    let mut h = Harness::new();
    let (batch, operations) = prepared(&mut h);
    let admin = h.admin();
    let error = compute(&mut h, admin, batch, None).unwrap_err();
    assert_eq!(error, AssetError::BatchNotProposed(batch));
    let error = commit_proposed(&mut h, admin, batch, &[0; 32]).unwrap_err();
    assert_eq!(error, AssetError::BatchNotProposed(batch));
    assert_eq!(
        propose(&mut h, admin, 999, vec![]).unwrap_err(),
        AssetError::BatchNotFound(999)
    );

    propose(&mut h, admin, batch, operations.clone()).unwrap();
    assert_eq!(
        propose(&mut h, admin, batch, operations).unwrap_err(),
        AssetError::BatchAlreadyProposed(batch)
    );
    assert_eq!(
        chunk(&mut h, admin, batch, b"more").unwrap_err(),
        AssetError::BatchProposed(batch)
    );
    let direct = h.write(admin, |s, c, now| {
        s.commit_batch(
            c,
            now,
            CommitBatchArguments {
                batch_id: nat(batch),
                operations: vec![],
            },
        )
    });
    assert_eq!(direct.unwrap_err(), AssetError::BatchProposed(batch));
    assert!(matches!(
        new_batch(&mut h, admin).unwrap_err(),
        AssetError::ProposalPending {
            evidence_computed: false,
            ..
        }
    ));
    let (_, _) = compute_stepwise(&mut h, batch);
    assert!(matches!(
        new_batch(&mut h, admin).unwrap_err(),
        AssetError::ProposalPending {
            evidence_computed: true,
            ..
        }
    ));

    let chunks_before = h.server.stored_chunk_count();
    h.write(admin, |s, c, _| {
        s.delete_batch(
            c,
            DeleteBatchArguments {
                batch_id: nat(batch),
            },
        )
    })
    .unwrap();
    assert_eq!(h.server.stored_chunk_count(), chunks_before - 4);
    new_batch(&mut h, admin).unwrap();
    h.get_verified("/old.txt");
}

#[test]
fn a_proposed_batch_with_its_evidence_waits_for_the_vote_without_expiring() {
    let mut h = Harness::new();
    let (batch, operations) = prepared(&mut h);
    let admin = h.admin();
    propose(&mut h, admin, batch, operations).unwrap();
    let (evidence, _) = compute_stepwise(&mut h, batch);
    h.now += 7 * 24 * 3600 * 1_000_000_000; // a week of voting
    assert!(matches!(
        new_batch(&mut h, admin).unwrap_err(),
        AssetError::ProposalPending { .. }
    ));
    commit_proposed(&mut h, admin, batch, &evidence).unwrap();
    assert_eq!(h.get_verified("/big.bin").body, big_body());
}

#[test]
fn a_proposed_batch_without_its_evidence_expires() {
    let mut h = Harness::new();
    let (batch, operations) = prepared(&mut h);
    let admin = h.admin();
    propose(&mut h, admin, batch, operations).unwrap();
    h.now += BATCH_EXPIRY_NS + 1;
    assert_eq!(
        compute(&mut h, admin, batch, None).unwrap_err(),
        AssetError::BatchExpired(batch)
    );
    let next = new_batch(&mut h, admin).unwrap();
    assert!(next > batch);
    assert_eq!(
        compute(&mut h, admin, batch, None).unwrap_err(),
        AssetError::BatchNotFound(batch)
    );
}

#[test]
fn proposing_needs_prepare_and_committing_a_proposal_needs_commit() {
    let mut h = Harness::new();
    let (batch, operations) = prepared(&mut h);
    let preparer = principal(7);
    let committer = principal(8);
    let stranger = Caller::user(principal(9));
    let admin = h.admin();
    for (to, permission) in [
        (preparer, Permission::Prepare),
        (committer, Permission::Commit),
    ] {
        h.write(admin, |s, c, _| {
            s.grant_permission(
                c,
                GrantPermission {
                    to_principal: to,
                    permission,
                },
            )
        })
        .unwrap();
    }
    let preparer = Caller::user(preparer);
    let committer = Caller::user(committer);

    assert!(matches!(
        propose(&mut h, stranger, batch, operations.clone()).unwrap_err(),
        AssetError::NotPermitted {
            needs: Permission::Prepare,
            ..
        }
    ));
    assert_eq!(
        propose(
            &mut h,
            Caller::user(Principal::anonymous()),
            batch,
            operations.clone()
        )
        .unwrap_err(),
        AssetError::AnonymousCaller
    );
    propose(&mut h, preparer, batch, operations).unwrap();
    assert!(compute(&mut h, stranger, batch, None).is_err());
    let evidence = loop {
        if let Some(e) = compute(&mut h, preparer, batch, None).unwrap() {
            break e;
        }
    };
    assert!(matches!(
        commit_proposed(&mut h, preparer, batch, &evidence).unwrap_err(),
        AssetError::NotPermitted {
            needs: Permission::Commit,
            ..
        }
    ));
    assert!(commit_proposed(&mut h, stranger, batch, &evidence).is_err());
    h.get_verified("/old.txt");
    commit_proposed(&mut h, committer, batch, &evidence).unwrap();
    assert_eq!(h.get_verified("/big.bin").body, big_body());
}

#[test]
fn configured_limits_refuse_batches_chunks_and_bytes_beyond_them() {
    let mut h = Harness::new();
    let admin = h.admin();
    let preparer = Caller::user(principal(7));
    h.write(admin, |s, c, _| {
        s.grant_permission(
            c,
            GrantPermission {
                to_principal: principal(7),
                permission: Permission::Prepare,
            },
        )
    })
    .unwrap();
    assert_eq!(
        h.server.get_configuration(preparer).unwrap(),
        ConfigurationResponse::default()
    );
    assert!(
        h.server
            .get_configuration(Caller::user(principal(9)))
            .is_err()
    );
    let limits = ConfigureArguments {
        max_batches: Some(Some(2)),
        max_chunks: Some(Some(3)),
        max_bytes: Some(Some(100)),
    };
    assert!(matches!(
        h.write(preparer, |s, c, _| s.configure(c, limits.clone()))
            .unwrap_err(),
        AssetError::NotPermitted {
            needs: Permission::Commit,
            ..
        }
    ));
    h.write(admin, |s, c, _| s.configure(c, limits)).unwrap();
    assert_eq!(
        h.server.get_configuration(preparer).unwrap(),
        ConfigurationResponse {
            max_batches: Some(2),
            max_chunks: Some(3),
            max_bytes: Some(100),
        }
    );

    let first = new_batch(&mut h, admin).unwrap();
    new_batch(&mut h, admin).unwrap();
    assert_eq!(
        new_batch(&mut h, admin).unwrap_err(),
        AssetError::BatchLimitExceeded { max: 2 }
    );
    chunk(&mut h, admin, first, &[1; 60]).unwrap();
    assert_eq!(
        chunk(&mut h, admin, first, &[1; 41]).unwrap_err(),
        AssetError::ByteLimitExceeded { max: 100 }
    );
    chunk(&mut h, admin, first, &[1; 40]).unwrap();
    chunk(&mut h, admin, first, &[]).unwrap();
    assert_eq!(
        chunk(&mut h, admin, first, &[]).unwrap_err(),
        AssetError::ChunkLimitExceeded { max: 3 }
    );
    // A commit's last_chunk counts too.
    let commit = |h: &mut Harness, last: &[u8]| {
        let operations = vec![
            BatchOperationKind::CreateAsset(create("/x.txt", "text/plain")),
            BatchOperationKind::SetAssetContent(SetAssetContentArguments {
                key: "/x.txt".into(),
                content_encoding: "identity".into(),
                chunk_ids: vec![],
                last_chunk: Some(ByteBuf::from(last.to_vec())),
                sha256: None,
            }),
        ];
        h.write(admin, |s, c, now| {
            s.commit_batch(
                c,
                now,
                CommitBatchArguments {
                    batch_id: nat(first),
                    operations,
                },
            )
        })
    };
    assert_eq!(
        commit(&mut h, b"x").unwrap_err(),
        AssetError::ChunkLimitExceeded { max: 3 }
    );
    assert!(
        h.server.list().is_empty(),
        "a refused commit changes nothing"
    );
    // Removing a limit: `Some(None)`; absent fields stay.
    h.write(admin, |s, c, _| {
        s.configure(
            c,
            ConfigureArguments {
                max_chunks: Some(None),
                max_bytes: Some(None),
                ..Default::default()
            },
        )
    })
    .unwrap();
    assert_eq!(
        h.server.get_configuration(admin).unwrap(),
        ConfigurationResponse {
            max_batches: Some(2),
            max_chunks: None,
            max_bytes: None,
        }
    );
    commit(&mut h, b"x").unwrap();
    assert_eq!(h.get_verified("/x.txt").body, b"x");
    // The configuration is kept across upgrades.
    h.upgrade();
    assert_eq!(
        h.server.get_configuration(admin).unwrap().max_batches,
        Some(2)
    );
}

#[test]
fn validate_methods_describe_the_change_or_say_why_it_fails() {
    let p = principal(7);
    assert_eq!(
        governance::validate_grant_permission(&GrantPermission {
            to_principal: p,
            permission: Permission::Prepare,
        }),
        Ok(format!("grant Prepare permission to principal {p}"))
    );
    assert!(
        governance::validate_grant_permission(&GrantPermission {
            to_principal: Principal::anonymous(),
            permission: Permission::Commit,
        })
        .unwrap_err()
        .contains("anonymous")
    );
    assert_eq!(
        governance::validate_revoke_permission(&RevokePermission {
            of_principal: p,
            permission: Permission::ManagePermissions,
        }),
        Ok(format!(
            "revoke ManagePermissions permission from principal {p}"
        ))
    );
    assert!(governance::validate_take_ownership().is_ok());
    assert_eq!(
        governance::validate_configure(&ConfigureArguments {
            max_batches: Some(Some(3)),
            ..Default::default()
        }),
        Ok("configure: ConfigureArguments { max_batches: Some(Some(3)), max_chunks: None, max_bytes: None }".into())
    );
}
