//! A labeled hash tree (the IC's `HashTree` format) that hashes lazily:
//! inserts and deletes only mark the levels they touch, and the hashes are
//! computed once, when the root or a witness is next asked for. A commit
//! of a thousand assets, or the rebuild after an upgrade, hashes each node
//! once instead of once per insert below it.
//!
//! Each level keeps its children sorted by label and combines them with
//! forks in two stages. The children are cut into groups after each child
//! whose label `ends_group` (about one in 64, decided by the label alone);
//! each group's children are combined into a balanced binary tree (halving
//! the sorted range), and the groups' roots into one split at the group
//! boundary nearest the middle child (`split_groups`), so a path is about
//! as deep as halving the whole level would make it. A change
//! below one child so rehashes its group and the groups' tree (some 64
//! plus n/64 forks) instead of every fork of the level, and the shape
//! depends only on the labels, never on the order of changes. Each group
//! keeps its forks in pre-order, on its last child. Witnesses reveal a path
//! and prune everything else; a label that is absent is proven absent by
//! revealing its neighbours, as the verifier's lookup requires.

mod saved;

pub use saved::Source;

use std::cell::RefCell;

use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

/// A witness: the part of the tree a response reveals, as the verifier
/// reads it (the IC's `HashTree`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Witness {
    Empty,
    Fork(Box<Witness>, Box<Witness>),
    Labeled(Vec<u8>, Box<Witness>),
    Leaf(Vec<u8>),
    Pruned(Hash),
}

pub fn empty_hash() -> Hash {
    Sha256::digest(b"\x11ic-hashtree-empty").into()
}

pub fn fork_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update(b"\x10ic-hashtree-fork");
    h.update(left);
    h.update(right);
    h.finalize().into()
}

pub fn labeled_hash(label: &[u8], child: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update(b"\x13ic-hashtree-labeled");
    h.update(label);
    h.update(child);
    h.finalize().into()
}

/// The hash of every leaf in the v2 tree (they hold nothing), computed once.
pub fn empty_leaf_hash() -> Hash {
    static HASH: std::sync::OnceLock<Hash> = std::sync::OnceLock::new();
    *HASH.get_or_init(|| leaf_hash(b""))
}

/// Whether a group of a level's children ends at the child labeled
/// `label`: for one label in 64, those whose FNV-1a (64 bits), mixed by
/// MurmurHash3's finalizer, is below 2^58. The finalizer because FNV-1a
/// alone barely changes its high bits over a short label (none of `k0` to
/// `k2999` would end a group).
pub fn ends_group(label: &[u8]) -> bool {
    use std::hash::Hasher;
    let mut hasher = fnv::FnvHasher::default();
    hasher.write(label);
    let mut h = hasher.finish();
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    h >> 58 == 0
}

pub fn leaf_hash(value: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update(b"\x10ic-hashtree-leaf");
    h.update(value);
    h.finalize().into()
}

impl Witness {
    /// The root hash this witness reconstructs.
    pub fn digest(&self) -> Hash {
        match self {
            Witness::Empty => empty_hash(),
            Witness::Fork(l, r) => fork_hash(&l.digest(), &r.digest()),
            Witness::Labeled(label, t) => labeled_hash(label, &t.digest()),
            Witness::Leaf(v) => leaf_hash(v),
            Witness::Pruned(h) => *h,
        }
    }

    /// Joins two witnesses of the same tree into one revealing what either
    /// reveals.
    pub fn merge(self, other: Witness) -> Witness {
        match (self, other) {
            (Witness::Pruned(_), other) | (other, Witness::Pruned(_)) => other,
            (Witness::Fork(l1, r1), Witness::Fork(l2, r2)) => {
                Witness::Fork(Box::new(l1.merge(*l2)), Box::new(r1.merge(*r2)))
            }
            (Witness::Labeled(label, t1), Witness::Labeled(_, t2)) => {
                Witness::Labeled(label, Box::new(t1.merge(*t2)))
            }
            (same, _) => same,
        }
    }

    /// Appends the CBOR encoding (no self-describe tag).
    pub fn write_cbor(&self, out: &mut Vec<u8>) {
        match self {
            Witness::Empty => out.extend_from_slice(&[0x81, 0x00]),
            Witness::Fork(l, r) => {
                out.extend_from_slice(&[0x83, 0x01]);
                l.write_cbor(out);
                r.write_cbor(out);
            }
            Witness::Labeled(label, t) => {
                out.extend_from_slice(&[0x83, 0x02]);
                write_bytes(label, out);
                t.write_cbor(out);
            }
            Witness::Leaf(v) => {
                out.extend_from_slice(&[0x82, 0x03]);
                write_bytes(v, out);
            }
            Witness::Pruned(h) => {
                out.extend_from_slice(&[0x82, 0x04]);
                write_bytes(h, out);
            }
        }
    }
}

/// A CBOR byte string (major type 2).
pub fn write_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    let len = bytes.len() as u64;
    match len {
        0..=23 => out.push(0x40 | len as u8),
        24..=0xff => out.extend_from_slice(&[0x58, len as u8]),
        0x100..=0xffff => {
            out.push(0x59);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(0x5a);
            out.extend_from_slice(&(len as u32).to_be_bytes());
        }
        _ => {
            out.push(0x5b);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
    out.extend_from_slice(bytes);
}

/// The tree: a root level whose hashes are brought up to date on demand.
#[derive(Default)]
pub struct LazyTree {
    root: RefCell<Level>,
}

impl LazyTree {
    /// Puts an empty leaf at `path` (creating the levels above it).
    #[cfg(test)]
    pub fn insert(&mut self, path: &[&[u8]]) {
        self.root.get_mut().insert(path, b"");
    }

    /// Puts a leaf holding `value` at `label` of the top level.
    pub fn set_leaf(&mut self, label: &[u8], value: &[u8]) {
        self.root.get_mut().insert(&[label], value);
    }

    /// The value of the leaf at `label` of the top level.
    pub fn leaf(&self, label: &[u8]) -> Option<Vec<u8>> {
        let root = self.root.borrow();
        let i = root.find(label).ok()?;
        match &root.children[i].node {
            Node::Leaf(value) => Some(value.to_vec()),
            Node::Level(_) => None,
        }
    }

    /// Labels and values of the top level's leaves, in order.
    pub fn leaves(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let root = self.root.borrow();
        root.children
            .iter()
            .filter_map(|child| match &child.node {
                Node::Leaf(value) => Some((child.label.to_vec(), value.to_vec())),
                Node::Level(_) => None,
            })
            .collect()
    }

    /// Reveals the union of `paths` (see `witness`).
    pub fn witness_all(&self, paths: &[&[&[u8]]]) -> Witness {
        let mut root = self.root.borrow_mut();
        root.hash();
        paths
            .iter()
            .map(|path| root.witness(path))
            .reduce(Witness::merge)
            .unwrap_or(Witness::Pruned(root.hash()))
    }

    /// Everything, unpruned.
    pub fn full(&self) -> Witness {
        let mut root = self.root.borrow_mut();
        root.hash();
        root.witness(&[])
    }

    /// Puts an empty leaf at `prefix` followed by each of `suffixes`,
    /// walking down to `prefix` once.
    pub fn insert_below(&mut self, prefix: &[&[u8]], suffixes: &[&[&[u8]]]) {
        if suffixes.is_empty() {
            return; // no empty levels: the tree depends only on its leaves
        }
        if let Some(level) = self.root.get_mut().level_at(prefix) {
            for suffix in suffixes {
                level.insert(suffix, b"");
            }
        }
    }

    /// Removes whatever is at `path` (a leaf or a whole level), and any
    /// level left empty above it.
    pub fn delete(&mut self, path: &[&[u8]]) {
        self.root.get_mut().delete(path);
    }

    pub fn root_hash(&self) -> Hash {
        self.root.borrow_mut().hash()
    }

    /// Appends the CBOR of `witness_all` over one-label paths of the top
    /// level (each label, or the proof of its absence), written as the
    /// forks are walked: no `Witness` is built. A page view's v1 witness
    /// is this, and building the tree cost an allocation per level.
    pub fn write_top_witness(&self, labels: &[&[u8]], out: &mut Vec<u8>) {
        let mut root = self.root.borrow_mut();
        root.hash();
        if root.children.is_empty() {
            Witness::Empty.write_cbor(out);
            return;
        }
        // What each revealed child shows: its node (a label found) wins
        // over its node pruned (a neighbour of an absent label).
        // (A few entries, kept sorted by hand: a generic sort costs the
        // wasm kilobytes.)
        let mut reveals: Vec<(usize, bool)> = Vec::with_capacity(2 * labels.len());
        let mut reveal = |i: usize, whole: bool| {
            let at = reveals.partition_point(|&(j, _)| j < i);
            match reveals.get_mut(at) {
                Some(entry) if entry.0 == i => entry.1 |= whole,
                _ => reveals.insert(at, (i, whole)),
            }
        };
        for label in labels {
            match root.find(label) {
                Ok(i) => reveal(i, true),
                Err(i) => {
                    if i > 0 {
                        reveal(i - 1, false);
                    }
                    if i < root.children.len() {
                        reveal(i, false);
                    }
                }
            }
        }
        let whole = |child: &Child, out: &mut Vec<u8>| child.node.witness(&[]).write_cbor(out);
        root.write_reveal(&reveals, &whole, 0, root.groups.len(), 0, out);
    }

    /// Appends the CBOR of `witness(path)` for a path whose every label is
    /// there, written as the forks are walked (as `write_top_witness`); a
    /// v2 page view's witness is this. False, with nothing written, if a
    /// label is absent.
    pub fn write_path_witness(&self, path: &[&[u8]], out: &mut Vec<u8>) -> bool {
        let mut root = self.root.borrow_mut();
        root.hash();
        if !root.has_path(path) {
            return false;
        }
        root.write_path(path, out);
        true
    }

    /// Reveals `path`: each label on it, or the proof that it is absent;
    /// everything below its end; everything else pruned.
    pub fn witness(&self, path: &[&[u8]]) -> Witness {
        let mut root = self.root.borrow_mut();
        root.hash();
        root.witness(path)
    }
}

enum Node {
    /// A leaf and its value (empty throughout v2, a body's hash in v1).
    Leaf(Box<[u8]>),
    Level(Box<Level>),
}

struct Child {
    label: Box<[u8]>,
    node: Node,
    /// `labeled(label, node)`'s hash, while it is known to be current.
    hash: Option<Hash>,
    /// `ends_group(label)`.
    ends_group: bool,
    /// On the last child of a group: the group's fork tree in pre-order
    /// (`2m - 1` entries for `m` children), while the group's membership
    /// is what it was when hashed (`Level::touch` drops it when not).
    group: Option<Box<[Hash]>>,
}

impl Child {
    /// `labeled(label, node)`'s hash, computed if not current.
    fn hash(&mut self) -> Hash {
        match self.hash {
            Some(hash) => hash,
            None => {
                let hash = labeled_hash(&self.label, &self.node.hash());
                self.hash = Some(hash);
                hash
            }
        }
    }

    fn new(label: Box<[u8]>, node: Node) -> Self {
        Self {
            ends_group: ends_group(&label),
            label,
            node,
            hash: None,
            group: None,
        }
    }
}

#[derive(Default)]
struct Level {
    /// Sorted by label.
    children: Vec<Child>,
    /// Where each group ends (exclusive), while `clean`.
    groups: Vec<usize>,
    /// The fork tree over the groups' roots, in pre-order (`2g - 1`
    /// entries), while `clean`.
    top: Vec<Hash>,
    clean: bool,
}

impl Node {
    fn hash(&mut self) -> Hash {
        match self {
            Node::Leaf(value) if value.is_empty() => empty_leaf_hash(),
            Node::Leaf(value) => leaf_hash(value),
            Node::Level(level) => level.hash(),
        }
    }

    fn witness(&self, path: &[&[u8]]) -> Witness {
        match self {
            Node::Leaf(value) => Witness::Leaf(value.to_vec()),
            Node::Level(level) => level.witness(path),
        }
    }
}

impl Level {
    fn find(&self, label: &[u8]) -> Result<usize, usize> {
        self.children
            .binary_search_by(|child| (*child.label).cmp(label))
    }

    /// The level at `path`, created (and everything above it marked for
    /// rehashing) if need be; `None` if a leaf is in the way.
    fn level_at(&mut self, path: &[&[u8]]) -> Option<&mut Level> {
        let Some((label, rest)) = path.split_first() else {
            return Some(self);
        };
        self.clean = false;
        let i = match self.find(label) {
            Ok(i) => i,
            Err(i) => {
                self.add(i, Child::new((*label).into(), Node::Level(Box::default())));
                i
            }
        };
        let child = &mut self.children[i];
        child.hash = None;
        match &mut child.node {
            Node::Level(level) => level.level_at(rest),
            Node::Leaf(_) => None,
        }
    }

    fn insert(&mut self, path: &[&[u8]], value: &[u8]) {
        let Some((label, rest)) = path.split_first() else {
            return;
        };
        self.clean = false;
        let i = match self.find(label) {
            Ok(i) => i,
            Err(i) => {
                let node = if rest.is_empty() {
                    Node::Leaf(value.into())
                } else {
                    Node::Level(Box::default())
                };
                self.add(i, Child::new((*label).into(), node));
                i
            }
        };
        let child = &mut self.children[i];
        child.hash = None;
        if rest.is_empty() {
            if let Node::Leaf(old) = &mut child.node {
                *old = value.into();
            }
            return;
        }
        if matches!(child.node, Node::Leaf(_)) {
            // A leaf where a level is wanted: the longer path wins.
            child.node = Node::Level(Box::default());
        }
        if let Node::Level(level) = &mut child.node {
            level.insert(rest, value);
        }
    }

    /// Returns whether this level is now empty.
    fn delete(&mut self, path: &[&[u8]]) -> bool {
        let Some((label, rest)) = path.split_first() else {
            return false;
        };
        let Ok(i) = self.find(label) else {
            return self.children.is_empty();
        };
        let remove = match &mut self.children[i].node {
            _ if rest.is_empty() => true,
            Node::Leaf(_) => false,
            Node::Level(level) => level.delete(rest),
        };
        self.clean = false;
        if remove {
            self.children.remove(i);
            // The group that held it (or, if it ended one, the merged one).
            self.touch(i.min(self.children.len().saturating_sub(1)));
        } else {
            self.children[i].hash = None;
        }
        self.children.is_empty()
    }

    /// Inserts `child` at `i`, dropping the forks of the groups whose
    /// membership that changes.
    fn add(&mut self, i: usize, child: Child) {
        let splits = child.ends_group;
        self.children.insert(i, child);
        self.touch(i);
        if splits {
            // The rest of the group it cut in two.
            self.touch(i + 1);
        }
    }

    /// Drops the forks of the group holding child `i`: they are kept on
    /// its last child, the first at or after `i` that ends a group (or the
    /// level's last). Called after every insert and removal, so a group
    /// whose children changed is never taken as hashed.
    fn touch(&mut self, i: usize) {
        let n = self.children.len();
        if i >= n {
            return;
        }
        let last = (i..n)
            .find(|&j| self.children[j].ends_group)
            .unwrap_or(n - 1);
        self.children[last].group = None;
    }

    fn hash(&mut self) -> Hash {
        if !self.clean {
            self.rehash();
        }
        self.top.first().copied().unwrap_or_else(empty_hash)
    }

    /// Hashes the children that changed, the forks of the groups that hold
    /// them or whose membership changed, and the groups' tree.
    fn rehash(&mut self) {
        self.groups.clear();
        let mut roots: Vec<Hash> = Vec::new();
        let n = self.children.len();
        let mut start = 0;
        for end in 1..=n {
            if end < n && !self.children[end - 1].ends_group {
                continue;
            }
            let members = &mut self.children[start..end];
            let m = members.len();
            if m == 1 {
                // A group of one is its child: no forks to keep.
                roots.push(members[0].hash());
            } else {
                let kept = members[m - 1]
                    .group
                    .as_ref()
                    .is_some_and(|forks| forks.len() == 2 * m - 1)
                    && members.iter().all(|child| child.hash.is_some());
                if !kept {
                    let hashes: Vec<Hash> = members.iter_mut().map(Child::hash).collect();
                    let mut forks = vec![[0; 32]; 2 * m - 1];
                    fill(&mut forks, &hashes, 0, m, 0, &halve);
                    members[m - 1].group = Some(forks.into());
                }
                roots.push(members[m - 1].group.as_ref().expect("just hashed")[0]);
            }
            self.groups.push(end);
            start = end;
        }
        self.top.clear();
        if !roots.is_empty() {
            self.top.resize(2 * roots.len() - 1, [0; 32]);
            let ends = &self.groups;
            let split = |glo, ghi| split_groups(ends, glo, ghi);
            fill(&mut self.top, &roots, 0, roots.len(), 0, &split);
        }
        self.clean = true;
    }

    /// The first child of group `g`.
    fn group_start(&self, g: usize) -> usize {
        if g == 0 { 0 } else { self.groups[g - 1] }
    }

    /// The forks of group `g` (clean tree): a group of one, its child's
    /// hash.
    fn group_forks(&self, g: usize) -> &[Hash] {
        let last = &self.children[self.groups[g] - 1];
        match (&last.group, &last.hash) {
            (Some(forks), _) if self.groups[g] - self.group_start(g) > 1 => forks,
            (_, Some(hash)) if self.groups[g] - self.group_start(g) == 1 => {
                std::slice::from_ref(hash)
            }
            _ => unreachable!("a clean level's groups are hashed"),
        }
    }

    /// Needs `hash` called first (the tree is clean).
    fn witness(&self, path: &[&[u8]]) -> Witness {
        if self.children.is_empty() {
            return Witness::Empty;
        }
        let Some((label, rest)) = path.split_first() else {
            // The end of the path: reveal everything below.
            let all: Vec<usize> = (0..self.children.len()).collect();
            return self.reveal(&all, &|child| child.node.witness(&[]));
        };
        match self.find(label) {
            Ok(i) => self.reveal(&[i], &|child| child.node.witness(rest)),
            Err(i) => {
                // Absent: its neighbours, adjacent in the flattened forks.
                let neighbours: Vec<usize> = [i.checked_sub(1), Some(i)]
                    .into_iter()
                    .flatten()
                    .filter(|&j| j < self.children.len())
                    .collect();
                self.reveal(&neighbours, &|child| {
                    Witness::Pruned(self.child_node_hash(child))
                })
            }
        }
    }

    /// Every label of `path` is there (a leaf may end it).
    fn has_path(&self, path: &[&[u8]]) -> bool {
        let Some((label, rest)) = path.split_first() else {
            return true;
        };
        match self.find(label).map(|i| &self.children[i].node) {
            Ok(Node::Level(level)) => level.has_path(rest),
            Ok(Node::Leaf(_)) => rest.is_empty(),
            Err(_) => false,
        }
    }

    /// `witness(path)` written straight as CBOR, for a path `has_path`
    /// accepted.
    fn write_path(&self, path: &[&[u8]], out: &mut Vec<u8>) {
        let Some((label, rest)) = path.split_first() else {
            self.witness(&[]).write_cbor(out);
            return;
        };
        let i = self.find(label).expect("has_path checked every label");
        let below = |child: &Child, out: &mut Vec<u8>| match &child.node {
            Node::Level(level) => level.write_path(rest, out),
            Node::Leaf(value) => {
                out.extend_from_slice(&[0x82, 0x03]);
                write_bytes(value, out);
            }
        };
        self.write_reveal(&[(i, true)], &below, 0, self.groups.len(), 0, out);
    }

    /// `reveal` written straight as CBOR: `reveals` (sorted, one per
    /// index) says which children show and whether whole or pruned. Over
    /// groups `glo..ghi`, whose tree's forks start at `top[pos]`.
    fn write_reveal(
        &self,
        reveals: &[(usize, bool)],
        whole: &dyn Fn(&Child, &mut Vec<u8>),
        glo: usize,
        ghi: usize,
        pos: usize,
        out: &mut Vec<u8>,
    ) {
        let (lo, hi) = (self.group_start(glo), self.groups[ghi - 1]);
        let inside = within(reveals, lo, hi);
        if inside.is_empty() {
            Witness::Pruned(self.top[pos]).write_cbor(out);
        } else if ghi - glo == 1 {
            self.write_group(self.group_forks(glo), inside, whole, lo, hi, 0, out);
        } else {
            let mid = split_groups(&self.groups, glo, ghi);
            out.extend_from_slice(&[0x83, 0x01]);
            self.write_reveal(inside, whole, glo, mid, pos + 1, out);
            self.write_reveal(inside, whole, mid, ghi, pos + 2 * (mid - glo), out);
        }
    }

    /// `write_reveal` inside one group: children `lo..hi`, whose tree's
    /// forks start at `forks[pos]`.
    #[allow(clippy::too_many_arguments)]
    fn write_group(
        &self,
        forks: &[Hash],
        reveals: &[(usize, bool)],
        whole: &dyn Fn(&Child, &mut Vec<u8>),
        lo: usize,
        hi: usize,
        pos: usize,
        out: &mut Vec<u8>,
    ) {
        let inside = within(reveals, lo, hi);
        if inside.is_empty() {
            Witness::Pruned(forks[pos]).write_cbor(out);
            return;
        }
        if hi - lo == 1 {
            let child = &self.children[lo];
            out.extend_from_slice(&[0x83, 0x02]);
            write_bytes(&child.label, out);
            if inside[0].1 {
                whole(child, out);
            } else {
                Witness::Pruned(self.child_node_hash(child)).write_cbor(out);
            }
            return;
        }
        let mid = lo + (hi - lo) / 2;
        out.extend_from_slice(&[0x83, 0x01]);
        self.write_group(forks, inside, whole, lo, mid, pos + 1, out);
        self.write_group(forks, inside, whole, mid, hi, pos + 2 * (mid - lo), out);
    }

    /// The hash of `child`'s node (clean tree).
    fn child_node_hash(&self, child: &Child) -> Hash {
        match &child.node {
            Node::Leaf(value) if value.is_empty() => empty_leaf_hash(),
            Node::Leaf(value) => leaf_hash(value),
            Node::Level(level) => level.top.first().copied().unwrap_or_else(empty_hash),
        }
    }

    /// The fork tree with the children at `indices` (sorted) revealed as
    /// `labeled(label, inner(child))` and the rest pruned.
    fn reveal(&self, indices: &[usize], inner: &dyn Fn(&Child) -> Witness) -> Witness {
        self.reveal_groups(indices, inner, 0, self.groups.len(), 0)
    }

    /// `reveal` over groups `glo..ghi`, whose tree's forks start at
    /// `top[pos]`.
    fn reveal_groups(
        &self,
        indices: &[usize],
        inner: &dyn Fn(&Child) -> Witness,
        glo: usize,
        ghi: usize,
        pos: usize,
    ) -> Witness {
        let (lo, hi) = (self.group_start(glo), self.groups[ghi - 1]);
        if !indices.iter().any(|&i| lo <= i && i < hi) {
            return Witness::Pruned(self.top[pos]);
        }
        if ghi - glo == 1 {
            return self.reveal_range(self.group_forks(glo), indices, inner, lo, hi, 0);
        }
        let mid = split_groups(&self.groups, glo, ghi);
        Witness::Fork(
            Box::new(self.reveal_groups(indices, inner, glo, mid, pos + 1)),
            Box::new(self.reveal_groups(indices, inner, mid, ghi, pos + 2 * (mid - glo))),
        )
    }

    /// `reveal` inside one group: children `lo..hi`, whose tree's forks
    /// start at `forks[pos]`.
    fn reveal_range(
        &self,
        forks: &[Hash],
        indices: &[usize],
        inner: &dyn Fn(&Child) -> Witness,
        lo: usize,
        hi: usize,
        pos: usize,
    ) -> Witness {
        if !indices.iter().any(|&i| lo <= i && i < hi) {
            return Witness::Pruned(forks[pos]);
        }
        if hi - lo == 1 {
            let child = &self.children[lo];
            return Witness::Labeled(child.label.to_vec(), Box::new(inner(child)));
        }
        let mid = lo + (hi - lo) / 2;
        Witness::Fork(
            Box::new(self.reveal_range(forks, indices, inner, lo, mid, pos + 1)),
            Box::new(self.reveal_range(forks, indices, inner, mid, hi, pos + 2 * (mid - lo))),
        )
    }
}

/// The entries of `reveals` (sorted by index) for children `lo..hi`.
fn within(reveals: &[(usize, bool)], lo: usize, hi: usize) -> &[(usize, bool)] {
    let first = reveals.partition_point(|&(i, _)| i < lo);
    let last = reveals.partition_point(|&(i, _)| i < hi);
    &reveals[first..last]
}

/// Where a group's tree splits children `lo..hi`: in the middle.
fn halve(lo: usize, hi: usize) -> usize {
    lo + (hi - lo) / 2
}

/// Where the groups' tree splits groups `glo..ghi` (two or more), given
/// where each group ends: at the boundary between groups nearest the
/// middle child (the nearer below on a tie), so that the tree over groups
/// of unequal sizes is about as deep as halving the children would make
/// it. Returns the first group of the right side.
pub fn split_groups(ends: &[usize], glo: usize, ghi: usize) -> usize {
    let lo = if glo == 0 { 0 } else { ends[glo - 1] };
    let middle = halve(lo, ends[ghi - 1]);
    // Boundaries: ends[glo..ghi - 1]; the first at or after the middle.
    let after = glo + ends[glo..ghi - 1].partition_point(|&end| end < middle);
    let below = after.checked_sub(1).filter(|&j| j >= glo);
    let j = match (below, after < ghi - 1) {
        (Some(b), true) if middle - ends[b] <= ends[after] - middle => b,
        (Some(b), false) => b,
        _ => after,
    };
    j + 1
}

/// Fills `shape[pos..]` with the fork tree over `hashes[lo..hi]`, split
/// where `split` says.
fn fill(
    shape: &mut [Hash],
    hashes: &[Hash],
    lo: usize,
    hi: usize,
    pos: usize,
    split: &dyn Fn(usize, usize) -> usize,
) -> Hash {
    let hash = if hi - lo == 1 {
        hashes[lo]
    } else {
        let mid = split(lo, hi);
        let left = fill(shape, hashes, lo, mid, pos + 1, split);
        let right = fill(shape, hashes, mid, hi, pos + 2 * (mid - lo), split);
        fork_hash(&left, &right)
    };
    shape[pos] = hash;
    hash
}

#[cfg(test)]
mod tests {
    use super::*;
    use ic_certification::{HashTree, LookupResult};

    fn tree(paths: &[&[&str]]) -> LazyTree {
        let mut tree = LazyTree::default();
        for path in paths {
            let labels: Vec<&[u8]> = path.iter().map(|s| s.as_bytes()).collect();
            tree.insert(&labels);
        }
        tree
    }

    fn labels<'a>(path: &[&'a str]) -> Vec<&'a [u8]> {
        path.iter().map(|s| s.as_bytes()).collect()
    }

    /// The witness as the verifier's own type, via our CBOR.
    fn decoded(witness: &Witness) -> HashTree {
        let mut cbor = Vec::new();
        witness.write_cbor(&mut cbor);
        serde_cbor::from_slice(&cbor).expect("our CBOR is a HashTree")
    }

    #[test]
    fn hashes_match_the_reference_implementation_for_any_size() {
        for n in 0..40 {
            let names: Vec<String> = (0..n).map(|i| format!("k{i:03}")).collect();
            let paths: Vec<Vec<&str>> = names.iter().map(|k| vec!["a", k.as_str()]).collect();
            let refs: Vec<&[&str]> = paths.iter().map(|p| p.as_slice()).collect();
            let t = tree(&refs);
            for name in &names {
                let w = t.witness(&labels(&["a", name]));
                assert_eq!(w.digest(), t.root_hash());
                let decoded = decoded(&w);
                assert_eq!(decoded.digest(), t.root_hash());
                assert!(matches!(
                    decoded.lookup_path([b"a".as_slice(), name.as_bytes()]),
                    LookupResult::Found(_)
                ));
            }
        }
    }

    #[test]
    fn absent_labels_are_proven_absent() {
        let t = tree(&[&["a", "b"], &["a", "d"], &["a", "f"], &["c", "x"]]);
        for missing in ["0", "a0", "c", "e", "z"] {
            let w = decoded(&t.witness(&labels(&["a", missing])));
            assert_eq!(w.digest(), t.root_hash());
            assert_eq!(
                w.lookup_path([b"a".as_slice(), missing.as_bytes()]),
                LookupResult::Absent,
                "{missing}"
            );
        }
        let w = decoded(&t.witness(&labels(&["b", "x"])));
        assert_eq!(w.lookup_path([b"b".as_slice(), b"x"]), LookupResult::Absent);
        let empty = LazyTree::default();
        let w = decoded(&empty.witness(&labels(&["a"])));
        assert_eq!(w.lookup_path([b"a".as_slice()]), LookupResult::Absent);
        assert_eq!(w.digest(), empty.root_hash());
    }

    #[test]
    fn deleting_leaves_the_tree_as_if_never_inserted() {
        let mut t = tree(&[&["a", "b", "c"], &["a", "d"]]);
        t.root_hash();
        t.delete(&labels(&["a", "b"]));
        assert_eq!(t.root_hash(), tree(&[&["a", "d"]]).root_hash());
        t.delete(&labels(&["a", "d"]));
        assert_eq!(t.root_hash(), LazyTree::default().root_hash());
    }

    #[test]
    fn insertion_order_does_not_matter() {
        let a = tree(&[&["x", "1"], &["y"], &["x", "2"]]);
        let mut b = tree(&[&["x", "2"]]);
        b.root_hash();
        b.insert(&labels(&["y"]));
        b.root_hash();
        b.insert(&labels(&["x", "1"]));
        assert_eq!(a.root_hash(), b.root_hash());
    }

    #[test]
    fn top_witnesses_written_directly_are_the_witness_trees_cbor() {
        let names: Vec<String> = (0..37).map(|i| format!("/p{:03}", i * 3)).collect();
        let mut t = LazyTree::default();
        for (i, name) in names.iter().enumerate() {
            t.set_leaf(name.as_bytes(), &[i as u8; 32]);
        }
        let probes = [
            "/p000",
            "/p054",
            "/p108",
            "/p001",
            "/a",
            "/z",
            "/p053",
            "/index.html",
        ];
        for a in probes {
            for b in [None, Some("/p054"), Some("/index.html"), Some(a)] {
                let labels: Vec<&[u8]> = std::iter::once(a).chain(b).map(str::as_bytes).collect();
                let paths: Vec<&[&[u8]]> = labels.iter().map(std::slice::from_ref).collect();
                let mut expected = Vec::new();
                t.witness_all(&paths).write_cbor(&mut expected);
                let mut written = Vec::new();
                t.write_top_witness(&labels, &mut written);
                assert_eq!(written, expected, "{a} {b:?}");
            }
        }
        let mut written = Vec::new();
        LazyTree::default().write_top_witness(&[b"/a"], &mut written);
        assert_eq!(written, [0x81, 0x00]);
    }

    #[test]
    fn path_witnesses_written_directly_are_the_witness_trees_cbor() {
        // Three levels, wide enough for several groups, with leaves that
        // hold values and empty ones, as the v1 and v2 trees have.
        let mut t = LazyTree::default();
        for a in 0..3 {
            for b in 0..150 {
                let (a, b) = (format!("a{a}"), format!("b{b:03}"));
                t.insert(&labels(&[&a, &b, "expr", ""]));
                t.insert(&labels(&[&a, &b, "other"]));
            }
        }
        t.set_leaf(b"top", &[7; 32]);
        let found = [
            vec!["a0", "b000", "expr", ""],
            vec!["a1", "b077", "expr", ""],
            vec!["a2", "b149", "other"],
            vec!["a2", "b149"],
            vec!["a1"],
            vec!["top"],
        ];
        for path in &found {
            let path = labels(path);
            let mut expected = Vec::new();
            t.witness(&path).write_cbor(&mut expected);
            let mut written = Vec::new();
            assert!(t.write_path_witness(&path, &mut written));
            assert_eq!(written, expected, "{path:?}");
        }
        for absent in [
            vec!["a3"],
            vec!["a0", "b150"],
            vec!["top", "below"],
            vec!["a0", "b001", "expr", "", "x"],
        ] {
            let path = labels(&absent);
            let mut written = Vec::new();
            assert!(!t.write_path_witness(&path, &mut written), "{absent:?}");
            assert!(written.is_empty());
        }
    }

    /// The root of one level of leaves from the definition alone: cut
    /// after each label that `ends_group`, halve inside each group, halve
    /// over the groups' roots.
    fn defined_root(leaves: &[(Vec<u8>, Vec<u8>)]) -> Hash {
        fn halve(hashes: &[Hash]) -> Hash {
            match hashes.len() {
                0 => empty_hash(),
                1 => hashes[0],
                n => fork_hash(&halve(&hashes[..n / 2]), &halve(&hashes[n / 2..])),
            }
        }
        // Over groups: split at the boundary nearest half the children,
        // the lower on a tie.
        fn weigh(groups: &[(usize, Hash)]) -> Hash {
            if groups.len() == 1 {
                return groups[0].1;
            }
            let total: usize = groups.iter().map(|g| g.0).sum();
            let mut best = (usize::MAX, 0);
            let mut before = 0;
            for j in 1..groups.len() {
                before += groups[j - 1].0;
                let distance = before.abs_diff(total / 2);
                if distance < best.0 {
                    best = (distance, j);
                }
            }
            fork_hash(&weigh(&groups[..best.1]), &weigh(&groups[best.1..]))
        }
        let mut roots = Vec::new();
        let mut group = Vec::new();
        for (i, (label, value)) in leaves.iter().enumerate() {
            group.push(labeled_hash(label, &leaf_hash(value)));
            if ends_group(label) || i + 1 == leaves.len() {
                roots.push((group.len(), halve(&group)));
                group.clear();
            }
        }
        if roots.is_empty() {
            return empty_hash();
        }
        weigh(&roots)
    }

    /// A small deterministic generator (xorshift), so failures repeat.
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    #[test]
    fn large_levels_are_cut_into_groups_as_defined() {
        let mut t = LazyTree::default();
        let mut leaves = Vec::new();
        for i in 0..5000u32 {
            let label = format!("/pages/{i:05}.html").into_bytes();
            let value = i.to_be_bytes().to_vec();
            t.set_leaf(&label, &value);
            leaves.push((label, value));
        }
        leaves.sort();
        assert_eq!(t.root_hash(), defined_root(&leaves));
        let groups = t.root.borrow().groups.len();
        assert!((40..=120).contains(&groups), "{groups} groups of 5,000");
    }

    #[test]
    fn changes_between_hashings_give_the_root_of_the_tree_built_at_once() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut t = LazyTree::default();
        let mut held: std::collections::BTreeMap<Vec<u8>, Vec<u8>> = Default::default();
        for step in 0..6000 {
            let label = format!("k{}", rng.below(3000)).into_bytes();
            match rng.below(4) {
                0 => {
                    t.delete(&[&label]);
                    held.remove(&label);
                }
                _ => {
                    let value = vec![rng.below(256) as u8];
                    t.set_leaf(&label, &value);
                    held.insert(label, value);
                }
            }
            // Hash at random moments, so changes pile up between hashings.
            if rng.below(40) == 0 || step == 5999 {
                let leaves: Vec<(Vec<u8>, Vec<u8>)> = held.clone().into_iter().collect();
                assert_eq!(t.root_hash(), defined_root(&leaves), "step {step}");
            }
        }
        // A nested level behaves the same.
        let mut nested = LazyTree::default();
        for label in held.keys() {
            nested.insert(&[b"a", label]);
        }
        let inner: Vec<(Vec<u8>, Vec<u8>)> = held.keys().map(|k| (k.clone(), Vec::new())).collect();
        let w = nested.witness(&[b"a"]);
        assert_eq!(w.digest(), nested.root_hash());
        let Witness::Labeled(_, below) = w else {
            panic!("a is revealed")
        };
        assert_eq!(below.digest(), defined_root(&inner));
    }

    #[test]
    fn a_group_changed_to_its_old_size_is_hashed_again() {
        // Group A ends at label b, group B follows. Removing b merges A's
        // rest into B; removing as many of B's own children leaves a group
        // of B's old size ending where B did, with other children: its old
        // forks must not be taken.
        let mut leaves: Vec<(Vec<u8>, Vec<u8>)> = (0..3000u32)
            .map(|i| (format!("k{i}").into_bytes(), vec![1]))
            .collect();
        leaves.sort();
        let ends: Vec<usize> = (0..leaves.len())
            .filter(|&i| ends_group(&leaves[i].0))
            .collect();
        // A is (before, a_end], B is (a_end, b_end]: |A| >= 2, |B| >= |A|.
        let (a_start, a_end, b_end) = ends
            .windows(3)
            .map(|w| (w[0] + 1, w[1], w[2]))
            .find(|&(start, a, b)| a > start && b - a > a - start)
            .expect("groups of the sizes wanted");
        let mut t = LazyTree::default();
        for (label, value) in &leaves {
            t.set_leaf(label, value);
        }
        t.root_hash();
        let mut removed = vec![a_end];
        removed.extend((a_end + 1..b_end).take(a_end - a_start));
        for &i in &removed {
            t.delete(&[&leaves[i].0]);
        }
        let kept: Vec<(Vec<u8>, Vec<u8>)> = (0..leaves.len())
            .filter(|i| !removed.contains(i))
            .map(|i| leaves[i].clone())
            .collect();
        assert_eq!(t.root_hash(), defined_root(&kept));
    }

    #[test]
    fn witnesses_across_groups_verify() {
        let names: Vec<String> = (0..3000).map(|i| format!("/p{:05}", i * 3)).collect();
        let mut t = LazyTree::default();
        for (i, name) in names.iter().enumerate() {
            t.set_leaf(name.as_bytes(), &[i as u8; 32]);
        }
        for i in (0..3000).step_by(37).chain([2999]) {
            let found = names[i].as_bytes();
            let absent = format!("/p{:05}", i * 3 + 1);
            let paths: [&[&[u8]]; 2] = [&[found], &[absent.as_bytes()]];
            let w = t.witness_all(&paths);
            let decoded = decoded(&w);
            assert_eq!(decoded.digest(), t.root_hash());
            assert!(matches!(
                decoded.lookup_path([found]),
                LookupResult::Found(_)
            ));
            assert_eq!(
                decoded.lookup_path([absent.as_bytes()]),
                LookupResult::Absent
            );
            let mut expected = Vec::new();
            w.write_cbor(&mut expected);
            let mut written = Vec::new();
            t.write_top_witness(&[found, absent.as_bytes()], &mut written);
            assert_eq!(written, expected, "{i}");
        }
    }

    #[test]
    fn merged_witnesses_reveal_both_paths() {
        let t = tree(&[&["a", "1"], &["b", "2"], &["c", "3"]]);
        let w = t
            .witness(&labels(&["a", "1"]))
            .merge(t.witness(&labels(&["c", "3"])));
        let decoded = decoded(&w);
        assert_eq!(decoded.digest(), t.root_hash());
        assert!(matches!(
            decoded.lookup_path([b"a".as_slice(), b"1"]),
            LookupResult::Found(_)
        ));
        assert!(matches!(
            decoded.lookup_path([b"c".as_slice(), b"3"]),
            LookupResult::Found(_)
        ));
        assert_eq!(
            decoded.lookup_path([b"b".as_slice(), b"2"]),
            LookupResult::Unknown
        );
    }
}
