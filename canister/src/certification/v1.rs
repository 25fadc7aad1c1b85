//! The v1 branch: `http_assets -> { path -> SHA-256(body) }`, in the
//! lazily hashed tree that v2 uses too (`lazy`): a commit hashes what it
//! changed once, and a witness only reads hashes already computed.

use super::lazy::{Hash, LazyTree, Source, Witness, labeled_hash};

const LABEL: &[u8] = b"http_assets";
/// The v1 verifier falls back to this path when the requested one is absent.
pub const FALLBACK_PATH: &str = "/index.html";

#[derive(Default)]
pub struct V1Tree {
    paths: LazyTree,
}

impl V1Tree {
    /// The hash of the labeled branch.
    pub fn root_hash(&self) -> Hash {
        labeled_hash(LABEL, &self.paths.root_hash())
    }

    pub fn get(&self, path: &str) -> Option<Hash> {
        self.paths
            .leaf(path.as_bytes())
            .and_then(|value| value.try_into().ok())
    }

    /// Certifies `hash` as the body of `path`, or removes `path`.
    pub fn set(&mut self, path: &str, hash: Option<Hash>) {
        match hash {
            Some(hash) => self.paths.set_leaf(path.as_bytes(), &hash),
            None => self.paths.delete(&[path.as_bytes()]),
        }
    }

    pub fn save(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        self.paths.save(out)
    }

    pub fn load(input: &mut Source<impl std::io::Read>) -> Option<Self> {
        Some(Self {
            paths: LazyTree::load(input)?,
        })
    }

    /// Every certified path and its hash, in order.
    pub fn paths(&self) -> Vec<(Vec<u8>, Hash)> {
        self.paths
            .leaves()
            .into_iter()
            .filter_map(|(path, value)| Some((path, value.try_into().ok()?)))
            .collect()
    }

    /// The labeled witness for a response to `path`: the path itself when
    /// certified; otherwise its absence proof together with `/index.html`,
    /// which is what a v1 verifier checks a fallback against.
    pub fn witness(&self, path: &str) -> Witness {
        let witness = if self.get(path).is_some() {
            self.paths.witness_all(&[&[path.as_bytes()]])
        } else {
            self.paths
                .witness_all(&[&[path.as_bytes()], &[FALLBACK_PATH.as_bytes()]])
        };
        Witness::Labeled(LABEL.to_vec(), Box::new(witness))
    }

    /// Appends the CBOR of `witness(path)`, written without building it.
    pub fn write_witness(&self, path: &str, out: &mut Vec<u8>) {
        out.extend_from_slice(&[0x83, 0x02]);
        super::lazy::write_bytes(LABEL, out);
        if self.get(path).is_some() {
            self.paths.write_top_witness(&[path.as_bytes()], out);
        } else {
            self.paths
                .write_top_witness(&[path.as_bytes(), FALLBACK_PATH.as_bytes()], out);
        }
    }

    /// The whole labeled branch.
    pub fn full_tree(&self) -> Witness {
        Witness::Labeled(LABEL.to_vec(), Box::new(self.paths.full()))
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
        assert_eq!(tree.witness("/b").digest(), tree.root_hash());
        assert_eq!(tree.witness("/missing").digest(), tree.root_hash());
        assert_eq!(tree.full_tree().digest(), tree.root_hash());
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
