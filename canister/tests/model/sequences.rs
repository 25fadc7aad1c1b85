//! Model-based random testing of the core: random sequences of calls,
//! checked after every step against a plain in-memory model of the
//! canister (assets, permissions, batches, time).
//!
//! The calls: uploads in one commit; batches kept in flight across other
//! steps (chunks added, then committed directly, in several commits the way
//! `ic-asset` splits a large deploy, or through a proposal with its
//! evidence), `store`, deletes, unsets, clears, property changes,
//! permission grants and revokes by callers with and without the right,
//! time advancing past batch expiry, upgrades, and calls that must fail
//! (unknown batches and chunks, another batch's chunks, a wrong sha256, a
//! wrong evidence, creating what exists). Every call is made by one of a
//! controller, three users and the anonymous principal, and the model says
//! whether it is allowed.
//!
//! After every step: `list` (keys, content types, encodings, hashes,
//! lengths) and the permission lists agree with the model; the certified
//! data is what the last successful call certified and equals a root
//! recomputed from the model alone, with other trees (`ic-certified-map`'s
//! `RbTree` for `http_assets`, `ic-http-certification`'s tree for
//! `http_expr`); every stored body is served and verifies under v2 (each
//! encoding, bodies of several chunks through their 206s) and v1; the
//! fallback is what the model says, and every key nothing answers gets
//! exactly that fallback; every body a step replaces or removes no longer
//! verifies at its key (v2 and v1), nor, on the full checks, the latest
//! old body of any key and encoding.
//!
//! The canister is a `Target`: the core in this process (`native.rs`) or
//! the wasm on a backend (`tests/scenarios/tests/cases/model.rs`). `run`
//! makes the sequences, prints its seed and counts, and reruns a seed.

use std::collections::{BTreeMap, BTreeSet};

use asset_server::certification::{error_body, error_head};
use asset_server::types::*;
use asset_testkit::{GatewayRequest, GatewayResponse};
use candid::{Nat, Principal};
use ic_certified_map::{fork_hash, labeled_hash, leaf_hash};
use ic_http_certification::{
    DefaultCelBuilder, DefaultResponseCertification, HttpCertification, HttpCertificationPath,
    HttpResponse as CertifiedResponse, StatusCode, response_hash,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_bytes::ByteBuf;
use sha2::Digest;

/// One update call of the asset canister's interface, with its argument.
#[derive(Clone, Debug)]
pub enum Call {
    CreateBatch,
    CreateChunk(CreateChunkArguments),
    CreateChunks(CreateChunksArguments),
    CommitBatch(CommitBatchArguments),
    ProposeCommitBatch(CommitBatchArguments),
    ComputeEvidence(ComputeEvidenceArguments),
    CommitProposedBatch(CommitProposedBatchArguments),
    DeleteBatch(DeleteBatchArguments),
    Store(StoreArguments),
    /// `create_asset`, `set_asset_content`, `unset_asset_content`,
    /// `delete_asset`, `clear` or `set_asset_properties`, by its operation.
    Operation(BatchOperationKind),
    Grant(GrantPermission),
    Revoke(RevokePermission),
}

/// What a successful call returned.
#[derive(Clone, Debug)]
pub enum Reply {
    Unit,
    BatchId(Nat),
    ChunkIds(Vec<Nat>),
    Evidence(Option<Vec<u8>>),
}

/// The canister under test: the core in this process, or the wasm.
pub trait Target {
    /// Makes `call` as `who` (see `principal_of`). `allowed` is the
    /// model's expectation, only a hint: the native target saves its
    /// memory before a call expected to fail, so that it can roll back as a
    /// trap would. A refusal is `Err` with the canister's message.
    fn call(&mut self, who: usize, allowed: bool, call: Call) -> Result<Reply, String>;
    /// The time the target's clock shows, in nanoseconds.
    fn time(&self) -> u64;
    fn set_time(&mut self, now: u64);
    /// `pre_upgrade`, a new heap, `post_upgrade`: stable memory stays.
    fn upgrade(&mut self);
    fn list(&mut self) -> Vec<AssetDetails>;
    fn list_permitted(&mut self, permission: Permission) -> Vec<Principal>;
    /// The certified data the system holds, where the target can tell.
    fn certified_data(&mut self) -> Option<[u8; 32]>;
    /// The roots of `http_assets` and `http_expr`, where the target can tell.
    fn branch_roots(&mut self) -> Option<([u8; 32], [u8; 32])> {
        None
    }
    /// Checks of the inside the target can see (heap mirrors of stable
    /// memory, the count of stored chunks).
    fn check_internals(&mut self, _expected_chunks: u64) -> Result<(), String> {
        Ok(())
    }
    /// The host a gateway sends for this canister.
    fn gateway_host(&self) -> String;
    /// One `http_request` answer with `certificate_version`; under v1 with
    /// every streamed chunk appended, as a gateway assembles it.
    fn fetch(
        &mut self,
        request: &GatewayRequest,
        certificate_version: Option<u16>,
    ) -> GatewayResponse;
    /// Checks an answer with `ic-response-verification`, accepting only
    /// `min_version` or newer.
    fn verify(
        &mut self,
        request: &GatewayRequest,
        response: &GatewayResponse,
        min_version: u8,
    ) -> Result<u16, String>;
}

impl Reply {
    fn batch_id(self) -> Nat {
        match self {
            Reply::BatchId(id) => id,
            other => panic!("expected a batch id, got {other:?}"),
        }
    }

    fn chunk_ids(self) -> Vec<Nat> {
        match self {
            Reply::ChunkIds(ids) => ids,
            other => panic!("expected chunk ids, got {other:?}"),
        }
    }

    fn evidence(self) -> Option<Vec<u8>> {
        match self {
            Reply::Evidence(evidence) => evidence,
            other => panic!("expected evidence, got {other:?}"),
        }
    }
}

const KEYS: &[&str] = &[
    "/index.html",
    "/a.html",
    "/d/index.html",
    "/x.js",
    "/404.html",
    "/big.bin",
    "/s p.txt",
    // Where aliases of the keys above answer: a stored asset wins.
    "/a",
    "/d/",
];
const ENCODINGS: &[&str] = &["identity", "gzip", "br"];
const CONTENT_TYPES: &[&str] = &["application/octet-stream", "text/plain"];
/// Who calls: a controller, three users (principals 2, 3, 4) and anonymous.
pub const CALLERS: usize = 5;
pub const CONTROLLER: usize = 0;
pub const ANONYMOUS: usize = 4;
const PERMISSIONS: [Permission; 3] = [
    Permission::Commit,
    Permission::ManagePermissions,
    Permission::Prepare,
];
/// A batch idle this long expires (five minutes, as in DFINITY's canister).
const EXPIRY_NS: u64 = 5 * 60 * 1_000_000_000;
/// A batch id and a chunk id no call ever hands out.
const UNKNOWN_ID: u64 = 1 << 40;

/// The principal of caller `who`: the controller is principal 1 (it
/// installs the canister), the users principals 2 to 4, then anonymous.
pub fn principal_of(who: usize) -> Principal {
    match who {
        ANONYMOUS => Principal::anonymous(),
        n => Principal::from_slice(&[n as u8 + 1; 29]),
    }
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(bytes).into()
}

fn nat(n: u64) -> Nat {
    Nat::from(n)
}

#[derive(Clone, Debug)]
struct Body {
    len: usize,
    seed: u8,
}

impl Body {
    fn bytes(&self) -> Vec<u8> {
        (0..self.len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(self.seed))
            .collect()
    }

    /// The bytes stored under `encoding` (a gzip body is real gzip: v1
    /// verifiers decompress it).
    fn encoded(&self, encoding: &str) -> Vec<u8> {
        match encoding {
            "gzip" => gzip(&self.bytes()),
            _ => self.bytes(),
        }
    }
}

/// How a batch in flight is committed.
#[derive(Clone, Copy, Debug)]
enum Commit {
    /// One `commit_batch` with every operation.
    Direct,
    /// As `ic-asset` splits a large deploy: `commit_batch` under batch 0
    /// per part, then an empty `commit_batch` closing the real batch.
    Parts(usize),
    /// `propose_commit_batch`, then (with 1 or 2) `compute_evidence` until
    /// it is computed, then (with 2) `commit_proposed_batch`, by the same
    /// caller; the `Evidence` and `CommitProposed` steps do each alone.
    Propose(u8),
}

#[derive(Clone, Debug)]
enum Op {
    /// The controller uploads these (key, encoding, body) in one batch with
    /// this chunk size, committed at once.
    Upload(Vec<(usize, usize, Body)>, usize),
    /// `create_batch`.
    Begin {
        who: usize,
    },
    /// `create_chunks` of one body into a batch in flight (the n-th, or an
    /// unknown id when there is none).
    Chunks {
        who: usize,
        batch: usize,
        key: usize,
        encoding: usize,
        body: Body,
        chunk: usize,
    },
    /// Commits what a batch in flight holds; `bad_sha256` sends a wrong
    /// hash for its first body.
    CommitBatch {
        who: usize,
        batch: usize,
        how: Commit,
        bad_sha256: bool,
    },
    /// `compute_evidence` for a batch, a few iterations per call, until it
    /// is computed.
    Evidence {
        who: usize,
        batch: usize,
    },
    /// `commit_proposed_batch` with the evidence computed (or a wrong one).
    CommitProposed {
        who: usize,
        batch: usize,
        wrong_evidence: bool,
    },
    DeleteBatch {
        who: usize,
        batch: usize,
    },
    Store {
        who: usize,
        key: usize,
        encoding: usize,
        content_type: usize,
        body: Body,
        bad_sha256: bool,
    },
    Delete {
        who: usize,
        key: usize,
    },
    Unset {
        key: usize,
        encoding: usize,
    },
    Clear {
        who: usize,
    },
    Properties {
        who: usize,
        key: usize,
        max_age: Option<Option<u64>>,
        aliased: Option<Option<bool>>,
    },
    Grant {
        by: usize,
        to: usize,
        permission: usize,
    },
    Revoke {
        by: usize,
        of: usize,
        permission: usize,
    },
    /// Time passes (a second, four minutes or six: batches expire after
    /// five idle minutes).
    Advance(u64),
    Upgrade,
    /// A call that must fail, made by the controller.
    Refused(Refusal),
}

#[derive(Clone, Copy, Debug)]
enum Refusal {
    /// `create_chunks` into a batch that was never handed out.
    ChunksForUnknownBatch,
    /// A commit naming a chunk that was never uploaded.
    UnknownChunk,
    /// A commit of batch n naming a chunk of another batch.
    OtherBatchesChunk,
    /// `CreateAsset` of a key that exists.
    CreateExisting(usize),
    /// `SetAssetContent` of a key that does not exist.
    ContentOfMissing(usize),
    /// `compute_evidence` / `commit_proposed_batch` of a batch that was never
    /// proposed.
    EvidenceUnproposed,
}

fn body() -> impl Strategy<Value = Body> {
    (
        // Past 4 KiB a chunk is kept in pages rather than in the map.
        prop_oneof![6 => 0usize..200, 2 => 900usize..4000, 1 => 4_000usize..12_000],
        any::<u8>(),
    )
        .prop_map(|(len, seed)| Body { len, seed })
}

fn who() -> impl Strategy<Value = usize> {
    // The controller most often, so that most calls do something.
    prop_oneof![6 => Just(CONTROLLER), 3 => 1..ANONYMOUS, 1 => Just(ANONYMOUS)]
}

fn op() -> impl Strategy<Value = Op> {
    let key = || 0..KEYS.len();
    let encoding = || 0..ENCODINGS.len();
    // Which batch held a call names (see `Model::batch_id`).
    let batch = || 0usize..8;
    let chunk = || prop::sample::select(vec![700usize, 1000, 1_900_000]);
    let how = prop_oneof![
        2 => Just(Commit::Direct),
        2 => (2usize..4).prop_map(Commit::Parts),
        2 => (0u8..3).prop_map(Commit::Propose),
    ];
    let refusal = prop_oneof![
        Just(Refusal::ChunksForUnknownBatch),
        Just(Refusal::UnknownChunk),
        Just(Refusal::OtherBatchesChunk),
        key().prop_map(Refusal::CreateExisting),
        key().prop_map(Refusal::ContentOfMissing),
        Just(Refusal::EvidenceUnproposed),
    ];
    prop_oneof![
        4 => (
            prop::collection::vec((key(), encoding(), body()), 1..4),
            chunk(),
        )
            .prop_map(|(files, chunk)| Op::Upload(files, chunk)),
        5 => who().prop_map(|who| Op::Begin { who }),
        8 => (who(), batch(), key(), encoding(), body(), chunk()).prop_map(
            |(who, batch, key, encoding, body, chunk)| Op::Chunks {
                who,
                batch,
                key,
                encoding,
                body,
                chunk,
            }
        ),
        3 => (who(), batch(), how, prop::bool::weighted(0.1)).prop_map(
            |(who, batch, how, bad_sha256)| Op::CommitBatch {
                who,
                batch,
                how,
                bad_sha256,
            }
        ),
        1 => (who(), batch()).prop_map(|(who, batch)| Op::Evidence { who, batch }),
        1 => (who(), batch(), prop::bool::weighted(0.2)).prop_map(
            |(who, batch, wrong_evidence)| Op::CommitProposed {
                who,
                batch,
                wrong_evidence,
            }
        ),
        1 => (who(), batch()).prop_map(|(who, batch)| Op::DeleteBatch { who, batch }),
        2 => (
            who(),
            key(),
            encoding(),
            0..CONTENT_TYPES.len(),
            body(),
            prop::bool::weighted(0.1)
        )
            .prop_map(|(who, key, encoding, content_type, body, bad_sha256)| {
                Op::Store {
                    who,
                    key,
                    encoding,
                    content_type,
                    body,
                    bad_sha256,
                }
            }),
        1 => (who(), key()).prop_map(|(who, key)| Op::Delete { who, key }),
        1 => (key(), encoding()).prop_map(|(key, encoding)| Op::Unset { key, encoding }),
        1 => who().prop_map(|who| Op::Clear { who }),
        2 => (
            who(),
            key(),
            prop::option::of(prop::option::of(0u64..1000)),
            prop::option::of(prop::option::of(any::<bool>())),
        )
            .prop_map(|(who, key, max_age, aliased)| Op::Properties {
                who,
                key,
                max_age,
                aliased
            }),
        2 => (who(), 0..CALLERS, 0..3usize).prop_map(|(by, to, permission)| Op::Grant {
            by,
            to,
            permission
        }),
        2 => (who(), 0..CALLERS, 0..3usize).prop_map(|(by, of, permission)| Op::Revoke {
            by,
            of,
            permission
        }),
        1 => prop::sample::select(vec![
            1_000_000_000u64,
            1_000_000_000,
            240_000_000_000,
            360_000_000_000
        ])
        .prop_map(Op::Advance),
        1 => Just(Op::Upgrade),
        2 => refusal.prop_map(Op::Refused),
    ]
}

// ---- the model ----

#[derive(Clone, Debug, PartialEq)]
struct Encoded {
    bytes: Vec<u8>,
    /// The lengths of the chunks it was uploaded in.
    pieces: Vec<usize>,
}

#[derive(Clone, Debug)]
struct Asset {
    content_type: String,
    encodings: BTreeMap<String, Encoded>,
    max_age: Option<u64>,
    aliased: bool,
}

impl Asset {
    fn new(content_type: &str) -> Self {
        Self {
            content_type: content_type.into(),
            encodings: BTreeMap::new(),
            max_age: None,
            aliased: true,
        }
    }
}

/// A body uploaded into a batch and not committed yet.
#[derive(Clone, Debug)]
struct Staged {
    key: String,
    encoding: String,
    body: Encoded,
    chunk_ids: Vec<Nat>,
}

#[derive(Clone, Debug)]
struct Batch {
    expires_at: u64,
    staged: Vec<Staged>,
    /// Proposed: the operations, and the evidence once computed.
    proposal: Option<(Vec<BatchOperationKind>, Option<Vec<u8>>)>,
}

impl Batch {
    fn awaits_vote(&self) -> bool {
        matches!(self.proposal, Some((_, Some(_))))
    }

    fn live(&self, now: u64) -> bool {
        self.expires_at > now || self.awaits_vote()
    }
}

#[derive(Clone)]
struct Model {
    assets: BTreeMap<String, Asset>,
    /// Bodies a path served once and no longer serves.
    stale: Vec<(String, String, Vec<u8>)>,
    /// (caller, permission) granted.
    permissions: BTreeSet<(usize, usize)>,
    /// Batches the canister holds (an expired one until `create_batch`
    /// drops it).
    batches: BTreeMap<u64, Batch>,
    now: u64,
}

impl Model {
    fn new(now: u64) -> Self {
        Self {
            assets: BTreeMap::new(),
            stale: Vec::new(),
            // The installer gets every permission.
            permissions: (0..3).map(|p| (CONTROLLER, p)).collect(),
            batches: BTreeMap::new(),
            now,
        }
    }

    /// Whether `who` may act with `permission` (an index of PERMISSIONS).
    fn may(&self, who: usize, permission: usize) -> bool {
        let has = |p| self.permissions.contains(&(who, p));
        who != ANONYMOUS && (who == CONTROLLER || has(permission) || (permission == 2 && has(0)))
    }

    fn may_commit(&self, who: usize) -> bool {
        self.may(who, 0)
    }

    fn may_prepare(&self, who: usize) -> bool {
        self.may(who, 2)
    }

    /// The id of the n-th batch held, preferring those `proposed` says
    /// (a proposal for the evidence and its commit, else one not proposed),
    /// or (for n = 7, or when none is held) one never handed out.
    fn batch_id(&self, n: usize, proposed: bool) -> u64 {
        let held: Vec<u64> = self.batches.keys().copied().collect();
        let preferred: Vec<u64> = self
            .batches
            .iter()
            .filter(|(_, b)| b.proposal.is_some() == proposed)
            .map(|(id, _)| *id)
            .collect();
        let ids = if preferred.is_empty() {
            held
        } else {
            preferred
        };
        if ids.is_empty() || n == 7 {
            UNKNOWN_ID
        } else {
            ids[n % ids.len()]
        }
    }

    fn retire(&mut self, key: &str, encoding: &str, old: Vec<u8>) {
        self.stale.push((key.into(), encoding.into(), old));
    }

    fn with_body(&mut self, key: &str, encoding: &str, body: Encoded) -> Option<()> {
        let asset = self.assets.get_mut(key)?;
        if let Some(old) = asset.encodings.insert(encoding.into(), body) {
            self.retire(key, encoding, old.bytes);
        }
        Some(())
    }

    fn remove_asset(&mut self, key: &str) {
        if let Some(asset) = self.assets.remove(key) {
            for (encoding, old) in asset.encodings {
                self.retire(key, &encoding, old.bytes);
            }
        }
    }
}

/// The operations that commit `staged` on top of `model`: a CreateAsset for
/// each key not stored (nor created earlier in the list), a SetAssetContent
/// per body.
fn operations(model: &Model, staged: &[Staged], bad_sha256: bool) -> Vec<BatchOperationKind> {
    let mut created = BTreeSet::new();
    let mut operations = Vec::new();
    for (i, s) in staged.iter().enumerate() {
        if !model.assets.contains_key(&s.key) && created.insert(s.key.clone()) {
            operations.push(create_asset(&s.key, CONTENT_TYPES[0]));
        }
        let mut sha = sha256(&s.body.bytes).to_vec();
        if bad_sha256 && i == 0 {
            sha[0] ^= 1;
        }
        operations.push(BatchOperationKind::SetAssetContent(
            SetAssetContentArguments {
                key: s.key.clone(),
                content_encoding: s.encoding.clone(),
                chunk_ids: s.chunk_ids.clone(),
                last_chunk: if s.chunk_ids.is_empty() {
                    Some(ByteBuf::new())
                } else {
                    None
                },
                sha256: Some(ByteBuf::from(sha)),
            },
        ));
    }
    operations
}

/// The model after `operations` (as `operations` builds them, or as a
/// proposal fixed them earlier), or `None` if the canister must refuse.
fn model_commit(
    model: &Model,
    operations: &[BatchOperationKind],
    staged: &[Staged],
) -> Option<Model> {
    let mut next = model.clone();
    for operation in operations {
        match operation {
            BatchOperationKind::CreateAsset(args) => {
                if next.assets.contains_key(&args.key) {
                    return None;
                }
                next.assets
                    .insert(args.key.clone(), Asset::new(&args.content_type));
            }
            BatchOperationKind::SetAssetContent(args) => {
                let body = staged
                    .iter()
                    .find(|s| s.chunk_ids == args.chunk_ids && s.key == args.key)
                    .map(|s| s.body.clone())?;
                if args.sha256.as_deref().map(|s| s.as_slice()) != Some(&sha256(&body.bytes)[..]) {
                    return None;
                }
                next.with_body(&args.key, &args.content_encoding, body)?;
            }
            _ => unreachable!("batches hold creations and bodies only"),
        }
    }
    Some(next)
}

/// `CreateAsset` of `key` with only its content type set.
fn create_asset(key: &str, content_type: &str) -> BatchOperationKind {
    BatchOperationKind::CreateAsset(CreateAssetArguments::new(key, content_type))
}

fn pieces(len: usize, chunk: usize) -> Vec<usize> {
    if len == 0 {
        return vec![0];
    }
    (0..len)
        .step_by(chunk)
        .map(|start| chunk.min(len - start))
        .collect()
}

// ---- running one step ----

fn fail(message: impl Into<String>) -> TestCaseError {
    TestCaseError::fail(message.into())
}

thread_local! {
    /// Per call: how often it succeeded and how often it was refused.
    static OUTCOMES: std::cell::RefCell<BTreeMap<String, (u64, u64)>> =
        Default::default();
}

/// Checks that the call's outcome is the one the model expects.
fn expect<T: std::fmt::Debug>(
    what: &str,
    allowed: bool,
    result: &Result<T, String>,
) -> Result<(), TestCaseError> {
    OUTCOMES.with_borrow_mut(|outcomes| {
        let counts = outcomes.entry(what.to_string()).or_default();
        if result.is_ok() {
            counts.0 += 1;
        } else {
            counts.1 += 1;
        }
    });
    match (allowed, result) {
        (true, Err(error)) => Err(fail(format!(
            "{what}: refused ({error}), expected to succeed"
        ))),
        (false, Ok(value)) => Err(fail(format!(
            "{what}: succeeded ({value:?}), expected a refusal"
        ))),
        _ => Ok(()),
    }
}

fn apply<T: Target>(h: &mut T, model: &mut Model, op: &Op) -> Result<(), TestCaseError> {
    let now = model.now;
    match op {
        Op::Upload(files, chunk) => {
            let mut batch: Vec<(&str, &str, Vec<u8>)> = Vec::new();
            for (k, e, body) in files {
                let (key, encoding) = (KEYS[*k], ENCODINGS[*e]);
                if !batch
                    .iter()
                    .any(|(bk, be, _)| *bk == key && *be == encoding)
                {
                    batch.push((key, encoding, body.encoded(encoding)));
                }
            }
            // Refused only while a proposal waits (no batch may be created).
            let allowed = may_create_batch(model, CONTROLLER);
            let result = upload(h, model, &batch, *chunk, allowed);
            expect("upload", allowed, &result)?;
            if allowed {
                drop_expired(model);
                // The batch the upload used is gone again.
                for (key, encoding, bytes) in batch {
                    model
                        .assets
                        .entry(key.into())
                        .or_insert_with(|| Asset::new(CONTENT_TYPES[0]));
                    let body = Encoded {
                        pieces: pieces(bytes.len(), *chunk),
                        bytes,
                    };
                    model.with_body(key, encoding, body);
                }
            }
        }
        Op::Begin { who } => {
            let allowed = may_create_batch(model, *who);
            if allowed {
                drop_expired(model);
            }
            let result = call(h, *who, allowed, Call::CreateBatch);
            expect("create_batch", allowed, &result)?;
            if let Ok(reply) = result {
                let id = u64::try_from(&reply.batch_id().0).unwrap();
                prop_assert!(
                    model.batches.keys().all(|held| *held < id),
                    "batch id {} handed out again or out of order",
                    id
                );
                model.batches.insert(
                    id,
                    Batch {
                        expires_at: now + EXPIRY_NS,
                        staged: Vec::new(),
                        proposal: None,
                    },
                );
            }
        }
        Op::Chunks {
            who,
            batch,
            key,
            encoding,
            body,
            chunk,
        } => {
            let id = model.batch_id(*batch, false);
            let (key, encoding) = (KEYS[*key], ENCODINGS[*encoding]);
            let bytes = body.encoded(encoding);
            let allowed = model.may_prepare(*who)
                && model
                    .batches
                    .get(&id)
                    .is_some_and(|b| b.live(now) && b.proposal.is_none());
            let content: Vec<ByteBuf> = bytes
                .chunks(*chunk)
                .map(|c| ByteBuf::from(c.to_vec()))
                .collect();
            let args = CreateChunksArguments {
                batch_id: nat(id),
                content,
            };
            let result = call(h, *who, allowed, Call::CreateChunks(args));
            expect("create_chunks", allowed, &result)?;
            if let Ok(reply) = result {
                let batch = model.batches.get_mut(&id).unwrap();
                batch.expires_at = batch.expires_at.max(now + EXPIRY_NS);
                batch.staged.push(Staged {
                    key: key.into(),
                    encoding: encoding.into(),
                    body: Encoded {
                        pieces: pieces(bytes.len(), *chunk),
                        bytes,
                    },
                    chunk_ids: reply.chunk_ids(),
                });
            }
        }
        Op::CommitBatch {
            who,
            batch,
            how,
            bad_sha256,
        } => {
            let id = model.batch_id(*batch, false);
            let held = model.batches.get(&id).cloned();
            let unproposed = held.as_ref().is_some_and(|b| b.proposal.is_none());
            let live = held.as_ref().is_some_and(|b| b.live(now));
            let staged = held.map(|b| b.staged).unwrap_or_default();
            match how {
                Commit::Direct => {
                    let operations = operations(model, &staged, *bad_sha256);
                    let next = model_commit(model, &operations, &staged)
                        .filter(|_| model.may_commit(*who) && unproposed && live);
                    let args = CommitBatchArguments {
                        batch_id: nat(id),
                        operations,
                    };
                    let result = call(h, *who, next.is_some(), Call::CommitBatch(args));
                    expect("commit_batch", next.is_some(), &result)?;
                    if let Some(mut next) = next {
                        next.batches.remove(&id);
                        *model = next;
                    }
                }
                Commit::Parts(parts) => {
                    // Each part under batch 0, using the batch's chunks: the
                    // batch need not be live, only held and not proposed.
                    let size = staged.len().div_ceil(*parts).max(1);
                    for (n, part) in staged.chunks(size).enumerate() {
                        let operations = operations(model, part, *bad_sha256 && n == 0);
                        let next = model_commit(model, &operations, part)
                            .filter(|_| model.may_commit(*who) && unproposed);
                        let args = CommitBatchArguments {
                            batch_id: nat(0),
                            operations,
                        };
                        let result = call(h, *who, next.is_some(), Call::CommitBatch(args));
                        expect("commit_batch part under batch 0", next.is_some(), &result)?;
                        match next {
                            Some(mut next) => {
                                let batch = next.batches.get_mut(&id).unwrap();
                                batch
                                    .staged
                                    .retain(|s| !part.iter().any(|p| p.chunk_ids == s.chunk_ids));
                                *model = next;
                            }
                            None => return Ok(()),
                        }
                    }
                    // Closing the real batch.
                    let allowed = model.may_commit(*who)
                        && model
                            .batches
                            .get(&id)
                            .is_some_and(|b| b.live(now) && b.proposal.is_none());
                    let args = CommitBatchArguments {
                        batch_id: nat(id),
                        operations: Vec::new(),
                    };
                    let result = call(h, *who, allowed, Call::CommitBatch(args));
                    expect("commit_batch closing the batch", allowed, &result)?;
                    if allowed {
                        model.batches.remove(&id);
                    }
                }
                Commit::Propose(then) => {
                    let operations = operations(model, &staged, *bad_sha256);
                    let allowed = model.may_prepare(*who) && unproposed && live;
                    let args = CommitBatchArguments {
                        batch_id: nat(id),
                        operations: operations.clone(),
                    };
                    let result = call(h, *who, allowed, Call::ProposeCommitBatch(args));
                    expect("propose_commit_batch", allowed, &result)?;
                    if allowed {
                        let batch = model.batches.get_mut(&id).unwrap();
                        batch.proposal = Some((operations, None));
                        batch.expires_at = batch.expires_at.max(now + EXPIRY_NS);
                        if *then >= 1 {
                            evidence(h, model, *who, id)?;
                        }
                        if *then >= 2 {
                            commit_proposed(h, model, *who, id, false)?;
                        }
                    }
                }
            }
        }
        Op::Evidence { who, batch } => {
            let id = model.batch_id(*batch, true);
            evidence(h, model, *who, id)?;
        }
        Op::CommitProposed {
            who,
            batch,
            wrong_evidence,
        } => {
            let id = model.batch_id(*batch, true);
            commit_proposed(h, model, *who, id, *wrong_evidence)?;
        }
        Op::DeleteBatch { who, batch } => {
            let id = model.batch_id(*batch, false);
            let allowed = model.may_prepare(*who) && model.batches.contains_key(&id);
            let args = DeleteBatchArguments { batch_id: nat(id) };
            let result = call(h, *who, allowed, Call::DeleteBatch(args));
            expect("delete_batch", allowed, &result)?;
            if allowed {
                model.batches.remove(&id);
            }
        }
        Op::Store {
            who,
            key,
            encoding,
            content_type,
            body,
            bad_sha256,
        } => {
            let (key, encoding) = (KEYS[*key], ENCODINGS[*encoding]);
            let content_type = CONTENT_TYPES[*content_type];
            let bytes = body.encoded(encoding);
            let mut sha = sha256(&bytes).to_vec();
            if *bad_sha256 {
                sha[0] ^= 1;
            }
            let allowed = model.may_commit(*who) && !*bad_sha256;
            let args = StoreArguments {
                key: key.into(),
                content_type: content_type.into(),
                content_encoding: encoding.into(),
                content: ByteBuf::from(bytes.clone()),
                sha256: Some(ByteBuf::from(sha)),
            };
            let result = call(h, *who, allowed, Call::Store(args));
            expect("store", allowed, &result)?;
            if allowed {
                // Another content type replaces the asset (its other bodies
                // go), keeping its properties.
                let kept = model.assets.get(key).cloned();
                if kept
                    .as_ref()
                    .is_some_and(|a| a.content_type != content_type)
                {
                    model.remove_asset(key);
                }
                let asset = model.assets.entry(key.into()).or_insert_with(|| Asset {
                    max_age: kept.as_ref().and_then(|a| a.max_age),
                    aliased: kept.as_ref().is_none_or(|a| a.aliased),
                    ..Asset::new(content_type)
                });
                let _ = asset;
                let body = Encoded {
                    pieces: vec![bytes.len()],
                    bytes,
                };
                model.with_body(key, encoding, body);
            }
        }
        Op::Delete { who, key } => {
            let key = KEYS[*key];
            let operation =
                BatchOperationKind::DeleteAsset(DeleteAssetArguments { key: key.into() });
            let allowed = model.may_commit(*who);
            let result = call(h, *who, allowed, Call::Operation(operation));
            expect("delete_asset", allowed, &result)?;
            if allowed {
                model.remove_asset(key);
            }
        }
        Op::Unset { key, encoding } => {
            let (key, encoding) = (KEYS[*key], ENCODINGS[*encoding]);
            let operation = BatchOperationKind::UnsetAssetContent(UnsetAssetContentArguments {
                key: key.into(),
                content_encoding: encoding.into(),
            });
            let allowed = model.assets.contains_key(key);
            let result = call(h, CONTROLLER, allowed, Call::Operation(operation));
            expect("unset_asset_content", allowed, &result)?;
            if let Some(asset) = model.assets.get_mut(key)
                && let Some(old) = asset.encodings.remove(encoding)
            {
                model.retire(key, encoding, old.bytes);
            }
        }
        Op::Clear { who } => {
            let allowed = model.may_commit(*who);
            let operation = BatchOperationKind::Clear(ClearArguments {});
            let result = call(h, *who, allowed, Call::Operation(operation));
            expect("clear", allowed, &result)?;
            if allowed {
                let keys: Vec<String> = model.assets.keys().cloned().collect();
                for key in keys {
                    model.remove_asset(&key);
                }
            }
        }
        Op::Properties {
            who,
            key,
            max_age,
            aliased,
        } => {
            let key = KEYS[*key];
            let args = SetAssetPropertiesArguments {
                max_age: *max_age,
                is_aliased: *aliased,
                key: key.into(),
                headers: None,
                allow_raw_access: None,
            };
            let allowed = model.may_commit(*who) && model.assets.contains_key(key);
            let operation = BatchOperationKind::SetAssetProperties(args);
            let result = call(h, *who, allowed, Call::Operation(operation));
            expect("set_asset_properties", allowed, &result)?;
            if allowed {
                let asset = model.assets.get_mut(key).unwrap();
                if let Some(max_age) = max_age {
                    asset.max_age = *max_age;
                }
                if let Some(aliased) = aliased {
                    asset.aliased = aliased.unwrap_or(true);
                }
            }
        }
        Op::Grant { by, to, permission } => {
            let allowed = model.may(*by, 1) && *to != ANONYMOUS;
            let args = GrantPermission {
                to_principal: principal_of(*to),
                permission: PERMISSIONS[*permission],
            };
            let result = call(h, *by, allowed, Call::Grant(args));
            expect("grant_permission", allowed, &result)?;
            if allowed {
                model.permissions.insert((*to, *permission));
            }
        }
        Op::Revoke { by, of, permission } => {
            // Managers revoke anyone's; anyone but anonymous their own.
            let allowed = model.may(*by, 1) || (by == of && *by != ANONYMOUS);
            let args = RevokePermission {
                of_principal: principal_of(*of),
                permission: PERMISSIONS[*permission],
            };
            let result = call(h, *by, allowed, Call::Revoke(args));
            expect("revoke_permission", allowed, &result)?;
            if allowed {
                model.permissions.remove(&(*of, *permission));
            }
        }
        Op::Advance(by) => {
            model.now += by;
            h.set_time(model.now);
        }
        Op::Upgrade => h.upgrade(),
        Op::Refused(refusal) => refused(h, model, *refusal)?,
    }
    Ok(())
}

/// `compute_evidence` of batch `id`, a few iterations per call (as
/// governance tooling repeats it), until it is computed.
fn evidence<T: Target>(
    h: &mut T,
    model: &mut Model,
    who: usize,
    id: u64,
) -> Result<(), TestCaseError> {
    let now = model.now;
    let who = &who;
    let allowed = model.may_prepare(*who)
        && model
            .batches
            .get(&id)
            .is_some_and(|b| b.live(now) && b.proposal.is_some());
    // A few iterations per call, as governance tooling repeats it.
    let mut evidence = None;
    for _ in 0..1000 {
        let args = ComputeEvidenceArguments {
            batch_id: nat(id),
            max_iterations: Some(3),
        };
        let result = call(h, *who, allowed, Call::ComputeEvidence(args));
        expect("compute_evidence", allowed, &result)?;
        match result {
            Ok(reply) if reply.clone().evidence().is_some() => {
                let computed = reply.evidence().unwrap();
                evidence = Some(computed);
                break;
            }
            Ok(_) => continue,
            Err(_) => break,
        }
    }
    if allowed {
        prop_assert!(evidence.is_some(), "evidence never completed");
        let batch = model.batches.get_mut(&id).unwrap();
        let proposal = batch.proposal.as_mut().unwrap();
        if let Some(earlier) = &proposal.1 {
            prop_assert_eq!(Some(earlier), evidence.as_ref(), "evidence changed");
        }
        proposal.1 = evidence;
        batch.expires_at = batch.expires_at.max(now + EXPIRY_NS);
    }
    Ok(())
}

/// `commit_proposed_batch` of batch `id` with the evidence computed (or,
/// with `wrong_evidence`, another).
fn commit_proposed<T: Target>(
    h: &mut T,
    model: &mut Model,
    who: usize,
    id: u64,
    wrong_evidence: bool,
) -> Result<(), TestCaseError> {
    let (who, wrong_evidence) = (&who, &wrong_evidence);
    let held = model.batches.get(&id).cloned();
    let (operations, evidence) = held
        .as_ref()
        .and_then(|b| b.proposal.clone())
        .unwrap_or_default();
    let staged = held.map(|b| b.staged).unwrap_or_default();
    let mut presented = evidence.clone().unwrap_or_else(|| vec![0; 32]);
    if *wrong_evidence {
        presented[0] ^= 1;
    }
    let next = model_commit(model, &operations, &staged)
        .filter(|_| model.may_commit(*who) && evidence.is_some() && !*wrong_evidence);
    let args = CommitProposedBatchArguments {
        batch_id: nat(id),
        evidence: ByteBuf::from(presented),
    };
    let result = call(h, *who, next.is_some(), Call::CommitProposedBatch(args));
    expect("commit_proposed_batch", next.is_some(), &result)?;
    if let Some(mut next) = next {
        next.batches.remove(&id);
        *model = next;
    }
    Ok(())
}

/// Whether `create_batch` succeeds: Prepare, and no proposal waiting (one
/// that expired before its evidence was computed is dropped first).
fn may_create_batch(model: &Model, who: usize) -> bool {
    let now = model.now;
    model.may_prepare(who)
        && !model
            .batches
            .values()
            .any(|b| b.proposal.is_some() && b.live(now))
}

/// One call as `who`, counted in the outcomes by the caller's `expect`.
fn call<T: Target>(h: &mut T, who: usize, allowed: bool, call: Call) -> Result<Reply, String> {
    h.call(who, allowed, call)
}

/// The controller uploads `bodies` (key, encoding, bytes) the way dfx does:
/// one batch, `create_chunk` per piece of `chunk` bytes, a CreateAsset for
/// each key not stored yet, a SetAssetContent per body, one commit.
fn upload<T: Target>(
    h: &mut T,
    model: &Model,
    bodies: &[(&str, &str, Vec<u8>)],
    chunk: usize,
    allowed: bool,
) -> Result<Reply, String> {
    let batch_id = call(h, CONTROLLER, allowed, Call::CreateBatch)?.batch_id();
    let mut known: BTreeSet<&str> = model.assets.keys().map(String::as_str).collect();
    let mut operations = Vec::new();
    for (key, encoding, bytes) in bodies {
        let mut chunk_ids = Vec::new();
        for piece in bytes.chunks(chunk) {
            let args = CreateChunkArguments {
                batch_id: batch_id.clone(),
                content: ByteBuf::from(piece.to_vec()),
            };
            chunk_ids.extend(call(h, CONTROLLER, allowed, Call::CreateChunk(args))?.chunk_ids());
        }
        if known.insert(key) {
            operations.push(create_asset(key, CONTENT_TYPES[0]));
        }
        operations.push(BatchOperationKind::SetAssetContent(
            SetAssetContentArguments {
                key: key.to_string(),
                content_encoding: encoding.to_string(),
                last_chunk: chunk_ids.is_empty().then(ByteBuf::new),
                chunk_ids,
                sha256: Some(ByteBuf::from(sha256(bytes).to_vec())),
            },
        ));
    }
    let args = CommitBatchArguments {
        batch_id,
        operations,
    };
    call(h, CONTROLLER, allowed, Call::CommitBatch(args))
}

/// Drops the batches `create_batch` drops before it creates one.
fn drop_expired(model: &mut Model) {
    let now = model.now;
    model.batches.retain(|_, b| b.live(now));
}

fn refused<T: Target>(h: &mut T, model: &Model, refusal: Refusal) -> Result<(), TestCaseError> {
    let commit = |batch_id: u64, operations| CommitBatchArguments {
        batch_id: nat(batch_id),
        operations,
    };
    let content = |key: &str, chunk_ids: Vec<Nat>, bytes: &[u8]| {
        BatchOperationKind::SetAssetContent(SetAssetContentArguments {
            key: key.into(),
            content_encoding: "identity".into(),
            chunk_ids,
            last_chunk: None,
            sha256: Some(ByteBuf::from(sha256(bytes).to_vec())),
        })
    };
    let some_key = model.assets.keys().next().cloned();
    let (what, result): (&str, Result<Reply, String>) = match refusal {
        Refusal::ChunksForUnknownBatch => {
            let args = CreateChunksArguments {
                batch_id: nat(UNKNOWN_ID),
                content: vec![ByteBuf::from(b"x".to_vec())],
            };
            let result = call(h, CONTROLLER, false, Call::CreateChunks(args));
            ("create_chunks into an unknown batch", result)
        }
        Refusal::UnknownChunk => {
            let Some(key) = some_key else { return Ok(()) };
            let id = model.batch_id(0, false);
            let args = commit(id, vec![content(&key, vec![nat(UNKNOWN_ID)], b"")]);
            let result = call(h, CONTROLLER, false, Call::CommitBatch(args));
            ("a commit naming an unknown chunk", result)
        }
        Refusal::OtherBatchesChunk => {
            // Batch A's commit naming a chunk batch B holds.
            let Some(key) = some_key else { return Ok(()) };
            let Some((a, _)) = model.batches.iter().find(|(_, b)| b.proposal.is_none()) else {
                return Ok(());
            };
            let Some(staged) = model
                .batches
                .iter()
                .filter(|(id, _)| *id != a)
                .flat_map(|(_, b)| &b.staged)
                .next()
            else {
                return Ok(());
            };
            let args = commit(
                *a,
                vec![content(&key, staged.chunk_ids.clone(), &staged.body.bytes)],
            );
            let result = call(h, CONTROLLER, false, Call::CommitBatch(args));
            ("a commit naming another batch's chunk", result)
        }
        Refusal::CreateExisting(k) => {
            let key = KEYS[k];
            if !model.assets.contains_key(key) {
                return Ok(());
            }
            let operation = create_asset(key, "text/plain");
            let result = call(h, CONTROLLER, false, Call::Operation(operation));
            ("create_asset of an existing key", result)
        }
        Refusal::ContentOfMissing(k) => {
            let key = KEYS[k];
            if model.assets.contains_key(key) {
                return Ok(());
            }
            let operation = BatchOperationKind::SetAssetContent(SetAssetContentArguments {
                key: key.into(),
                content_encoding: "identity".into(),
                chunk_ids: Vec::new(),
                last_chunk: Some(ByteBuf::from(b"x".to_vec())),
                sha256: None,
            });
            let result = call(h, CONTROLLER, false, Call::Operation(operation));
            ("set_asset_content of a missing key", result)
        }
        Refusal::EvidenceUnproposed => {
            let id = model
                .batches
                .iter()
                .find(|(_, b)| b.proposal.is_none())
                .map(|(id, _)| *id)
                .unwrap_or(UNKNOWN_ID);
            let args = ComputeEvidenceArguments {
                batch_id: nat(id),
                max_iterations: None,
            };
            let evidence = call(h, CONTROLLER, false, Call::ComputeEvidence(args));
            expect("compute_evidence of an unproposed batch", false, &evidence)?;
            let args = CommitProposedBatchArguments {
                batch_id: nat(id),
                evidence: ByteBuf::from(vec![0; 32]),
            };
            let result = call(h, CONTROLLER, false, Call::CommitProposedBatch(args));
            ("commit_proposed_batch of an unproposed batch", result)
        }
    };
    expect(what, false, &result)
}

// ---- the root, recomputed from the model ----

fn expression() -> ic_http_certification::DefaultResponseOnlyCelExpression<'static> {
    DefaultCelBuilder::response_only_certification()
        .with_response_certification(DefaultResponseCertification::response_header_exclusions(
            vec![],
        ))
        .build()
}

/// Which stored asset answers `path`: the one stored there with a body,
/// else `/p.html`, then `/p/index.html` (for `/p/`, `/p/index.html`) if
/// aliased and with a body.
fn resolve<'m>(model: &'m Model, path: &str) -> Option<&'m Asset> {
    let servable = |key: &str| {
        model
            .assets
            .get(key)
            .filter(|asset| !asset.encodings.is_empty())
    };
    if let Some(asset) = servable(path) {
        return Some(asset);
    }
    let targets = if path.ends_with('/') {
        vec![format!("{path}index.html")]
    } else {
        vec![format!("{path}.html"), format!("{path}/index.html")]
    };
    targets
        .iter()
        .find_map(|key| servable(key).filter(|asset| asset.aliased))
}

/// Every path some stored key could answer: the key, and for `x.html` also
/// `x`, for `d/index.html` also `d/` and `d`.
fn candidate_paths(model: &Model) -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    for key in model.assets.keys() {
        paths.insert(key.clone());
        if let Some(stem) = key.strip_suffix(".html") {
            if !stem.ends_with('/') && !stem.is_empty() {
                paths.insert(stem.to_string());
            }
            if let Some(dir) = stem.strip_suffix("index")
                && dir.ends_with('/')
            {
                paths.insert(dir.to_string());
                if dir.len() > 1 {
                    paths.insert(dir.trim_end_matches('/').to_string());
                }
            }
        }
    }
    paths
}

/// The body v1 certifies: identity, else gzip, else the first.
fn v1_body(asset: &Asset) -> &Encoded {
    asset
        .encodings
        .get("identity")
        .or_else(|| asset.encodings.get("gzip"))
        .or_else(|| asset.encodings.values().next())
        .expect("a servable asset has a body")
}

/// Every response the canister certifies for `asset` at status `status`:
/// each single-chunk body whole, each body of several chunks (at 200) as
/// one 206 per chunk, and with `not_modified` a 304 per body.
fn responses(
    asset: &Asset,
    status: u16,
    not_modified: bool,
) -> Vec<(u16, Vec<HeaderField>, Vec<u8>)> {
    let expression = expression().to_string();
    let mut responses = Vec::new();
    for (name, encoded) in &asset.encodings {
        let etag = format!("\"{}\"", hex(&sha256(&encoded.bytes)));
        let head = |range: Option<String>, not_modified: bool| {
            let mut headers: Vec<HeaderField> = Vec::new();
            if !not_modified {
                headers.push(("content-type".into(), asset.content_type.clone()));
            }
            headers.push(("etag".into(), etag.clone()));
            if let Some(max_age) = asset.max_age {
                headers.push(("cache-control".into(), format!("max-age={max_age}")));
            }
            if asset.encodings.len() > 1 {
                headers.push(("vary".into(), "accept-encoding".into()));
            }
            if !not_modified {
                if name != "identity" {
                    headers.push(("content-encoding".into(), name.clone()));
                }
                if encoded.pieces.len() > 1 {
                    headers.push(("accept-ranges".into(), "bytes".into()));
                }
                if let Some(range) = range {
                    headers.push(("content-range".into(), range));
                }
            }
            headers.push(("IC-CertificateExpression".into(), expression.clone()));
            headers
        };
        if encoded.pieces.len() <= 1 {
            responses.push((status, head(None, false), encoded.bytes.clone()));
        } else if status == 200 {
            let mut start = 0;
            for piece in &encoded.pieces {
                let end = start + piece.max(&1) - 1;
                let range = format!("bytes {start}-{end}/{}", encoded.bytes.len());
                let bytes = encoded.bytes[start..start + piece].to_vec();
                responses.push((206, head(Some(range), false), bytes));
                start += piece;
            }
        }
        if not_modified {
            responses.push((304, head(None, true), Vec::new()));
        }
    }
    responses
}

fn error_response(status: u16) -> (u16, Vec<HeaderField>, Vec<u8>) {
    (
        status,
        error_head(status).headers,
        error_body(status).to_vec(),
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A labeled tree as the certified data defines it: at each level the
/// children sorted by label, cut into groups after each label that
/// `ends_group`; each group combined by forks into a balanced binary tree
/// (the left half the smaller), and the groups' roots split recursively at
/// the boundary nearest half of their children (the lower on a tie). Written here from that definition alone,
/// over plain maps: not the canister's lazily hashed tree, nor its history.
/// (`ic-certified-map`'s `RbTree` and `ic-http-certification`'s tree would
/// certify the same contents with another fork shape, so another root.)
#[derive(Default)]
struct Level(BTreeMap<Vec<u8>, Node>);

enum Node {
    Leaf(Vec<u8>),
    Level(Level),
}

impl Level {
    fn insert(&mut self, path: &[Vec<u8>], value: Vec<u8>) {
        let (label, rest) = path.split_first().expect("a non-empty path");
        if rest.is_empty() {
            self.0.insert(label.clone(), Node::Leaf(value));
            return;
        }
        let child = self
            .0
            .entry(label.clone())
            .or_insert_with(|| Node::Level(Level::default()));
        match child {
            Node::Level(level) => level.insert(rest, value),
            Node::Leaf(_) => panic!("a leaf and a level under one label"),
        }
    }

    fn hash(&self) -> [u8; 32] {
        let mut groups: Vec<(usize, [u8; 32])> = Vec::new();
        let mut group: Vec<[u8; 32]> = Vec::new();
        for (i, (label, node)) in self.0.iter().enumerate() {
            let hash = match node {
                Node::Leaf(value) => leaf_hash(value),
                Node::Level(level) => level.hash(),
            };
            group.push(labeled_hash(label, &hash));
            if ends_group(label) || i + 1 == self.0.len() {
                groups.push((group.len(), forks(&group)));
                group.clear();
            }
        }
        if groups.is_empty() {
            return forks(&[]);
        }
        weighed(&groups)
    }
}

/// Whether a group ends at `label`: FNV-1a (64 bits) of the label, mixed
/// by MurmurHash3's 64-bit finalizer, below 2^58.
fn ends_group(label: &[u8]) -> bool {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in label {
        h ^= u64::from(byte);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    h < 1 << 58
}

/// The tree over groups (size, root): split where the children before the
/// split come nearest half of all, the first such split on a tie.
fn weighed(groups: &[(usize, [u8; 32])]) -> [u8; 32] {
    if groups.len() == 1 {
        return groups[0].1;
    }
    let half = groups.iter().map(|g| g.0).sum::<usize>() / 2;
    let split = (1..groups.len())
        .min_by_key(|&j| {
            groups[..j]
                .iter()
                .map(|g| g.0)
                .sum::<usize>()
                .abs_diff(half)
        })
        .expect("two groups or more");
    fork_hash(&weighed(&groups[..split]), &weighed(&groups[split..]))
}

fn forks(hashes: &[[u8; 32]]) -> [u8; 32] {
    match hashes.len() {
        0 => ic_certified_map::HashTree::Empty.reconstruct(),
        1 => hashes[0],
        n => fork_hash(&forks(&hashes[..n / 2]), &forks(&hashes[n / 2..])),
    }
}

/// The labels of one certified v2 response under `http_expr`: the path's
/// (segments, then `<$>` or `<*>`), the expression's hash, the empty
/// request label (responses only) and the response's hash.
fn v2_labels(
    path: &HttpCertificationPath,
    (status, headers, body): (u16, Vec<HeaderField>, Vec<u8>),
) -> Vec<Vec<u8>> {
    let expression = expression();
    let response = CertifiedResponse::builder()
        .with_status_code(StatusCode::from_u16(status).unwrap())
        .with_headers(headers)
        .with_body(body)
        .build();
    // Checks the response names the expression, as certification requires.
    HttpCertification::response_only(&expression, &response, None).expect("a valid response");
    let mut labels: Vec<Vec<u8>> = path
        .to_expr_path()
        .into_iter()
        .skip(1) // http_expr
        .map(String::into_bytes)
        .collect();
    labels.push(sha256(expression.to_string().as_bytes()).to_vec());
    labels.push(Vec::new());
    labels.push(response_hash(&response, &expression.response, None).to_vec());
    labels
}

/// The two branches of the certified data the model implies:
/// `labeled("http_assets", path -> SHA-256 of the body)` and
/// `labeled("http_expr", path -> expression -> "" -> response -> "")`.
fn model_root(model: &Model) -> ([u8; 32], [u8; 32]) {
    let mut v1 = Level::default();
    let mut v2 = Level::default();
    let mut certify = |path: &HttpCertificationPath, response| {
        v2.insert(&v2_labels(path, response), Vec::new());
    };
    for path in candidate_paths(model) {
        if let Some(asset) = resolve(model, &path) {
            let hash = sha256(&v1_body(asset).bytes).to_vec();
            v1.insert(&[path.as_bytes().to_vec()], hash);
            let exact = HttpCertificationPath::exact(path.clone());
            for response in responses(asset, 200, true) {
                certify(&exact, response);
            }
            certify(&exact, error_response(405));
        }
    }
    // A path nothing answers: the 404 page if it has a body in one chunk,
    // else the index (a single-page app), else a short 404.
    let root = HttpCertificationPath::wildcard("/");
    let fallback = match (resolve(model, "/404.html"), resolve(model, "/index.html")) {
        (Some(page), _) if page.encodings.values().any(|e| e.pieces.len() <= 1) => {
            responses(page, 404, false)
        }
        (_, Some(index)) => responses(index, 200, false),
        _ => vec![error_response(404)],
    };
    for response in fallback {
        certify(&root, response);
    }
    certify(&root, error_response(400));
    certify(&root, error_response(405));
    (
        labeled_hash(b"http_assets", &v1.hash()),
        labeled_hash(b"http_expr", &v2.hash()),
    )
}

// ---- the checks after each step ----

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn url(key: &str) -> String {
    key.replace(' ', "%20")
}

fn get(host: &str, url: &str) -> GatewayRequest {
    GatewayRequest::get(url).with_header("host", host)
}

/// The whole body of a v2 answer: a 200, or a 206 followed by ranges.
fn read_v2<T: Target>(
    h: &mut T,
    request: GatewayRequest,
) -> Result<GatewayResponse, TestCaseError> {
    let first = h.fetch(&request, Some(2));
    let checked = h.verify(&request, &first, 2);
    prop_assert!(checked.is_ok(), "{}: {:?}", request.url, checked);
    if first.status != 206 {
        return Ok(first);
    }
    let total: usize = first
        .header("content-range")
        .and_then(|v| v.rsplit('/').next())
        .and_then(|t| t.parse().ok())
        .expect("206 has a content-range");
    let mut whole = first.clone();
    while whole.body.len() < total {
        let next = request
            .clone()
            .with_header("range", &format!("bytes={}-", whole.body.len()));
        let part = h.fetch(&next, Some(2));
        let checked = h.verify(&next, &part, 2);
        prop_assert!(checked.is_ok(), "{} range: {:?}", request.url, checked);
        prop_assert!(!part.body.is_empty());
        whole.body.extend_from_slice(&part.body);
    }
    whole.status = 200;
    Ok(whole)
}

/// Each asset's key, content type, and (encoding, sha256, length) per
/// encoding: what `list` answers, and what the model expects it to.
type Listing = Vec<(String, String, Vec<(String, Vec<u8>, u64)>)>;

/// The cheap checks, after every step: list, permissions, certified data.
fn check_state<T: Target>(h: &mut T, model: &Model) -> Result<(), TestCaseError> {
    // No chunk leaks and none is lost: stored are exactly those of the
    // bodies served and of the uploads not yet committed.
    let expected: usize = model
        .assets
        .values()
        .flat_map(|a| a.encodings.values())
        .map(|e| e.pieces.len())
        .sum::<usize>()
        + model
            .batches
            .values()
            .flat_map(|b| &b.staged)
            .map(|s| s.chunk_ids.len())
            .sum::<usize>();
    h.check_internals(expected as u64).map_err(fail)?;
    let listed: Listing = h
        .list()
        .into_iter()
        .map(|a| {
            let encodings = a
                .encodings
                .into_iter()
                .map(|e| {
                    let length = u64::try_from(&e.length.0).unwrap();
                    (e.content_encoding, e.sha256.unwrap().into_vec(), length)
                })
                .collect();
            (a.key, a.content_type, encodings)
        })
        .collect();
    let modeled: Listing = model
        .assets
        .iter()
        .map(|(key, asset)| {
            let encodings = asset
                .encodings
                .iter()
                .map(|(name, e)| {
                    (
                        name.clone(),
                        sha256(&e.bytes).to_vec(),
                        e.bytes.len() as u64,
                    )
                })
                .collect();
            (key.clone(), asset.content_type.clone(), encodings)
        })
        .collect();
    prop_assert_eq!(listed, modeled, "list differs from the model");
    for (p, permission) in PERMISSIONS.iter().enumerate() {
        let mut listed = h.list_permitted(*permission);
        listed.sort();
        let mut modeled: Vec<Principal> = (0..CALLERS)
            .filter(|who| model.permissions.contains(&(*who, p)))
            .map(principal_of)
            .collect();
        modeled.sort();
        prop_assert_eq!(listed, modeled, "{:?} list differs", permission);
    }
    let (v1, v2) = model_root(model);
    if let Some(branches) = h.branch_roots() {
        prop_assert_eq!(branches.0, v1, "http_assets is not the model's");
        prop_assert_eq!(branches.1, v2, "http_expr is not the model's");
    }
    if let Some(certified) = h.certified_data() {
        prop_assert_eq!(
            certified,
            fork_hash(&v1, &v2),
            "the certified data is not the model's root"
        );
    }
    Ok(())
}

/// Serves and verifies the bodies of `keys` (all the model's when `None`).
fn check_served<T: Target>(
    h: &mut T,
    model: &Model,
    keys: Option<&[&str]>,
) -> Result<(), TestCaseError> {
    let host = h.gateway_host();
    for (key, asset) in &model.assets {
        if keys.is_some_and(|keys| !keys.contains(&key.as_str())) {
            continue;
        }
        for (encoding, encoded) in &asset.encodings {
            let request = get(&host, &url(key)).with_header("accept-encoding", encoding);
            let response = read_v2(h, request)?;
            prop_assert_eq!(response.status, 200, "{} {}", key, encoding);
            prop_assert!(
                response.body == encoded.bytes,
                "{} {}: body differs",
                key,
                encoding
            );
            let served = response.header("content-encoding").unwrap_or("identity");
            prop_assert_eq!(served, encoding.as_str());
            let cache = response.header("cache-control").map(str::to_string);
            prop_assert_eq!(cache, asset.max_age.map(|m| format!("max-age={m}")));
        }
        if !asset.encodings.is_empty() {
            let request = get(&host, &url(key));
            let v1 = h.fetch(&request, None);
            let checked = h.verify(&request, &v1, 1);
            prop_assert!(checked.is_ok(), "v1 {}: {:?}", key, checked);
            if let Some(identity) = asset.encodings.get("identity") {
                prop_assert!(v1.body == identity.bytes, "v1 {}: body differs", key);
            }
        }
    }
    if keys.is_some() {
        return Ok(());
    }
    // Aliases: `/a` answers `/a.html` while it is aliased and has a body.
    let alias = h.fetch(&get(&host, "/a"), Some(2));
    prop_assert!(h.verify(&get(&host, "/a"), &alias, 2).is_ok());
    if let Some(asset) = resolve(model, "/a").filter(|a| a.encodings.contains_key("identity")) {
        let response = read_v2(
            h,
            get(&host, "/a").with_header("accept-encoding", "identity"),
        )?;
        prop_assert!(
            response.body == asset.encodings["identity"].bytes,
            "/a alias"
        );
    }
    // The fallback for a path no asset answers.
    let missing = read_v2(h, get(&host, "/no/such/path"))?;
    let page_404 = resolve(model, "/404.html")
        .is_some_and(|a| a.encodings.values().any(|e| e.pieces.len() <= 1));
    if page_404 {
        prop_assert_eq!(missing.status, 404);
    } else if resolve(model, "/index.html").is_some() {
        prop_assert_eq!(missing.status, 200);
    } else {
        prop_assert_eq!(missing.status, 404);
    }
    // Every key nothing answers gets exactly that fallback.
    for key in KEYS {
        if resolve(model, key).is_none() {
            let response = read_v2(h, get(&host, &url(key)))?;
            prop_assert_eq!(response.status, missing.status, "{}", key);
            prop_assert!(
                response.body == missing.body,
                "{} is not answered with the fallback",
                key
            );
        }
    }
    // The latest old body of every key and encoding still does not verify.
    let mut latest: BTreeMap<(&str, &str), &[u8]> = BTreeMap::new();
    for (key, encoding, old) in &model.stale {
        latest.insert((key, encoding), old);
    }
    for ((key, encoding), old) in latest {
        check_stale(h, model, key, encoding, old)?;
    }
    Ok(())
}

/// A body `key` served under `encoding` before it changed does not verify
/// there any more, under v2 or v1, unless the same bytes are still served
/// at that key.
fn check_stale<T: Target>(
    h: &mut T,
    model: &Model,
    key: &str,
    encoding: &str,
    old: &[u8],
) -> Result<(), TestCaseError> {
    let still_served = model
        .assets
        .get(key)
        .is_some_and(|a| a.encodings.values().any(|e| e.bytes == old));
    if still_served {
        return Ok(());
    }
    let request = get(&h.gateway_host(), &url(key)).with_header("accept-encoding", encoding);
    for (version, min_version) in [(Some(2), 2), (None, 1)] {
        let mut response = h.fetch(&request, version);
        if response.status == 200 {
            response.body = old.to_vec();
            prop_assert!(
                h.verify(&request, &response, min_version).is_err(),
                "an old body of {} {} still verifies (v{})",
                key,
                encoding,
                min_version
            );
        }
    }
    Ok(())
}

/// How many sequences and steps a run makes: `<PREFIX>_CASES`,
/// `<PREFIX>_STEPS`, `<PREFIX>_FULL_EVERY` override the defaults, and
/// `<PREFIX>_SEED` reruns a run.
pub struct Run {
    pub prefix: &'static str,
    /// Names the target in the output.
    pub label: &'static str,
    pub cases: u64,
    pub steps: u64,
    pub full_every: u64,
    /// Shrinking reruns the failing case this often at most.
    pub max_shrink_iters: u32,
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The run's seed: `<PREFIX>_SEED` (32 hex digits) or a fresh one.
fn seed(prefix: &str) -> [u8; 16] {
    match std::env::var(format!("{prefix}_SEED")) {
        Ok(hex) => {
            let bytes: Vec<u8> = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("the seed is hex"))
                .collect();
            bytes.try_into().expect("the seed is 32 hex digits")
        }
        Err(_) => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            let mut seed = nanos.to_le_bytes();
            seed[15] ^= std::process::id() as u8;
            seed
        }
    }
}

/// Runs random sequences on fresh targets made by `make`, checking each step against the model; panics with the
/// shortest failing sequence and the seed. Returns the operations run.
pub fn run<T: Target>(run: &Run, make: impl Fn() -> T) -> usize {
    let prefix = run.prefix;
    let label = run.label;
    let cases = env(&format!("{prefix}_CASES"), run.cases) as u32;
    let steps = env(&format!("{prefix}_STEPS"), run.steps) as usize;
    let full_every = env(&format!("{prefix}_FULL_EVERY"), run.full_every).max(1) as usize;
    let seed = seed(prefix);
    println!(
        "model-based ({label}): seed {} (rerun with {prefix}_SEED={} {prefix}_CASES={cases} {prefix}_STEPS={steps} {prefix}_FULL_EVERY={full_every})",
        hex(&seed),
        hex(&seed)
    );
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            max_shrink_iters: run.max_shrink_iters,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[seed, seed].concat()),
    );
    let operations = std::cell::Cell::new(0usize);
    let started = std::time::Instant::now();
    let timings = std::cell::RefCell::new([std::time::Duration::ZERO; 3]);
    let timed = |i: usize, since: std::time::Instant| timings.borrow_mut()[i] += since.elapsed();
    let result = runner.run(&prop::collection::vec(op(), 1..=steps), |ops| {
        let mut h = make();
        let mut model = Model::new(h.time());
        for (step, op) in ops.iter().enumerate() {
            let t = std::time::Instant::now();
            let retired = model.stale.len();
            apply(&mut h, &mut model, op)?;
            timed(0, t);
            operations.set(operations.get() + 1);
            let t = std::time::Instant::now();
            check_state(&mut h, &model)?;
            timed(1, t);
            let t = std::time::Instant::now();
            // Every body this step replaced or removed.
            for (key, encoding, old) in &model.stale[retired..] {
                check_stale(&mut h, &model, key, encoding, old)?;
            }
            if step % full_every == full_every - 1 || step == ops.len() - 1 {
                check_served(&mut h, &model, None)?;
            } else {
                // One path, chosen by the step.
                let picked = [KEYS[step % KEYS.len()]];
                check_served(&mut h, &model, Some(&picked))?;
            }
            timed(2, t);
        }
        Ok(())
    });
    println!(
        "model-based ({label}): {cases} sequences, {} operations, each checked, in {:.1}s",
        operations.get(),
        started.elapsed().as_secs_f64()
    );
    let [calls, state, served] = *timings.borrow();
    println!(
        "model-based ({label}): time in calls {calls:.1?}, list/permissions/root {state:.1?}, serving and verifying {served:.1?}"
    );
    OUTCOMES.with_borrow_mut(|outcomes| {
        for (what, (ok, refused)) in outcomes.iter() {
            println!("model-based ({label}): {what}: {ok} succeeded, {refused} refused");
        }
        outcomes.clear();
    });
    if let Err(error) = result {
        panic!("{error}\nseed: {prefix}_SEED={}", hex(&seed));
    }
    operations.get()
}
