//! Stable memory with an undo journal.
//!
//! Copying all of stable memory before every message would cost as much as
//! the largest canister's data; instead the first write to each page in a
//! message saves the page's old contents, and a rollback puts them back.

use std::collections::HashMap;

use crate::limits::PAGE_SIZE;

const PAGE: usize = PAGE_SIZE as usize;

#[derive(Default)]
pub(crate) struct StableMemory {
    bytes: Vec<u8>,
    journal: Option<Journal>,
}

struct Journal {
    len: usize,
    saved: HashMap<usize, Box<[u8]>>,
}

impl StableMemory {
    /// Size in 64 KiB pages.
    pub fn pages(&self) -> u64 {
        (self.bytes.len() / PAGE) as u64
    }

    /// Grows by `new_pages`; `None` if that would pass `max_pages` (see
    /// [`MemoryLimits::max_stable_pages`](crate::limits::MemoryLimits)).
    /// Returns the previous size in pages.
    pub fn grow(&mut self, new_pages: u64, max_pages: u64) -> Option<u64> {
        let old = self.pages();
        let total = old.checked_add(new_pages)?;
        if total > max_pages {
            return None;
        }
        // New pages are zero and the journal truncates them on rollback,
        // so nothing needs saving here.
        self.bytes.resize(total as usize * PAGE, 0);
        Some(old)
    }

    /// The bytes at `offset..offset + len`, if inside stable memory.
    pub fn read(&self, offset: u64, len: u64) -> Option<&[u8]> {
        let range = self.range(offset, len)?;
        Some(&self.bytes[range])
    }

    /// Writes `data` at `offset`; false if it does not fit.
    pub fn write(&mut self, offset: u64, data: &[u8]) -> bool {
        let Some(range) = self.range(offset, data.len() as u64) else {
            return false;
        };
        if let Some(journal) = &mut self.journal
            && !range.is_empty()
        {
            for page in range.start / PAGE..=(range.end - 1) / PAGE {
                let start = page * PAGE;
                // Pages past the journal's length are new in this message
                // and vanish on rollback anyway.
                if start < journal.len {
                    journal
                        .saved
                        .entry(page)
                        .or_insert_with(|| self.bytes[start..start + PAGE].into());
                }
            }
        }
        self.bytes[range].copy_from_slice(data);
        true
    }

    /// Starts recording what the next message changes.
    pub fn begin(&mut self) {
        self.journal = Some(Journal {
            len: self.bytes.len(),
            saved: HashMap::new(),
        });
    }

    /// Keeps the changes since [`begin`](Self::begin).
    pub fn commit(&mut self) {
        self.journal = None;
    }

    /// Undoes every change since [`begin`](Self::begin).
    pub fn rollback(&mut self) {
        if let Some(journal) = self.journal.take() {
            self.bytes.truncate(journal.len);
            for (page, data) in journal.saved {
                self.bytes[page * PAGE..(page + 1) * PAGE].copy_from_slice(&data);
            }
        }
    }

    fn range(&self, offset: u64, len: u64) -> Option<std::ops::Range<usize>> {
        let end = offset.checked_add(len)?;
        if end > self.bytes.len() as u64 {
            return None;
        }
        Some(offset as usize..end as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::MAX_STABLE_PAGES;

    #[test]
    fn rollback_restores_pages_and_size() {
        let mut m = StableMemory::default();
        m.grow(2, MAX_STABLE_PAGES);
        assert!(m.write(10, b"kept"));
        m.begin();
        assert!(m.write(8, b"changed!"));
        m.grow(3, MAX_STABLE_PAGES);
        assert!(m.write(PAGE as u64 * 4, b"new"));
        m.rollback();
        assert_eq!(m.pages(), 2);
        assert_eq!(m.read(8, 8).unwrap(), b"\0\0kept\0\0");
    }

    #[test]
    fn out_of_bounds_access_is_refused() {
        let mut m = StableMemory::default();
        m.grow(1, MAX_STABLE_PAGES);
        assert!(m.read(PAGE as u64 - 1, 2).is_none());
        assert!(!m.write(u64::MAX, b"x"));
        assert!(m.grow(MAX_STABLE_PAGES, MAX_STABLE_PAGES).is_none());
    }

    #[test]
    fn a_grow_past_the_limit_is_refused_and_changes_nothing() {
        let mut m = StableMemory::default();
        assert_eq!(m.grow(3, 4), Some(0));
        assert_eq!(m.grow(2, 4), None);
        assert_eq!(m.pages(), 3);
        assert_eq!(m.grow(1, 4), Some(3));
    }
}
