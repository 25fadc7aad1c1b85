//! Uploads in the shape the asset canister interface defines: a batch
//! collects chunks, and one commit applies a list of operations atomically.

mod batches;
mod commit;

pub use batches::{
    BATCH_EXPIRY_NS, MAX_CHUNK_SIZE, UNBATCHED, chunk_owner, create_batch, create_chunks,
    delete_batch, touch_batch,
};
pub use commit::{Applied, apply, plan};

use candid::Nat;

use crate::error::{AssetError, Result};

/// A candid `nat` id as the u64 we store.
pub fn to_u64(id: &Nat) -> Result<u64> {
    u64::try_from(&id.0).map_err(|_| AssetError::InvalidId(id.clone()))
}
