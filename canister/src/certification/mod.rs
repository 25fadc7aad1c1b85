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

use lazy::Source;
pub use lazy::{Hash, Witness};
pub use responses::{
    CERTIFICATE_EXPRESSION, Certification, Head, Part, asset_certifications, asset_head,
    cached_certification, certify, error_body, error_certification, error_head, etag,
    fallback_certifications, path_certifications, seal, sha256, warm,
};
pub use v1::{FALLBACK_PATH, V1Tree};
pub use v2::{Scope, V2Tree, normalized};

pub use lazy::fork_hash;

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

    /// Writes both branches with their hashes (see `lazy::saved`).
    pub fn save(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        self.v1.save(out)?;
        self.v2.save(out)
    }

    /// What `save` wrote as the `length` bytes of `input`, or `None` if
    /// they are not that.
    pub fn load(input: impl std::io::Read, length: u64) -> Option<Self> {
        let mut source = Source::new(input, length);
        let v1 = V1Tree::load(&mut source)?;
        let v2 = V2Tree::load(&mut source)?;
        (source.remaining() == 0).then_some(Self { v1, v2 })
    }

    /// The CBOR witness (self-describe tagged) of a v1 response to `path`.
    pub fn v1_witness(&self, path: &str) -> Vec<u8> {
        let mut cbor = SELF_DESCRIBE_TAG.to_vec();
        cbor.extend_from_slice(&[0x83, 0x01]);
        self.v1.write_witness(path, &mut cbor);
        Witness::Pruned(self.v2.root_hash()).write_cbor(&mut cbor);
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
        let mut cbor = SELF_DESCRIBE_TAG.to_vec();
        cbor.extend_from_slice(&[0x83, 0x01]);
        Witness::Pruned(self.v1.root_hash()).write_cbor(&mut cbor);
        self.v2
            .write_witness(scope, certification, request_path, &mut cbor);
        cbor
    }

    /// The v1 branch whole and the v2 branch pruned, for `certified_tree`.
    pub fn full_tree(&self) -> Vec<u8> {
        to_cbor(&Witness::Fork(
            Box::new(self.v1.full_tree()),
            Box::new(Witness::Pruned(self.v2.root_hash())),
        ))
    }
}

/// CBOR's self-describe tag, which certificate headers' trees start with.
const SELF_DESCRIBE_TAG: [u8; 3] = [0xd9, 0xd9, 0xf7];

/// `witness` as CBOR with the self-describe tag, as certificate headers
/// carry it.
pub fn to_cbor(witness: &Witness) -> Vec<u8> {
    let mut cbor = SELF_DESCRIBE_TAG.to_vec();
    witness.write_cbor(&mut cbor);
    cbor
}

/// `value` as CBOR with the self-describe tag (for what is not a tree).
pub fn to_cbor_value(value: &impl serde::Serialize) -> Vec<u8> {
    let mut serializer = serde_cbor::Serializer::new(Vec::new());
    serializer
        .self_describe()
        .expect("writing to a Vec cannot fail");
    value
        .serialize(&mut serializer)
        .expect("a value of ours always serializes");
    serializer.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reconstruct(cbor: &[u8]) -> Hash {
        serde_cbor::from_slice::<ic_certification::HashTree>(cbor)
            .unwrap()
            .digest()
    }

    /// The same tree as the verifier's crate builds it.
    fn as_reference(witness: &Witness) -> ic_certification::HashTree {
        use ic_certification::{empty, fork, labeled, leaf, pruned};
        match witness {
            Witness::Empty => empty(),
            Witness::Fork(l, r) => fork(as_reference(l), as_reference(r)),
            Witness::Labeled(label, t) => labeled(label.clone(), as_reference(t)),
            Witness::Leaf(v) => leaf(v.clone()),
            Witness::Pruned(h) => pruned(*h),
        }
    }

    #[test]
    fn v1_witnesses_reconstruct_to_the_combined_root() {
        let mut tree = CertifiedTree::default();
        tree.v1.set("/a", Some([1; 32]));
        tree.v1.set("/index.html", Some([2; 32]));
        assert_eq!(reconstruct(&tree.v1_witness("/a")), tree.root_hash());
        assert_eq!(reconstruct(&tree.v1_witness("/x")), tree.root_hash());
        assert_eq!(reconstruct(&tree.full_tree()), tree.root_hash());
    }

    #[test]
    fn witnesses_are_the_bytes_serde_cbor_writes() {
        let mut tree = CertifiedTree::default();
        for (i, path) in ["/a", "/b/c", "/index.html", "/z"].iter().enumerate() {
            tree.v1.set(path, Some([i as u8; 32]));
        }
        let certification = certify(&error_head(404), sha256(error_body(404)));
        tree.v2.replace(&Scope::Fallback, [certification]);
        for path in ["/a", "/b/c", "/missing", "/zz"] {
            let witness = Witness::Fork(
                Box::new(tree.v1.witness(path)),
                Box::new(tree.v2.witness(&Scope::Fallback, certification, path)),
            );
            let expected = to_cbor_value(&as_reference(&witness));
            assert_eq!(to_cbor(&witness), expected, "{path}");
        }
        // Byte strings of every length class.
        for len in [0, 23, 24, 255, 256, 70_000] {
            let witness = Witness::Leaf(vec![7; len]);
            assert_eq!(
                to_cbor(&witness),
                to_cbor_value(&as_reference(&witness)),
                "{len}"
            );
        }
    }

    #[test]
    fn v1_witnesses_are_the_cbor_of_the_witness_tree() {
        let mut tree = CertifiedTree::default();
        for (i, path) in ["/a", "/b/c", "/index.html", "/z"].iter().enumerate() {
            tree.v1.set(path, Some([i as u8; 32]));
        }
        for path in ["/a", "/b/c", "/index.html", "/missing", "/0", "/zz"] {
            let expected = to_cbor(&Witness::Fork(
                Box::new(tree.v1.witness(path)),
                Box::new(Witness::Pruned(tree.v2.root_hash())),
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
        let witness = tree.v2_witness(&Scope::Fallback, certification, "/nope");
        assert_eq!(reconstruct(&witness), tree.root_hash());
    }
}
