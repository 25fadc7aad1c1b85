//! Memory `TREE_SNAPSHOT`: the certification tree with its hashes, written
//! by `pre_upgrade` and read once by the next `post_upgrade` (what it holds
//! and when it is trusted: `server::snapshot`).
//!
//! ```text
//! 0   "TREESNAP"
//! 8   format (u32 LE, 1)
//! 12  state (u32 LE): 1 written and not yet read, 0 read or being written
//! 16  body length (u64 LE)
//! 24  fingerprint of the asset records it was derived from (u64 LE)
//! 32  probe: the root this build derives from fixed records (32 bytes)
//! 64  body (`CertifiedTree::save`)
//! ```
//!
//! The state is cleared before anything else is written and set last, so a
//! snapshot is read at most once and never half written; a write that
//! cannot grow the memory leaves no snapshot, and the next upgrade hashes
//! the tree anew.

use ic_stable_structures::Memory;

use super::{Stores, TREE_SNAPSHOT};

const MAGIC: &[u8; 8] = b"TREESNAP";
const FORMAT: u32 = 1;
const FRESH: u32 = 1;
const HEADER: u64 = 64;
const PAGE: u64 = 65_536;

/// A tree as saved, with what it must match to be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeSnapshot {
    pub fingerprint: u64,
    pub probe: [u8; 32],
    pub body: Vec<u8>,
}

impl<M: Memory> Stores<M> {
    /// Leaves `snapshot` for the next `take_tree_snapshot`. Returns false,
    /// leaving none, if stable memory cannot grow to hold it. Never traps.
    pub fn save_tree_snapshot(&mut self, snapshot: &TreeSnapshot) -> bool {
        let manager = &self.manager;
        let memory = self
            .tree_snapshot
            .get_or_insert_with(|| manager.get(TREE_SNAPSHOT));
        if memory.size() > 0 {
            memory.write(12, &0u32.to_le_bytes());
        }
        let needed = HEADER + snapshot.body.len() as u64;
        let pages = needed.div_ceil(PAGE);
        if memory.size() < pages && memory.grow(pages - memory.size()) < 0 {
            return false;
        }
        memory.write(HEADER, &snapshot.body);
        let mut header = [0u8; HEADER as usize];
        header[..8].copy_from_slice(MAGIC);
        header[8..12].copy_from_slice(&FORMAT.to_le_bytes());
        header[16..24].copy_from_slice(&(snapshot.body.len() as u64).to_le_bytes());
        header[24..32].copy_from_slice(&snapshot.fingerprint.to_le_bytes());
        header[32..64].copy_from_slice(&snapshot.probe);
        memory.write(0, &header);
        memory.write(12, &FRESH.to_le_bytes());
        true
    }

    /// The snapshot left by the last `save_tree_snapshot`, unless it was
    /// read before; marks it read.
    pub fn take_tree_snapshot(&mut self) -> Option<TreeSnapshot> {
        let memory = self.tree_snapshot.as_ref()?;
        let size = memory.size() * PAGE;
        if size < HEADER {
            return None;
        }
        let mut header = [0u8; HEADER as usize];
        memory.read(0, &mut header);
        let word = |at: usize| u32::from_le_bytes(header[at..at + 4].try_into().expect("4 bytes"));
        let long = |at: usize| u64::from_le_bytes(header[at..at + 8].try_into().expect("8 bytes"));
        if &header[..8] != MAGIC || word(8) != FORMAT || word(12) != FRESH {
            return None;
        }
        memory.write(12, &0u32.to_le_bytes());
        let len = long(16);
        if len > size - HEADER {
            return None;
        }
        let mut body = vec![0; len as usize];
        memory.read(HEADER, &mut body);
        Some(TreeSnapshot {
            fingerprint: long(24),
            probe: header[32..64].try_into().expect("32 bytes"),
            body,
        })
    }
}
