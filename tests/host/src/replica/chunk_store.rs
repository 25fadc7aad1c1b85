//! A canister's Wasm chunk store: the chunks of a module too large for one
//! message, uploaded with `upload_chunk` and installed with
//! `install_chunked_code`. Chunks are keyed by their SHA-256 hash; the
//! limits and error texts are the replica's (`wasm_chunk_store.rs` and
//! `canister_manager.rs` in dfinity/ic).

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

/// A chunk's SHA-256 hash, the key it is stored and installed under.
pub(crate) type ChunkHash = [u8; 32];

/// The largest chunk: 1 MiB.
pub(crate) const MAX_CHUNK_BYTES: usize = 1024 * 1024;

/// How many chunks a store holds: the replica's 100 MiB store, counted in
/// chunks of 1 MiB whatever their actual size (`CHUNK_STORE_SIZE`).
pub(crate) const MAX_CHUNKS: usize = 100;

#[derive(Clone, Debug, Default)]
pub(crate) struct ChunkStore {
    chunks: BTreeMap<ChunkHash, Vec<u8>>,
}

/// Why the store refused an operation; the replica reports each as
/// "Error from Wasm chunk store: <message>.".
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ChunkStoreError {
    #[error("Wasm chunk size {size} exceeds the maximum chunk size of {MAX_CHUNK_BYTES}")]
    ChunkTooLarge { size: usize },
    #[error(
        "Wasm chunk store has already reached maximum capacity of {} bytes or the maximum number of entries, {MAX_CHUNKS}",
        MAX_CHUNKS * MAX_CHUNK_BYTES
    )]
    Full,
    #[error("Chunk hash is invalid. The length is not 32")]
    InvalidChunkHash,
    #[error("Chunk hash 0x{} was not found", hex::encode(.0))]
    ChunkNotFound(ChunkHash),
    #[error(
        "Wasm module hash 0x{} does not match given hash 0x{}",
        hex::encode(.actual),
        hex::encode(.given)
    )]
    ModuleHashMismatch { actual: ChunkHash, given: Vec<u8> },
}

impl ChunkStore {
    /// Stores `chunk` (again, harmlessly, if it is there already) and
    /// returns its hash.
    pub fn insert(&mut self, chunk: Vec<u8>) -> Result<ChunkHash, ChunkStoreError> {
        let hash: ChunkHash = Sha256::digest(&chunk).into();
        if self.chunks.contains_key(&hash) {
            return Ok(hash);
        }
        if chunk.len() > MAX_CHUNK_BYTES {
            return Err(ChunkStoreError::ChunkTooLarge { size: chunk.len() });
        }
        if self.chunks.len() >= MAX_CHUNKS {
            return Err(ChunkStoreError::Full);
        }
        self.chunks.insert(hash, chunk);
        Ok(hash)
    }

    /// The stored chunks' hashes, in the order of the hashes.
    pub fn hashes(&self) -> impl Iterator<Item = &ChunkHash> {
        self.chunks.keys()
    }

    pub fn clear(&mut self) {
        self.chunks.clear();
    }

    /// Bytes the store is charged for: each chunk counts as 1 MiB.
    pub fn charged_bytes(&self) -> u64 {
        (self.chunks.len() * MAX_CHUNK_BYTES) as u64
    }

    /// The module made of the chunks `hashes`, in that order, if its
    /// SHA-256 is `module_hash`.
    pub fn assemble<'h>(
        &self,
        hashes: impl IntoIterator<Item = &'h [u8]>,
        module_hash: &[u8],
    ) -> Result<Vec<u8>, ChunkStoreError> {
        let mut module = Vec::new();
        for hash in hashes {
            let hash = ChunkHash::try_from(hash).map_err(|_| ChunkStoreError::InvalidChunkHash)?;
            let chunk = self
                .chunks
                .get(&hash)
                .ok_or(ChunkStoreError::ChunkNotFound(hash))?;
            module.extend_from_slice(chunk);
        }
        let actual: ChunkHash = Sha256::digest(&module).into();
        if actual[..] != *module_hash {
            return Err(ChunkStoreError::ModuleHashMismatch {
                actual,
                given: module_hash.to_vec(),
            });
        }
        Ok(module)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha256(bytes: &[u8]) -> Vec<u8> {
        Sha256::digest(bytes).to_vec()
    }

    #[test]
    fn chunks_are_keyed_by_their_hash_and_stored_once() {
        let mut store = ChunkStore::default();
        let hash = store.insert(b"chunk".to_vec()).unwrap();
        assert_eq!(hash.to_vec(), sha256(b"chunk"));
        assert_eq!(store.insert(b"chunk".to_vec()), Ok(hash));
        assert_eq!(store.hashes().collect::<Vec<_>>(), [&hash]);
        assert_eq!(store.charged_bytes(), MAX_CHUNK_BYTES as u64);
        store.clear();
        assert_eq!(store.hashes().count(), 0);
    }

    #[test]
    fn a_chunk_over_one_mib_is_refused() {
        let mut store = ChunkStore::default();
        assert!(store.insert(vec![7; MAX_CHUNK_BYTES]).is_ok());
        let err = store.insert(vec![7; MAX_CHUNK_BYTES + 1]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Wasm chunk size 1048577 exceeds the maximum chunk size of 1048576"
        );
    }

    #[test]
    fn the_store_holds_at_most_max_chunks() {
        let mut store = ChunkStore::default();
        for i in 0..MAX_CHUNKS {
            store.insert(i.to_le_bytes().to_vec()).unwrap();
        }
        assert_eq!(
            store.insert(b"one more".to_vec()),
            Err(ChunkStoreError::Full)
        );
        // A chunk already there is still answered with its hash.
        assert!(store.insert(0usize.to_le_bytes().to_vec()).is_ok());
    }

    #[test]
    fn a_module_is_its_chunks_in_the_order_given_and_must_match_its_hash() {
        let mut store = ChunkStore::default();
        let a = store.insert(b"abc".to_vec()).unwrap();
        let b = store.insert(b"def".to_vec()).unwrap();
        let order = [&b[..], &a[..], &b[..]];
        assert_eq!(
            store.assemble(order, &sha256(b"defabcdef")).unwrap(),
            b"defabcdef"
        );
        let err = store.assemble(order, &sha256(b"abcdef")).unwrap_err();
        assert!(
            matches!(err, ChunkStoreError::ModuleHashMismatch { .. }),
            "{err:?}"
        );
        assert!(err.to_string().starts_with("Wasm module hash 0x"), "{err}");
        let missing = [9u8; 32];
        assert_eq!(
            store.assemble([&missing[..]], &sha256(b"")),
            Err(ChunkStoreError::ChunkNotFound(missing))
        );
        assert_eq!(
            store.assemble([&a[..31]], &sha256(b"")),
            Err(ChunkStoreError::InvalidChunkHash)
        );
    }
}
