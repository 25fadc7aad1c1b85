//! The chunks: kept in stable memory, and the small ones also on the heap.
//!
//! A page view reads its body here. For a small body most of the cost is
//! not the bytes but the walk down the stable map to them, which deepens as
//! the site grows (about 22,000 instructions with 1,000 chunks stored and
//! 32,000 with 10,000, for 1 KiB). Chunks of at most [`SMALL_CHUNK`] bytes
//! are therefore also kept on the heap, up to [`HEAP_BUDGET`] bytes in all,
//! and read from there. The copy is filled when the stores open (from the
//! bodies the assets list, reading only those chunks) and every write goes
//! through this type to both, so the copy never differs from stable memory.
//! Beyond the budget chunks are read from stable memory as before.

use std::collections::{BTreeMap, BTreeSet};

use ic_stable_structures::Memory;

use super::{AssetTable, ChunkId, Chunks};

/// Chunks up to this size are kept on the heap as well: below it, finding
/// a chunk in stable memory costs more than copying its bytes.
pub const SMALL_CHUNK: usize = 4096;

/// At most this many bytes of chunks on the heap (16,384 bodies of 4 KiB,
/// 65,536 of 1 KiB).
pub const HEAP_BUDGET: usize = 64 << 20;

pub struct ChunkTable<M: Memory> {
    stored: Chunks<M>,
    small: BTreeMap<ChunkId, Box<[u8]>>,
    small_bytes: usize,
}

impl<M: Memory> ChunkTable<M> {
    /// Opens the stored chunks and copies to the heap the small ones that
    /// `assets`' bodies consist of (in chunk order, until the budget).
    pub fn open(stored: Chunks<M>, assets: &AssetTable<M>) -> Self {
        let wanted: BTreeSet<ChunkId> = assets
            .iter()
            .flat_map(|(_, record)| record.encodings.values())
            .filter(|e| e.chunks.len() == 1 && e.length as usize <= SMALL_CHUNK)
            .map(|e| e.chunks[0])
            .collect();
        let mut table = Self {
            stored,
            small: BTreeMap::new(),
            small_bytes: 0,
        };
        // One pass in key order, reading only the wanted values (the map's
        // values load lazily): cheaper than a lookup per chunk.
        let found: Vec<(ChunkId, Vec<u8>)> = match wanted.first() {
            None => Vec::new(),
            Some(first) => table
                .stored
                .range(first..)
                .filter(|entry| wanted.contains(entry.key()))
                .map(|entry| (*entry.key(), entry.value()))
                .collect(),
        };
        for (id, bytes) in found {
            table.keep_small(id, &bytes);
        }
        table
    }

    pub fn get(&self, id: &ChunkId) -> Option<Vec<u8>> {
        match self.small.get(id) {
            Some(bytes) => Some(bytes.to_vec()),
            None => self.stored.get(id),
        }
    }

    pub fn insert(&mut self, id: ChunkId, bytes: Vec<u8>) {
        self.forget_small(&id);
        self.keep_small(id, &bytes);
        self.stored.insert(id, bytes);
    }

    pub fn remove(&mut self, id: &ChunkId) -> Option<Vec<u8>> {
        self.forget_small(id);
        self.stored.remove(id)
    }

    pub fn len(&self) -> u64 {
        self.stored.len()
    }

    pub fn is_empty(&self) -> bool {
        self.stored.is_empty()
    }

    /// Chunks and bytes on the heap (for the benchmark and tests).
    pub fn on_heap(&self) -> (usize, usize) {
        (self.small.len(), self.small_bytes)
    }

    /// Every chunk on the heap is stored, with the same bytes (for tests).
    pub fn heap_matches_stored(&self) -> bool {
        self.small_bytes == self.small.values().map(|b| b.len()).sum::<usize>()
            && self
                .small
                .iter()
                .all(|(id, bytes)| self.stored.get(id).as_deref() == Some(&bytes[..]))
    }

    fn keep_small(&mut self, id: ChunkId, bytes: &[u8]) {
        if bytes.len() <= SMALL_CHUNK && self.small_bytes + bytes.len() <= HEAP_BUDGET {
            self.small_bytes += bytes.len();
            self.small.insert(id, bytes.into());
        }
    }

    fn forget_small(&mut self, id: &ChunkId) {
        if let Some(bytes) = self.small.remove(id) {
            self.small_bytes -= bytes.len();
        }
    }
}
