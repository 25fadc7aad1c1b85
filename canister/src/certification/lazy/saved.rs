//! A hashed tree written out whole and read back without hashing anything:
//! what `pre_upgrade` leaves for `post_upgrade` (see `server::snapshot`),
//! where hashing every node again is most of an upgrade's cost.
//!
//! Form, depth first: a level is its child count, then per child its label,
//! its kind (empty leaf, leaf with a value, level), the value or the level,
//! and `labeled(label, node)`'s hash; then the fork hashes in pre-order of
//! each group of two children or more (the groups follow from the labels),
//! then those of the groups' tree if there are two groups or more (one
//! child's or one group's tree is its hash). Counts and lengths are
//! unsigned LEB128.
//!
//! Reading checks the form (labels strictly ascending, known kinds, lengths
//! inside the bytes, nothing left over) and returns `None` on any doubt;
//! the caller then rebuilds and hashes the tree from the records instead.
//! Whether the hashes belong to the records is the caller's check too.

use std::io::{self, Read, Write};

use super::{Child, Hash, LazyTree, Level, Node};

const EMPTY_LEAF: u8 = 0;
const LEAF: u8 = 1;
const LEVEL: u8 = 2;

/// Levels deeper than this are refused (ours are a handful deep; a bound
/// keeps a damaged snapshot from exhausting the stack).
const MAX_DEPTH: usize = 64;

impl LazyTree {
    /// Writes the tree, hashed first if it is not.
    pub fn save(&self, out: &mut impl Write) -> io::Result<()> {
        let mut root = self.root.borrow_mut();
        root.hash();
        save_level(&root, out)
    }

    /// Reads a tree that `save` wrote, or `None` if `input` does not hold
    /// one (damaged, cut short, or not ours).
    pub fn load(input: &mut Source<impl Read>) -> Option<LazyTree> {
        let level = load_level(input, 0)?;
        Some(LazyTree { root: level.into() })
    }
}

/// What a tree is read from: at most `limit` more bytes of `input`, so
/// that no length read from damaged bytes can ask for more memory than
/// there are bytes; read a block at a time, each field from the block
/// (reading field by field through `Read` cost more than the rest of an
/// upgrade).
pub struct Source<R> {
    input: R,
    /// Bytes `input` may still give.
    limit: u64,
    block: Vec<u8>,
    /// Where the unread part of `block` starts.
    at: usize,
}

/// Bytes read from the input at a time.
const BLOCK: usize = 64 * 1024;

impl<R: Read> Source<R> {
    pub fn new(input: R, limit: u64) -> Self {
        Self {
            input,
            limit,
            block: Vec::new(),
            at: 0,
        }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> u64 {
        self.limit + (self.block.len() - self.at) as u64
    }

    /// The next `n` bytes, consumed; `None` if there are fewer.
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        if self.block.len() - self.at < n {
            self.refill(n)?;
        }
        let bytes = &self.block[self.at..self.at + n];
        self.at += n;
        Some(bytes)
    }

    /// Makes at least `n` unread bytes available (and a block more, if
    /// the input has them).
    fn refill(&mut self, n: usize) -> Option<()> {
        let unread = self.block.len() - self.at;
        let wanted = (n.max(BLOCK) - unread) as u64;
        let more = usize::try_from(wanted.min(self.limit)).ok()?;
        if unread + more < n {
            return None;
        }
        self.block.drain(..self.at);
        self.at = 0;
        let start = self.block.len();
        self.block.resize(start + more, 0);
        self.input.read_exact(&mut self.block[start..]).ok()?;
        self.limit -= more as u64;
        Some(())
    }

    fn byte(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    fn len(&mut self) -> Option<usize> {
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return usize::try_from(value).ok();
            }
        }
        None
    }

    /// A length, then that many bytes.
    fn sized(&mut self) -> Option<Box<[u8]>> {
        let len = self.len()?;
        if len as u64 > self.remaining() {
            return None;
        }
        Some(self.take(len)?.into())
    }

    fn hash(&mut self) -> Option<Hash> {
        self.take(32)?.try_into().ok()
    }
}

fn save_level(level: &Level, out: &mut impl Write) -> io::Result<()> {
    write_len(level.children.len(), out)?;
    for child in &level.children {
        write_len(child.label.len(), out)?;
        out.write_all(&child.label)?;
        match &child.node {
            Node::Leaf(value) if value.is_empty() => out.write_all(&[EMPTY_LEAF])?,
            Node::Leaf(value) => {
                out.write_all(&[LEAF])?;
                write_len(value.len(), out)?;
                out.write_all(value)?;
            }
            Node::Level(inner) => {
                out.write_all(&[LEVEL])?;
                save_level(inner, out)?;
            }
        }
        out.write_all(&child.hash.expect("the level was hashed"))?;
    }
    for g in 0..level.groups.len() {
        let forks = level.group_forks(g);
        if forks.len() > 1 {
            forks.iter().try_for_each(|hash| out.write_all(hash))?;
        }
    }
    if level.top.len() > 1 {
        level.top.iter().try_for_each(|hash| out.write_all(hash))?;
    }
    Ok(())
}

fn load_level(input: &mut Source<impl Read>, depth: usize) -> Option<Level> {
    if depth > MAX_DEPTH {
        return None;
    }
    let count = input.len()?;
    let mut children: Vec<Child> = Vec::new();
    for _ in 0..count {
        let label = input.sized()?;
        if children.last().is_some_and(|last| *last.label >= *label) {
            return None; // out of order: the lookups would be wrong
        }
        let node = match input.byte()? {
            EMPTY_LEAF => Node::Leaf(Box::default()),
            LEAF => Node::Leaf(input.sized()?),
            LEVEL => Node::Level(Box::new(load_level(input, depth + 1)?)),
            _ => return None,
        };
        let mut child = Child::new(label, node);
        child.hash = Some(input.hash()?);
        children.push(child);
    }
    let mut groups = Vec::new();
    let mut roots = Vec::new();
    let mut start = 0;
    for end in 1..=children.len() {
        if end < children.len() && !children[end - 1].ends_group {
            continue;
        }
        if end - start == 1 {
            // A group of one is its child's hash (no forks kept).
            roots.push(children[start].hash.expect("just read"));
        } else {
            let forks = read_forks(input, end - start, || None)?;
            roots.push(forks[0]);
            children[end - 1].group = Some(forks.into());
        }
        groups.push(end);
        start = end;
    }
    let top = read_forks(input, roots.len(), || roots.first().copied())?;
    Some(Level {
        children,
        groups,
        top,
        clean: true,
    })
}

/// The pre-order forks of a tree over `count` hashes: none for none, the
/// one hash (`only`) for one, else `2 count - 1` read.
fn read_forks(
    input: &mut Source<impl Read>,
    count: usize,
    only: impl FnOnce() -> Option<Hash>,
) -> Option<Vec<Hash>> {
    match count {
        0 => Some(Vec::new()),
        1 => Some(vec![only()?]),
        n => (0..2 * n - 1).map(|_| input.hash()).collect(),
    }
}

fn write_len(len: usize, out: &mut impl Write) -> io::Result<()> {
    leb128::write::unsigned(out, len as u64).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> LazyTree {
        let mut tree = LazyTree::default();
        for path in [
            &[b"a".as_slice(), b"x"][..],
            &[b"a", b"y", b"z"],
            &[b"b"],
            &[b"c", b"1"],
            &[b"c", b"2"],
            &[b"c", b"3"],
        ] {
            tree.insert(path);
        }
        tree.set_leaf(b"v", b"value");
        tree
    }

    #[test]
    fn a_loaded_tree_has_the_same_root_and_witnesses() {
        let tree = sample();
        let mut bytes = Vec::new();
        tree.save(&mut bytes).unwrap();
        let mut source = Source::new(&bytes[..], bytes.len() as u64);
        let loaded = LazyTree::load(&mut source).expect("reads back");
        assert_eq!(source.remaining(), 0);
        assert_eq!(loaded.root_hash(), tree.root_hash());
        for path in [
            &[b"a".as_slice(), b"y", b"z"][..],
            &[b"c", b"2"],
            &[b"q"],
            &[b"v"],
        ] {
            assert_eq!(loaded.witness(path), tree.witness(path));
        }
        // And it keeps working as a tree: a change is hashed as usual.
        let (mut changed, mut expected) = (loaded, sample());
        changed.insert(&[b"c", b"4"]);
        expected.insert(&[b"c", b"4"]);
        assert_eq!(changed.root_hash(), expected.root_hash());
    }

    #[test]
    fn levels_of_many_groups_read_back() {
        let mut tree = sample();
        for i in 0..2000u32 {
            tree.insert(&[b"c", format!("p{i}").as_bytes()]);
            tree.set_leaf(format!("/q{i}").as_bytes(), &i.to_be_bytes());
        }
        let mut bytes = Vec::new();
        tree.save(&mut bytes).unwrap();
        let mut source = Source::new(&bytes[..], bytes.len() as u64);
        let mut loaded = LazyTree::load(&mut source).expect("reads back");
        assert_eq!(source.remaining(), 0);
        assert_eq!(loaded.root_hash(), tree.root_hash());
        for path in [&[b"c".as_slice(), b"p1234"][..], &[b"/q777"], &[b"/q7770"]] {
            assert_eq!(loaded.witness(path), tree.witness(path));
        }
        for i in (0..2000u32).step_by(7) {
            loaded.delete(&[format!("/q{i}").as_bytes()]);
            tree.delete(&[format!("/q{i}").as_bytes()]);
        }
        assert_eq!(loaded.root_hash(), tree.root_hash());
    }

    #[test]
    fn damaged_snapshots_are_refused_not_misread() {
        let mut bytes = Vec::new();
        sample().save(&mut bytes).unwrap();
        let load = |bytes: &[u8]| LazyTree::load(&mut Source::new(bytes, bytes.len() as u64));
        for cut in 0..bytes.len() {
            assert!(load(&bytes[..cut]).is_none(), "cut at {cut}");
        }
        // A length larger than what is left is refused before allocating.
        let mut huge = Vec::new();
        write_len(1, &mut huge).unwrap();
        write_len(1 << 40, &mut huge).unwrap();
        assert!(load(&huge).is_none());
        // Labels out of order.
        let mut swapped = Vec::new();
        write_len(2, &mut swapped).unwrap();
        for label in [b"b", b"a"] {
            write_len(1, &mut swapped).unwrap();
            swapped.extend_from_slice(label);
            swapped.push(EMPTY_LEAF);
            swapped.extend_from_slice(&[0; 32]);
        }
        swapped.extend_from_slice(&[0; 96]);
        assert!(load(&swapped).is_none());
        // An unknown kind.
        let mut unknown = Vec::new();
        write_len(1, &mut unknown).unwrap();
        write_len(1, &mut unknown).unwrap();
        unknown.extend_from_slice(b"a");
        unknown.push(7);
        unknown.extend_from_slice(&[0; 32]);
        assert!(load(&unknown).is_none());
    }
}
