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
//! snapshot is read at most once and never half written. The memory is
//! grown before the body is written (the memory manager would trap if the
//! memory under it could not grow, and a trap in `pre_upgrade` would block
//! every upgrade): when it cannot grow, no snapshot is left, and the next
//! `post_upgrade` hashes the tree anew.

use std::io::{self, Write};

use ic_stable_structures::Memory;
use ic_stable_structures::reader::Reader;

use super::{Stores, TREE_SNAPSHOT, VMem};

const MAGIC: &[u8; 8] = b"TREESNAP";
const FORMAT: u32 = 1;
const FRESH: u32 = 1;
const HEADER: u64 = 64;
/// Written and read through a buffer of this size: the tree never needs
/// a second copy of itself on the heap.
const BUFFER: usize = 64 * 1024;
const PAGE: u64 = 65_536;

/// What a snapshot's header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotHeader {
    /// Of the asset records the tree was derived from.
    pub fingerprint: u64,
    /// The probe root of the build that wrote it.
    pub probe: [u8; 32],
    /// Bytes of the body.
    pub length: u64,
}

impl<M: Memory> Stores<M> {
    /// Leaves a snapshot for the next `take_tree_snapshot`: the header's
    /// `fingerprint` and `probe`, and the body `write` writes. Returns
    /// false, leaving none, if `write` fails or stable memory cannot grow
    /// to hold it. Never traps.
    pub fn save_tree_snapshot(
        &mut self,
        fingerprint: u64,
        probe: [u8; 32],
        write: impl FnOnce(&mut SnapshotWriter<'_, M>) -> io::Result<()>,
    ) -> bool {
        let manager = &self.manager;
        let memory = self
            .tree_snapshot
            .get_or_insert_with(|| manager.get(TREE_SNAPSHOT));
        if memory.size() > 0 {
            memory.write(12, &0u32.to_le_bytes());
        }
        let mut out = SnapshotWriter {
            memory,
            raw: &self.raw,
            offset: HEADER,
            block: Vec::with_capacity(BUFFER),
        };
        if write(&mut out).and_then(|()| out.flush()).is_err() {
            return false; // the memory could not grow: no snapshot
        }
        let length = out.offset - HEADER;
        let mut header = [0u8; HEADER as usize];
        header[..8].copy_from_slice(MAGIC);
        header[8..12].copy_from_slice(&FORMAT.to_le_bytes());
        header[16..24].copy_from_slice(&length.to_le_bytes());
        header[24..32].copy_from_slice(&fingerprint.to_le_bytes());
        header[32..64].copy_from_slice(&probe);
        memory.write(0, &header);
        memory.write(12, &FRESH.to_le_bytes());
        true
    }

    /// The header of the snapshot the last `save_tree_snapshot` left,
    /// unless it was taken before; marks it taken. Its body is then
    /// readable with `tree_snapshot_body`.
    pub fn take_tree_snapshot(&mut self) -> Option<SnapshotHeader> {
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
        let length = long(16);
        if length > size - HEADER {
            return None;
        }
        Some(SnapshotHeader {
            fingerprint: long(24),
            probe: header[32..64].try_into().expect("32 bytes"),
            length,
        })
    }

    /// The body of the snapshot `header` describes, read through a buffer.
    pub fn tree_snapshot_body(&self, header: &SnapshotHeader) -> impl io::Read + '_ {
        let memory = self
            .tree_snapshot
            .as_ref()
            .expect("a snapshot was taken from this memory");
        io::Read::take(Reader::new(memory, HEADER), header.length)
    }
}

/// How many pages the memory under the manager must grow by so that the
/// manager can grow one of its memories from `old` to `new` pages without
/// growing it itself. Read from the manager's header ("MGR", version,
/// buckets allocated and bucket size as u16 LE, buckets from page 1 on);
/// if that does not read as one, as if buckets were as large as they can
/// be (128 pages).
pub(super) fn room_for<M: Memory>(raw: &M, old: u64, new: u64) -> u64 {
    let mut header = [0u8; 8];
    if raw.size() > 0 {
        raw.read(0, &mut header);
    }
    let allocated = u64::from(u16::from_le_bytes([header[4], header[5]]));
    let bucket = u64::from(u16::from_le_bytes([header[6], header[7]]));
    if &header[..3] != b"MGR" || !(1..=128).contains(&bucket) {
        return new - old + 128;
    }
    let buckets = new.div_ceil(bucket) - old.div_ceil(bucket);
    (1 + bucket * (allocated + buckets)).saturating_sub(raw.size())
}

/// Writes a snapshot's body a block at a time, growing the memory before
/// each block: the memory under the manager first (by the pages, and one
/// bucket for where the manager puts them), so that the manager never has
/// to grow it, since it traps when it cannot.
pub struct SnapshotWriter<'a, M: Memory> {
    memory: &'a VMem<M>,
    raw: &'a M,
    offset: u64,
    block: Vec<u8>,
}

impl<M: Memory> SnapshotWriter<'_, M> {
    fn write_block(&mut self) -> io::Result<()> {
        let end = self.offset + self.block.len() as u64;
        let have = self.memory.size();
        let need = end.div_ceil(PAGE);
        if need > have {
            // At least 1 MiB at a time: fewer, larger buckets.
            let pages = (need - have).max(16);
            let room = room_for(self.raw, have, have + pages);
            if (room > 0 && self.raw.grow(room) < 0) || self.memory.grow(pages) < 0 {
                return Err(io::ErrorKind::OutOfMemory.into());
            }
        }
        self.memory.write(self.offset, &self.block);
        self.offset = end;
        self.block.clear();
        Ok(())
    }
}

impl<M: Memory> Write for SnapshotWriter<'_, M> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.block.extend_from_slice(bytes);
        if self.block.len() >= BUFFER {
            self.write_block()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.block.is_empty() {
            return Ok(());
        }
        self.write_block()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ic_stable_structures::VectorMemory;
    use ic_stable_structures::memory_manager::MemoryManager;

    #[test]
    fn the_manager_never_has_to_grow_the_memory_itself() {
        use ic_stable_structures::memory_manager::MemoryId;
        for size in [1, super::super::BUCKET_PAGES, 128] {
            let raw = VectorMemory::default();
            let manager = MemoryManager::init_with_bucket_size(raw.clone(), size);
            manager.get(MemoryId::new(0)).grow(3);
            let snapshot = manager.get(MemoryId::new(9));
            for (old, new) in [(0, 20), (20, 21), (21, 300)] {
                let room = room_for(&raw, old, new);
                assert!(room <= (new - old).div_ceil(u64::from(size)) * u64::from(size) + 1);
                raw.grow(room);
                let before = raw.size();
                assert_eq!(snapshot.grow(new - old), old as i64);
                assert_eq!(raw.size(), before, "bucket size {size}, {old} -> {new}");
            }
        }
    }
}
