//! The upload interface: batches, chunks, atomic commits, expiry, and the
//! clear errors bad input gets, which always leave the certified root as
//! it was.

mod support;

use asset_server::access::Caller;
use asset_server::error::AssetError;
use asset_server::types::*;
use asset_server::upload::{BATCH_EXPIRY_NS, BodyHashing, MAX_CHUNK_SIZE};
use serde_bytes::ByteBuf;
use support::*;

fn create_asset(key: &str) -> BatchOperationKind {
    BatchOperationKind::CreateAsset(CreateAssetArguments {
        key: key.into(),
        content_type: "text/plain".into(),
        max_age: None,
        headers: None,
        enable_aliasing: None,
        allow_raw_access: None,
    })
}

fn set_content(
    key: &str,
    chunk_ids: Vec<u64>,
    last_chunk: Option<&[u8]>,
    sha: Option<Vec<u8>>,
) -> BatchOperationKind {
    BatchOperationKind::SetAssetContent(SetAssetContentArguments {
        key: key.into(),
        content_encoding: "identity".into(),
        chunk_ids: chunk_ids.into_iter().map(nat).collect(),
        last_chunk: last_chunk.map(|b| ByteBuf::from(b.to_vec())),
        sha256: sha.map(ByteBuf::from),
    })
}

fn site() -> Harness {
    let mut h = Harness::new();
    h.upload(&sample_site(), 1_900_000);
    h
}

/// Runs `f`, requires the error it returns to contain `expected`, and
/// requires that neither the certified root nor the listing changed.
fn refused(
    h: &mut Harness,
    caller: Caller,
    expected: &str,
    f: impl FnOnce(&mut Harness, Caller) -> Result<(), AssetError>,
) {
    let root = h.server.certified_root();
    let certified = h.certified_data;
    let listing = h.server.list();
    let error = f(h, caller).expect_err("the call is refused");
    assert!(
        error.to_string().contains(expected),
        "error {error:?} should mention {expected:?}"
    );
    assert_eq!(
        h.server.certified_root(),
        root,
        "root unchanged after: {error}"
    );
    assert_eq!(h.certified_data, certified);
    assert_eq!(h.server.list(), listing, "assets unchanged after: {error}");
    h.get_verified("/index.html");
}

fn new_batch(h: &mut Harness) -> u64 {
    let admin = h.admin();
    let id = h
        .write(admin, |s, c, now| s.create_batch(c, now))
        .unwrap()
        .batch_id;
    u64::try_from(id.0).unwrap()
}

fn chunk(h: &mut Harness, batch: u64, bytes: &[u8]) -> u64 {
    let admin = h.admin();
    let args = CreateChunkArguments {
        batch_id: nat(batch),
        content: ByteBuf::from(bytes.to_vec()),
    };
    let id = h
        .write(admin, |s, c, now| s.create_chunk(c, now, args))
        .unwrap()
        .chunk_id;
    u64::try_from(id.0).unwrap()
}

fn commit(
    h: &mut Harness,
    caller: Caller,
    batch: u64,
    operations: Vec<BatchOperationKind>,
) -> Result<(), AssetError> {
    h.write(caller, |s, c, now| {
        s.commit_batch(
            c,
            now,
            CommitBatchArguments {
                batch_id: nat(batch),
                operations,
            },
        )
    })
}

#[test]
fn unknown_batch_is_refused() {
    let mut h = site();
    let admin = h.admin();
    refused(&mut h, admin, "batch 999 not found", |h, c| {
        let args = CreateChunkArguments {
            batch_id: nat(999),
            content: ByteBuf::from(vec![1]),
        };
        h.write(c, |s, c, now| s.create_chunk(c, now, args))
            .map(drop)
    });
    refused(&mut h, admin, "batch 999 not found", |h, c| {
        commit(h, c, 999, vec![create_asset("/n.txt")])
    });
    refused(&mut h, admin, "batch 999 not found", |h, c| {
        h.write(c, |s, c, _| {
            s.delete_batch(c, DeleteBatchArguments { batch_id: nat(999) })
        })
    });
}

#[test]
fn an_id_too_large_for_u64_is_refused() {
    let mut h = site();
    let admin = h.admin();
    refused(&mut h, admin, "out of range", |h, c| {
        let huge = candid::Nat::parse(b"340282366920938463463374607431768211456").unwrap();
        h.write(c, |s, c, now| {
            s.commit_batch(
                c,
                now,
                CommitBatchArguments {
                    batch_id: huge,
                    operations: vec![],
                },
            )
        })
    });
}

#[test]
fn unknown_chunk_and_a_chunk_of_another_batch_are_refused() {
    let mut h = site();
    let admin = h.admin();
    let batch = new_batch(&mut h);
    let other = new_batch(&mut h);
    let foreign = chunk(&mut h, other, b"other batch");
    refused(&mut h, admin, "chunk 12345 not found in batch", |h, c| {
        commit(
            h,
            c,
            batch,
            vec![
                create_asset("/n.txt"),
                set_content("/n.txt", vec![12345], None, None),
            ],
        )
    });
    refused(
        &mut h,
        admin,
        &format!("chunk {foreign} not found in batch {batch}"),
        |h, c| {
            commit(
                h,
                c,
                batch,
                vec![
                    create_asset("/n.txt"),
                    set_content("/n.txt", vec![foreign], None, None),
                ],
            )
        },
    );
}

#[test]
fn oversize_chunk_is_refused() {
    let mut h = site();
    let admin = h.admin();
    let batch = new_batch(&mut h);
    let chunks_before = h.server.stored_chunk_count();
    refused(&mut h, admin, "exceeds the maximum", |h, c| {
        let args = CreateChunksArguments {
            batch_id: nat(batch),
            content: vec![
                ByteBuf::from(vec![0; 10]),
                ByteBuf::from(vec![0; MAX_CHUNK_SIZE + 1]),
            ],
        };
        h.write(c, |s, c, now| s.create_chunks(c, now, args))
            .map(drop)
    });
    assert_eq!(
        h.server.stored_chunk_count(),
        chunks_before,
        "no chunk of the call was kept"
    );
}

#[test]
fn sha256_mismatch_is_refused_and_a_match_is_accepted() {
    let mut h = site();
    let admin = h.admin();
    let batch = new_batch(&mut h);
    let id = chunk(&mut h, batch, b"real content");
    refused(&mut h, admin, "sha256 mismatch", |h, c| {
        commit(
            h,
            c,
            batch,
            vec![
                create_asset("/n.txt"),
                set_content("/n.txt", vec![id], None, Some(sha256(b"other").to_vec())),
            ],
        )
    });
    refused(&mut h, admin, "must be 32 bytes", |h, c| {
        commit(
            h,
            c,
            batch,
            vec![
                create_asset("/n.txt"),
                set_content("/n.txt", vec![id], None, Some(vec![1, 2])),
            ],
        )
    });
    commit(
        &mut h,
        admin,
        batch,
        vec![
            create_asset("/n.txt"),
            set_content(
                "/n.txt",
                vec![id],
                None,
                Some(sha256(b"real content").to_vec()),
            ),
        ],
    )
    .unwrap();
    assert_eq!(h.get_verified("/n.txt").body, b"real content");
}

#[test]
fn a_batch_expires_after_five_idle_minutes() {
    let mut h = site();
    let admin = h.admin();
    let batch = new_batch(&mut h);
    let id = chunk(&mut h, batch, b"late");
    h.now += BATCH_EXPIRY_NS - 1;
    let kept_alive = chunk(&mut h, batch, b"still alive");
    h.now += BATCH_EXPIRY_NS;
    refused(&mut h, admin, "expired", |h, c| {
        commit(
            h,
            c,
            batch,
            vec![
                create_asset("/late.txt"),
                set_content("/late.txt", vec![id, kept_alive], None, None),
            ],
        )
    });
    // The next batch sweeps the expired one and its chunks away.
    let before = h.server.stored_chunk_count();
    new_batch(&mut h);
    assert_eq!(h.server.stored_chunk_count(), before - 2);
}

#[test]
fn a_commit_applies_every_operation_or_none() {
    let mut h = site();
    let admin = h.admin();
    let batch = new_batch(&mut h);
    let id = chunk(&mut h, batch, b"new");
    refused(&mut h, admin, "asset /missing.txt not found", |h, c| {
        commit(
            h,
            c,
            batch,
            vec![
                BatchOperationKind::DeleteAsset(DeleteAssetArguments {
                    key: "/app.css".into(),
                }),
                create_asset("/new.txt"),
                set_content("/new.txt", vec![id], None, None),
                BatchOperationKind::UnsetAssetContent(UnsetAssetContentArguments {
                    key: "/missing.txt".into(),
                    content_encoding: "identity".into(),
                }),
            ],
        )
    });
    assert!(h.server.list().iter().any(|a| a.key == "/app.css"));
    assert!(!h.server.list().iter().any(|a| a.key == "/new.txt"));
    // The batch is still there and the same chunk can be committed now.
    commit(
        &mut h,
        admin,
        batch,
        vec![
            create_asset("/new.txt"),
            set_content("/new.txt", vec![id], None, None),
        ],
    )
    .unwrap();
    assert_eq!(h.get_verified("/new.txt").body, b"new");
}

#[test]
fn creating_an_existing_asset_and_reusing_a_chunk_are_refused() {
    let mut h = site();
    let admin = h.admin();
    let batch = new_batch(&mut h);
    let id = chunk(&mut h, batch, b"x");
    refused(&mut h, admin, "already exists", |h, c| {
        commit(h, c, batch, vec![create_asset("/app.css")])
    });
    refused(&mut h, admin, "more than one", |h, c| {
        commit(
            h,
            c,
            batch,
            vec![
                create_asset("/a.txt"),
                set_content("/a.txt", vec![id], None, None),
                create_asset("/b.txt"),
                set_content("/b.txt", vec![id], None, None),
            ],
        )
    });
    refused(&mut h, admin, "at least one chunk", |h, c| {
        commit(
            h,
            c,
            batch,
            vec![
                create_asset("/a.txt"),
                set_content("/a.txt", vec![], None, None),
            ],
        )
    });
    refused(&mut h, admin, "keys are paths", |h, c| {
        commit(h, c, batch, vec![create_asset("relative.txt")])
    });
}

#[test]
fn delete_then_create_in_one_batch_replaces_an_asset() {
    let mut h = site();
    let admin = h.admin();
    let batch = new_batch(&mut h);
    let id = chunk(&mut h, batch, b"{}");
    let mut create = create_asset("/app.css");
    if let BatchOperationKind::CreateAsset(args) = &mut create {
        args.content_type = "application/json".into();
    }
    commit(
        &mut h,
        admin,
        batch,
        vec![
            BatchOperationKind::DeleteAsset(DeleteAssetArguments {
                key: "/app.css".into(),
            }),
            create,
            set_content("/app.css", vec![id], None, None),
        ],
    )
    .unwrap();
    let response = h.get_verified("/app.css");
    assert_eq!(response.body, b"{}");
    assert_eq!(response.header("content-type"), Some("application/json"));
}

#[test]
fn a_batch_of_a_thousand_small_assets_commits_at_once() {
    let mut h = Harness::new();
    let admin = h.admin();
    let batch = new_batch(&mut h);
    let mut operations = Vec::new();
    for i in 0..1000 {
        let key = format!("/files/{i}.txt");
        operations.push(create_asset(&key));
        let body = format!("file number {i}");
        operations.push(set_content(
            &key,
            vec![],
            Some(body.as_bytes()),
            Some(sha256(body.as_bytes()).to_vec()),
        ));
    }
    commit(&mut h, admin, batch, operations).unwrap();
    assert_eq!(h.server.list().len(), 1000);
    for i in [0, 499, 999] {
        assert_eq!(
            h.get_verified(&format!("/files/{i}.txt")).body,
            format!("file number {i}").as_bytes()
        );
    }
}

#[test]
fn deleting_a_batch_frees_its_chunks_and_committing_removes_the_batch() {
    let mut h = site();
    let admin = h.admin();
    let before = h.server.stored_chunk_count();
    let batch = new_batch(&mut h);
    chunk(&mut h, batch, b"1");
    chunk(&mut h, batch, b"2");
    assert_eq!(h.server.stored_chunk_count(), before + 2);
    h.write(admin, |s, c, _| {
        s.delete_batch(
            c,
            DeleteBatchArguments {
                batch_id: nat(batch),
            },
        )
    })
    .unwrap();
    assert_eq!(h.server.stored_chunk_count(), before);

    let batch = new_batch(&mut h);
    let used = chunk(&mut h, batch, b"used");
    chunk(&mut h, batch, b"unused");
    commit(
        &mut h,
        admin,
        batch,
        vec![
            create_asset("/u.txt"),
            set_content("/u.txt", vec![used], None, None),
        ],
    )
    .unwrap();
    assert_eq!(
        h.server.stored_chunk_count(),
        before + 1,
        "the unused chunk went with the batch"
    );
    refused(&mut h, admin, "not found", |h, c| {
        commit(h, c, batch, vec![])
    });
}

#[test]
fn overwriting_and_unsetting_content_frees_the_old_chunks() {
    let mut h = site();
    let before = h.server.stored_chunk_count();
    h.upload(&[file("/app.js", "text/javascript", "v2 v2 v2")], 2);
    assert_eq!(h.server.stored_chunk_count(), before - 1 + 4);
    h.apply(BatchOperationKind::UnsetAssetContent(
        UnsetAssetContentArguments {
            key: "/app.js".into(),
            content_encoding: "identity".into(),
        },
    ))
    .unwrap();
    assert_eq!(h.server.stored_chunk_count(), before - 1);
    assert!(
        h.server.tree().v1.get("/app.js").is_none(),
        "an asset without content is not certified"
    );
}

#[test]
fn store_creates_and_replaces_in_one_call() {
    let mut h = site();
    let admin = h.admin();
    let store = |key: &str, content_type: &str, body: &[u8]| StoreArguments {
        key: key.into(),
        content_type: content_type.into(),
        content_encoding: "identity".into(),
        content: ByteBuf::from(body.to_vec()),
        sha256: Some(ByteBuf::from(sha256(body).to_vec())),
    };
    h.write(admin, |s, c, now| {
        s.store(c, now, store("/s.txt", "text/plain", b"one"))
    })
    .unwrap();
    assert_eq!(h.get_verified("/s.txt").body, b"one");
    h.write(admin, |s, c, now| {
        s.store(c, now, store("/s.txt", "text/markdown", b"two"))
    })
    .unwrap();
    let response = h.get_verified("/s.txt");
    assert_eq!(response.body, b"two");
    assert_eq!(response.header("content-type"), Some("text/markdown"));
    refused(&mut h, admin, "sha256 mismatch", |h, c| {
        let mut args = store("/s.txt", "text/plain", b"three");
        args.sha256 = Some(ByteBuf::from(sha256(b"four").to_vec()));
        h.write(c, |s, c, now| s.store(c, now, args))
    });
}

#[test]
fn an_upgrade_keeps_assets_certificates_and_a_batch_in_flight() {
    let mut h = site();
    let admin = h.admin();
    let certified_paths = |h: &Harness| -> Vec<(Vec<u8>, [u8; 32])> { h.server.tree().v1.paths() };
    let before = certified_paths(&h);
    let batch = new_batch(&mut h);
    let id = chunk(&mut h, batch, b"uploaded before the upgrade");
    h.upgrade();
    // The rebuilt tree certifies the same hash for every path. (Its root may
    // differ: a red-black tree's shape depends on insertion order.)
    assert_eq!(certified_paths(&h), before);
    for f in sample_site() {
        if !f.key.contains(' ') && f.key.is_ascii() {
            assert_eq!(h.get_verified(f.key).body, f.body);
        }
    }
    commit(
        &mut h,
        admin,
        batch,
        vec![
            create_asset("/after.txt"),
            set_content("/after.txt", vec![id], None, None),
        ],
    )
    .unwrap();
    assert_eq!(
        h.get_verified("/after.txt").body,
        b"uploaded before the upgrade"
    );
}

#[test]
fn every_write_method_changes_the_certified_root_when_it_changes_assets() {
    let mut h = site();
    let admin = h.admin();
    let expect_change = |h: &mut Harness, what: &str, op: BatchOperationKind| {
        let before = h.certified_data;
        h.apply(op).unwrap();
        assert_ne!(
            h.certified_data, before,
            "{what} must change the certified root"
        );
        assert_eq!(h.certified_data, h.server.certified_root());
    };
    // An asset without content serves nothing, so creating one certifies nothing new.
    let before = h.certified_data;
    h.apply(create_asset("/c.txt")).unwrap();
    assert_eq!(h.certified_data, before);
    expect_change(
        &mut h,
        "set_asset_content",
        set_content("/c.txt", vec![], Some(b"c"), None),
    );
    assert_eq!(h.get_verified("/c.txt").body, b"c");
    expect_change(
        &mut h,
        "unset_asset_content",
        BatchOperationKind::UnsetAssetContent(UnsetAssetContentArguments {
            key: "/c.txt".into(),
            content_encoding: "identity".into(),
        }),
    );
    expect_change(
        &mut h,
        "delete_asset",
        BatchOperationKind::DeleteAsset(DeleteAssetArguments {
            key: "/app.js".into(),
        }),
    );
    expect_change(
        &mut h,
        "set_asset_properties",
        BatchOperationKind::SetAssetProperties(SetAssetPropertiesArguments {
            is_aliased: Some(Some(false)),
            ..properties("/about.html")
        }),
    );
    expect_change(
        &mut h,
        "clear",
        BatchOperationKind::Clear(ClearArguments {}),
    );
    let before = h.certified_data;
    h.write(admin, |s, c, now| {
        s.store(
            c,
            now,
            StoreArguments {
                key: "/index.html".into(),
                content_type: "text/html".into(),
                content_encoding: "identity".into(),
                content: ByteBuf::from(b"stored".to_vec()),
                sha256: None,
            },
        )
    })
    .unwrap();
    assert_ne!(
        h.certified_data, before,
        "store must change the certified root"
    );
    h.upload(&[file("/batch.txt", "text/plain", "b")], 10);
    assert_eq!(
        h.get_verified("/batch.txt").body,
        b"b",
        "commit_batch certifies"
    );
}

#[test]
fn rebuilding_the_tree_after_an_upgrade_gives_the_incrementally_kept_root() {
    let mut h = Harness::new();
    // Keys that compete for the same alias paths, an asset under an alias
    // path, an asset without content, and one with aliasing switched off.
    h.upload(
        &[
            file("/a.html", "text/html", "a.html"),
            file("/a/index.html", "text/html", "a/index.html"),
            file("/b/index.html", "text/html", "b/index.html"),
            file("/b", "text/plain", "b exact"),
            file("/c.html", "text/html", "c.html"),
            file("/index.html", "text/html", "root"),
        ],
        1000,
    );
    let admin = h.admin();
    let batch = new_batch(&mut h);
    commit(
        &mut h,
        admin,
        batch,
        vec![
            create_asset("/d/index.html"),
            BatchOperationKind::SetAssetProperties(SetAssetPropertiesArguments {
                is_aliased: Some(Some(false)),
                ..properties("/c.html")
            }),
        ],
    )
    .unwrap();
    let incremental: Vec<(Vec<u8>, [u8; 32])> = h.server.tree().v1.paths();
    h.upgrade();
    let rebuilt: Vec<(Vec<u8>, [u8; 32])> = h.server.tree().v1.paths();
    assert_eq!(rebuilt, incremental);
    assert_eq!(
        h.certified_data,
        h.server.certified_root(),
        "post_upgrade certifies the rebuilt root"
    );
    assert_eq!(
        h.get_verified("/a").body,
        b"a.html",
        "/a.html ranks before /a/index.html"
    );
    assert_eq!(h.get_verified("/b").body, b"b exact");
    assert_eq!(h.get_verified("/b/").body, b"b/index.html");
    assert!(h.server.tree().v1.get("/c").is_none());
    assert!(h.server.tree().v1.get("/d/").is_none());
}

/// `ic-asset` (the sync code of `dfx deploy`) splits a large deploy into
/// commits under batch 0 that use the chunks of its real batch, then
/// closes the real batch with an empty commit. DFINITY's asset canister
/// allows it; so do we, and nothing else about batches loosens.
#[test]
fn a_deploy_split_into_commits_under_batch_0_applies_as_ic_asset_sends_it() {
    let mut h = site();
    let admin = h.admin();
    let batch = new_batch(&mut h);
    assert_ne!(batch, 0, "batch 0 is never handed out");
    let first = chunk(&mut h, batch, b"first part");
    let second = chunk(&mut h, batch, b"second part");
    commit(
        &mut h,
        admin,
        0,
        vec![
            create_asset("/split-1.txt"),
            set_content("/split-1.txt", vec![first], None, None),
        ],
    )
    .expect("the first part commits under batch 0");
    commit(
        &mut h,
        admin,
        0,
        vec![
            create_asset("/split-2.txt"),
            set_content("/split-2.txt", vec![second], Some(b" and its tail"), None),
        ],
    )
    .expect("the second part commits under batch 0");
    commit(&mut h, admin, batch, vec![]).expect("the empty commit closes the real batch");
    assert_eq!(h.get_verified("/split-1.txt").body, b"first part");
    assert_eq!(
        h.get_verified("/split-2.txt").body,
        b"second part and its tail"
    );
    refused(
        &mut h,
        admin,
        &format!("batch {batch} not found"),
        |h, c| commit(h, c, batch, vec![]),
    );
    // Under batch 0 a chunk must still belong to a live batch, once.
    let other = new_batch(&mut h);
    let used = chunk(&mut h, other, b"once");
    refused(&mut h, admin, "used by more than one", |h, c| {
        commit(
            h,
            c,
            0,
            vec![
                create_asset("/twice.txt"),
                set_content("/twice.txt", vec![used, used], None, None),
            ],
        )
    });
    refused(&mut h, admin, "not found in batch", |h, c| {
        commit(
            h,
            c,
            0,
            vec![
                create_asset("/stale.txt"),
                set_content("/stale.txt", vec![first], None, None),
            ],
        )
    });
}

/// A commit whose bodies are hashed ahead, a chunk per message (as
/// `commit_batch` does over several messages when one cannot hash them
/// all), certifies exactly what a commit hashing them at once does.
#[test]
fn bodies_hashed_ahead_a_chunk_at_a_time_commit_as_if_hashed_at_once() {
    let bodies: [(&str, Vec<u8>, usize); 3] = [
        (
            "/big.bin",
            (0..50_000u32).map(|i| (i * 31 % 251) as u8).collect(),
            7_000,
        ),
        ("/one.txt", b"a single chunk".to_vec(), 1_000),
        (
            "/two.txt",
            (0..3_000u32).map(|i| (i % 7) as u8).collect(),
            2_000,
        ),
    ];
    let mut roots = Vec::new();
    for ahead in [false, true] {
        let mut h = site();
        let batch = new_batch(&mut h);
        let mut operations = Vec::new();
        for (key, body, size) in &bodies {
            let ids = body
                .chunks(*size)
                .map(|c| chunk(&mut h, batch, c))
                .collect();
            operations.push(create_asset(key));
            operations.push(set_content(key, ids, None, Some(sha256(body).to_vec())));
        }
        let args = CommitBatchArguments {
            batch_id: nat(batch),
            operations,
        };
        let admin = h.admin();
        let result = if ahead {
            let mut hashing = BodyHashing::new(&args.operations);
            let mut calls = 0;
            while !hashing.advance(h.server.chunks(), || false) {
                calls += 1;
            }
            // One chunk per call: 8 + 1 + 2 chunks, the last call finishing.
            assert_eq!(calls, 10);
            let prehashed = hashing.finish();
            h.write(admin, |s, c, now| {
                s.commit_batch_prehashed(c, now, args, prehashed)
            })
        } else {
            h.write(admin, |s, c, now| s.commit_batch(c, now, args))
        };
        result.unwrap();
        for (key, body, size) in &bodies {
            assert!(h.get_verified(key).body == *body, "{key} (v1)");
            // Under v2 a body of several chunks starts with its first.
            let request = asset_testkit::GatewayRequest::get(key).with_header("host", GATEWAY_HOST);
            let first = h.get_verified_v2(&request).body;
            assert!(first[..] == body[..body.len().min(*size)], "{key} (v2)");
        }
        roots.push(h.server.certified_root());
    }
    assert_eq!(roots[0], roots[1]);
}

/// Hashing ahead changes nothing: if the batch goes while it runs, the
/// commit is refused as any commit of a deleted batch, and hashes computed
/// for other chunk ids than the commit names are not used.
#[test]
fn a_batch_deleted_while_its_bodies_are_hashed_fails_the_commit_cleanly() {
    let mut h = site();
    let batch = new_batch(&mut h);
    let body = b"0123456789abcdef".repeat(100);
    let ids: Vec<u64> = body.chunks(400).map(|c| chunk(&mut h, batch, c)).collect();
    let operations = vec![
        create_asset("/x.txt"),
        set_content("/x.txt", ids.clone(), None, Some(sha256(&body).to_vec())),
    ];
    let mut hashing = BodyHashing::new(&operations);
    assert!(hashing.advance(h.server.chunks(), || true));
    let prehashed = hashing.finish();
    // The same operation with its chunks named in another order: the
    // hashes made for the first order must not be taken for it.
    let mut reordered = ids.clone();
    reordered.swap(0, 1);
    let mut swapped_body = body[400..800].to_vec();
    swapped_body.extend_from_slice(&body[..400]);
    swapped_body.extend_from_slice(&body[800..]);
    let admin = h.admin();
    let args = CommitBatchArguments {
        batch_id: nat(batch),
        operations: vec![
            create_asset("/x.txt"),
            set_content(
                "/x.txt",
                reordered,
                None,
                Some(sha256(&swapped_body).to_vec()),
            ),
        ],
    };
    h.write(admin, |s, c, now| {
        s.commit_batch_prehashed(c, now, args, prehashed)
    })
    .unwrap();
    assert!(h.get_verified("/x.txt").body == swapped_body);

    let batch = new_batch(&mut h);
    let ids: Vec<u64> = body.chunks(400).map(|c| chunk(&mut h, batch, c)).collect();
    let operations = vec![
        create_asset("/y.txt"),
        set_content("/y.txt", ids, None, Some(sha256(&body).to_vec())),
    ];
    let mut hashing = BodyHashing::new(&operations);
    assert!(!hashing.advance(h.server.chunks(), || false));
    h.write(admin, |s, c, _| {
        s.delete_batch(
            c,
            DeleteBatchArguments {
                batch_id: nat(batch),
            },
        )
    })
    .unwrap();
    while !hashing.advance(h.server.chunks(), || true) {}
    let prehashed = hashing.finish();
    let expected = format!("batch {batch} not found");
    refused(&mut h, admin, &expected, |h, caller| {
        h.write(caller, |s, c, now| {
            s.commit_batch_prehashed(
                c,
                now,
                CommitBatchArguments {
                    batch_id: nat(batch),
                    operations,
                },
                prehashed,
            )
        })
    });
}
