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
//!
//! Ids are never reused; a retired id stays listed here as retired.
//!
//! Chunks are stored once: an uploaded chunk belongs to its batch (an entry
//! in `BATCH_CHUNKS`) until a commit hands it to an asset encoding, which
//! then lists it. Committing moves no bytes. The certification tree is not
//! here: it is derived from the stored hashes (see `certification`).

mod records;

pub use records::{AssetRecord, BatchRecord, Counters, EncodingRecord};

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

const ASSETS: MemoryId = MemoryId::new(0);
const CHUNKS: MemoryId = MemoryId::new(1);
const BATCHES: MemoryId = MemoryId::new(2);
const BATCH_CHUNKS: MemoryId = MemoryId::new(3);
const PERMISSIONS: MemoryId = MemoryId::new(4);
const COUNTERS: MemoryId = MemoryId::new(5);

pub struct Stores<M: Memory> {
    pub assets: Assets<M>,
    pub chunks: Chunks<M>,
    pub batches: Batches<M>,
    pub batch_chunks: BatchChunks<M>,
    pub permissions: Permissions<M>,
    counters: StableCell<Counters, VMem<M>>,
}

impl<M: Memory> Stores<M> {
    /// Opens the stores in `memory`, creating them on first use; on an
    /// upgrade this finds everything where the previous version left it.
    pub fn init(memory: M) -> Self {
        let manager = MemoryManager::init(memory);
        Self {
            assets: StableBTreeMap::init(manager.get(ASSETS)),
            chunks: StableBTreeMap::init(manager.get(CHUNKS)),
            batches: StableBTreeMap::init(manager.get(BATCHES)),
            batch_chunks: StableBTreeMap::init(manager.get(BATCH_CHUNKS)),
            permissions: StableBTreeMap::init(manager.get(PERMISSIONS)),
            counters: StableCell::init(manager.get(COUNTERS), Counters::default()),
        }
    }

    pub fn next_batch_id(&mut self) -> BatchId {
        let mut counters = self.counters.get().clone();
        let id = counters.next_batch_id;
        counters.next_batch_id += 1;
        self.counters.set(counters);
        id
    }

    pub fn next_chunk_id(&mut self) -> ChunkId {
        let mut counters = self.counters.get().clone();
        let id = counters.next_chunk_id;
        counters.next_chunk_id += 1;
        self.counters.set(counters);
        id
    }
}
