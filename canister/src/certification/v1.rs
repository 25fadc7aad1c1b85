//! The v1 branch: `http_assets -> { path -> SHA-256(body) }`.

use ic_certified_map::{AsHashTree, Hash, HashTree, RbTree, fork, labeled, labeled_hash};

const LABEL: &[u8] = b"http_assets";
/// The v1 verifier falls back to this path when the requested one is absent.
pub const FALLBACK_PATH: &str = "/index.html";

#[derive(Default)]
pub struct V1Tree {
    paths: RbTree<Vec<u8>, Hash>,
}

impl V1Tree {
    /// The hash of the labeled branch.
    pub fn root_hash(&self) -> Hash {
        labeled_hash(LABEL, &self.paths.root_hash())
    }

    pub fn get(&self, path: &str) -> Option<&Hash> {
        self.paths.get(path.as_bytes())
    }

    /// Certifies `hash` as the body of `path`, or removes `path`.
    pub fn set(&mut self, path: &str, hash: Option<Hash>) {
        match hash {
            Some(hash) => self.paths.insert(path.as_bytes().to_vec(), hash),
            None => self.paths.delete(path.as_bytes()),
        }
    }

    /// Every certified path, in order.
    pub fn paths(&self) -> impl Iterator<Item = (&[u8], &Hash)> {
        self.paths.iter().map(|(k, v)| (k.as_slice(), v))
    }

    /// The labeled witness for a response to `path`: the path itself when
    /// certified; otherwise its absence proof together with `/index.html`,
    /// which is what a v1 verifier checks a fallback against.
    pub fn witness(&self, path: &str) -> HashTree<'_> {
        let path_witness = self.paths.witness(path.as_bytes());
        let witness = if self.get(path).is_some() {
            path_witness
        } else {
            merge(path_witness, self.paths.witness(FALLBACK_PATH.as_bytes()))
        };
        labeled(LABEL, witness)
    }

    /// The whole labeled branch.
    pub fn full_tree(&self) -> HashTree<'_> {
        labeled(LABEL, self.paths.as_hash_tree())
    }
}

/// Joins two witnesses of the same tree into one that reveals what either
/// reveals. Where one side pruned a subtree the other side's view is kept.
fn merge<'a>(left: HashTree<'a>, right: HashTree<'a>) -> HashTree<'a> {
    match (left, right) {
        (HashTree::Pruned(_), other) | (other, HashTree::Pruned(_)) => other,
        (HashTree::Fork(l), HashTree::Fork(r)) => {
            let (l1, l2) = *l;
            let (r1, r2) = *r;
            fork(merge(l1, r1), merge(l2, r2))
        }
        (HashTree::Labeled(label, l), HashTree::Labeled(_, r)) => {
            HashTree::Labeled(label, Box::new(merge(*l, *r)))
        }
        // Both sides saw the same node (leaf or empty): either will do.
        (same, _) => same,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree_with(paths: &[&str]) -> V1Tree {
        let mut tree = V1Tree::default();
        for (i, p) in paths.iter().enumerate() {
            tree.set(p, Some([i as u8; 32]));
        }
        tree
    }

    #[test]
    fn witness_reconstructs_to_the_branch_hash() {
        let tree = tree_with(&["/a", "/b", "/index.html", "/z"]);
        assert_eq!(tree.witness("/b").reconstruct(), tree.root_hash());
        assert_eq!(tree.witness("/missing").reconstruct(), tree.root_hash());
        assert_eq!(tree.full_tree().reconstruct(), tree.root_hash());
    }

    #[test]
    fn removing_a_path_changes_the_root() {
        let mut tree = tree_with(&["/a", "/b"]);
        let before = tree.root_hash();
        tree.set("/b", None);
        assert_ne!(tree.root_hash(), before);
        assert!(tree.get("/b").is_none());
    }
}
