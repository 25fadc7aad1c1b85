//! Everything the canister keeps lives here, in stable memory, so an upgrade
//! needs no serialization and content can grow past the 4 GiB wasm heap.
//!
//! Stable memory layout (virtual memories of one `MemoryManager`):
//!
//! | id | name           | structure                                         |
//! |----|----------------|---------------------------------------------------|
//! | 0  | `ASSETS`       | `StableBTreeMap<AssetKey, AssetRecord>`           |
//! | 1  | `CHUNKS`       | `StableBTreeMap<ChunkId, chunk bytes>`            |
//! | 2  | `BATCHES`      | `StableBTreeMap<BatchId, BatchRecord>`            |
//! | 3  | `BATCH_CHUNKS` | `StableBTreeMap<(BatchId, ChunkId), ()>`          |
//! | 4  | `PERMISSIONS`  | `StableBTreeMap<(permission code, Principal), ()>`|
//! | 5  | `COUNTERS`     | `StableCell<Counters>` (next batch and chunk ids) |
//! | 6  | `LAYOUT`       | `ASSETSRV` and the layout version (`layout`)     |
//! | 7  | `PROPOSALS`    | `StableBTreeMap<BatchId, candid operations>` (*)  |
//! | 8  | `CONFIGURATION`| `StableCell<Configuration>` (upload limits) (*)   |
//! | 9  | `TREE_SNAPSHOT`| the hashed certification tree, from `pre_upgrade` to `post_upgrade` (*) (`snapshot`) |
//! | 10 | `CHUNK_INDEX`  | `StableBTreeMap<ChunkId, placement>`: where each large chunk's pages are (*) (`pages`) |
//! | 11 | `FREE_PAGES`   | `StableBTreeMap<(first page, count), ()>`: the pages not in use (*) |
//! | 12 | `CHUNK_PAGES`  | the large chunks' bytes, in pages of 1 KiB (*) |
//!
//! (*) Opened when first written; until then they take no memory.
//!
//! Memory is handed to the virtual memories in buckets of
//! [`BUCKET_PAGES`] wasm pages (512 KiB), and every memory in use holds at
//! least one. The `MemoryManager`'s default is 128 pages (8 MiB): with nine
//! memories, 74 MB of stable memory before the first asset, for a site of
//! 10 MB. The price of smaller buckets is the ceiling: a `MemoryManager`
//! has at most 32,768 buckets, so 16 GiB in all (four times the heap that
//! DFINITY's asset canister keeps its assets in). The bucket size is written
//! in the `MemoryManager`'s header when it is created and read from there
//! afterwards, so stores created by an earlier build keep their 8 MiB buckets
//! and every build opens both.
//!
//! Ids are never reused; a retired id stays listed here as retired. Memory
//! `LAYOUT` came with layout version 1; how versions change, and what is
//! checked before anything is opened, is in `layout`. Memories
//! `PROPOSALS` and `CONFIGURATION` needed no new version: an older build
//! never opens them and ignores the fields they added to `BatchRecord`.
//! Memories 10 to 12 came with version 2: an older build would not find
//! the chunks kept there. Chunks stored in `CHUNKS` before stay there and
//! are read from there.
//!
//! Chunks are stored once: an uploaded chunk belongs to its batch (an entry
//! in `BATCH_CHUNKS`) until a commit hands it to an asset encoding, which
//! then lists it. Committing moves no bytes. A batch proposed for a vote
//! (`propose_commit_batch`) keeps its operations in `PROPOSALS`, candid
//! encoded (`vec BatchOperationKind`), and its evidence progress in its
//! `BatchRecord`, so both survive an upgrade. The certification tree is
//! not here: it is derived from the stored hashes (see `certification`).

mod chunks;
pub mod layout;
pub mod pages;
mod records;
mod snapshot;
mod table;

pub use chunks::ChunkTable;
pub use records::{
    AssetRecord, BatchRecord, ChunkSpan, Configuration, Counters, EncodingRecord, ResponseCache,
    chunk_entry,
};
pub use snapshot::{SnapshotHeader, SnapshotWriter};
pub use table::{AssetTable, Records};

use candid::Principal;
use ic_stable_structures::memory_manager::{MemoryId, MemoryManager, VirtualMemory};
use ic_stable_structures::{Memory, StableBTreeMap, StableCell};

pub type AssetKey = String;
pub type ChunkId = u64;
pub type BatchId = u64;
/// A permission's code in `PERMISSIONS`: see `access::permission_code`.
pub type PermissionCode = u8;

pub type VMem<M> = VirtualMemory<M>;
pub type Assets<M> = StableBTreeMap<AssetKey, AssetRecord, VMem<M>>;
pub type Chunks<M> = StableBTreeMap<ChunkId, Vec<u8>, VMem<M>>;
pub type Batches<M> = StableBTreeMap<BatchId, BatchRecord, VMem<M>>;
pub type BatchChunks<M> = StableBTreeMap<(BatchId, ChunkId), (), VMem<M>>;
pub type Permissions<M> = StableBTreeMap<(PermissionCode, Principal), (), VMem<M>>;
/// A proposed batch's operations, candid encoded.
pub type Proposals<M> = StableBTreeMap<BatchId, Vec<u8>, VMem<M>>;

/// Wasm pages per bucket for stores this build creates (see above).
pub const BUCKET_PAGES: u16 = 8;

const ASSETS: MemoryId = MemoryId::new(0);
const CHUNKS: MemoryId = MemoryId::new(1);
const BATCHES: MemoryId = MemoryId::new(2);
const BATCH_CHUNKS: MemoryId = MemoryId::new(3);
const PERMISSIONS: MemoryId = MemoryId::new(4);
const COUNTERS: MemoryId = MemoryId::new(5);
const LAYOUT: MemoryId = MemoryId::new(6);
const PROPOSALS: MemoryId = MemoryId::new(7);
const CONFIGURATION: MemoryId = MemoryId::new(8);
const TREE_SNAPSHOT: MemoryId = MemoryId::new(9);
const CHUNK_INDEX: MemoryId = MemoryId::new(10);
const FREE_PAGES: MemoryId = MemoryId::new(11);
const CHUNK_PAGES: MemoryId = MemoryId::new(12);

pub struct Stores<M: Memory> {
    pub assets: AssetTable<M>,
    pub chunks: ChunkTable<M>,
    pub batches: Batches<M>,
    pub batch_chunks: BatchChunks<M>,
    pub permissions: Permissions<M>,
    counters: StableCell<Counters, VMem<M>>,
    /// Opened when first written: most sites never propose a batch or set
    /// limits, and an opened memory holds a bucket.
    proposals: Option<Proposals<M>>,
    configuration: Option<StableCell<Configuration, VMem<M>>>,
    tree_snapshot: Option<VMem<M>>,
    manager: MemoryManager<M>,
    /// The memory under the manager, to see that it can grow before a
    /// write that must not trap (the manager traps when it cannot).
    raw: M,
}

/// No limits: the configuration of stores that never had one set.
const NO_LIMITS: Configuration = Configuration {
    max_batches: None,
    max_chunks: None,
    max_bytes: None,
};

impl<M: Memory> Stores<M> {
    /// Lays out new, empty stores in `memory`. Whatever `memory` held is
    /// lost: call it only on memory that `layout::inspect` found empty, or
    /// whose contents were read out first (an import).
    pub fn create(memory: M) -> Self
    where
        M: Clone,
    {
        if memory.size() > 0 {
            // Without its magic the MemoryManager formats; make sure a
            // stale "MGR" from the old contents cannot pass for one.
            memory.write(0, &[0; 4]);
        }
        Self::open(memory, 0)
    }

    /// Opens the stores that `layout::inspect` found at `version` (at most
    /// `LAYOUT_VERSION`), migrating them to the current version.
    pub fn open(memory: M, version: u32) -> Self
    where
        M: Clone,
    {
        assert!(version <= layout::LAYOUT_VERSION, "checked by the caller");
        // The header's bucket size wins over ours when there is one.
        let raw = memory.clone();
        let manager = MemoryManager::init_with_bucket_size(memory, BUCKET_PAGES);
        if version < layout::LAYOUT_VERSION {
            // Version 0 differs only by the missing header.
            layout::write_header(&manager.get(LAYOUT));
        }
        let in_use = |id| (manager.get(id).size() > 0).then(|| manager.get(id));
        let assets = AssetTable::open(StableBTreeMap::init(manager.get(ASSETS)));
        let chunks = ChunkTable::open(
            StableBTreeMap::init(manager.get(CHUNKS)),
            [CHUNK_INDEX, FREE_PAGES, CHUNK_PAGES].map(|id| manager.get(id)),
            &assets,
        );
        Self {
            assets,
            chunks,
            batches: StableBTreeMap::init(manager.get(BATCHES)),
            batch_chunks: StableBTreeMap::init(manager.get(BATCH_CHUNKS)),
            permissions: StableBTreeMap::init(manager.get(PERMISSIONS)),
            counters: StableCell::init(manager.get(COUNTERS), Counters::default()),
            proposals: in_use(PROPOSALS).map(StableBTreeMap::init),
            configuration: in_use(CONFIGURATION)
                .map(|memory| StableCell::init(memory, Configuration::default())),
            tree_snapshot: in_use(TREE_SNAPSHOT),
            manager,
            raw,
        }
    }

    /// Keeps the operations proposed for `batch_id` (candid encoded).
    pub fn insert_proposal(&mut self, batch_id: BatchId, operations: Vec<u8>) {
        let manager = &self.manager;
        self.proposals
            .get_or_insert_with(|| StableBTreeMap::init(manager.get(PROPOSALS)))
            .insert(batch_id, operations);
    }

    pub fn proposal(&self, batch_id: BatchId) -> Option<Vec<u8>> {
        self.proposals.as_ref()?.get(&batch_id)
    }

    pub fn remove_proposal(&mut self, batch_id: BatchId) {
        if let Some(proposals) = &mut self.proposals {
            proposals.remove(&batch_id);
        }
    }

    pub fn next_batch_id(&mut self) -> BatchId {
        let mut counters = self.counters.get().clone();
        let id = counters.next_batch_id;
        counters.next_batch_id += 1;
        self.counters.set(counters);
        id
    }

    /// Makes sure no batch id below `id` is handed out (they were someone
    /// else's: see `import`).
    pub fn reserve_batch_ids_below(&mut self, id: BatchId) {
        let mut counters = self.counters.get().clone();
        counters.next_batch_id = counters.next_batch_id.max(id);
        self.counters.set(counters);
    }

    pub fn configuration(&self) -> &Configuration {
        self.configuration
            .as_ref()
            .map_or(&NO_LIMITS, StableCell::get)
    }

    pub fn set_configuration(&mut self, configuration: Configuration) {
        match &mut self.configuration {
            Some(cell) => {
                cell.set(configuration);
            }
            None => {
                self.configuration = Some(StableCell::init(
                    self.manager.get(CONFIGURATION),
                    configuration,
                ));
            }
        }
    }

    pub fn next_chunk_id(&mut self) -> ChunkId {
        let mut counters = self.counters.get().clone();
        let id = counters.next_chunk_id;
        counters.next_chunk_id += 1;
        self.counters.set(counters);
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ic_stable_structures::VectorMemory;

    /// The bucket size in a `MemoryManager`'s header (after its magic,
    /// format byte and bucket count).
    fn bucket_pages(memory: &VectorMemory) -> u16 {
        let mut bytes = [0; 2];
        memory.read(6, &mut bytes);
        u16::from_le_bytes(bytes)
    }

    #[test]
    fn new_stores_take_small_buckets_and_old_ones_keep_theirs() {
        let fresh = VectorMemory::default();
        let mut stores = Stores::create(fresh.clone());
        stores.next_batch_id();
        assert_eq!(bucket_pages(&fresh), BUCKET_PAGES);
        // Seven memories, one bucket each, and the header page: proposals
        // and limits take theirs when first written.
        assert_eq!(fresh.size(), 1 + 7 * u64::from(BUCKET_PAGES));
        stores.set_configuration(Configuration {
            max_batches: Some(3),
            ..Configuration::default()
        });
        stores.insert_proposal(5, vec![1, 2]);
        assert_eq!(fresh.size(), 1 + 9 * u64::from(BUCKET_PAGES));
        let stores = Stores::open(fresh.clone(), layout::LAYOUT_VERSION);
        assert_eq!(stores.configuration().max_batches, Some(3));
        assert_eq!(stores.proposal(5), Some(vec![1, 2]));
        assert_eq!(stores.proposal(6), None);

        let old = VectorMemory::default();
        MemoryManager::init(old.clone()).get(ASSETS).grow(1);
        assert_eq!(bucket_pages(&old), 128);
        let mut stores = Stores::open(old.clone(), 0);
        stores.next_chunk_id();
        assert_eq!(bucket_pages(&old), 128, "reopening keeps the bucket size");
        assert_eq!(stores.next_chunk_id(), 1);
    }

    #[test]
    fn large_chunks_take_their_memories_when_first_stored_and_reopen() {
        let memory = VectorMemory::default();
        let mut stores = Stores::create(memory.clone());
        stores.chunks.insert(1, vec![5; 4096]);
        let before = memory.size();
        assert!(
            stores.chunks.paged_store().is_none(),
            "4 KiB stays in the map"
        );
        stores.chunks.insert(2, vec![6; 300_000]);
        assert!(memory.size() > before);
        let stores = Stores::open(memory.clone(), layout::LAYOUT_VERSION);
        assert_eq!(stores.chunks.len(), 2);
        assert_eq!(stores.chunks.get(&1), Some(vec![5; 4096]));
        assert_eq!(stores.chunks.get(&2), Some(vec![6; 300_000]));
        assert_eq!(stores.chunks.paged_store().map(|p| p.count()), Some(1));
    }
}
