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
//!
//! Chunks larger than [`SMALL_CHUNK`] are kept in pages (`pages`), not in
//! the map: its nodes rewrite every value they hold each time they change.
//! Their memories are opened when the first such chunk is stored, so a
//! site of small files keeps their buckets free.

use std::collections::{BTreeMap, BTreeSet};

use ic_stable_structures::Memory;

use super::pages::PagedChunks;
use super::{AssetTable, ChunkId, Chunks, VMem};

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
    /// The large chunks, once one was stored; until then their memories
    /// (index, free runs, pages).
    paged: Option<PagedChunks<M>>,
    unopened: Option<[VMem<M>; 3]>,
}

impl<M: Memory> ChunkTable<M> {
    /// Opens the stored chunks and copies to the heap the small ones that
    /// `assets`' bodies consist of (in chunk order, until the budget).
    pub fn open(stored: Chunks<M>, paged: [VMem<M>; 3], assets: &AssetTable<M>) -> Self {
        let wanted: BTreeSet<ChunkId> = assets
            .iter()
            .flat_map(|(_, record)| record.encodings.values())
            .filter(|e| e.chunks.len() == 1 && e.length as usize <= SMALL_CHUNK)
            .map(|e| e.chunks[0])
            .collect();
        let (paged, unopened) = if paged.iter().any(|memory| memory.size() > 0) {
            let [index, free, pages] = paged;
            (Some(PagedChunks::init(index, free, pages)), None)
        } else {
            (None, Some(paged))
        };
        let mut table = Self {
            stored,
            small: BTreeMap::new(),
            small_bytes: 0,
            paged,
            unopened,
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
        if let Some(bytes) = self.small.get(id) {
            return Some(bytes.to_vec());
        }
        match &self.paged {
            Some(paged) => paged.get(id).or_else(|| self.stored.get(id)),
            None => self.stored.get(id),
        }
    }

    /// Stores chunk `id`, which must be new (ids are never reused).
    pub fn insert(&mut self, id: ChunkId, bytes: Vec<u8>) {
        if bytes.len() > SMALL_CHUNK {
            self.paged().insert(id, &bytes);
        } else {
            self.keep_small(id, &bytes);
            self.stored.insert(id, bytes);
        }
    }

    /// Drops chunk `id`; true if it was stored.
    pub fn remove(&mut self, id: &ChunkId) -> bool {
        self.forget_small(id);
        let paged = self.paged.as_mut().is_some_and(|paged| paged.remove(id));
        paged || self.stored.remove(id).is_some()
    }

    pub fn len(&self) -> u64 {
        self.stored.len() + self.paged.as_ref().map_or(0, PagedChunks::count)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The large chunks, if any was ever stored (for tests).
    pub fn paged_store(&self) -> Option<&PagedChunks<M>> {
        self.paged.as_ref()
    }

    fn paged(&mut self) -> &mut PagedChunks<M> {
        let unopened = &mut self.unopened;
        self.paged.get_or_insert_with(|| {
            let [index, free, pages] = unopened.take().expect("kept until opened");
            PagedChunks::init(index, free, pages)
        })
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
