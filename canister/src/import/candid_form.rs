//! The candid form: `stable_save((StableState,))`, as ic-certified-assets
//! up to 0.3 and dfx's frontend canister before its CBOR release save it.
//! Only what we import is declared: candid skips the fields a record does
//! not name (certification data, the uploader's `sha256`, the
//! configuration), and optional fields older versions lacked decode as
//! `None`.

use candid::{CandidType, Deserialize, Int, Principal};
use serde_bytes::ByteBuf;

use super::saved::{SavedAsset, SavedEncoding, SavedState, with_permissions};

#[derive(CandidType, Deserialize)]
struct CandidState {
    authorized: Vec<Principal>,
    permissions: Option<Permissions>,
    stable_assets: Vec<(String, CandidAsset)>,
    next_batch_id: Option<candid::Nat>,
}

#[derive(CandidType, Deserialize)]
struct Permissions {
    commit: Vec<Principal>,
    prepare: Vec<Principal>,
    manage_permissions: Vec<Principal>,
}

#[derive(CandidType, Deserialize)]
struct CandidAsset {
    content_type: String,
    encodings: Vec<(String, CandidEncoding)>,
    max_age: Option<u64>,
    headers: Option<Vec<(String, String)>>,
    is_aliased: Option<bool>,
    allow_raw_access: Option<bool>,
}

#[derive(CandidType, Deserialize)]
struct CandidEncoding {
    modified: Int,
    content_chunks: Vec<ByteBuf>,
    total_length: u64,
}

/// Decodes `stable_save((StableState,))`; bytes after the value (the rest of
/// the last page) are ignored, as `stable_restore` ignores them.
pub fn decode_candid(bytes: &[u8]) -> Result<SavedState, String> {
    let mut decoder = candid::de::IDLDeserialize::new(bytes).map_err(|e| e.to_string())?;
    let state: CandidState = decoder.get_value().map_err(|e| e.to_string())?;
    let assets = state
        .stable_assets
        .into_iter()
        .map(|(key, asset)| {
            let encodings = asset
                .encodings
                .into_iter()
                .map(|(name, e)| {
                    let modified = u64::try_from(&e.modified.0).map_err(|_| {
                        format!("{key} ({name}): modified {} is not a u64", e.modified)
                    })?;
                    Ok((
                        name,
                        SavedEncoding {
                            modified,
                            content_chunks: e.content_chunks,
                            total_length: e.total_length,
                        },
                    ))
                })
                .collect::<Result<_, String>>()?;
            Ok((
                key,
                SavedAsset {
                    content_type: asset.content_type,
                    encodings,
                    max_age: asset.max_age,
                    headers: asset.headers.map(|h| h.into_iter().collect()),
                    is_aliased: asset.is_aliased,
                    allow_raw_access: asset.allow_raw_access,
                },
            ))
        })
        .collect::<Result<_, String>>()?;
    let next_batch_id = match state.next_batch_id {
        Some(id) => crate::upload::to_u64(&id).map_err(|e| e.to_string())?,
        None => 1,
    };
    Ok(with_permissions(
        SavedState {
            assets,
            next_batch_id,
            ..SavedState::default()
        },
        state.authorized,
        state
            .permissions
            .map(|p| [p.commit, p.prepare, p.manage_permissions]),
    ))
}
