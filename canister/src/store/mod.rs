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
//! | 7  | `PROPOSALS`    | `StableBTreeMap<BatchId, candid operations>`      |
//! | 8  | `CONFIGURATION`| `StableCell<Configuration>` (upload limits)       |
//!
//! Ids are never reused; a retired id stays listed here as retired. Memory
//! `LAYOUT` came with layout version 1; how versions change, and what is
//! checked before anything is opened, is in `layout`. Memories
//! `PROPOSALS` and `CONFIGURATION` needed no new version: an older build
//! never opens them and ignores the fields they added to `BatchRecord`.
//!
//! Chunks are stored once: an uploaded chunk belongs to its batch (an entry
//! in `BATCH_CHUNKS`) until a commit hands it to an asset encoding, which
//! then lists it. Committing moves no bytes. A batch proposed for a vote
//! (`propose_commit_batch`) keeps its operations in `PROPOSALS`, candid
//! encoded (`vec BatchOperationKind`), and its evidence progress in its
//! `BatchRecord`, so both survive an upgrade. The certification tree is
//! not here: it is derived from the stored hashes (see `certification`).

pub mod layout;
mod records;

pub use records::{
    AssetRecord, BatchRecord, ChunkSpan, Configuration, Counters, EncodingRecord, ResponseCache,
    chunk_entry,
};

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

const ASSETS: MemoryId = MemoryId::new(0);
const CHUNKS: MemoryId = MemoryId::new(1);
const BATCHES: MemoryId = MemoryId::new(2);
const BATCH_CHUNKS: MemoryId = MemoryId::new(3);
const PERMISSIONS: MemoryId = MemoryId::new(4);
const COUNTERS: MemoryId = MemoryId::new(5);
const LAYOUT: MemoryId = MemoryId::new(6);
const PROPOSALS: MemoryId = MemoryId::new(7);
const CONFIGURATION: MemoryId = MemoryId::new(8);

pub struct Stores<M: Memory> {
    pub assets: Assets<M>,
    pub chunks: Chunks<M>,
    pub batches: Batches<M>,
    pub batch_chunks: BatchChunks<M>,
    pub permissions: Permissions<M>,
    pub proposals: Proposals<M>,
    counters: StableCell<Counters, VMem<M>>,
    configuration: StableCell<Configuration, VMem<M>>,
}

impl<M: Memory> Stores<M> {
    /// Lays out new, empty stores in `memory`. Whatever `memory` held is
    /// lost: call it only on memory that `layout::inspect` found empty, or
    /// whose contents were read out first (an import).
    pub fn create(memory: M) -> Self {
        if memory.size() > 0 {
            // Without its magic the MemoryManager formats; make sure a
            // stale "MGR" from the old contents cannot pass for one.
            memory.write(0, &[0; 4]);
        }
        Self::open(memory, 0)
    }

    /// Opens the stores that `layout::inspect` found at `version` (at most
    /// `LAYOUT_VERSION`), migrating them to the current version.
    pub fn open(memory: M, version: u32) -> Self {
        assert!(version <= layout::LAYOUT_VERSION, "checked by the caller");
        let manager = MemoryManager::init(memory);
        if version < layout::LAYOUT_VERSION {
            // Version 0 differs only by the missing header.
            layout::write_header(&manager.get(LAYOUT));
        }
        Self {
            assets: StableBTreeMap::init(manager.get(ASSETS)),
            chunks: StableBTreeMap::init(manager.get(CHUNKS)),
            batches: StableBTreeMap::init(manager.get(BATCHES)),
            batch_chunks: StableBTreeMap::init(manager.get(BATCH_CHUNKS)),
            permissions: StableBTreeMap::init(manager.get(PERMISSIONS)),
            proposals: StableBTreeMap::init(manager.get(PROPOSALS)),
            counters: StableCell::init(manager.get(COUNTERS), Counters::default()),
            configuration: StableCell::init(manager.get(CONFIGURATION), Configuration::default()),
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
        self.configuration.get()
    }

    pub fn set_configuration(&mut self, configuration: Configuration) {
        self.configuration.set(configuration);
    }

    pub fn next_chunk_id(&mut self) -> ChunkId {
        let mut counters = self.counters.get().clone();
        let id = counters.next_chunk_id;
        counters.next_chunk_id += 1;
        self.counters.set(counters);
        id
    }
}
