//! A commit in two phases. `plan` checks every operation against the state
//! the earlier operations of the same list would leave, and hashes every
//! body; it changes nothing. `apply` then carries the plan out and cannot
//! fail. So a commit applies all of its operations or none.

use std::collections::{BTreeSet, HashMap, HashSet};

use ic_stable_structures::Memory;
use sha2::{Digest, Sha256};

use super::batches::chunk_owner;
use super::prehash::Prehashed;
use super::to_u64;
use crate::error::{AssetError, Result};
use crate::store::{AssetRecord, BatchId, ChunkId, EncodingRecord, Stores, chunk_entry};
use crate::types::{BatchOperationKind, CreateAssetArguments, SetAssetPropertiesArguments};

/// One checked operation, with everything `apply` needs precomputed.
#[derive(Debug)]
pub enum Step {
    Create(CreateAssetArguments),
    SetContent {
        key: String,
        encoding: String,
        chunks: Vec<ChunkId>,
        last_chunk: Option<Vec<u8>>,
        sha256: [u8; 32],
        /// The body's `chunk_table` (empty for a single chunk).
        chunk_table: Vec<u8>,
        length: u64,
    },
    Unset {
        key: String,
        encoding: String,
    },
    Delete {
        key: String,
    },
    Clear,
    SetProperties(SetAssetPropertiesArguments),
}

/// The asset keys whose certification must be recomputed after `apply`.
pub enum Applied {
    Keys(BTreeSet<String>),
    Everything,
}

/// What the operations seen so far did to asset existence.
struct Overlay<'s, M: Memory> {
    stores: &'s Stores<M>,
    cleared: bool,
    exists: HashMap<String, bool>,
    used_chunks: HashSet<ChunkId>,
}

impl<M: Memory> Overlay<'_, M> {
    fn exists(&self, key: &str) -> bool {
        match self.exists.get(key) {
            Some(exists) => *exists,
            None => !self.cleared && self.stores.assets.contains_key(&key.to_string()),
        }
    }
}

/// Checks `operations` of `batch` (None for direct calls, which may not
/// use uploaded chunks) and hashes their bodies.
pub fn plan<M: Memory>(
    stores: &Stores<M>,
    batch: Option<BatchId>,
    operations: Vec<BatchOperationKind>,
) -> Result<Vec<Step>> {
    plan_prehashed(stores, batch, operations, Prehashed::default())
}

/// `plan`, with the uploaded chunks of some bodies already hashed (by
/// `BodyHashing`, over earlier messages): those are checked but not read.
pub fn plan_prehashed<M: Memory>(
    stores: &Stores<M>,
    batch: Option<BatchId>,
    operations: Vec<BatchOperationKind>,
    mut prehashed: Prehashed,
) -> Result<Vec<Step>> {
    let mut overlay = Overlay {
        stores,
        cleared: false,
        exists: HashMap::new(),
        used_chunks: HashSet::new(),
    };
    operations
        .into_iter()
        .enumerate()
        .map(|(index, operation)| plan_one(&mut overlay, batch, operation, index, &mut prehashed))
        .collect()
}

fn plan_one<M: Memory>(
    overlay: &mut Overlay<'_, M>,
    batch: Option<BatchId>,
    operation: BatchOperationKind,
    index: usize,
    prehashed: &mut Prehashed,
) -> Result<Step> {
    match operation {
        BatchOperationKind::CreateAsset(args) => {
            check_key(&args.key)?;
            if overlay.exists(&args.key) {
                return Err(AssetError::AssetExists(args.key));
            }
            overlay.exists.insert(args.key.clone(), true);
            Ok(Step::Create(args))
        }
        BatchOperationKind::SetAssetContent(args) => {
            require_asset(overlay, &args.key)?;
            if args.content_encoding.is_empty() {
                return Err(AssetError::EmptyEncoding { key: args.key });
            }
            if args.chunk_ids.is_empty() && args.last_chunk.is_none() {
                return Err(AssetError::EmptyContent { key: args.key });
            }
            let mut chunks = Vec::with_capacity(args.chunk_ids.len());
            let ids = args
                .chunk_ids
                .iter()
                .map(to_u64)
                .collect::<Result<Vec<ChunkId>>>()?;
            // v2 certifies each chunk of a body of several chunks on its
            // own; a body of one piece needs no table.
            let several = ids.len() + usize::from(args.last_chunk.is_some()) > 1;
            let hashed = prehashed.take(index, &ids);
            let read_chunks = hashed.is_none();
            let (mut hasher, mut chunk_table, mut length) = match hashed {
                Some(h) => (h.hasher, h.chunk_table, h.length),
                None => (Sha256::new(), Vec::new(), 0u64),
            };
            for id in ids {
                let owned = batch.and_then(|b| chunk_owner(overlay.stores, b, id));
                if owned.is_none() {
                    return Err(AssetError::ChunkNotInBatch {
                        batch_id: batch.unwrap_or_default(),
                        chunk_id: id,
                    });
                }
                if !overlay.used_chunks.insert(id) {
                    return Err(AssetError::ChunkUsedTwice(id));
                }
                if read_chunks {
                    let bytes = overlay
                        .stores
                        .chunks
                        .get(&id)
                        .expect("a batch's chunks are stored");
                    hasher.update(&bytes);
                    if several {
                        chunk_table.extend_from_slice(&chunk_entry(&bytes));
                    }
                    length += bytes.len() as u64;
                }
                chunks.push(id);
            }
            let last_chunk = args.last_chunk.map(|b| b.into_vec());
            if let Some(bytes) = &last_chunk {
                hasher.update(bytes);
                if several {
                    chunk_table.extend_from_slice(&chunk_entry(bytes));
                }
                length += bytes.len() as u64;
            }
            let computed: [u8; 32] = hasher.finalize().into();
            if let Some(supplied) = args.sha256 {
                if supplied.len() != 32 {
                    return Err(AssetError::Sha256WrongLength(supplied.len()));
                }
                if supplied.as_slice() != computed {
                    return Err(AssetError::Sha256Mismatch {
                        key: args.key,
                        encoding: args.content_encoding,
                        supplied: hex::encode(&supplied),
                        computed: hex::encode(computed),
                    });
                }
            }
            Ok(Step::SetContent {
                key: args.key,
                encoding: args.content_encoding,
                chunks,
                last_chunk,
                sha256: computed,
                chunk_table,
                length,
            })
        }
        BatchOperationKind::UnsetAssetContent(args) => {
            require_asset(overlay, &args.key)?;
            Ok(Step::Unset {
                key: args.key,
                encoding: args.content_encoding,
            })
        }
        BatchOperationKind::DeleteAsset(args) => {
            overlay.exists.insert(args.key.clone(), false);
            Ok(Step::Delete { key: args.key })
        }
        BatchOperationKind::Clear(_) => {
            overlay.cleared = true;
            overlay.exists.clear();
            Ok(Step::Clear)
        }
        BatchOperationKind::SetAssetProperties(args) => {
            require_asset(overlay, &args.key)?;
            Ok(Step::SetProperties(args))
        }
    }
}

fn check_key(key: &str) -> Result<()> {
    if key.starts_with('/') {
        Ok(())
    } else {
        Err(AssetError::InvalidKey(key.to_string()))
    }
}

fn require_asset<M: Memory>(overlay: &Overlay<'_, M>, key: &str) -> Result<()> {
    if overlay.exists(key) {
        Ok(())
    } else {
        Err(AssetError::AssetNotFound(key.to_string()))
    }
}

/// Carries out a plan made by `plan` on the same state.
pub fn apply<M: Memory>(
    stores: &mut Stores<M>,
    batch: Option<BatchId>,
    steps: Vec<Step>,
    now: u64,
) -> Applied {
    let mut touched = BTreeSet::new();
    let mut everything = false;
    for step in steps {
        match step {
            Step::Create(args) => {
                let mut record = AssetRecord::new(args.content_type);
                record.max_age = args.max_age;
                record.headers = args.headers;
                record.is_aliased = args.enable_aliasing;
                record.allow_raw_access = args.allow_raw_access;
                stores.assets.insert(args.key.clone(), record);
                touched.insert(args.key);
            }
            Step::SetContent {
                key,
                encoding,
                mut chunks,
                last_chunk,
                sha256,
                chunk_table,
                length,
            } => {
                let mut record = stored(stores, &key);
                if let Some(batch) = batch {
                    for chunk in &chunks {
                        if let Some(owner) = chunk_owner(stores, batch, *chunk) {
                            stores.batch_chunks.remove(&(owner, *chunk));
                        }
                    }
                }
                if let Some(bytes) = last_chunk {
                    let id = stores.next_chunk_id();
                    stores.chunks.insert(id, bytes);
                    chunks.push(id);
                }
                let new = EncodingRecord {
                    sha256,
                    length,
                    modified: now,
                    chunks,
                    chunk_table,
                };
                if let Some(old) = record.encodings.insert(encoding, new) {
                    free_chunks(stores, &old);
                }
                stores.assets.insert(key.clone(), record);
                touched.insert(key);
            }
            Step::Unset { key, encoding } => {
                let mut record = stored(stores, &key);
                if let Some(old) = record.encodings.remove(&encoding) {
                    free_chunks(stores, &old);
                }
                stores.assets.insert(key.clone(), record);
                touched.insert(key);
            }
            Step::Delete { key } => {
                if let Some(record) = stores.assets.remove(&key) {
                    record
                        .encodings
                        .values()
                        .for_each(|e| free_chunks(stores, e));
                }
                touched.insert(key);
            }
            Step::Clear => {
                let keys: Vec<String> = stores.assets.keys().collect();
                for key in keys {
                    if let Some(record) = stores.assets.remove(&key) {
                        record
                            .encodings
                            .values()
                            .for_each(|e| free_chunks(stores, e));
                    }
                }
                everything = true;
            }
            Step::SetProperties(args) => {
                let mut record = stored(stores, &args.key);
                if let Some(max_age) = args.max_age {
                    record.max_age = max_age;
                }
                if let Some(headers) = args.headers {
                    record.headers = headers;
                }
                if let Some(allow_raw_access) = args.allow_raw_access {
                    record.allow_raw_access = allow_raw_access;
                }
                if let Some(is_aliased) = args.is_aliased {
                    record.is_aliased = is_aliased;
                }
                stores.assets.insert(args.key.clone(), record);
                touched.insert(args.key);
            }
        }
    }
    if everything {
        Applied::Everything
    } else {
        Applied::Keys(touched)
    }
}

fn stored<M: Memory>(stores: &Stores<M>, key: &str) -> AssetRecord {
    stores
        .assets
        .get(&key.to_string())
        .expect("plan checked that the asset exists")
}

fn free_chunks<M: Memory>(stores: &mut Stores<M>, encoding: &EncodingRecord) {
    for chunk in &encoding.chunks {
        stores.chunks.remove(chunk);
    }
}
