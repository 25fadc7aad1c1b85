//! Every way a call can be refused, with the message the caller sees.
//!
//! The API edge turns these into candid rejects (traps), which also roll back
//! anything the call did; the core itself never leaves partial changes.

use candid::{Nat, Principal};

use crate::types::Permission;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssetError {
    AnonymousCaller,
    NotPermitted {
        caller: Principal,
        needs: Permission,
    },
    NotController {
        caller: Principal,
    },
    CannotGrantToAnonymous,
    InvalidId(Nat),
    BatchNotFound(u64),
    BatchExpired(u64),
    /// A batch is proposed for a vote; no other batch until it is
    /// committed or deleted.
    ProposalPending {
        batch_id: u64,
        evidence_computed: bool,
    },
    BatchLimitExceeded {
        max: u64,
    },
    ChunkLimitExceeded {
        max: u64,
    },
    ByteLimitExceeded {
        max: u64,
    },
    /// The batch is proposed: its content and operations are fixed.
    BatchProposed(u64),
    BatchAlreadyProposed(u64),
    BatchNotProposed(u64),
    EvidenceNotComputed(u64),
    EvidenceMismatch {
        batch_id: u64,
        computed: String,
        presented: String,
    },
    ChunkNotInBatch {
        batch_id: u64,
        chunk_id: u64,
    },
    ChunkUsedTwice(u64),
    ChunkTooLarge {
        size: usize,
        max: usize,
    },
    InvalidKey(String),
    AssetNotFound(String),
    AssetExists(String),
    EncodingNotFound {
        key: String,
        encoding: String,
    },
    NoAcceptableEncoding(String),
    ChunkIndexOutOfRange {
        key: String,
        index: Nat,
    },
    StaleSha256 {
        key: String,
    },
    EmptyContent {
        key: String,
    },
    EmptyEncoding {
        key: String,
    },
    Sha256WrongLength(usize),
    Sha256Mismatch {
        key: String,
        encoding: String,
        supplied: String,
        computed: String,
    },
    WrongInstallArgument(&'static str),
    /// Stable memory holds something we cannot read; the upgrade is refused.
    UnreadableStableMemory(String),
    NewerLayout {
        found: u32,
        supported: u32,
    },
    ImportFailed(String),
    /// The saved state is more than one upgrade can import; says why.
    ImportTooLarge(String),
}

impl std::fmt::Display for AssetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use AssetError::*;
        match self {
            AnonymousCaller => write!(
                f,
                "the anonymous principal cannot change assets or permissions"
            ),
            NotPermitted { caller, needs } => {
                write!(f, "caller {caller} does not have {needs} permission")
            }
            NotController { caller } => {
                write!(f, "caller {caller} is not a controller of this canister")
            }
            CannotGrantToAnonymous => write!(
                f,
                "permissions cannot be granted to the anonymous principal"
            ),
            InvalidId(id) => write!(f, "id {id} is out of range"),
            BatchNotFound(id) => write!(
                f,
                "batch {id} not found (it may have been committed, deleted or expired)"
            ),
            BatchExpired(id) => write!(
                f,
                "batch {id} expired after 5 minutes without activity; create a new batch"
            ),
            ProposalPending {
                batch_id,
                evidence_computed: true,
            } => write!(
                f,
                "batch {batch_id} is already proposed; delete or commit it to propose another"
            ),
            ProposalPending {
                batch_id,
                evidence_computed: false,
            } => write!(
                f,
                "batch {batch_id} is proposed and its evidence is not computed yet; \
                 wait for it to expire or delete it to propose another"
            ),
            BatchLimitExceeded { max } => {
                write!(f, "batch limit exceeded: at most {max} batches at a time")
            }
            ChunkLimitExceeded { max } => write!(
                f,
                "chunk limit exceeded: at most {max} uploaded chunks awaiting commit"
            ),
            ByteLimitExceeded { max } => write!(
                f,
                "byte limit exceeded: at most {max} uploaded bytes awaiting commit"
            ),
            BatchProposed(id) => write!(
                f,
                "batch {id} has been proposed: it takes no more chunks and commits only \
                 through commit_proposed_batch"
            ),
            BatchAlreadyProposed(id) => {
                write!(f, "batch {id} already has proposed CommitBatchArguments")
            }
            BatchNotProposed(id) => {
                write!(f, "batch {id} does not have proposed CommitBatchArguments")
            }
            EvidenceNotComputed(id) => write!(
                f,
                "batch {id} does not have computed evidence: call compute_evidence until it \
                 returns the evidence"
            ),
            EvidenceMismatch {
                batch_id,
                computed,
                presented,
            } => write!(
                f,
                "batch {batch_id} computed evidence {computed} does not match presented \
                 evidence {presented}"
            ),
            ChunkNotInBatch { batch_id, chunk_id } => {
                write!(f, "chunk {chunk_id} not found in batch {batch_id}")
            }
            ChunkUsedTwice(id) => {
                write!(f, "chunk {id} is used by more than one content operation")
            }
            ChunkTooLarge { size, max } => write!(
                f,
                "chunk of {size} bytes exceeds the maximum of {max} bytes"
            ),
            InvalidKey(key) => write!(
                f,
                "invalid asset key {key:?}: keys are paths that start with '/'"
            ),
            AssetNotFound(key) => write!(f, "asset {key} not found"),
            AssetExists(key) => write!(f, "asset {key} already exists"),
            EncodingNotFound { key, encoding } => {
                write!(f, "asset {key} has no {encoding} encoding")
            }
            NoAcceptableEncoding(key) => {
                write!(f, "asset {key} has none of the accepted encodings")
            }
            ChunkIndexOutOfRange { key, index } => write!(f, "asset {key} has no chunk {index}"),
            StaleSha256 { key } => write!(
                f,
                "asset {key} changed: the sha256 given does not match its content"
            ),
            EmptyContent { key } => write!(
                f,
                "content for {key} must have at least one chunk or a last_chunk"
            ),
            EmptyEncoding { key } => write!(f, "content encoding for {key} must not be empty"),
            Sha256WrongLength(len) => write!(f, "sha256 must be 32 bytes, got {len}"),
            Sha256Mismatch {
                key,
                encoding,
                supplied,
                computed,
            } => write!(
                f,
                "sha256 mismatch for {key} ({encoding}): supplied {supplied}, content hashes to {computed}"
            ),
            WrongInstallArgument(why) => f.write_str(why),
            UnreadableStableMemory(what) => write!(
                f,
                "upgrade refused: stable memory holds {what}. Nothing was changed; \
                 install this canister only over an asset_server or DFINITY asset canister, \
                 or reinstall to start empty"
            ),
            NewerLayout { found, supported } => write!(
                f,
                "upgrade refused: stable memory holds asset_server layout version {found}, \
                 written by a newer release; this wasm reads versions up to {supported}. \
                 Nothing was changed; upgrade to a release that reads version {found}"
            ),
            ImportFailed(why) => write!(
                f,
                "upgrade refused: cannot import DFINITY's asset canister: {why}. \
                 Nothing was changed"
            ),
            ImportTooLarge(why) => write!(
                f,
                "upgrade refused: DFINITY's asset canister holds more than one upgrade can \
                 import: {why}. Nothing was changed; delete assets you no longer need from it \
                 first, or start a new canister and upload the site to it"
            ),
        }
    }
}

impl std::error::Error for AssetError {}

pub type Result<T, E = AssetError> = std::result::Result<T, E>;
