//! Batches and their chunks, and their expiry after five idle minutes.

use ic_stable_structures::Memory;

use crate::error::{AssetError, Result};
use crate::store::{BatchId, BatchRecord, ChunkId, Stores};

/// A batch not used for this long is dropped with its chunks.
pub const BATCH_EXPIRY_NS: u64 = 5 * 60 * 1_000_000_000;
/// The batch id `ic-asset` (the sync code of `dfx deploy`, 0.2x) commits
/// its operations under when it splits a large deploy into several
/// commits: `commit_batch { batch_id = 0; operations }` for each part,
/// referring to chunks uploaded into its real batch, then
/// `commit_batch { batch_id = <real>; operations = [] }` to close the real
/// batch. DFINITY's asset canister accepts that because it never checks
/// the batch of a commit. We keep batches strict and give id 0 exactly
/// that meaning: it is never handed out, a commit under it may use chunks
/// of any live batch, and it closes no batch.
pub const UNBATCHED: BatchId = 0;
/// The largest chunk accepted; tools send at most 1,900,000 bytes.
pub const MAX_CHUNK_SIZE: usize = 2 * 1024 * 1024;

pub fn create_batch<M: Memory>(stores: &mut Stores<M>, now: u64) -> BatchId {
    drop_expired_batches(stores, now);
    let mut id = stores.next_batch_id();
    if id == UNBATCHED {
        id = stores.next_batch_id();
    }
    stores.batches.insert(
        id,
        BatchRecord {
            expires_at: now + BATCH_EXPIRY_NS,
        },
    );
    id
}

/// Checks that `batch_id` is live and pushes its expiry on
/// ([`UNBATCHED`] always is).
pub fn touch_batch<M: Memory>(stores: &mut Stores<M>, batch_id: BatchId, now: u64) -> Result<()> {
    if batch_id == UNBATCHED {
        return Ok(());
    }
    live_batch(stores, batch_id, now)
}

/// Checks that `batch_id` was handed out and is live, and pushes its
/// expiry on.
fn live_batch<M: Memory>(stores: &mut Stores<M>, batch_id: BatchId, now: u64) -> Result<()> {
    let batch = stores
        .batches
        .get(&batch_id)
        .ok_or(AssetError::BatchNotFound(batch_id))?;
    if batch.expires_at <= now {
        return Err(AssetError::BatchExpired(batch_id));
    }
    stores.batches.insert(
        batch_id,
        BatchRecord {
            expires_at: now + BATCH_EXPIRY_NS,
        },
    );
    Ok(())
}

/// Stores `contents` as new chunks of `batch_id`; all or none.
pub fn create_chunks<M: Memory>(
    stores: &mut Stores<M>,
    batch_id: BatchId,
    contents: Vec<Vec<u8>>,
    now: u64,
) -> Result<Vec<ChunkId>> {
    if let Some(too_large) = contents.iter().find(|c| c.len() > MAX_CHUNK_SIZE) {
        return Err(AssetError::ChunkTooLarge {
            size: too_large.len(),
            max: MAX_CHUNK_SIZE,
        });
    }
    live_batch(stores, batch_id, now)?;
    Ok(contents
        .into_iter()
        .map(|content| {
            let id = stores.next_chunk_id();
            stores.chunks.insert(id, content);
            stores.batch_chunks.insert((batch_id, id), ());
            id
        })
        .collect())
}

/// Drops a batch and its unused chunks; [`UNBATCHED`] has nothing to
/// drop.
pub fn delete_batch<M: Memory>(stores: &mut Stores<M>, batch_id: BatchId) -> Result<()> {
    if batch_id == UNBATCHED {
        return Ok(());
    }
    if stores.batches.remove(&batch_id).is_none() {
        return Err(AssetError::BatchNotFound(batch_id));
    }
    drop_batch_chunks(stores, batch_id);
    Ok(())
}

/// The live batch that holds `chunk`, for a commit under `committing`:
/// the commit's own batch, or under [`UNBATCHED`] any live batch.
pub fn chunk_owner<M: Memory>(
    stores: &Stores<M>,
    committing: BatchId,
    chunk: ChunkId,
) -> Option<BatchId> {
    if committing != UNBATCHED {
        return stores
            .batch_chunks
            .contains_key(&(committing, chunk))
            .then_some(committing);
    }
    stores
        .batches
        .iter()
        .map(|entry| *entry.key())
        .find(|batch| stores.batch_chunks.contains_key(&(*batch, chunk)))
}

/// Removes the batch record and the chunks no commit took from it.
pub fn drop_batch_chunks<M: Memory>(stores: &mut Stores<M>, batch_id: BatchId) {
    let unused: Vec<ChunkId> = stores
        .batch_chunks
        .keys_range((batch_id, 0)..=(batch_id, u64::MAX))
        .map(|(_, chunk)| chunk)
        .collect();
    for chunk in unused {
        stores.batch_chunks.remove(&(batch_id, chunk));
        stores.chunks.remove(&chunk);
    }
}

fn drop_expired_batches<M: Memory>(stores: &mut Stores<M>, now: u64) {
    let expired: Vec<BatchId> = stores
        .batches
        .iter()
        .filter(|entry| entry.value().expires_at <= now)
        .map(|entry| *entry.key())
        .collect();
    for batch_id in expired {
        stores.batches.remove(&batch_id);
        drop_batch_chunks(stores, batch_id);
    }
}
