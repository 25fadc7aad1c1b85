//! Chunks larger than [`super::chunks::SMALL_CHUNK`], kept as pages of raw
//! stable memory rather than as values of a `StableBTreeMap`.
//!
//! A `StableBTreeMap` rewrites every value of a node whenever it saves the
//! node, and keeps a large value as a chain of 1 KiB overflow pages. So a
//! 1.9 MB chunk cost 2.6 M to 3.6 M instructions to insert, more when the
//! chunks beside it in its node were large too (each insert rewrote them),
//! and as much again to read back. Here a chunk's bytes are written once
//! into pages of [`PAGE`] bytes and read back with one memory read per run
//! of consecutive pages; the maps hold only where the pages are.
//!
//! - `index`: chunk id → the chunk's length (8 bytes, little endian), then
//!   its runs of pages, each `(first page, count)` as two little-endian
//!   `u32`, in body order.
//! - `free`: the runs not in use, as `(first page, count)` keys. Neighbours
//!   are merged when a run is freed, so the free runs never touch.
//! - `pages`: the bytes; page `p` starts at `p * PAGE`. Every page the
//!   memory holds is either in exactly one chunk's runs or in `free`.

use ic_stable_structures::{Memory, StableBTreeMap};

use super::{ChunkId, VMem};

/// Bytes per page: small enough that a chunk wastes little of its last.
pub const PAGE: u64 = 1024;
const WASM_PAGE: u64 = 65_536;
const PAGES_PER_WASM_PAGE: u64 = WASM_PAGE / PAGE;

/// A run of consecutive pages: its first page and how many.
pub type Run = (u64, u64);

pub type ChunkIndex<M> = StableBTreeMap<ChunkId, Vec<u8>, VMem<M>>;
pub type FreeRuns<M> = StableBTreeMap<Run, (), VMem<M>>;

pub struct PagedChunks<M: Memory> {
    index: ChunkIndex<M>,
    free: FreeRuns<M>,
    pages: VMem<M>,
}

/// Where a chunk's bytes lie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub length: u64,
    pub runs: Vec<Run>,
}

impl Placement {
    fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(8 + 8 * self.runs.len());
        bytes.extend_from_slice(&self.length.to_le_bytes());
        for &(first, count) in &self.runs {
            // Page numbers fit u32: 2^32 pages of 1 KiB are 4 TiB, past
            // any canister's stable memory.
            bytes.extend_from_slice(&(first as u32).to_le_bytes());
            bytes.extend_from_slice(&(count as u32).to_le_bytes());
        }
        bytes
    }

    fn from_bytes(bytes: &[u8]) -> Self {
        let word = |at: usize| u64::from(u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()));
        let length = u64::from_le_bytes(bytes[..8].try_into().expect("written by to_bytes"));
        let runs = (8..bytes.len())
            .step_by(8)
            .map(|at| (word(at), word(at + 4)))
            .collect();
        Self { length, runs }
    }

    /// Each run's byte offset in the pages and its share of the body.
    fn spans(&self) -> impl Iterator<Item = (u64, std::ops::Range<usize>)> + '_ {
        let mut at = 0u64;
        self.runs.iter().map(move |&(first, count)| {
            let len = (count * PAGE).min(self.length - at);
            let span = at as usize..(at + len) as usize;
            at += len;
            (first * PAGE, span)
        })
    }
}

impl<M: Memory> PagedChunks<M> {
    /// Opens (or creates) the paged chunks in these three memories.
    pub fn init(index: VMem<M>, free: VMem<M>, pages: VMem<M>) -> Self {
        Self {
            index: StableBTreeMap::init(index),
            free: StableBTreeMap::init(free),
            pages,
        }
    }

    pub fn get(&self, id: &ChunkId) -> Option<Vec<u8>> {
        let placement = self.placement(id)?;
        let length = placement.length as usize;
        // Read into spare capacity: zeroing the buffer first would cost an
        // instruction a byte (1.9 M for a chunk), as much as the rest.
        let mut bytes: Vec<u8> = Vec::with_capacity(length);
        for (offset, span) in placement.spans() {
            // SAFETY: `span` lies within the capacity of `length` bytes.
            unsafe {
                let into = bytes.as_mut_ptr().add(span.start);
                self.pages.read_unsafe(offset, into, span.len());
            }
        }
        // SAFETY: the spans cover `0..length` exactly (see `spans`), and
        // `read_unsafe` initialised each.
        unsafe { bytes.set_len(length) };
        Some(bytes)
    }

    /// Stores `bytes` as chunk `id` (which must not be stored yet). Traps
    /// if stable memory cannot grow, as every store does; the message is
    /// then rolled back whole.
    pub fn insert(&mut self, id: ChunkId, bytes: &[u8]) {
        debug_assert!(!self.index.contains_key(&id));
        let placement = Placement {
            length: bytes.len() as u64,
            runs: self.allocate((bytes.len() as u64).div_ceil(PAGE)),
        };
        for (offset, span) in placement.spans() {
            self.pages.write(offset, &bytes[span]);
        }
        self.index.insert(id, placement.to_bytes());
    }

    /// Drops chunk `id`, freeing its pages; true if it was stored.
    pub fn remove(&mut self, id: &ChunkId) -> bool {
        let Some(bytes) = self.index.remove(id) else {
            return false;
        };
        for run in Placement::from_bytes(&bytes).runs {
            self.release(run);
        }
        true
    }

    /// How many chunks are kept here.
    pub fn count(&self) -> u64 {
        self.index.len()
    }

    pub fn placement(&self, id: &ChunkId) -> Option<Placement> {
        self.index
            .get(id)
            .map(|bytes| Placement::from_bytes(&bytes))
    }

    /// Checks that every page is in exactly one chunk's runs or one free
    /// run, that free runs never touch, and that each chunk holds just the
    /// pages its length needs (for tests).
    pub fn check_pages(&self) -> Result<(), String> {
        let mut runs: Vec<(Run, String)> = Vec::new();
        for entry in self.index.iter() {
            let (id, placement) = (*entry.key(), Placement::from_bytes(&entry.value()));
            let pages: u64 = placement.runs.iter().map(|run| run.1).sum();
            if pages != placement.length.div_ceil(PAGE) {
                return Err(format!(
                    "chunk {id} of {} bytes holds {pages} pages",
                    placement.length
                ));
            }
            runs.extend(
                placement
                    .runs
                    .iter()
                    .map(|&run| (run, format!("chunk {id}"))),
            );
        }
        let free: Vec<Run> = self.free.keys().collect();
        if let Some(pair) = free
            .windows(2)
            .find(|pair| pair[0].0 + pair[0].1 >= pair[1].0)
        {
            return Err(format!("free runs {pair:?} touch"));
        }
        runs.extend(free.into_iter().map(|run| (run, "free".to_string())));
        runs.sort();
        let mut end = 0;
        for ((first, count), who) in runs {
            if first != end || count == 0 {
                return Err(format!("page {end}: {who} holds ({first}, {count})"));
            }
            end = first + count;
        }
        let total = self.pages.size() * PAGES_PER_WASM_PAGE;
        if end != total {
            return Err(format!("pages {end} to {total} are lost"));
        }
        Ok(())
    }

    /// Takes `count` pages: free runs first, lowest first, then new pages
    /// at the end (whatever the last wasm page holds beyond them is freed).
    fn allocate(&mut self, mut count: u64) -> Vec<Run> {
        let mut runs: Vec<Run> = Vec::new();
        while count > 0 {
            let (first, taken) = match self.free.pop_first() {
                Some(((first, free), ())) => {
                    let taken = free.min(count);
                    if taken < free {
                        self.free.insert((first + taken, free - taken), ());
                    }
                    (first, taken)
                }
                None => {
                    let grown = count.div_ceil(PAGES_PER_WASM_PAGE);
                    let start = self.pages.grow(grown);
                    assert!(start >= 0, "stable memory cannot grow for a chunk");
                    let first = start as u64 * PAGES_PER_WASM_PAGE;
                    let spare = grown * PAGES_PER_WASM_PAGE - count;
                    if spare > 0 {
                        self.free.insert((first + count, spare), ());
                    }
                    (first, count)
                }
            };
            match runs.last_mut() {
                Some(last) if last.0 + last.1 == first => last.1 += taken,
                _ => runs.push((first, taken)),
            }
            count -= taken;
        }
        runs
    }

    /// Returns a run to the free runs, merged with free neighbours.
    fn release(&mut self, (mut first, mut count): Run) {
        let after = self
            .free
            .range((first + count, 0)..)
            .next()
            .map(|entry| *entry.key())
            .filter(|next| next.0 == first + count);
        if let Some(next) = after {
            self.free.remove(&next);
            count += next.1;
        }
        let before = self
            .free
            .range(..(first, 0))
            .next_back()
            .map(|entry| *entry.key())
            .filter(|previous| previous.0 + previous.1 == first);
        if let Some(previous) = before {
            self.free.remove(&previous);
            first = previous.0;
            count += previous.1;
        }
        self.free.insert((first, count), ());
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use ic_stable_structures::VectorMemory;
    use ic_stable_structures::memory_manager::{MemoryId, MemoryManager};
    use proptest::prelude::*;

    use super::*;

    fn store() -> PagedChunks<VectorMemory> {
        let manager = MemoryManager::init(VectorMemory::default());
        let [index, free, pages] = [0, 1, 2].map(|id| manager.get(MemoryId::new(id)));
        PagedChunks::init(index, free, pages)
    }

    fn body(id: ChunkId, len: usize) -> Vec<u8> {
        (0..len).map(|i| (i as u64 * 31 + id * 7) as u8).collect()
    }

    fn check_layout(paged: &PagedChunks<VectorMemory>) {
        paged.check_pages().unwrap();
    }

    #[test]
    fn a_chunk_reads_back_and_its_pages_are_reused_once_removed() {
        let mut paged = store();
        paged.insert(1, &body(1, 1_900_000));
        paged.insert(2, &body(2, 5_000));
        assert_eq!(paged.get(&1), Some(body(1, 1_900_000)));
        assert_eq!(paged.get(&2), Some(body(2, 5_000)));
        assert_eq!(paged.placement(&1).unwrap().runs.len(), 1);
        let size = paged.pages.size();
        assert!(paged.remove(&1));
        assert!(!paged.remove(&1));
        assert_eq!(paged.get(&1), None);
        paged.insert(3, &body(3, 1_899_000));
        assert_eq!(paged.pages.size(), size, "the freed pages were reused");
        assert_eq!(paged.get(&3), Some(body(3, 1_899_000)));
        check_layout(&paged);
    }

    #[test]
    fn a_chunk_spans_free_runs_and_new_pages() {
        let mut paged = store();
        for id in 0..6 {
            paged.insert(id, &body(id, 10 * PAGE as usize));
        }
        paged.remove(&1);
        paged.remove(&3);
        // 20 free pages in two runs, then new pages.
        paged.insert(9, &body(9, 100 * PAGE as usize + 1));
        let runs = paged.placement(&9).unwrap().runs;
        assert_eq!(runs[..2], [(10, 10), (30, 10)]);
        assert_eq!(paged.get(&9), Some(body(9, 100 * PAGE as usize + 1)));
        check_layout(&paged);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn any_inserts_and_removes_keep_every_chunk_and_lose_no_page(
            steps in prop::collection::vec((any::<bool>(), 0u64..12, 4_097usize..200_000), 1..60)
        ) {
            let mut paged = store();
            let mut model: BTreeMap<ChunkId, Vec<u8>> = BTreeMap::new();
            let mut next = 0;
            for (add, pick, len) in steps {
                if add || model.is_empty() {
                    let bytes = body(next, len);
                    paged.insert(next, &bytes);
                    model.insert(next, bytes);
                    next += 1;
                } else {
                    let id = *model.keys().nth(pick as usize % model.len()).unwrap();
                    prop_assert!(paged.remove(&id));
                    model.remove(&id);
                }
                check_layout(&paged);
            }
            prop_assert_eq!(paged.count(), model.len() as u64);
            for (id, bytes) in &model {
                prop_assert_eq!(paged.get(id), Some(bytes.clone()));
            }
        }
    }
}
