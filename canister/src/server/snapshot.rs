//! The upgrade's shortcut: `pre_upgrade` saves the certification tree with
//! its hashes (`store::snapshot`), and `post_upgrade` uses it instead of
//! hashing every node again, which is most of an upgrade's instructions
//! (about 250,000 per asset: v1 and v2 together hash some 18 blocks per
//! path, aliases included).
//!
//! A saved tree is used only when it is certainly the tree this build would
//! derive from the stored records:
//!
//! - it was written by the `pre_upgrade` just before (a snapshot is read at
//!   most once, then marked read);
//! - the records are byte for byte those it was derived from: a fingerprint
//!   (FNV-1a over every key and packed record, in order) taken when it was
//!   saved equals the one taken now, so a write by any other code in
//!   between (an older build that knows no snapshots, a downgrade and
//!   back) is seen;
//! - both builds derive the same tree from the same records: each computes
//!   the root of a probe site (fixed records covering aliases, encodings,
//!   headers, chunked bodies, the 404 page, raw access, odd paths) and the
//!   two roots are equal, so a change in what is certified is seen;
//! - it reads back whole and well formed (`lazy::saved`).
//!
//! Otherwise the tree is built and hashed from the records as before, and
//! the log says why.

use std::collections::BTreeMap;
use std::hash::Hasher;

use ic_stable_structures::Memory;

use super::{AssetServer, derive_tree};
use crate::certification::{CertifiedTree, Hash};
use crate::store::{AssetRecord, EncodingRecord, Records, SnapshotHeader, chunk_entry};
use crate::types::HeaderField;

/// Where the tree an opened server uses came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreeOrigin {
    /// Derived from the records and hashed (no snapshot was left).
    Built,
    /// The snapshot `pre_upgrade` left, checked; nothing hashed.
    Restored,
    /// A snapshot was left but not used, for this reason; built instead.
    Refused(&'static str),
}

impl std::fmt::Display for TreeOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TreeOrigin::Built => f.write_str("certification tree built from the records"),
            TreeOrigin::Restored => {
                f.write_str("certification tree restored from the snapshot pre_upgrade saved")
            }
            TreeOrigin::Refused(why) => write!(
                f,
                "certification tree built from the records (the saved snapshot was not used: {why})"
            ),
        }
    }
}

impl<M: Memory> AssetServer<M> {
    /// `canister_pre_upgrade`: saves the tree for the next `post_upgrade`.
    /// Returns whether it did (not when stable memory cannot grow); never
    /// traps, so an upgrade is never blocked by it.
    pub fn save_tree(&mut self) -> bool {
        let fingerprint = self.records_fingerprint();
        let tree = &self.tree;
        self.stores
            .save_tree_snapshot(fingerprint, derivation_probe(), |out| tree.save(out))
    }

    /// The tree from the snapshot `save_tree` left, when it passes every
    /// check above; otherwise derived from the records.
    pub(super) fn restore_or_build_tree(&mut self) -> TreeOrigin {
        let Some(header) = self.stores.take_tree_snapshot() else {
            self.rebuild_tree();
            return TreeOrigin::Built;
        };
        match self.check(&header) {
            Ok(tree) => {
                self.tree = tree;
                TreeOrigin::Restored
            }
            Err(why) => {
                self.rebuild_tree();
                TreeOrigin::Refused(why)
            }
        }
    }

    fn check(&self, header: &SnapshotHeader) -> Result<CertifiedTree, &'static str> {
        if header.probe != derivation_probe() {
            return Err("the build that saved it certifies differently");
        }
        if header.fingerprint != self.records_fingerprint() {
            return Err("the assets changed after it was saved");
        }
        let body = self.stores.tree_snapshot_body(header);
        CertifiedTree::load(body, header.length).ok_or("it does not read back")
    }

    /// FNV-1a over every key and record (packed, as stored), in key order.
    fn records_fingerprint(&self) -> u64 {
        let mut hasher = fnv::FnvHasher::default();
        for (key, record) in self.stores.assets.iter() {
            let bytes = serde_cbor::ser::to_vec_packed(record).expect("records always encode");
            hasher.write_u64(key.len() as u64);
            hasher.write(key.as_bytes());
            hasher.write_u64(bytes.len() as u64);
            hasher.write(&bytes);
        }
        hasher.finish()
    }
}

/// The root this build certifies for a fixed site (see the module doc).
pub fn derivation_probe() -> Hash {
    let records: Records = probe_site()
        .into_iter()
        .map(|(key, mut record)| {
            record.responses = crate::certification::seal(&record); // as stored
            (key.to_string(), record)
        })
        .collect();
    let root = derive_tree(&records).root_hash();
    // The probe's few paths may fit one group per level, so the layout is
    // named too: a snapshot of other fork shapes (before session 8's
    // groups) is never taken for one of these.
    crate::certification::fork_hash(&root, &crate::certification::sha256(TREE_LAYOUT))
}

/// What fork shape the saved hashes are of (see `certification::lazy`).
const TREE_LAYOUT: &[u8] =
    b"levels cut into groups after labels that end_group, halved within and across";

fn probe_site() -> Vec<(&'static str, AssetRecord)> {
    let encoding = |body: &[u8]| EncodingRecord {
        sha256: crate::certification::sha256(body),
        length: body.len() as u64,
        modified: 1_700_000_000_000_000_000,
        chunks: vec![1],
        chunk_table: Vec::new(),
    };
    let chunked = {
        let parts: [&[u8]; 2] = [b"first part", b"second"];
        EncodingRecord {
            sha256: crate::certification::sha256(&parts.concat()),
            length: 16,
            modified: 1_700_000_000_000_000_000,
            chunks: vec![2, 3],
            chunk_table: parts.iter().flat_map(|part| chunk_entry(part)).collect(),
        }
    };
    let record = |content_type: &str, encodings: Vec<(&str, EncodingRecord)>| AssetRecord {
        content_type: content_type.to_string(),
        max_age: None,
        headers: None,
        is_aliased: None,
        allow_raw_access: None,
        encodings: encodings
            .into_iter()
            .map(|(name, e)| (name.to_string(), e))
            .collect::<BTreeMap<_, _>>(),
        responses: Default::default(),
    };
    let header = |name: &str, value: &str| -> HeaderField { (name.to_string(), value.to_string()) };
    let mut index = record(
        "text/html",
        vec![
            ("identity", encoding(b"<h1>probe</h1>")),
            ("gzip", encoding(b"gz")),
        ],
    );
    index.max_age = Some(60);
    index.headers = Some(vec![header("x-probe", "1")]);
    let mut raw = record("application/octet-stream", vec![("identity", chunked)]);
    raw.allow_raw_access = Some(true);
    let mut plain = record("text/plain", vec![("br", encoding(b"br"))]);
    plain.is_aliased = Some(false);
    vec![
        ("/index.html", index),
        (
            "/404.html",
            record("text/html", vec![("identity", encoding(b"404"))]),
        ),
        (
            "/docs/index.html",
            record("text/html", vec![("identity", encoding(b"docs"))]),
        ),
        ("/big.bin", raw),
        ("/a//b c.txt", plain),
        ("/empty", record("text/plain", vec![])),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use ic_stable_structures::VectorMemory;
    use std::cell::Cell;
    use std::rc::Rc;

    fn probe_server() -> (AssetServer<VectorMemory>, VectorMemory) {
        let memory = VectorMemory::default();
        let mut server = AssetServer::create(memory.clone());
        for (key, record) in probe_site() {
            server.stores.assets.insert(key.to_string(), record);
        }
        server.rebuild_tree();
        (server, memory)
    }

    fn reopened(memory: &VectorMemory) -> AssetServer<VectorMemory> {
        AssetServer::reopen(memory.clone()).expect("our stores").0
    }

    #[test]
    fn a_saved_tree_is_used_once_and_equals_the_built_one() {
        let (mut server, memory) = probe_server();
        let root = server.certified_root();
        assert!(server.save_tree());
        let restored = reopened(&memory);
        assert_eq!(restored.tree_origin(), TreeOrigin::Restored);
        assert_eq!(restored.certified_root(), root);
        let built = {
            let mut built = reopened(&memory); // the snapshot was read: built
            assert_eq!(built.tree_origin(), TreeOrigin::Built);
            built.rebuild_tree();
            built
        };
        assert_eq!(built.certified_root(), root);
        for path in [
            "/index.html",
            "/",
            "/docs/",
            "/big.bin",
            "/a//b c.txt",
            "/nope",
        ] {
            assert_eq!(
                restored.tree().v1_witness(path),
                built.tree().v1_witness(path),
                "{path}"
            );
        }
        assert_eq!(restored.tree().full_tree(), built.tree().full_tree());
    }

    #[test]
    fn a_snapshot_is_refused_when_the_assets_changed_after_it() {
        let (mut server, memory) = probe_server();
        assert!(server.save_tree());
        // Something else writes after pre_upgrade (as an older build would
        // between a downgrade and this upgrade).
        let mut record = server.stores.assets.get(&"/404.html".to_string()).unwrap();
        record.max_age = Some(1);
        server.stores.assets.insert("/404.html".into(), record);
        server.rebuild_tree();
        let reopened = reopened(&memory);
        assert_eq!(
            reopened.tree_origin(),
            TreeOrigin::Refused("the assets changed after it was saved")
        );
        assert_eq!(reopened.certified_root(), server.certified_root());
    }

    /// Leaves the probe site's snapshot with `probe` and the body as
    /// `damage` leaves it, reopens, and returns where the tree came from
    /// (the root must be the one served before, whatever happened).
    fn reopened_after(probe: [u8; 32], damage: impl FnOnce(&mut Vec<u8>)) -> TreeOrigin {
        let (mut server, memory) = probe_server();
        let root = server.certified_root();
        let mut body = Vec::new();
        server.tree.save(&mut body).unwrap();
        damage(&mut body);
        let fingerprint = server.records_fingerprint();
        assert!(server.stores.save_tree_snapshot(fingerprint, probe, |out| {
            std::io::Write::write_all(out, &body)
        }));
        let reopened = reopened(&memory);
        assert_eq!(reopened.certified_root(), root);
        reopened.tree_origin()
    }

    #[test]
    fn a_snapshot_from_a_build_that_certifies_differently_is_refused() {
        let mut probe = derivation_probe();
        probe[0] ^= 1;
        assert_eq!(
            reopened_after(probe, |_| {}),
            TreeOrigin::Refused("the build that saved it certifies differently")
        );
    }

    #[test]
    fn a_damaged_snapshot_is_refused() {
        assert_eq!(
            reopened_after(derivation_probe(), |body| body.truncate(body.len() - 1)),
            TreeOrigin::Refused("it does not read back")
        );
        // And the same bytes undamaged are used (the helper is not what
        // refuses them).
        assert_eq!(
            reopened_after(derivation_probe(), |_| {}),
            TreeOrigin::Restored
        );
    }

    #[test]
    fn the_probe_covers_what_is_certified() {
        // Every kind of record the probe holds certifies something, so a
        // change in how any of them is certified changes its root.
        let (server, _) = probe_server();
        let paths: Vec<String> = server
            .tree()
            .v1
            .paths()
            .into_iter()
            .map(|(p, _)| String::from_utf8(p).unwrap())
            .collect();
        for path in [
            "/index.html",
            "/",
            "/404.html",
            "/docs/index.html",
            "/docs/",
            "/big.bin",
            "/a//b c.txt",
        ] {
            assert!(paths.iter().any(|p| p == path), "{path} in {paths:?}");
        }
    }

    /// Stable memory that cannot grow past `cap` pages.
    #[derive(Clone)]
    struct Capped {
        inner: VectorMemory,
        cap: Rc<Cell<u64>>,
    }

    impl Memory for Capped {
        fn size(&self) -> u64 {
            self.inner.size()
        }
        fn grow(&self, pages: u64) -> i64 {
            if self.inner.size() + pages > self.cap.get() {
                return -1;
            }
            self.inner.grow(pages)
        }
        fn read(&self, offset: u64, dst: &mut [u8]) {
            self.inner.read(offset, dst)
        }
        fn write(&self, offset: u64, src: &[u8]) {
            self.inner.write(offset, src)
        }
    }

    #[test]
    fn without_room_for_a_snapshot_pre_upgrade_leaves_none_and_does_not_trap() {
        let memory = Capped {
            inner: VectorMemory::default(),
            cap: Rc::new(Cell::new(u64::MAX)),
        };
        let mut server = AssetServer::create(memory.clone());
        for (key, record) in probe_site() {
            server.stores.assets.insert(key.to_string(), record);
        }
        server.rebuild_tree();
        let root = server.certified_root();
        memory.cap.set(memory.size());
        assert!(!server.save_tree());
        let (reopened, _) = AssetServer::reopen(memory.clone()).unwrap();
        assert_eq!(reopened.tree_origin(), TreeOrigin::Built);
        assert_eq!(reopened.certified_root(), root);
    }
}
