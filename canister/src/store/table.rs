//! The assets: kept in stable memory, and mirrored on the heap, decoded.
//!
//! Every page view looks its asset up. In the stable `StableBTreeMap` that
//! costs a walk down the map (deeper as the site grows) and the record's
//! decoding, about 45,000 instructions with 10,000 assets; in the heap
//! mirror a few thousand, whatever the site's size. The mirror is filled
//! when the stores are opened (install, upgrade: each record is read once,
//! which the certification tree's rebuild needed anyway) and every write
//! goes through this type to both, so the two cannot drift apart. The
//! price is heap: about 500 bytes per asset (50 MB for 100,000).

use std::collections::BTreeMap;

use ic_stable_structures::Memory;

use super::{AssetKey, AssetRecord, Assets};

/// The assets as the heap mirror holds them: decoded, in key order.
pub type Records = BTreeMap<AssetKey, AssetRecord>;

pub struct AssetTable<M: Memory> {
    stored: Assets<M>,
    mirror: Records,
}

impl<M: Memory> AssetTable<M> {
    pub fn open(stored: Assets<M>) -> Self {
        let mirror = stored.iter().map(|entry| entry.into_pair()).collect();
        Self { stored, mirror }
    }

    /// Every record, decoded, in key order.
    pub fn records(&self) -> &Records {
        &self.mirror
    }

    pub fn get(&self, key: &AssetKey) -> Option<AssetRecord> {
        self.mirror.get(key).cloned()
    }

    /// The record at `key`, without copying it.
    pub fn get_ref(&self, key: &str) -> Option<&AssetRecord> {
        self.mirror.get(key)
    }

    pub fn contains_key(&self, key: &AssetKey) -> bool {
        self.mirror.contains_key(key)
    }

    pub fn insert(&mut self, key: AssetKey, mut record: AssetRecord) -> Option<AssetRecord> {
        // Stored with its response hashes, computed once here (the only
        // place that writes records; see `AssetRecord::into_bytes`).
        record.responses = crate::certification::seal(&record);
        self.stored.insert(key.clone(), record.clone());
        self.mirror.insert(key, record)
    }

    pub fn remove(&mut self, key: &AssetKey) -> Option<AssetRecord> {
        self.stored.remove(key);
        self.mirror.remove(key)
    }

    pub fn len(&self) -> u64 {
        self.mirror.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.mirror.is_empty()
    }

    /// Keys in order.
    pub fn keys(&self) -> impl Iterator<Item = AssetKey> + '_ {
        self.mirror.keys().cloned()
    }

    /// Keys and records in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&AssetKey, &AssetRecord)> {
        self.mirror.iter()
    }

    /// The heap mirror equals what stable memory holds (for tests).
    pub fn mirror_matches_stored(&self) -> bool {
        self.stored.len() == self.mirror.len() as u64
            && self
                .stored
                .iter()
                .map(|entry| entry.into_pair())
                .zip(&self.mirror)
                .all(|((k1, r1), (k2, r2))| {
                    &k1 == k2 && &r1 == r2 && r1.responses.0 == r2.responses.0
                })
    }
}
