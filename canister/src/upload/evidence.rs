//! The evidence of a proposed batch: a SHA-256 over its operations and the
//! content of the chunks they use, byte for byte what DFINITY's asset
//! canister computes (`ic-certified-assets` `evidence.rs`), because
//! `ic-asset` computes the same hash locally (`prepare_sync_for_proposal`)
//! and the proposal carries it to `commit_proposed_batch`.
//!
//! The encoding, in operation order: a one-byte tag per operation, then its
//! text fields as raw UTF-8, optional values as `2` (none) or `3` (some)
//! followed by the value, booleans as `0`/`1`, integers as 8 big-endian
//! bytes, headers sorted by name. A `SetAssetContent` is followed by the
//! content of its chunks in order, or, only when it lists no chunk ids, by
//! its `last_chunk`. Chunk ids that name no uploaded chunk add nothing.
//!
//! It is computed in steps (one operation header, or one chunk) so a large
//! batch spreads over several calls; [`EvidenceProgress`] is stored in the
//! batch record between them.

use std::collections::BTreeMap;

use super::resumable_sha256::ResumableSha256;
use crate::types::{BatchOperationKind, HeaderField, SetAssetContentArguments};

const TAG_FALSE: u8 = 0;
const TAG_TRUE: u8 = 1;
const TAG_NONE: u8 = 2;
const TAG_SOME: u8 = 3;
const TAG_CREATE_ASSET: u8 = 4;
const TAG_SET_ASSET_CONTENT: u8 = 5;
const TAG_UNSET_ASSET_CONTENT: u8 = 6;
const TAG_DELETE_ASSET: u8 = 7;
const TAG_CLEAR: u8 = 8;
const TAG_SET_ASSET_PROPERTIES: u8 = 9;

/// Steps per `compute_evidence` call when the caller names none.
pub const DEFAULT_MAX_ITERATIONS: u16 = 20;

/// How far the evidence of a proposed batch has been computed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EvidenceProgress {
    /// Next: operation `operation`'s header, or, with `chunk`, that chunk
    /// of its content.
    Hashing {
        operation: u64,
        chunk: Option<u64>,
        hasher: ResumableSha256,
    },
    Computed {
        evidence: [u8; 32],
    },
}

impl Default for EvidenceProgress {
    fn default() -> Self {
        Self::Hashing {
            operation: 0,
            chunk: None,
            hasher: ResumableSha256::default(),
        }
    }
}

impl EvidenceProgress {
    pub fn evidence(&self) -> Option<[u8; 32]> {
        match self {
            Self::Computed { evidence } => Some(*evidence),
            Self::Hashing { .. } => None,
        }
    }

    /// The stored form, a few fixed fields rather than a CBOR structure
    /// (each CBOR-decoded type adds its own decoder to the wasm): `1` and
    /// the evidence, or `0`, the operation index, `1` and the chunk index
    /// or `0` and zero (little endian), and the hasher state.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Self::Computed { evidence } => [&[1u8][..], evidence].concat(),
            Self::Hashing {
                operation,
                chunk,
                hasher,
            } => {
                let mut bytes = vec![0];
                bytes.extend_from_slice(&operation.to_le_bytes());
                bytes.push(chunk.is_some().into());
                bytes.extend_from_slice(&chunk.unwrap_or(0).to_le_bytes());
                hasher.write_to(&mut bytes);
                bytes
            }
        }
    }

    /// Reads what `to_bytes` wrote; only this canister writes it.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        let u64_at =
            |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("stored progress"));
        match bytes.first() {
            Some(1) => Self::Computed {
                evidence: bytes[1..33].try_into().expect("stored evidence"),
            },
            Some(0) => Self::Hashing {
                operation: u64_at(1),
                chunk: (bytes[9] == 1).then(|| u64_at(10)),
                hasher: ResumableSha256::read_from(&bytes[18..]),
            },
            _ => panic!("stored evidence progress is valid"),
        }
    }

    /// Takes one step; `chunk` reads an uploaded chunk by id.
    pub fn advance(
        self,
        operations: &[BatchOperationKind],
        chunk: impl Fn(u64) -> Option<Vec<u8>>,
    ) -> Self {
        let Self::Hashing {
            operation,
            chunk: chunk_index,
            mut hasher,
        } = self
        else {
            return self;
        };
        let Some(current) = usize::try_from(operation)
            .ok()
            .and_then(|i| operations.get(i))
        else {
            return Self::Computed {
                evidence: hasher.finalize(),
            };
        };
        let next_operation = |hasher| Self::Hashing {
            operation: operation + 1,
            chunk: None,
            hasher,
        };
        match (current, chunk_index) {
            (BatchOperationKind::SetAssetContent(args), None) => {
                hash_set_asset_content(&mut hasher, args);
                Self::Hashing {
                    operation,
                    chunk: Some(0),
                    hasher,
                }
            }
            (BatchOperationKind::SetAssetContent(args), Some(index)) => {
                if hash_content(&mut hasher, args, index, chunk) {
                    Self::Hashing {
                        operation,
                        chunk: Some(index + 1),
                        hasher,
                    }
                } else {
                    next_operation(hasher)
                }
            }
            (other, _) => {
                hash_header(&mut hasher, other);
                next_operation(hasher)
            }
        }
    }
}

/// Hashes content step `index` of a `SetAssetContent`; true when another
/// chunk follows.
fn hash_content(
    hasher: &mut ResumableSha256,
    args: &SetAssetContentArguments,
    index: u64,
    chunk: impl Fn(u64) -> Option<Vec<u8>>,
) -> bool {
    let ids = &args.chunk_ids;
    match usize::try_from(index).ok().and_then(|i| ids.get(i)) {
        Some(id) => {
            if let Some(bytes) = u64::try_from(&id.0).ok().and_then(&chunk) {
                hasher.update(&bytes);
            }
            (index as usize) + 1 < ids.len()
        }
        None => {
            // As DFINITY's canister: `last_chunk` counts only without chunk ids.
            if let Some(bytes) = &args.last_chunk {
                hasher.update(bytes);
            }
            false
        }
    }
}

/// Every operation but `SetAssetContent`, which `advance` handles.
fn hash_header(hasher: &mut ResumableSha256, operation: &BatchOperationKind) {
    match operation {
        BatchOperationKind::CreateAsset(args) => {
            hasher.update(&[TAG_CREATE_ASSET]);
            hasher.update(args.key.as_bytes());
            hasher.update(args.content_type.as_bytes());
            hash_opt_u64(hasher, args.max_age);
            hash_headers(hasher, args.headers.as_deref());
            hash_opt_bool(hasher, args.allow_raw_access);
            hash_opt_bool(hasher, args.enable_aliasing);
        }
        BatchOperationKind::SetAssetContent(args) => hash_set_asset_content(hasher, args),
        BatchOperationKind::UnsetAssetContent(args) => {
            hasher.update(&[TAG_UNSET_ASSET_CONTENT]);
            hasher.update(args.key.as_bytes());
            hasher.update(args.content_encoding.as_bytes());
        }
        BatchOperationKind::DeleteAsset(args) => {
            hasher.update(&[TAG_DELETE_ASSET]);
            hasher.update(args.key.as_bytes());
        }
        BatchOperationKind::Clear(_) => hasher.update(&[TAG_CLEAR]),
        BatchOperationKind::SetAssetProperties(args) => {
            hasher.update(&[TAG_SET_ASSET_PROPERTIES]);
            hasher.update(args.key.as_bytes());
            match args.max_age {
                Some(max_age) => {
                    hasher.update(&[TAG_SOME]);
                    hash_opt_u64(hasher, max_age);
                }
                None => hasher.update(&[TAG_NONE]),
            }
            match &args.headers {
                Some(headers) => {
                    hasher.update(&[TAG_SOME]);
                    hash_headers(hasher, headers.as_deref());
                }
                None => hasher.update(&[TAG_NONE]),
            }
            for flag in [args.allow_raw_access, args.is_aliased] {
                match flag {
                    Some(value) => {
                        hasher.update(&[TAG_SOME]);
                        hash_opt_bool(hasher, value);
                    }
                    None => hasher.update(&[TAG_NONE]),
                }
            }
        }
    }
}

fn hash_set_asset_content(hasher: &mut ResumableSha256, args: &SetAssetContentArguments) {
    hasher.update(&[TAG_SET_ASSET_CONTENT]);
    hasher.update(args.key.as_bytes());
    hasher.update(args.content_encoding.as_bytes());
    match &args.sha256 {
        Some(sha256) => {
            hasher.update(&[TAG_SOME]);
            hasher.update(sha256);
        }
        None => hasher.update(&[TAG_NONE]),
    }
}

fn hash_opt_u64(hasher: &mut ResumableSha256, value: Option<u64>) {
    match value {
        Some(value) => {
            hasher.update(&[TAG_SOME]);
            hasher.update(&value.to_be_bytes());
        }
        None => hasher.update(&[TAG_NONE]),
    }
}

fn hash_opt_bool(hasher: &mut ResumableSha256, value: Option<bool>) {
    match value {
        Some(value) => hasher.update(&[TAG_SOME, if value { TAG_TRUE } else { TAG_FALSE }]),
        None => hasher.update(&[TAG_NONE]),
    }
}

/// DFINITY's canister holds headers in a map, so a name given twice keeps
/// its last value, and hashes them sorted by name.
fn hash_headers(hasher: &mut ResumableSha256, headers: Option<&[HeaderField]>) {
    let Some(headers) = headers else {
        hasher.update(&[TAG_NONE]);
        return;
    };
    hasher.update(&[TAG_SOME]);
    let sorted: BTreeMap<&str, &str> = headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    for (name, value) in sorted {
        hasher.update(name.as_bytes());
        hasher.update(value.as_bytes());
    }
}
