//! Memory limits hit part way through a change roll it back (issue 11).
//!
//! Two canisters take the same calls in lockstep: `twin` runs each one
//! without limits first, to measure what it grows, then `main` runs it
//! with a limit inside that growth (halfway, or one page short of the
//! end), so the limit is hit in the middle of the call, not at its first
//! allocation. The call must be refused and change nothing: what a user
//! sees (certified data, `list`, every stored file served and verified,
//! byte for byte) and the memory sizes, which alone show a stable memory
//! that was not rolled back (the heap mirror serves reads; the stale
//! stable records only break the next commit). With the limit lifted the
//! same call then succeeds and the two canisters agree again.
//!
//! The calls: a commit of a thousand assets (stable limit, then heap limit
//! twice), a 1.9 MB `create_chunk` (stable limit), and an upgrade whose
//! `post_upgrade` rebuilds the heap (heap limit). The host fails each
//! limit as the IC does: stable memory by `stable64_grow` returning -1
//! (the canister's stable structures then trap), the heap by trapping at
//! `wasm_memory_limit`.

use asset_server::types::*;
use asset_testkit::GatewayResponse;
use candid::{Nat, Principal};
use scenarios::AssetClient;
use scenarios::backend::{MemoryLimits, select_backend};
use scenarios::site::{SiteFile, large_body, sample_site, site_file, url_of};
use serde_bytes::ByteBuf;
use sha2::{Digest, Sha256};

use super::site_client_at;

const START: u64 = 1_760_000_000_000_000_000;
const PAGE: u64 = 64 * 1024;
const CHUNK: usize = 1_900_000;
/// Enough assets that the commit's records need new stable buckets and
/// its heap mirror new pages.
const SMALL_FILES: usize = 1_000;
/// Each small file carries a policy header of this many bytes, as a site
/// with a long `Content-Security-Policy` does: the records are stored in
/// stable memory, so they need more than the half-empty bucket left.
const POLICY_BYTES: usize = 1_000;

pub fn memory_limits_hit_mid_commit_roll_back(wasm: &[u8]) {
    let mut backend = select_backend();
    if !backend.set_memory_limits(MemoryLimits::default()) {
        println!(
            "  memory limits: SKIPPED on {}: it cannot set memory limits",
            backend.name()
        );
        return;
    }
    let mut run = Lockstep {
        twin: site_client_at(wasm, START),
        main: site_client_at(wasm, START),
        stored: sample_site(),
    };
    let admin = run.main.controller();
    let big = site_file(
        "/big.bin",
        "application/octet-stream",
        large_body(3 * CHUNK),
    );
    let small: Vec<SiteFile> = (0..SMALL_FILES)
        .map(|i| {
            let body = format!("small file {i}: {}", "x".repeat(i % 97));
            site_file(&format!("/many/{i:04}.txt"), "text/plain", body)
        })
        .collect();

    // First a thousand assets: their commit writes records to stable
    // memory and grows the heap (the decoded argument, the heap mirror of
    // the records), while the heap is still small.
    let batch = run.both(|client| client.create_batch(admin).unwrap());
    let small_chunks = run.both(|client| create_chunks(client, admin, &batch, &small));
    let policy = format!("default-src 'self'; {}", "x".repeat(POLICY_BYTES));
    let mut operations = Vec::new();
    for (file, id) in small.iter().zip(small_chunks) {
        operations.push(create(file, Some(&policy)));
        operations.push(set_content(file, vec![id]));
    }
    let commit = CommitBatchArguments {
        batch_id: batch,
        operations,
    };
    run.limited(
        "commit_batch (1,000 assets)",
        &[
            Limit::StableHalfway,
            Limit::HeapHalfway,
            Limit::HeapLastPage,
        ],
        |client| client.commit_batch(admin, commit.clone()).map(|i| ((), i)),
    );
    run.stored.extend(small);

    // Then a large file: chunks go to stable memory as they are created.
    let batch = run.both(|client| client.create_batch(admin).unwrap());
    let first = run.limited("create_chunk (1.9 MB)", &[Limit::StableHalfway], |client| {
        client.create_chunk(admin, &batch, &big.body[..CHUNK])
    });
    let mut chunks = vec![first];
    for piece in big.body[CHUNK..].chunks(CHUNK) {
        chunks.push(run.both(|client| client.create_chunk(admin, &batch, piece).unwrap().0));
    }
    let commit = CommitBatchArguments {
        batch_id: batch,
        operations: vec![create(&big, None), set_content(&big, chunks)],
    };
    run.both(|client| {
        client
            .commit_batch(admin, commit.clone())
            .unwrap()
            .map(|_| ())
    });
    run.stored.push(big);
    let started = std::time::Instant::now();
    run.main.assert_all_verify(&run.stored);
    println!(
        "  all {} files verify after the commits ({:.1}s)",
        run.stored.len(),
        started.elapsed().as_secs_f64()
    );

    // post_upgrade starts from a fresh heap and rebuilds the mirror of
    // every asset on it.
    run.limited("upgrade", &[Limit::HeapLastPage], |client| {
        let wasm = client.wasm.clone();
        let arg = candid::encode_one(None::<AssetCanisterArgs>).unwrap();
        client.backend.upgrade(&wasm, arg).map(|i| ((), i))
    });
    run.main.assert_all_verify(&run.stored);
}

/// Where a step puts `main`'s limit, from what the same call grew on the
/// twin.
#[derive(Clone, Copy, Debug)]
enum Limit {
    /// Stable memory halfway through the call's growth: the call has
    /// grown it, and fails at a later grow.
    StableHalfway,
    /// The heap halfway through the call's growth.
    HeapHalfway,
    /// The heap one page under the size the call reached: its last grow
    /// fails, late in the call. For an upgrade that is the size
    /// `post_upgrade` grew the fresh instance to.
    HeapLastPage,
}

/// Pages of (heap, stable) memory before and after the twin's call, and
/// the instructions it took.
#[derive(Clone, Copy)]
struct Growth {
    before: (u64, u64),
    after: (u64, u64),
    instructions: Option<u64>,
}

impl Growth {
    /// `main`'s limits for `limit`, when `main` stands where the twin did.
    fn limits(self, limit: Limit) -> MemoryLimits {
        let (heap, stable) = self.before;
        let grown = |after: u64, before: u64| after.saturating_sub(before);
        let (stable_pages, heap_pages) = match limit {
            Limit::StableHalfway => (Some(stable + grown(self.after.1, stable) / 2), None),
            Limit::HeapHalfway => (None, Some(heap + grown(self.after.0, heap) / 2)),
            Limit::HeapLastPage => (None, Some(self.after.0 - 1)),
        };
        MemoryLimits {
            stable_pages,
            heap_pages,
        }
    }
}

struct Lockstep {
    /// Runs every call first, without limits, to measure it.
    twin: AssetClient,
    /// Runs every call with the limits; what the scenario checks.
    main: AssetClient,
    /// Every file stored so far.
    stored: Vec<SiteFile>,
}

/// A call's result and the instructions it took.
type Outcome<T> = Result<(T, Option<u64>), String>;

impl Lockstep {
    /// `call` on both canisters, without limits; they must agree.
    fn both<T: PartialEq + std::fmt::Debug>(&mut self, call: impl Fn(&mut AssetClient) -> T) -> T {
        let expected = call(&mut self.twin);
        let got = call(&mut self.main);
        assert_eq!(got, expected, "the twins disagree");
        got
    }

    /// `call` on the twin, then on `main` under each of `limits` in turn
    /// (each must be refused and change nothing), then on `main` with no
    /// limit (it must succeed as on the twin).
    fn limited<T: PartialEq + std::fmt::Debug>(
        &mut self,
        what: &str,
        limits: &[Limit],
        call: impl Fn(&mut AssetClient) -> Outcome<T>,
    ) -> T {
        let growth = self.measure(what, &call);
        assert_eq!(
            pages(&self.main),
            growth.before,
            "{what}: the twins' memory"
        );
        for limit in limits {
            self.refused(what, *limit, growth, &call);
        }
        let (got, _) =
            call(&mut self.main).unwrap_or_else(|e| panic!("{what} with the limit lifted: {e}"));
        let _ = self.main.take_continuations();
        assert_eq!(pages(&self.main), growth.after, "{what}: the twins' memory");
        assert_eq!(
            self.main.backend.certified_data(),
            self.twin.backend.certified_data(),
            "{what}: the twins' certified data"
        );
        got
    }

    /// Runs `call` on the twin and says what it grew.
    fn measure<T>(&mut self, what: &str, call: &impl Fn(&mut AssetClient) -> Outcome<T>) -> Growth {
        let before = pages(&self.twin);
        let (_, instructions) =
            call(&mut self.twin).unwrap_or_else(|e| panic!("{what} on the twin: {e}"));
        assert_eq!(
            self.twin.take_continuations(),
            0,
            "{what} must fit one message, so that failing undoes all of it"
        );
        let after = pages(&self.twin);
        println!(
            "  {what}, unlimited: {} instructions, heap {} -> {} pages, stable {} -> {} pages",
            instructions.map_or("?".into(), |i| i.to_string()),
            before.0,
            after.0,
            before.1,
            after.1
        );
        Growth {
            before,
            after,
            instructions,
        }
    }

    /// Runs `call` on `main` under `limit`: it must fail and leave
    /// everything a user sees as it was.
    fn refused<T>(
        &mut self,
        what: &str,
        limit: Limit,
        growth: Growth,
        call: &impl Fn(&mut AssetClient) -> Outcome<T>,
    ) {
        let limits = growth.limits(limit);
        let (needed, allowed) = match limit {
            Limit::StableHalfway => (growth.after.1, limits.stable_pages),
            Limit::HeapHalfway | Limit::HeapLastPage => (growth.after.0, limits.heap_pages),
        };
        let allowed = allowed.expect("a limit is set");
        assert!(
            allowed < needed,
            "{what}: {limit:?} allows {allowed} pages, the call reaches only {needed}"
        );
        let before = Served::read(&mut self.main, &self.stored);
        assert!(self.main.backend.set_memory_limits(limits));
        let result = call(&mut self.main);
        assert!(self.main.backend.set_memory_limits(MemoryLimits::default()));
        let Err(error) = result else {
            panic!("{what} succeeded under {limits:?}, though it reaches {needed} pages");
        };
        let _ = self.main.take_continuations();
        println!(
            "  {what}, {limit:?} ({allowed} pages, it reaches {needed}; all of it took {}): refused: {}",
            growth.instructions.map_or("?".into(), |i| i.to_string()),
            first_line(&error)
        );
        let after = Served::read(&mut self.main, &self.stored);
        before.assert_same(&after, &format!("{what} under {limit:?}"));
        assert_eq!(pages(&self.main), growth.before, "{what}: memory sizes");
    }
}

/// What a user can see of the canister: its certified data, `list`, and
/// every stored file's answer, each verified.
struct Served {
    certified: Option<Vec<u8>>,
    list: Vec<AssetDetails>,
    answers: Vec<GatewayResponse>,
}

impl Served {
    fn read(client: &mut AssetClient, stored: &[SiteFile]) -> Self {
        let answers = stored
            .iter()
            .map(|file| {
                let response = client.fetch_verified(&url_of(&file.key));
                assert_eq!(response.status, 200, "{}", file.key);
                assert!(response.body == file.body, "{}: body differs", file.key);
                response
            })
            .collect();
        Served {
            certified: client.backend.certified_data(),
            list: client.list(),
            answers,
        }
    }

    fn assert_same(&self, after: &Served, what: &str) {
        assert_eq!(after.certified, self.certified, "{what}: certified data");
        assert!(after.list == self.list, "{what}: list changed");
        for (before, after) in self.answers.iter().zip(&after.answers) {
            assert_eq!(after.status, before.status, "{what}");
            assert_eq!(after.headers, before.headers, "{what}: headers");
            assert!(after.body == before.body, "{what}: a body changed");
        }
    }
}

/// (heap, stable) pages.
fn pages(client: &AssetClient) -> (u64, u64) {
    let (heap, stable) = client
        .backend
        .memory_bytes()
        .expect("a backend that limits memory measures it");
    (heap / PAGE, stable / PAGE)
}

/// The small files' bodies, one chunk each, in one `create_chunks` call.
fn create_chunks(
    client: &mut AssetClient,
    admin: Principal,
    batch: &Nat,
    files: &[SiteFile],
) -> Vec<Nat> {
    let content: Vec<ByteBuf> = files
        .iter()
        .map(|f| ByteBuf::from(f.body.clone()))
        .collect();
    assert!(content.iter().map(|c| c.len()).sum::<usize>() < CHUNK);
    let args = CreateChunksArguments {
        batch_id: batch.clone(),
        content,
    };
    let ((response,), _): ((CreateChunksResponse,), _) = client
        .update(admin, "create_chunks", (args,))
        .expect("create_chunks");
    response.chunk_ids
}

fn create(file: &SiteFile, policy: Option<&str>) -> BatchOperationKind {
    BatchOperationKind::CreateAsset(CreateAssetArguments {
        key: file.key.clone(),
        content_type: file.content_type.clone(),
        max_age: None,
        headers: policy.map(|policy| vec![("content-security-policy".into(), policy.into())]),
        enable_aliasing: None,
        allow_raw_access: None,
    })
}

fn set_content(file: &SiteFile, chunk_ids: Vec<Nat>) -> BatchOperationKind {
    BatchOperationKind::SetAssetContent(SetAssetContentArguments {
        key: file.key.clone(),
        content_encoding: "identity".into(),
        chunk_ids,
        last_chunk: None,
        sha256: Some(ByteBuf::from(Sha256::digest(&file.body).to_vec())),
    })
}

fn first_line(error: &str) -> &str {
    error.lines().next().unwrap_or(error)
}
