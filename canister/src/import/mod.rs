//! Taking over from DFINITY's asset canister by an upgrade in place.
//!
//! Its `pre_upgrade` leaves the whole state it kept on the heap at the start
//! of stable memory, in one of two forms (`candid_form`, `cbor_form`). The importer reads it out
//! completely, then lays our stores over the same memory and writes every
//! asset, encoding and permission into them. Bodies are hashed again as
//! they are written: the saved `sha256` came from an uploader and is never
//! trusted. All of it happens in one `post_upgrade`, so a failure anywhere
//! traps and the IC keeps the old canister as it was.
//!
//! Not imported: batches in flight (DFINITY's canister does not save them
//! either), its `configuration` limits, and its certification data, which
//! we derive anew. Batch ids continue after the old ones, so a client still
//! holding an old batch id is told it is unknown rather than reaching a new
//! batch.

mod candid_form;
mod cbor_form;
mod saved;

use ic_stable_structures::Memory;
use sha2::{Digest, Sha256};

use crate::access;
use crate::error::{AssetError, Result};
use crate::store::{AssetRecord, EncodingRecord, Stores, layout};
use crate::types::Permission;

pub use candid_form::decode_candid;
pub use cbor_form::decode_cbor;
pub use saved::{SavedAsset, SavedEncoding, SavedState};

/// The largest saved state one upgrade imports. Reading it out, decoding
/// and keeping it while it is written needs about twice its size on the
/// 4 GiB heap, and hashing every body about 80 million instructions per
/// MiB of the 300 billion an upgrade may use (measured: see the README).
pub const MAX_IMPORT_BYTES: u64 = 1536 * 1024 * 1024;

/// What an import brought over.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Imported {
    pub assets: u64,
    pub encodings: u64,
    pub bytes: u64,
    /// Permissions granted (a principal with two counts twice).
    pub grants: u64,
}

/// Which of DFINITY's saved forms stable memory holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SavedForm {
    Candid,
    Cbor,
}

/// Reads DFINITY's saved state out of `memory`, then replaces it with our
/// stores holding the same site. On error nothing has been written.
pub fn import<M: Memory + Clone>(memory: M, form: SavedForm) -> Result<(Stores<M>, Imported)> {
    let size = memory.size() * 65_536;
    if size > MAX_IMPORT_BYTES {
        return Err(AssetError::ImportTooLarge {
            bytes: size,
            max: MAX_IMPORT_BYTES,
        });
    }
    let state = {
        let bytes = layout::read_all(&memory);
        match form {
            SavedForm::Candid => decode_candid(&bytes),
            SavedForm::Cbor => decode_cbor(&bytes),
        }
        .map_err(|why| {
            AssetError::ImportFailed(format!("its saved state does not decode: {why}"))
        })?
    };
    check(&state)?;
    let mut stores = Stores::create(memory);
    let imported = write(&mut stores, state)?;
    Ok((stores, imported))
}

/// Everything that could refuse the import, checked before anything is
/// written.
fn check(state: &SavedState) -> Result<()> {
    for (key, asset) in &state.assets {
        if !key.starts_with('/') {
            return Err(AssetError::ImportFailed(format!(
                "asset key {key:?} does not start with '/'"
            )));
        }
        for (name, encoding) in &asset.encodings {
            let stored: u64 = encoding.content_chunks.iter().map(|c| c.len() as u64).sum();
            if stored != encoding.total_length {
                return Err(AssetError::ImportFailed(format!(
                    "{key} ({name}): its chunks hold {stored} bytes but its length is {}",
                    encoding.total_length
                )));
            }
        }
    }
    Ok(())
}

fn write<M: Memory>(stores: &mut Stores<M>, state: SavedState) -> Result<Imported> {
    let mut imported = Imported::default();
    for (key, asset) in state.assets {
        let mut record = AssetRecord::new(asset.content_type);
        record.max_age = asset.max_age;
        record.headers = asset.headers.map(|h| h.into_iter().collect());
        record.is_aliased = asset.is_aliased;
        record.allow_raw_access = asset.allow_raw_access;
        for (name, encoding) in asset.encodings {
            imported.bytes += encoding.total_length;
            record.encodings.insert(name, store_body(stores, encoding));
            imported.encodings += 1;
        }
        stores.assets.insert(key, record);
        imported.assets += 1;
    }
    let lists = [
        (Permission::Commit, state.commit),
        (Permission::Prepare, state.prepare),
        (Permission::ManagePermissions, state.manage_permissions),
    ];
    for (permission, principals) in lists {
        for principal in principals {
            // DFINITY's canister never grants to the anonymous principal;
            // should one be there, it gets nothing here either.
            if principal != candid::Principal::anonymous() {
                access::grant(&mut stores.permissions, principal, permission)?;
                imported.grants += 1;
            }
        }
    }
    stores.reserve_batch_ids_below(state.next_batch_id);
    Ok(imported)
}

/// Stores a body's chunks as they are and hashes them in order.
fn store_body<M: Memory>(stores: &mut Stores<M>, encoding: SavedEncoding) -> EncodingRecord {
    let mut hasher = Sha256::new();
    let mut chunks = Vec::with_capacity(encoding.content_chunks.len().max(1));
    let mut contents = encoding.content_chunks;
    if contents.is_empty() {
        contents.push(Default::default()); // an empty body is one empty chunk
    }
    for content in contents {
        hasher.update(&content);
        let id = stores.next_chunk_id();
        stores.chunks.insert(id, content.into_vec());
        chunks.push(id);
    }
    EncodingRecord {
        sha256: hasher.finalize().into(),
        length: encoding.total_length,
        modified: encoding.modified,
        chunks,
    }
}
