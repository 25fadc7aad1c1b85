//! What the canister certifies. Certified data is the root of one tree with
//! two branches, in label order:
//!
//! ```text
//! fork( labeled("http_assets", v1: path -> SHA-256(body)),
//!       labeled("http_expr",   v2: path -> expression -> response) )
//! ```
//!
//! Each witness reveals its own branch and prunes the other. Both branches
//! live on the heap and are derived data: built from stored records after an
//! upgrade (`AssetServer::rebuild_tree`), never persisted.

mod lazy;
mod responses;
mod v1;
mod v2;

pub use lazy::Witness;
pub use responses::{
    CERTIFICATE_EXPRESSION, Certification, Head, Part, asset_certifications, asset_head,
    cached_certification, certify, error_body, error_certification, error_head, etag,
    fallback_certifications, path_certifications, seal, sha256,
};
pub use v1::{FALLBACK_PATH, V1Tree};
pub use v2::{Scope, V2Tree, normalized};

use ic_certified_map::{Hash, HashTree, fork, fork_hash};

#[derive(Default)]
pub struct CertifiedTree {
    pub v1: V1Tree,
    pub v2: V2Tree,
}

impl CertifiedTree {
    /// The 32 bytes to pass to `certified_data_set`.
    pub fn root_hash(&self) -> Hash {
        fork_hash(&self.v1.root_hash(), &self.v2.root_hash())
    }

    /// The CBOR witness (self-describe tagged) of a v1 response to `path`.
    pub fn v1_witness(&self, path: &str) -> Vec<u8> {
        let tree = fork(self.v1.witness(path), HashTree::Pruned(self.v2.root_hash()));
        let mut cbor = SELF_DESCRIBE_TAG.to_vec();
        write_cbor(&tree, &mut cbor);
        cbor
    }

    /// The CBOR witness of the v2 response certified by `certification` at
    /// `scope`, for a request whose decoded path is `request_path`.
    pub fn v2_witness(
        &self,
        scope: &Scope,
        certification: Certification,
        request_path: &str,
    ) -> Vec<u8> {
        let witness = Witness::Fork(
            Box::new(Witness::Pruned(self.v1.root_hash())),
            Box::new(self.v2.witness(scope, certification, request_path)),
        );
        let mut cbor = SELF_DESCRIBE_TAG.to_vec();
        witness.write_cbor(&mut cbor);
        cbor
    }

    /// The v1 branch whole and the v2 branch pruned, for `certified_tree`.
    pub fn full_tree(&self) -> Vec<u8> {
        to_cbor(&fork(
            self.v1.full_tree(),
            HashTree::Pruned(self.v2.root_hash()),
        ))
    }
}

/// Appends `tree` as CBOR, written directly (the same bytes `serde_cbor`
/// writes, at a fraction of its instructions).
fn write_cbor(tree: &HashTree<'_>, out: &mut Vec<u8>) {
    match tree {
        HashTree::Empty => out.extend_from_slice(&[0x81, 0x00]),
        HashTree::Fork(children) => {
            out.extend_from_slice(&[0x83, 0x01]);
            write_cbor(&children.0, out);
            write_cbor(&children.1, out);
        }
        HashTree::Labeled(label, child) => {
            out.extend_from_slice(&[0x83, 0x02]);
            lazy::write_bytes(label, out);
            write_cbor(child, out);
        }
        HashTree::Leaf(value) => {
            out.extend_from_slice(&[0x82, 0x03]);
            lazy::write_bytes(value, out);
        }
        HashTree::Pruned(hash) => {
            out.extend_from_slice(&[0x82, 0x04]);
            lazy::write_bytes(hash, out);
        }
    }
}

/// CBOR's self-describe tag, which certificate headers' trees start with.
const SELF_DESCRIBE_TAG: [u8; 3] = [0xd9, 0xd9, 0xf7];

/// `value` as CBOR with the self-describe tag, as certificate headers carry it.
pub fn to_cbor(tree: &impl serde::Serialize) -> Vec<u8> {
    let mut serializer = serde_cbor::Serializer::new(Vec::new());
    serializer
        .self_describe()
        .expect("writing to a Vec cannot fail");
    tree.serialize(&mut serializer)
        .expect("a hash tree always serializes");
    serializer.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reconstruct_v1(cbor: &[u8]) -> Hash {
        serde_cbor::from_slice::<HashTree<'_>>(cbor)
            .unwrap()
            .reconstruct()
    }

    #[test]
    fn v1_witnesses_reconstruct_to_the_combined_root() {
        let mut tree = CertifiedTree::default();
        tree.v1.set("/a", Some([1; 32]));
        tree.v1.set("/index.html", Some([2; 32]));
        assert_eq!(reconstruct_v1(&tree.v1_witness("/a")), tree.root_hash());
        assert_eq!(reconstruct_v1(&tree.v1_witness("/x")), tree.root_hash());
        assert_eq!(reconstruct_v1(&tree.full_tree()), tree.root_hash());
    }

    #[test]
    fn v1_witnesses_are_the_bytes_serde_cbor_writes() {
        let mut tree = CertifiedTree::default();
        for (i, path) in ["/a", "/b/c", "/index.html", "/z"].iter().enumerate() {
            tree.v1.set(path, Some([i as u8; 32]));
        }
        for path in ["/a", "/b/c", "/missing", "/zz"] {
            let expected = to_cbor(&fork(
                tree.v1.witness(path),
                HashTree::Pruned(tree.v2.root_hash()),
            ));
            assert_eq!(tree.v1_witness(path), expected, "{path}");
        }
    }

    #[test]
    fn v1_witnesses_start_with_the_self_describe_tag() {
        let tree = CertifiedTree::default();
        assert_eq!(&tree.v1_witness("/a")[..3], &[0xd9, 0xd9, 0xf7]);
    }

    #[test]
    fn v2_witnesses_reconstruct_to_the_combined_root() {
        let mut tree = CertifiedTree::default();
        tree.v1.set("/a", Some([1; 32]));
        let head = error_head(404);
        let certification = certify(&head, sha256(error_body(404)));
        tree.v2.replace(&Scope::Fallback, [certification]);
        let witness: ic_certification::HashTree =
            serde_cbor::from_slice(&tree.v2_witness(&Scope::Fallback, certification, "/nope"))
                .unwrap();
        assert_eq!(witness.digest(), tree.root_hash());
    }
}
