//! What stable memory holds before anything opens it, and the version of our
//! own layout.
//!
//! Opening a `MemoryManager` or a `StableBTreeMap` on bytes it does not
//! recognise formats them, silently. So nothing is opened until `inspect`
//! has said what is there, reading only:
//!
//! - nothing at all: a new canister, or one whose previous code kept its
//!   state on the heap only (there is nothing to lose);
//! - our layout: a `MemoryManager` (magic `MGR`, its format 1) whose memory
//!   `LAYOUT` starts with [`LAYOUT_MAGIC`] and our layout version;
//! - our layout before it carried a version (version 0): a `MemoryManager`
//!   with no `LAYOUT` memory whose memories 0 to 5 are empty or hold the
//!   structures we keep there;
//! - DFINITY's asset canister: its `pre_upgrade` saved its state from offset
//!   0, as candid (`DIDL`, dfx's frontend canister until 2025) or as CBOR
//!   (a map whose first key is `authorized`, since then);
//! - anything else, which we refuse to touch.
//!
//! Versioning rule: every change to what the stores hold that an older
//! build could not read bumps [`LAYOUT_VERSION`] and adds a migration from
//! the previous version in `open`. A build refuses a version newer than its
//! own, so a downgrade across a layout change fails and changes nothing.
//! Adding an optional field to a CBOR record is not such a change.

use ic_stable_structures::Memory;
use ic_stable_structures::memory_manager::{MemoryId, MemoryManager};

/// The layout this build writes and reads.
pub const LAYOUT_VERSION: u32 = 2;
/// First bytes of memory `LAYOUT`; the version follows, little endian.
pub const LAYOUT_MAGIC: &[u8; 8] = b"ASSETSRV";

const WASM_PAGE: u64 = 65_536;
const MANAGER_MAGIC: &[u8; 3] = b"MGR";
/// The `MemoryManager` header format of ic-stable-structures 0.5 to 0.7.
const MANAGER_FORMAT: u8 = 1;
const BTREE_MAGIC: &[u8; 3] = b"BTR";
const CELL_MAGIC: &[u8; 3] = b"SCL";
/// CBOR: after a map header (one byte for up to 23 fields), the text key
/// "authorized": how `serde_cbor` writes DFINITY's `StableStateV2`.
const DFINITY_CBOR_FIRST_KEY: &[u8] = b"\x6aauthorized";

/// What `inspect` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contents {
    Empty,
    Ours { version: u32 },
    DfinityCandid,
    DfinityCbor,
    Unknown(String),
}

/// Says what `memory` holds, reading and never writing.
pub fn inspect<M: Memory + Clone>(memory: &M) -> Contents {
    let pages = memory.size();
    if pages == 0 {
        return Contents::Empty;
    }
    let mut start = [0u8; 16];
    memory.read(0, &mut start);
    if start.starts_with(b"DIDL") {
        return Contents::DfinityCandid;
    }
    if (0xa1..=0xb7).contains(&start[0]) && start[1..].starts_with(DFINITY_CBOR_FIRST_KEY) {
        return Contents::DfinityCbor;
    }
    let unknown = |what: &str| {
        Contents::Unknown(format!(
            "{what} ({} bytes of stable memory, starting with {})",
            pages * WASM_PAGE,
            hex::encode(start)
        ))
    };
    if &start[..3] != MANAGER_MAGIC {
        return unknown("stable memory in a format this canister does not know");
    }
    if start[3] != MANAGER_FORMAT {
        return unknown("a MemoryManager of a format this canister does not know");
    }
    // `MemoryManager::init` only reads a memory that has its magic and format.
    let manager = MemoryManager::init(memory.clone());
    let layout = manager.get(super::LAYOUT);
    if layout.size() > 0 {
        let mut header = [0u8; 12];
        layout.read(0, &mut header);
        if &header[..8] != LAYOUT_MAGIC {
            return unknown("a MemoryManager layout of another canister");
        }
        let version = u32::from_le_bytes(header[8..].try_into().expect("4 bytes"));
        return Contents::Ours { version };
    }
    if looks_like_version_0(&manager) {
        Contents::Ours { version: 0 }
    } else {
        unknown("a MemoryManager layout of another canister")
    }
}

/// Version 0 (before the layout header): BTreeMaps in memories 0 to 4 and a
/// cell in memory 5, each possibly never used, and nothing beyond them.
fn looks_like_version_0<M: Memory>(manager: &MemoryManager<M>) -> bool {
    let starts_with = |id: u8, magic: &[u8; 3]| {
        let memory = manager.get(MemoryId::new(id));
        if memory.size() == 0 {
            return None;
        }
        let mut found = [0u8; 3];
        memory.read(0, &mut found);
        Some(&found == magic)
    };
    let expected = (0..=4).map(|id| (id, BTREE_MAGIC)).chain([(5, CELL_MAGIC)]);
    let mut used = 0;
    for (id, magic) in expected {
        match starts_with(id, magic) {
            Some(true) => used += 1,
            Some(false) => return false,
            None => {}
        }
    }
    let nothing_else = (7..=254).all(|id| manager.get(MemoryId::new(id)).size() == 0);
    used > 0 && nothing_else
}

/// Writes our layout header (this build's version) into `LAYOUT`: empty,
/// version 0 without one, or an older version's.
pub fn write_header<M: Memory>(layout: &M) {
    if layout.size() == 0 {
        layout.grow(1);
    }
    let mut header = [0u8; 12];
    header[..8].copy_from_slice(LAYOUT_MAGIC);
    header[8..].copy_from_slice(&LAYOUT_VERSION.to_le_bytes());
    layout.write(0, &header);
}

/// The whole of stable memory, for decoding a state saved from offset 0.
pub fn read_all<M: Memory>(memory: &M) -> Vec<u8> {
    let mut bytes = vec![0u8; (memory.size() * WASM_PAGE) as usize];
    memory.read(0, &mut bytes);
    bytes
}

#[cfg(test)]
mod tests {
    use ic_stable_structures::VectorMemory;

    use super::*;
    use crate::store::Stores;

    fn memory_with(bytes: &[u8]) -> VectorMemory {
        let memory = VectorMemory::default();
        memory.grow(1);
        memory.write(0, bytes);
        memory
    }

    #[test]
    fn empty_memory_is_empty() {
        assert_eq!(inspect(&VectorMemory::default()), Contents::Empty);
    }

    #[test]
    fn our_current_layout_is_recognised_with_its_version() {
        let memory = VectorMemory::default();
        Stores::create(memory.clone());
        assert_eq!(
            inspect(&memory),
            Contents::Ours {
                version: LAYOUT_VERSION
            }
        );
    }

    #[test]
    fn dfinity_saved_states_are_recognised() {
        assert_eq!(
            inspect(&memory_with(b"DIDL\x05l...")),
            Contents::DfinityCandid
        );
        assert_eq!(
            inspect(&memory_with(b"\xa6\x6aauthorized\x80")),
            Contents::DfinityCbor
        );
    }

    #[test]
    fn random_bytes_are_unknown() {
        let found = inspect(&memory_with(&[0x42; 64]));
        let Contents::Unknown(why) = found else {
            panic!("random bytes taken for {found:?}")
        };
        assert!(why.contains("65536 bytes"), "{why}");
        assert!(why.contains("4242"), "{why}");
    }

    #[test]
    fn another_canisters_memory_manager_is_unknown() {
        let memory = VectorMemory::default();
        let manager = MemoryManager::init(memory.clone());
        // Another canister keeps a cell where we keep assets.
        let other: ic_stable_structures::StableCell<u64, _> =
            ic_stable_structures::StableCell::init(manager.get(MemoryId::new(0)), 7);
        drop(other);
        assert!(matches!(inspect(&memory), Contents::Unknown(_)));

        let memory = VectorMemory::default();
        let manager = MemoryManager::init(memory.clone());
        let other: ic_stable_structures::StableBTreeMap<u64, u64, _> =
            ic_stable_structures::StableBTreeMap::init(manager.get(MemoryId::new(9)));
        drop(other);
        assert!(matches!(inspect(&memory), Contents::Unknown(_)));
    }

    #[test]
    fn a_newer_memory_manager_format_is_unknown() {
        let found = inspect(&memory_with(b"MGR\x02"));
        assert!(matches!(found, Contents::Unknown(_)), "{found:?}");
    }
}
