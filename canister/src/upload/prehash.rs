//! Hashing a commit's uploaded bodies ahead of the commit, a slice at a
//! time, so that bodies too large to hash in one message (about 450 MiB
//! fits the 40 B instructions of one) can be hashed over several.
//!
//! Hashing reads chunks and changes nothing, so it may span messages while
//! other calls run: chunks never change once created and their ids are
//! never reused, so what was hashed is what the commit will use. The commit
//! itself (`plan` and `apply`) still runs in one message and checks every
//! chunk it uses as before; a chunk gone in the meantime fails it there.

use std::collections::HashMap;

use ic_stable_structures::Memory;
use sha2::{Digest, Sha256};

use super::to_u64;
use crate::store::{ChunkId, ChunkTable, chunk_entry};
use crate::types::BatchOperationKind;

/// A body's uploaded chunks hashed in order: the running SHA-256 of the
/// whole body so far, and each chunk's `chunk_table` entry.
#[derive(Clone)]
pub struct HashedChunks {
    pub chunks: Vec<ChunkId>,
    pub hasher: Sha256,
    pub chunk_table: Vec<u8>,
    pub length: u64,
}

/// The hashed chunks of a commit's `SetAssetContent` operations, by their
/// place in the operation list.
#[derive(Default)]
pub struct Prehashed(HashMap<usize, HashedChunks>);

impl Prehashed {
    /// The hashes of operation `index`, if they are of exactly `chunks`.
    pub fn take(&mut self, index: usize, chunks: &[ChunkId]) -> Option<HashedChunks> {
        self.0
            .remove(&index)
            .filter(|hashed| hashed.chunks == chunks)
    }
}

/// The hashing of a commit's bodies, in progress.
pub struct BodyHashing {
    /// Each body in operation order: its operation's index, its chunk
    /// ids, and whether it has several pieces (and so a `chunk_table`).
    bodies: Vec<(usize, Vec<ChunkId>, bool)>,
    /// The body being hashed and how far.
    current: usize,
    partial: HashedChunks,
    done: Prehashed,
}

impl BodyHashing {
    /// Everything the `SetAssetContent` operations of `operations` upload
    /// in chunks (ids that are not valid are left for `plan` to refuse).
    pub fn new(operations: &[BatchOperationKind]) -> Self {
        let bodies = operations
            .iter()
            .enumerate()
            .filter_map(|(index, operation)| match operation {
                BatchOperationKind::SetAssetContent(args) if !args.chunk_ids.is_empty() => {
                    let ids: Option<Vec<ChunkId>> =
                        args.chunk_ids.iter().map(|id| to_u64(id).ok()).collect();
                    let several = args.chunk_ids.len() + usize::from(args.last_chunk.is_some()) > 1;
                    Some((index, ids?, several))
                }
                _ => None,
            })
            .collect();
        Self {
            bodies,
            current: 0,
            partial: empty(),
            done: Prehashed::default(),
        }
    }

    /// Hashes chunks while `more` says to go on (asked before each chunk
    /// after the first, so every call makes progress); true once every
    /// body is hashed. A body with a chunk that is not stored is skipped:
    /// `plan` reports it.
    pub fn advance<M: Memory>(
        &mut self,
        stored: &ChunkTable<M>,
        mut more: impl FnMut() -> bool,
    ) -> bool {
        let mut first = true;
        while let Some((index, ids, several)) = self.bodies.get(self.current) {
            let at = self.partial.chunks.len();
            if at == ids.len() {
                let hashed = std::mem::replace(&mut self.partial, empty());
                self.done.0.insert(*index, hashed);
                self.current += 1;
                continue;
            }
            if !first && !more() {
                return false;
            }
            first = false;
            match stored.get(&ids[at]) {
                Some(bytes) => {
                    self.partial.hasher.update(&bytes);
                    if *several {
                        self.partial
                            .chunk_table
                            .extend_from_slice(&chunk_entry(&bytes));
                    }
                    self.partial.length += bytes.len() as u64;
                    self.partial.chunks.push(ids[at]);
                }
                None => {
                    self.partial = empty();
                    self.current += 1;
                }
            }
        }
        true
    }

    /// The bytes still to hash are not known without reading the chunks;
    /// this says how many chunks are.
    pub fn chunks_left(&self) -> usize {
        self.bodies[self.current.min(self.bodies.len())..]
            .iter()
            .map(|(_, ids, _)| ids.len())
            .sum::<usize>()
            - self.partial.chunks.len()
    }

    /// What was hashed (call once `advance` returned true).
    pub fn finish(self) -> Prehashed {
        self.done
    }
}

fn empty() -> HashedChunks {
    HashedChunks {
        chunks: Vec::new(),
        hasher: Sha256::new(),
        chunk_table: Vec::new(),
        length: 0,
    }
}
