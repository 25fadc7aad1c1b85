//! A hashed tree written out whole and read back without hashing anything:
//! what `pre_upgrade` leaves for `post_upgrade` (see `server::snapshot`),
//! where hashing every node again is most of an upgrade's cost.
//!
//! Form, depth first: a level is its child count, then per child its label,
//! its kind (empty leaf, leaf with a value, level), the value or the level,
//! and `labeled(label, node)`'s hash; then, for two children or more, the
//! level's fork hashes in pre-order (one child's fork tree is its hash).
//! Counts and lengths are unsigned LEB128.
//!
//! Reading checks the form (labels strictly ascending, known kinds, lengths
//! inside the bytes, nothing left over) and returns `None` on any doubt;
//! the caller then rebuilds and hashes the tree from the records instead.
//! Whether the hashes belong to the records is the caller's check too.

use super::{Child, Hash, LazyTree, Level, Node};

const EMPTY_LEAF: u8 = 0;
const LEAF: u8 = 1;
const LEVEL: u8 = 2;

/// Levels deeper than this are refused (ours are a handful deep; a bound
/// keeps a damaged snapshot from exhausting the stack).
const MAX_DEPTH: usize = 64;

impl LazyTree {
    /// Appends the tree, hashed first if it is not.
    pub fn save(&self, out: &mut Vec<u8>) {
        let mut root = self.root.borrow_mut();
        root.hash();
        save_level(&root, out);
    }

    /// Reads a tree that `save` wrote at `bytes[*at..]`, moving `at` past it.
    pub fn load(bytes: &[u8], at: &mut usize) -> Option<LazyTree> {
        let mut reader = Reader { bytes, at: *at };
        let level = load_level(&mut reader, 0)?;
        *at = reader.at;
        Some(LazyTree { root: level.into() })
    }
}

fn save_level(level: &Level, out: &mut Vec<u8>) {
    write_len(level.children.len(), out);
    for child in &level.children {
        write_len(child.label.len(), out);
        out.extend_from_slice(&child.label);
        match &child.node {
            Node::Leaf(value) if value.is_empty() => out.push(EMPTY_LEAF),
            Node::Leaf(value) => {
                out.push(LEAF);
                write_len(value.len(), out);
                out.extend_from_slice(value);
            }
            Node::Level(inner) => {
                out.push(LEVEL);
                save_level(inner, out);
            }
        }
        out.extend_from_slice(&child.hash.expect("the level was hashed"));
    }
    if level.children.len() >= 2 {
        for hash in &level.shape {
            out.extend_from_slice(hash);
        }
    }
}

fn load_level(reader: &mut Reader<'_>, depth: usize) -> Option<Level> {
    if depth > MAX_DEPTH {
        return None;
    }
    let count = reader.len()?;
    let mut children: Vec<Child> = Vec::with_capacity(count.min(reader.remaining()));
    for _ in 0..count {
        let label = reader.sized()?;
        if children.last().is_some_and(|last| *last.label >= *label) {
            return None; // out of order: the lookups would be wrong
        }
        let node = match reader.byte()? {
            EMPTY_LEAF => Node::Leaf(Box::default()),
            LEAF => Node::Leaf(reader.sized()?.into()),
            LEVEL => Node::Level(Box::new(load_level(reader, depth + 1)?)),
            _ => return None,
        };
        children.push(Child {
            label: label.into(),
            node,
            hash: Some(reader.hash()?),
        });
    }
    let shape = match children.len() {
        0 => Vec::new(),
        1 => vec![children[0].hash.expect("just read")],
        n => (0..2 * n - 1)
            .map(|_| reader.hash())
            .collect::<Option<Vec<Hash>>>()?,
    };
    Some(Level {
        children,
        shape,
        clean: true,
    })
}

fn write_len(len: usize, out: &mut Vec<u8>) {
    leb128::write::unsigned(out, len as u64).expect("writing to a Vec cannot fail");
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn len(&mut self) -> Option<usize> {
        let mut rest = &self.bytes[self.at..];
        let before = rest.len();
        let value = leb128::read::unsigned(&mut rest).ok()?;
        self.at += before - rest.len();
        usize::try_from(value).ok()
    }

    fn byte(&mut self) -> Option<u8> {
        let byte = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(byte)
    }

    fn bytes_of(&mut self, len: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(len)?;
        let slice = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(slice)
    }

    /// A length, then that many bytes.
    fn sized(&mut self) -> Option<&'a [u8]> {
        let len = self.len()?;
        self.bytes_of(len)
    }

    fn hash(&mut self) -> Option<Hash> {
        self.bytes_of(32)?.try_into().ok()
    }
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
        tree.save(&mut bytes);
        let mut at = 0;
        let loaded = LazyTree::load(&bytes, &mut at).expect("reads back");
        assert_eq!(at, bytes.len());
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
    fn damaged_snapshots_are_refused_not_misread() {
        let mut bytes = Vec::new();
        sample().save(&mut bytes);
        for cut in 0..bytes.len() {
            let mut at = 0;
            assert!(
                LazyTree::load(&bytes[..cut], &mut at).is_none(),
                "cut at {cut}"
            );
        }
        // Labels out of order.
        let mut swapped = Vec::new();
        write_len(2, &mut swapped);
        for label in [b"b", b"a"] {
            write_len(1, &mut swapped);
            swapped.extend_from_slice(label);
            swapped.push(EMPTY_LEAF);
            swapped.extend_from_slice(&[0; 32]);
        }
        swapped.extend_from_slice(&[0; 96]);
        assert!(LazyTree::load(&swapped, &mut 0).is_none());
        // An unknown kind.
        let mut unknown = Vec::new();
        write_len(1, &mut unknown);
        write_len(1, &mut unknown);
        unknown.extend_from_slice(b"a");
        unknown.push(7);
        unknown.extend_from_slice(&[0; 32]);
        assert!(LazyTree::load(&unknown, &mut 0).is_none());
    }
}
