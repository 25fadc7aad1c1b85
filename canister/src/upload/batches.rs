//! Batches and their chunks, and their expiry after five idle minutes
//! (except a proposed batch whose evidence is computed: it waits for its
//! vote, as in DFINITY's canister).

use ic_stable_structures::Memory;

use super::limits;
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

/// A new batch, unless a proposed batch waits (one proposal at a time, as
/// in DFINITY's canister) or `max_batches` are live.
pub fn create_batch<M: Memory>(stores: &mut Stores<M>, now: u64) -> Result<BatchId> {
    drop_expired_batches(stores, now);
    if let Some((batch_id, batch)) = stores
        .batches
        .iter()
        .map(|entry| entry.into_pair())
        .find(|(_, batch)| batch.is_proposed())
    {
        return Err(AssetError::ProposalPending {
            batch_id,
            evidence_computed: batch.awaits_vote(),
        });
    }
    limits::check_batches(stores)?;
    let mut id = stores.next_batch_id();
    if id == UNBATCHED {
        id = stores.next_batch_id();
    }
    stores
        .batches
        .insert(id, BatchRecord::new(now + BATCH_EXPIRY_NS));
    Ok(id)
}

/// Checks that `batch_id` is live and pushes its expiry on
/// ([`UNBATCHED`] always is).
pub fn touch_batch<M: Memory>(stores: &mut Stores<M>, batch_id: BatchId, now: u64) -> Result<()> {
    if batch_id == UNBATCHED {
        return Ok(());
    }
    live_batch(stores, batch_id, now).map(|_| ())
}

/// Checks that `batch_id` was handed out and is live, and pushes its
/// expiry on. A batch waiting for its vote is always live.
pub(super) fn live_batch<M: Memory>(
    stores: &mut Stores<M>,
    batch_id: BatchId,
    now: u64,
) -> Result<BatchRecord> {
    let mut batch = stores
        .batches
        .get(&batch_id)
        .ok_or(AssetError::BatchNotFound(batch_id))?;
    if batch.expires_at <= now && !batch.awaits_vote() {
        return Err(AssetError::BatchExpired(batch_id));
    }
    batch.expires_at = batch.expires_at.max(now + BATCH_EXPIRY_NS);
    stores.batches.insert(batch_id, batch.clone());
    Ok(batch)
}

/// Refuses a batch proposed for a vote: its content is fixed.
pub fn require_unproposed(batch_id: BatchId, batch: &BatchRecord) -> Result<()> {
    if batch.is_proposed() {
        Err(AssetError::BatchProposed(batch_id))
    } else {
        Ok(())
    }
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
    let added: u64 = contents.iter().map(|c| c.len() as u64).sum();
    limits::check_upload(stores, contents.len() as u64, added)?;
    let mut batch = live_batch(stores, batch_id, now)?;
    require_unproposed(batch_id, &batch)?;
    batch.bytes += added;
    stores.batches.insert(batch_id, batch);
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
    // Not from a batch proposed for a vote: its evidence covers them.
    stores
        .batches
        .iter()
        .filter(|entry| !entry.value().is_proposed())
        .map(|entry| *entry.key())
        .find(|batch| stores.batch_chunks.contains_key(&(*batch, chunk)))
}

/// Removes the chunks no commit took from a batch, and its proposal.
pub fn drop_batch_chunks<M: Memory>(stores: &mut Stores<M>, batch_id: BatchId) {
    stores.remove_proposal(batch_id);
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
        .filter(|entry| entry.value().expires_at <= now && !entry.value().awaits_vote())
        .map(|entry| *entry.key())
        .collect();
    for batch_id in expired {
        stores.batches.remove(&batch_id);
        drop_batch_chunks(stores, batch_id);
    }
}
