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

/// The largest saved state one upgrade imports: reading it out and
/// decoding it needs about twice its size on the 4 GiB heap.
pub const MAX_IMPORT_BYTES: u64 = 1536 * 1024 * 1024;

/// What importing costs, measured by `scripts/bench.sh` (about 2.8 to 2.9
/// million instructions per encoding, most of it the v2 certification
/// tree, and 171 to 174 million per MiB, each chunk hashed on its own and
/// the body whole), rounded up.
const INSTRUCTIONS_PER_ENCODING: u64 = 3_200_000;
const INSTRUCTIONS_PER_MIB: u64 = 185_000_000;
/// What an import may plan to spend of the 300 billion instructions an
/// upgrade has, so that a state that would run out is refused with a
/// reason instead of trapping on the limit.
const IMPORT_BUDGET: u64 = 270_000_000_000;

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
        return Err(AssetError::ImportTooLarge(format!(
            "its saved state takes {size} bytes of stable memory, over the {MAX_IMPORT_BYTES} \
             that fit twice on the heap"
        )));
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
    let encodings: u64 = state
        .assets
        .iter()
        .map(|(_, a)| a.encodings.len() as u64)
        .sum();
    let bytes: u64 = state
        .assets
        .iter()
        .flat_map(|(_, a)| a.encodings.values())
        .map(|e| e.total_length)
        .sum();
    let estimate = encodings * INSTRUCTIONS_PER_ENCODING + bytes * INSTRUCTIONS_PER_MIB / (1 << 20);
    if estimate > IMPORT_BUDGET {
        return Err(AssetError::ImportTooLarge(format!(
            "{encodings} encodings of {bytes} bytes would take about {estimate} instructions, \
             over the {IMPORT_BUDGET} an upgrade can spend on them"
        )));
    }
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
    let several = contents.len() > 1;
    let mut chunk_table = Vec::new();
    for content in contents {
        hasher.update(&content);
        if several {
            chunk_table.extend_from_slice(&crate::store::chunk_entry(&content));
        }
        let id = stores.next_chunk_id();
        stores.chunks.insert(id, content.into_vec());
        chunks.push(id);
    }
    EncodingRecord {
        sha256: hasher.finalize().into(),
        length: encoding.total_length,
        modified: encoding.modified,
        chunks,
        chunk_table,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use candid::{CandidType, Int, Principal};
    use ic_stable_structures::VectorMemory;
    use serde_bytes::ByteBuf;

    use super::*;

    fn saved(assets: Vec<(String, SavedAsset)>) -> SavedState {
        SavedState {
            assets,
            ..SavedState::default()
        }
    }

    fn asset(chunks: &[&[u8]], total_length: u64) -> SavedAsset {
        let encoding = SavedEncoding {
            modified: 1,
            content_chunks: chunks.iter().map(|c| ByteBuf::from(c.to_vec())).collect(),
            total_length,
        };
        SavedAsset {
            content_type: "text/plain".into(),
            encodings: BTreeMap::from([("identity".to_string(), encoding)]),
            max_age: None,
            headers: None,
            is_aliased: None,
            allow_raw_access: None,
        }
    }

    #[test]
    fn more_than_one_upgrade_can_hash_is_refused_with_the_estimate() {
        let assets = (0..340_000)
            .map(|i| (format!("/{i}"), asset(&[], 0)))
            .collect();
        let error = check(&saved(assets)).unwrap_err();
        assert!(matches!(error, AssetError::ImportTooLarge(_)), "{error}");
        assert!(error.to_string().contains("340000 encodings"), "{error}");
        assert!(check(&saved(vec![("/a".into(), asset(&[b"ab"], 2))])).is_ok());
    }

    #[test]
    fn inconsistent_saved_assets_are_refused() {
        let short = saved(vec![("/a".into(), asset(&[b"ab"], 3))]);
        assert!(
            check(&short)
                .unwrap_err()
                .to_string()
                .contains("hold 2 bytes")
        );
        let relative = saved(vec![("a".into(), asset(&[b"ab"], 2))]);
        assert!(
            check(&relative)
                .unwrap_err()
                .to_string()
                .contains("start with '/'")
        );
    }

    /// The candid shape DFINITY's canister saves, reduced to what matters.
    #[derive(CandidType)]
    struct State {
        authorized: Vec<Principal>,
        permissions: Option<()>,
        stable_assets: Vec<(String, Asset)>,
        next_batch_id: Option<candid::Nat>,
    }

    #[derive(CandidType)]
    struct Asset {
        content_type: String,
        encodings: Vec<(String, Encoding)>,
        max_age: Option<u64>,
        headers: Option<Vec<(String, String)>>,
        is_aliased: Option<bool>,
    }

    #[derive(CandidType)]
    struct Encoding {
        modified: Int,
        content_chunks: Vec<ByteBuf>,
        total_length: u64,
        sha256: ByteBuf,
    }

    fn saved_memory(total_length: u64) -> VectorMemory {
        let state = State {
            authorized: vec![Principal::from_slice(&[7; 29])],
            permissions: None,
            stable_assets: vec![(
                "/a.txt".into(),
                Asset {
                    content_type: "text/plain".into(),
                    encodings: vec![(
                        "identity".into(),
                        Encoding {
                            modified: Int::from(5),
                            content_chunks: vec![ByteBuf::from(b"hello".to_vec())],
                            total_length,
                            sha256: ByteBuf::from(vec![0; 32]),
                        },
                    )],
                    max_age: Some(60),
                    headers: None,
                    is_aliased: None,
                },
            )],
            next_batch_id: Some(candid::Nat::from(12u8)),
        };
        let bytes = candid::encode_one(state).unwrap();
        let memory = VectorMemory::default();
        memory.grow(1);
        memory.write(0, &bytes);
        memory
    }

    #[test]
    fn an_older_saved_state_without_newer_fields_imports() {
        // No `allow_raw_access`, no `configuration`, `authorized` instead of
        // `permissions`: what releases before the permission lists saved.
        let memory = saved_memory(5);
        assert_eq!(layout::inspect(&memory), layout::Contents::DfinityCandid);
        let (mut stores, imported) = import(memory, SavedForm::Candid).unwrap();
        assert_eq!(
            (imported.assets, imported.bytes, imported.grants),
            (1, 5, 1)
        );
        let record = stores.assets.get(&"/a.txt".to_string()).unwrap();
        assert_eq!(record.max_age, Some(60));
        let encoding = &record.encodings["identity"];
        assert_eq!(encoding.sha256, <[u8; 32]>::from(Sha256::digest(b"hello")));
        assert_eq!(encoding.modified, 5);
        assert!(access::has_permission(
            &stores.permissions,
            Principal::from_slice(&[7; 29]),
            Permission::Commit
        ));
        assert_eq!(stores.next_batch_id(), 12);
    }

    #[test]
    fn a_refused_import_writes_nothing() {
        let memory = saved_memory(6);
        let before = memory.borrow().clone();
        assert!(import(memory.clone(), SavedForm::Candid).is_err());
        assert!(*memory.borrow() == before);
    }

    #[test]
    fn the_first_cbor_form_with_five_fields_imports() {
        // StableStateV2 as first released: no last_state_update_timestamp;
        // the chunks as CBOR byte strings, principals as bytes.
        #[derive(serde::Serialize)]
        struct CborState {
            authorized: Vec<ByteBuf>,
            permissions: Option<BTreeMap<String, Vec<ByteBuf>>>,
            stable_assets: BTreeMap<String, CborAsset>,
            next_batch_id: Option<u64>,
            configuration: Option<()>,
        }
        #[derive(serde::Serialize)]
        struct CborAsset {
            content_type: String,
            encodings: BTreeMap<String, CborEncoding>,
            max_age: Option<u64>,
            headers: Option<BTreeMap<String, String>>,
            is_aliased: Option<bool>,
            allow_raw_access: Option<bool>,
        }
        #[derive(serde::Serialize)]
        struct CborEncoding {
            modified: u64,
            content_chunks: Vec<ByteBuf>,
            total_length: usize,
            certified: bool,
            sha256: [u8; 32],
        }
        let committer = ByteBuf::from(vec![9; 29]);
        let permissions = BTreeMap::from([
            ("commit".to_string(), vec![committer.clone()]),
            ("prepare".to_string(), vec![]),
            ("manage_permissions".to_string(), vec![]),
        ]);
        let encoding = CborEncoding {
            modified: 77,
            content_chunks: vec![
                ByteBuf::from(b"he".to_vec()),
                ByteBuf::from(b"llo".to_vec()),
            ],
            total_length: 5,
            certified: true,
            sha256: [1; 32],
        };
        let asset = CborAsset {
            content_type: "text/html".into(),
            encodings: BTreeMap::from([("gzip".to_string(), encoding)]),
            max_age: None,
            headers: Some(BTreeMap::from([("x-a".to_string(), "1".to_string())])),
            is_aliased: Some(false),
            allow_raw_access: None,
        };
        let state = CborState {
            authorized: vec![],
            permissions: Some(permissions),
            stable_assets: BTreeMap::from([("/p.html".to_string(), asset)]),
            next_batch_id: Some(3),
            configuration: None,
        };
        let memory = VectorMemory::default();
        memory.grow(1);
        memory.write(0, &serde_cbor::to_vec(&state).unwrap());
        assert_eq!(layout::inspect(&memory), layout::Contents::DfinityCbor);

        let (stores, imported) = import(memory, SavedForm::Cbor).unwrap();
        assert_eq!(
            (imported.assets, imported.encodings, imported.bytes),
            (1, 1, 5)
        );
        let record = stores.assets.get(&"/p.html".to_string()).unwrap();
        assert_eq!(
            record.headers,
            Some(vec![("x-a".to_string(), "1".to_string())])
        );
        assert_eq!(record.is_aliased, Some(false));
        let encoding = &record.encodings["gzip"];
        assert_eq!(encoding.sha256, <[u8; 32]>::from(Sha256::digest(b"hello")));
        assert_eq!((encoding.modified, encoding.chunks.len()), (77, 2));
        assert!(access::has_permission(
            &stores.permissions,
            Principal::from_slice(&[9; 29]),
            Permission::Commit
        ));
    }
}
