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
use ic_stable_structures::reader::{BufferedReader, Reader};
use ic_stable_structures::writer::{BufferedWriter, Writer};

use super::{Stores, TREE_SNAPSHOT};

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
        write: impl Fn(&mut dyn Write) -> io::Result<()>,
    ) -> bool {
        // How long it is, to make room first: the memory manager traps
        // when the memory under it cannot grow, and pre_upgrade must not.
        let mut counted = Counted {
            inner: io::sink(),
            count: 0,
        };
        if write(&mut counted).is_err() {
            return false;
        }
        let pages = (HEADER + counted.count).div_ceil(PAGE);
        let manager = &self.manager;
        let memory = self
            .tree_snapshot
            .get_or_insert_with(|| manager.get(TREE_SNAPSHOT));
        if memory.size() > 0 {
            memory.write(12, &0u32.to_le_bytes());
        }
        if pages > memory.size() {
            // Its new buckets take less than one bucket more than the
            // pages themselves, wherever the manager puts them.
            let slack = bucket_pages(&self.raw);
            if self.raw.grow(pages - memory.size() + slack) < 0
                || memory.grow(pages - memory.size()) < 0
            {
                return false;
            }
        }
        let length = {
            let mut out = Counted {
                inner: BufferedWriter::new(BUFFER, Writer::new(memory, HEADER)),
                count: 0,
            };
            match write(&mut out).and_then(|()| out.flush()) {
                Ok(()) => out.count,
                Err(_) => return false,
            }
        };
        if length != counted.count {
            return false; // `write` must write the same twice
        }
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
        io::Read::take(
            BufferedReader::new(BUFFER, Reader::new(memory, HEADER)),
            header.length,
        )
    }
}

/// The bucket size the memory manager's header gives (bytes 6 and 7,
/// little endian, after "MGR", its version and its bucket count), or the
/// largest it can be (128 pages) if that is not a size.
pub(super) fn bucket_pages<M: Memory>(raw: &M) -> u64 {
    if raw.size() == 0 {
        return 128;
    }
    let mut header = [0u8; 8];
    raw.read(0, &mut header);
    match u16::from_le_bytes([header[6], header[7]]) {
        size @ 1..=128 if &header[..3] == b"MGR" => u64::from(size),
        _ => 128,
    }
}

/// Counts the bytes written through it.
struct Counted<W> {
    inner: W,
    count: u64,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.count += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ic_stable_structures::VectorMemory;
    use ic_stable_structures::memory_manager::MemoryManager;

    #[test]
    fn the_bucket_size_is_read_from_the_managers_header() {
        for size in [1, super::super::BUCKET_PAGES, 128] {
            let memory = VectorMemory::default();
            let manager = MemoryManager::init_with_bucket_size(memory.clone(), size);
            assert_eq!(bucket_pages(&memory), u64::from(size));
            drop(manager);
        }
        assert_eq!(bucket_pages(&VectorMemory::default()), 128);
    }
}
