//! Records kept in stable memory, CBOR-encoded: compact, and fields can be
//! added later with `#[serde(default)]` without a migration.

use std::borrow::Cow;
use std::collections::BTreeMap;

use ic_stable_structures::Storable;
use ic_stable_structures::storable::Bound;
use serde::{Deserialize, Serialize};

use super::ChunkId;
use crate::types::HeaderField;
use crate::upload::EvidenceProgress;

/// One asset: its properties and one body per content encoding.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct AssetRecord {
    pub content_type: String,
    pub max_age: Option<u64>,
    pub headers: Option<Vec<HeaderField>>,
    pub is_aliased: Option<bool>,
    pub allow_raw_access: Option<bool>,
    pub encodings: BTreeMap<String, EncodingRecord>,
}

/// One encoded body: where its bytes are and what they hash to.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct EncodingRecord {
    #[serde(with = "serde_bytes")]
    pub sha256: [u8; 32],
    pub length: u64,
    /// Nanoseconds since the epoch of the commit that set this body.
    pub modified: u64,
    /// The body is these chunks joined, in order.
    pub chunks: Vec<ChunkId>,
}

/// An upload in progress.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct BatchRecord {
    /// The batch is gone once time passes this (ns); each use pushes it on.
    /// A proposed batch whose evidence is computed waits for its vote and
    /// does not expire.
    pub expires_at: u64,
    /// Bytes uploaded into the batch (for the `max_bytes` limit).
    #[serde(default)]
    pub bytes: u64,
    /// Set by `propose_commit_batch` (its operations are in `PROPOSALS`):
    /// how far `compute_evidence` got.
    #[serde(default)]
    pub proposal: Option<EvidenceProgress>,
}

impl BatchRecord {
    pub fn new(expires_at: u64) -> Self {
        Self {
            expires_at,
            bytes: 0,
            proposal: None,
        }
    }

    /// Proposed with its evidence computed: it waits for its vote.
    pub fn awaits_vote(&self) -> bool {
        self.proposal
            .as_ref()
            .is_some_and(|p| p.evidence().is_some())
    }
}

/// The upload limits set by `configure`; `None` is no limit.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Configuration {
    pub max_batches: Option<u64>,
    pub max_chunks: Option<u64>,
    pub max_bytes: Option<u64>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub next_batch_id: u64,
    pub next_chunk_id: u64,
}

macro_rules! cbor_storable {
    ($($t:ty),*) => {$(
        impl Storable for $t {
            fn to_bytes(&self) -> Cow<'_, [u8]> {
                Cow::Owned(serde_cbor::to_vec(self).expect("stored records always encode"))
            }

            fn into_bytes(self) -> Vec<u8> {
                serde_cbor::to_vec(&self).expect("stored records always encode")
            }

            fn from_bytes(bytes: Cow<[u8]>) -> Self {
                // Only this module writes these bytes; failing to read them
                // back is a broken invariant, and trapping is right.
                serde_cbor::from_slice(&bytes).expect("stored record is valid CBOR")
            }

            const BOUND: Bound = Bound::Unbounded;
        }
    )*};
}

cbor_storable!(AssetRecord, BatchRecord, Counters, Configuration);

impl AssetRecord {
    pub fn new(content_type: String) -> Self {
        Self {
            content_type,
            max_age: None,
            headers: None,
            is_aliased: None,
            allow_raw_access: None,
            encodings: BTreeMap::new(),
        }
    }

    /// Aliasing is on unless switched off, as in DFINITY's asset canister.
    pub fn aliased(&self) -> bool {
        self.is_aliased.unwrap_or(true)
    }
}
