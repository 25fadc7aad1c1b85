//! Records kept in stable memory, CBOR-encoded: compact, and fields can be
//! added later with `#[serde(default)]` without a migration.
//!
//! Asset records are written in serde_cbor's packed form, which names each
//! field by its position instead of its name: a third smaller and quicker
//! to read, on every page view. Both forms read back the same (records
//! written by earlier builds are named), and earlier builds read the packed
//! form, as long as fields keep their positions: **add fields at the end of
//! `AssetRecord` and `EncodingRecord`, never between or before.**

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
    /// The v2 response hashes of this record's answers, written with it
    /// (see `certification::seal`), so that neither a query nor the tree's
    /// rebuild after an upgrade recomputes them. Derived data: ignored when
    /// comparing records, and recomputed when absent or stale.
    #[serde(default, skip_serializing_if = "ResponseCache::is_empty")]
    pub responses: ResponseCache,
}

/// Bytes derived from the rest of a record; equal whatever they hold.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
#[serde(transparent)]
pub struct ResponseCache(#[serde(with = "serde_bytes")] pub Vec<u8>);

impl ResponseCache {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl PartialEq for ResponseCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for ResponseCache {}

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
    /// For bodies of two or more chunks, one entry per chunk: its SHA-256
    /// then its length (u64, little endian), so v2 can certify each chunk
    /// as a `206` response without reading it. Empty for one chunk (its hash
    /// is `sha256`) and for bodies stored before v2, which are served under
    /// v1 until they are uploaded again.
    #[serde(default, with = "serde_bytes", skip_serializing_if = "Vec::is_empty")]
    pub chunk_table: Vec<u8>,
}

/// Bytes per `chunk_table` entry: SHA-256 and length.
pub const CHUNK_ENTRY: usize = 40;

/// One `chunk_table` entry for `bytes`.
pub fn chunk_entry(bytes: &[u8]) -> [u8; CHUNK_ENTRY] {
    use sha2::{Digest, Sha256};
    let mut entry = [0; CHUNK_ENTRY];
    entry[..32].copy_from_slice(&Sha256::digest(bytes));
    entry[32..].copy_from_slice(&(bytes.len() as u64).to_le_bytes());
    entry
}

/// Where a chunk lies in its body and what it hashes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkSpan {
    pub index: usize,
    /// Offset of the chunk's first byte in the body.
    pub start: u64,
    pub length: u64,
    pub sha256: [u8; 32],
}

impl EncodingRecord {
    /// Every chunk's hash and length are known: each can be certified alone.
    pub fn chunks_certifiable(&self) -> bool {
        self.chunks.len() <= 1 || self.chunk_table.len() == CHUNK_ENTRY * self.chunks.len()
    }

    /// The chunks' spans in order, when `chunks_certifiable`.
    pub fn chunk_spans(&self) -> Option<Vec<ChunkSpan>> {
        if self.chunks.len() <= 1 {
            return Some(vec![ChunkSpan {
                index: 0,
                start: 0,
                length: self.length,
                sha256: self.sha256,
            }]);
        }
        if !self.chunks_certifiable() {
            return None;
        }
        let mut start = 0;
        let spans = self
            .chunk_table
            .chunks_exact(CHUNK_ENTRY)
            .enumerate()
            .map(|(index, entry)| {
                let length = u64::from_le_bytes(entry[32..].try_into().expect("8 bytes"));
                let span = ChunkSpan {
                    index,
                    start,
                    length,
                    sha256: entry[..32].try_into().expect("32 bytes"),
                };
                start += length;
                span
            })
            .collect();
        Some(spans)
    }
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

cbor_storable!(BatchRecord, Counters);

/// Written as it is: its response hashes were filled in by the only code
/// that writes records, `AssetTable::insert` (`certification::seal`), so
/// the cache matches the record it is part of. (Sealing here as well
/// computed every response hash of a commit twice.)
impl Storable for AssetRecord {
    fn to_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Owned(serde_cbor::ser::to_vec_packed(self).expect("stored records always encode"))
    }

    fn into_bytes(self) -> Vec<u8> {
        serde_cbor::ser::to_vec_packed(&self).expect("stored records always encode")
    }

    fn from_bytes(bytes: Cow<[u8]>) -> Self {
        serde_cbor::from_slice(&bytes).expect("stored record is valid CBOR")
    }

    const BOUND: Bound = Bound::Unbounded;
}

impl AssetRecord {
    pub fn new(content_type: String) -> Self {
        Self {
            content_type,
            max_age: None,
            headers: None,
            is_aliased: None,
            allow_raw_access: None,
            encodings: BTreeMap::new(),
            responses: ResponseCache::default(),
        }
    }

    /// Aliasing is on unless switched off, as in DFINITY's asset canister.
    pub fn aliased(&self) -> bool {
        self.is_aliased.unwrap_or(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_cbor::Value;

    fn record() -> AssetRecord {
        let mut record = AssetRecord::new("text/html".into());
        record.max_age = Some(60);
        record.encodings.insert(
            "identity".into(),
            EncodingRecord {
                sha256: [7; 32],
                length: 1024,
                modified: 1_700_000_000_000_000_000,
                chunks: vec![3],
                chunk_table: Vec::new(),
            },
        );
        record
    }

    /// As `AssetTable::insert` stores it.
    fn sealed() -> AssetRecord {
        let mut record = record();
        record.responses = crate::certification::seal(&record);
        record
    }

    #[test]
    fn packed_and_named_records_read_back_the_same() {
        let packed = sealed().into_bytes();
        let named = serde_cbor::to_vec(&sealed()).unwrap();
        assert!(
            packed.len() * 10 < named.len() * 8,
            "{} bytes packed, {} named",
            packed.len(),
            named.len()
        );
        let from_packed = AssetRecord::from_bytes(Cow::Owned(packed));
        let from_named = AssetRecord::from_bytes(Cow::Owned(named));
        assert_eq!(from_packed, record());
        assert_eq!(from_named, record());
        assert!(!from_packed.responses.is_empty(), "the cache is written");
    }

    /// Earlier builds read packed records by these positions.
    #[test]
    fn fields_keep_their_positions() {
        let Value::Map(fields) = serde_cbor::from_slice(&sealed().into_bytes()).unwrap() else {
            panic!("a record is a map");
        };
        let field = |i: i128| &fields[&Value::Integer(i)];
        assert_eq!(field(0), &Value::Text("text/html".into()));
        assert_eq!(field(1), &Value::Integer(60));
        assert_eq!(field(2), &Value::Null, "headers");
        assert_eq!(field(3), &Value::Null, "is_aliased");
        assert_eq!(field(4), &Value::Null, "allow_raw_access");
        assert!(matches!(field(6), Value::Bytes(_)), "responses");
        let Value::Map(encodings) = field(5) else {
            panic!("encodings");
        };
        let Value::Map(identity) = &encodings[&Value::Text("identity".into())] else {
            panic!("an encoding is a map");
        };
        assert_eq!(identity[&Value::Integer(0)], Value::Bytes(vec![7; 32]));
        assert_eq!(identity[&Value::Integer(1)], Value::Integer(1024));
        assert_eq!(
            identity[&Value::Integer(2)],
            Value::Integer(1_700_000_000_000_000_000)
        );
        assert_eq!(
            identity[&Value::Integer(3)],
            Value::Array(vec![Value::Integer(3)])
        );
        assert_eq!(identity.len(), 4, "an empty chunk table is left out");
    }
}
