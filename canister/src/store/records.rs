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
    /// Empty until `propose_commit_batch` (its operations are then in
    /// `PROPOSALS`); then how far `compute_evidence` got, in the form of
    /// `EvidenceProgress::to_bytes`.
    #[serde(default, with = "serde_bytes")]
    proposal: Vec<u8>,
}

impl BatchRecord {
    pub fn new(expires_at: u64) -> Self {
        Self {
            expires_at,
            bytes: 0,
            proposal: Vec::new(),
        }
    }

    pub fn is_proposed(&self) -> bool {
        !self.proposal.is_empty()
    }

    /// How far the evidence is computed, if the batch is proposed.
    pub fn proposal(&self) -> Option<EvidenceProgress> {
        self.is_proposed()
            .then(|| EvidenceProgress::from_bytes(&self.proposal))
    }

    pub fn set_proposal(&mut self, progress: &EvidenceProgress) {
        self.proposal = progress.to_bytes();
    }

    /// Proposed with its evidence computed: it waits for its vote.
    pub fn awaits_vote(&self) -> bool {
        self.proposal().is_some_and(|p| p.evidence().is_some())
    }
}

/// The upload limits set by `configure`; `None` is no limit. Stored as
/// three (flag, u64 little endian) pairs: a fixed form needs no decoder.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Configuration {
    pub max_batches: Option<u64>,
    pub max_chunks: Option<u64>,
    pub max_bytes: Option<u64>,
}

impl Storable for Configuration {
    fn to_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Owned(self.clone().into_bytes())
    }

    fn into_bytes(self) -> Vec<u8> {
        [self.max_batches, self.max_chunks, self.max_bytes]
            .into_iter()
            .flat_map(|limit| {
                std::iter::once(u8::from(limit.is_some())).chain(limit.unwrap_or(0).to_le_bytes())
            })
            .collect()
    }

    fn from_bytes(bytes: Cow<[u8]>) -> Self {
        let limit = |i: usize| {
            let at = i * 9;
            (bytes[at] == 1).then(|| {
                u64::from_le_bytes(bytes[at + 1..at + 9].try_into().expect("stored limit"))
            })
        };
        Self {
            max_batches: limit(0),
            max_chunks: limit(1),
            max_bytes: limit(2),
        }
    }

    const BOUND: Bound = Bound::Bounded {
        max_size: 27,
        is_fixed_size: true,
    };
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

cbor_storable!(AssetRecord, BatchRecord, Counters);

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
