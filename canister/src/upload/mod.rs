//! Uploads in the shape the asset canister interface defines: a batch
//! collects chunks, and one commit applies a list of operations atomically,
//! directly or after a vote on its proposal (`proposal`, `evidence`).

mod batches;
mod commit;
mod evidence;
mod limits;
mod prehash;
mod proposal;
mod resumable_sha256;

pub use batches::{
    BATCH_EXPIRY_NS, MAX_CHUNK_SIZE, UNBATCHED, chunk_owner, create_batch, create_chunks,
    delete_batch, touch_batch,
};
pub use commit::{Applied, apply, plan, plan_prehashed};
pub use evidence::{DEFAULT_MAX_ITERATIONS, EvidenceProgress};
pub use limits::check_commit as check_commit_limits;
pub use prehash::{BodyHashing, Prehashed};
pub use proposal::{
    check_evidence, compute_evidence, propose, proposed_operations, require_not_proposed,
};
pub use resumable_sha256::ResumableSha256;

use candid::Nat;

use crate::error::{AssetError, Result};

/// A candid `nat` id as the u64 we store.
pub fn to_u64(id: &Nat) -> Result<u64> {
    u64::try_from(&id.0).map_err(|_| AssetError::InvalidId(id.clone()))
}
