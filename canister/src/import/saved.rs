//! The state DFINITY's asset canister saves in `pre_upgrade`, in the one
//! shape the importer reads, whichever form (`candid_form`, `cbor_form`)
//! it was saved in.

use std::collections::BTreeMap;

use candid::Principal;
use serde_bytes::ByteBuf;

/// The importer's view of a saved state, whichever form it came in.
#[derive(Debug, Default)]
pub struct SavedState {
    pub commit: Vec<Principal>,
    pub prepare: Vec<Principal>,
    pub manage_permissions: Vec<Principal>,
    pub assets: Vec<(String, SavedAsset)>,
    pub next_batch_id: u64,
}

#[derive(Debug)]
pub struct SavedAsset {
    pub content_type: String,
    pub encodings: BTreeMap<String, SavedEncoding>,
    pub max_age: Option<u64>,
    pub headers: Option<BTreeMap<String, String>>,
    pub is_aliased: Option<bool>,
    pub allow_raw_access: Option<bool>,
}

/// One encoded body, split as it was uploaded.
#[derive(Debug)]
pub struct SavedEncoding {
    pub modified: u64,
    pub content_chunks: Vec<ByteBuf>,
    pub total_length: u64,
}

/// `permissions` (commit, prepare, manage) wins when saved; before it existed, `authorized` meant
/// Commit (DFINITY's `From<StableState> for State`).
pub fn with_permissions(
    state: SavedState,
    authorized: Vec<Principal>,
    permissions: Option<[Vec<Principal>; 3]>,
) -> SavedState {
    match permissions {
        Some([commit, prepare, manage_permissions]) => SavedState {
            commit,
            prepare,
            manage_permissions,
            ..state
        },
        None => SavedState {
            commit: authorized,
            ..state
        },
    }
}
