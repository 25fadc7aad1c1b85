//! Deploys by proposal: `propose_commit_batch` fixes a batch's operations,
//! `compute_evidence` hashes them with their chunks (see `evidence`), and
//! `commit_proposed_batch`, once a vote passed, commits them if the
//! evidence presented is the one computed. Everything is checked before
//! anything is written, so a refused call changes nothing.

use ic_stable_structures::Memory;

use super::batches::{chunk_owner, live_batch, require_unproposed};
use super::evidence::{DEFAULT_MAX_ITERATIONS, EvidenceProgress};
use super::{UNBATCHED, to_u64};
use crate::error::{AssetError, Result};
use crate::store::{BatchId, BatchRecord, Stores};
use crate::types::{BatchOperationKind, CommitBatchArguments, CommitProposedBatchArguments};

/// Stores `args.operations` as the batch's proposal.
pub fn propose<M: Memory>(
    stores: &mut Stores<M>,
    args: CommitBatchArguments,
    now: u64,
) -> Result<()> {
    let batch_id = to_u64(&args.batch_id)?;
    if batch_id == UNBATCHED {
        return Err(AssetError::BatchNotFound(batch_id));
    }
    let mut batch = live_batch(stores, batch_id, now)?;
    if batch.is_proposed() {
        return Err(AssetError::BatchAlreadyProposed(batch_id));
    }
    let encoded = candid::encode_one(&args.operations).expect("candid types always encode");
    stores.insert_proposal(batch_id, encoded);
    batch.set_proposal(&EvidenceProgress::default());
    stores.batches.insert(batch_id, batch);
    Ok(())
}

/// Advances the evidence of a proposed batch by at most `max_iterations`
/// steps; the evidence once it is complete.
pub fn compute_evidence<M: Memory>(
    stores: &mut Stores<M>,
    batch_id: BatchId,
    max_iterations: Option<u16>,
    now: u64,
) -> Result<Option<[u8; 32]>> {
    let mut batch = live_batch(stores, batch_id, now)?;
    let mut progress = batch
        .proposal()
        .ok_or(AssetError::BatchNotProposed(batch_id))?;
    if progress.evidence().is_none() {
        let operations = proposed_operations(stores, batch_id);
        let chunk = |id| uploaded_chunk(stores, batch_id, id);
        for _ in 0..max_iterations.unwrap_or(DEFAULT_MAX_ITERATIONS) {
            progress = progress.advance(&operations, chunk);
            if progress.evidence().is_some() {
                break;
            }
        }
    }
    let evidence = progress.evidence();
    batch.set_proposal(&progress);
    stores.batches.insert(batch_id, batch);
    Ok(evidence)
}

/// Checks that `args` may commit its batch: proposed, evidence computed and
/// equal to the one presented. Reads only.
pub fn check_evidence<M: Memory>(
    stores: &Stores<M>,
    args: &CommitProposedBatchArguments,
) -> Result<BatchId> {
    let batch_id = to_u64(&args.batch_id)?;
    let batch: BatchRecord = stores
        .batches
        .get(&batch_id)
        .ok_or(AssetError::BatchNotFound(batch_id))?;
    let computed = batch
        .proposal()
        .ok_or(AssetError::BatchNotProposed(batch_id))?
        .evidence()
        .ok_or(AssetError::EvidenceNotComputed(batch_id))?;
    if args.evidence.as_slice() != computed {
        return Err(AssetError::EvidenceMismatch {
            batch_id,
            computed: hex::encode(computed),
            presented: hex::encode(&args.evidence),
        });
    }
    Ok(batch_id)
}

/// The operations proposed for `batch_id`, which must be proposed.
pub fn proposed_operations<M: Memory>(
    stores: &Stores<M>,
    batch_id: BatchId,
) -> Vec<BatchOperationKind> {
    let encoded = stores
        .proposal(batch_id)
        .expect("a proposed batch has its operations stored");
    candid::decode_one(&encoded).expect("stored operations decode")
}

/// A chunk uploaded and not yet committed, as DFINITY's canister sees its
/// chunks: of this batch, or of any other live one.
fn uploaded_chunk<M: Memory>(stores: &Stores<M>, batch_id: BatchId, id: u64) -> Option<Vec<u8>> {
    let uploaded = stores.batch_chunks.contains_key(&(batch_id, id))
        || chunk_owner(stores, UNBATCHED, id).is_some();
    uploaded.then(|| stores.chunks.get(&id)).flatten()
}

/// Refuses direct changes to a proposed batch (`commit_batch`).
pub fn require_not_proposed<M: Memory>(stores: &Stores<M>, batch_id: BatchId) -> Result<()> {
    match stores.batches.get(&batch_id) {
        Some(batch) => require_unproposed(batch_id, &batch),
        None => Ok(()),
    }
}
