//! The upload limits `configure` sets, checked where DFINITY's canister
//! checks them: live batches when one is created; uploaded chunks and
//! their bytes when chunks are created or a commit brings `last_chunk`s.

use ic_stable_structures::Memory;

use crate::error::{AssetError, Result};
use crate::store::Stores;
use crate::types::BatchOperationKind;

pub fn check_batches<M: Memory>(stores: &Stores<M>) -> Result<()> {
    match stores.configuration().max_batches {
        Some(max) if stores.batches.len() >= max => Err(AssetError::BatchLimitExceeded { max }),
        _ => Ok(()),
    }
}

/// Refuses `chunks` more chunks of `bytes` bytes in total if the chunks
/// uploaded and not yet committed would then exceed a limit.
pub fn check_upload<M: Memory>(stores: &Stores<M>, chunks: u64, bytes: u64) -> Result<()> {
    let configuration = stores.configuration();
    if let Some(max) = configuration.max_chunks
        && stores.batch_chunks.len() + chunks > max
    {
        return Err(AssetError::ChunkLimitExceeded { max });
    }
    if let Some(max) = configuration.max_bytes {
        let uploaded: u64 = stores.batches.iter().map(|e| e.value().bytes).sum();
        if uploaded + bytes > max {
            return Err(AssetError::ByteLimitExceeded { max });
        }
    }
    Ok(())
}

/// The `last_chunk`s of a commit count as uploaded chunks.
pub fn check_commit<M: Memory>(
    stores: &Stores<M>,
    operations: &[BatchOperationKind],
) -> Result<()> {
    let (chunks, bytes) = operations
        .iter()
        .filter_map(|operation| match operation {
            BatchOperationKind::SetAssetContent(args) => args.last_chunk.as_ref(),
            _ => None,
        })
        .fold((0, 0), |(chunks, bytes), content| {
            (chunks + 1, bytes + content.len() as u64)
        });
    check_upload(stores, chunks, bytes)
}
