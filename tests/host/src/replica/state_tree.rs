//! The certified state tree a replica answers `read_state` from, pruned to
//! the requested paths and signed by the host's BLS subnet key, and the
//! Ed25519 node key that signs query responses.
//!
//! What the tree holds (interface specification, "The system state
//! tree"):
//!
//! ```text
//! time                                  LEB128 nanoseconds
//! canister/<id>/certified_data          the canister's certified data
//! canister/<id>/module_hash             SHA-256 of the installed wasm
//! canister/<id>/controllers             CBOR array of principals
//! request_status/<id>/status            "replied" | "rejected"
//! request_status/<id>/reply             the reply bytes
//! request_status/<id>/reject_code       LEB128
//! request_status/<id>/reject_message    text
//! request_status/<id>/error_code        text, e.g. "IC0503"
//! subnet/<subnet>/public_key            the 133-byte DER root key
//! subnet/<subnet>/canister_ranges       CBOR [(low, high)]
//! subnet/<subnet>/node/<node>/public_key  DER Ed25519 key of the node
//! canister_ranges/<subnet>/<low>        CBOR [(low, high)] (sharded form)
//! ```
//!
//! With no delegation the subnet id is the self-authenticating principal
//! of the root key, which is where clients look.

use std::collections::BTreeMap;

use candid::Principal;
use ed25519_dalek::Signer as _;
use ic_certification::hash_tree::{HashTree, empty, fork, label, leaf, pruned};

use super::envelope::ED25519_DER_PREFIX;

/// A labeled tree before hashing.
#[derive(Clone, Debug)]
pub(crate) enum Node {
    Leaf(Vec<u8>),
    Branch(BTreeMap<Vec<u8>, Node>),
}

impl Node {
    pub fn branch() -> Self {
        Node::Branch(BTreeMap::new())
    }

    /// Inserts `value` at `path`, creating branches on the way.
    pub fn insert(&mut self, path: &[&[u8]], value: Vec<u8>) {
        let Node::Branch(children) = self else {
            return;
        };
        match path {
            [] => {}
            [last] => {
                children.insert(last.to_vec(), Node::Leaf(value));
            }
            [first, rest @ ..] => children
                .entry(first.to_vec())
                .or_insert_with(Node::branch)
                .insert(rest, value),
        }
    }

    /// The tree with everything outside `paths` pruned. Every label on the
    /// way to a requested path stays visible, so an absent path is proven
    /// absent; a requested path includes everything below it.
    pub fn witness(&self, paths: &[Vec<Vec<u8>>]) -> HashTree<Vec<u8>> {
        if paths.iter().any(Vec::is_empty) {
            return self.full();
        }
        match self {
            Node::Leaf(_) => pruned(self.full().digest()),
            Node::Branch(children) => {
                let subtrees = children
                    .iter()
                    .map(|(name, child)| {
                        let below: Vec<Vec<Vec<u8>>> = paths
                            .iter()
                            .filter(|p| p[0] == *name)
                            .map(|p| p[1..].to_vec())
                            .collect();
                        let subtree = if below.is_empty() {
                            pruned(child.full().digest())
                        } else {
                            child.witness(&below)
                        };
                        label(name.clone(), subtree)
                    })
                    .collect();
                balanced(subtrees)
            }
        }
    }

    /// The whole tree.
    pub fn full(&self) -> HashTree<Vec<u8>> {
        match self {
            Node::Leaf(value) => leaf(value.clone()),
            Node::Branch(children) => balanced(
                children
                    .iter()
                    .map(|(name, child)| label(name.clone(), child.full()))
                    .collect(),
            ),
        }
    }
}

/// Forks over labeled subtrees in label order.
fn balanced(mut trees: Vec<HashTree<Vec<u8>>>) -> HashTree<Vec<u8>> {
    match trees.len() {
        0 => empty(),
        1 => trees.pop().expect("one tree"),
        n => {
            let right = trees.split_off(n / 2);
            fork(balanced(trees), balanced(right))
        }
    }
}

/// LEB128 of a natural number, as the tree stores numbers.
pub(crate) fn leb128(n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    leb128::write::unsigned(&mut out, n).expect("writing to a Vec cannot fail");
    out
}

/// The subnet's identity in the tree: its id, its root key and its one
/// node.
pub(crate) struct Subnet {
    pub root_key_der: Vec<u8>,
    pub node: NodeKey,
}

impl Subnet {
    pub fn new(root_key_der: Vec<u8>) -> Self {
        Subnet {
            root_key_der,
            node: NodeKey::new(),
        }
    }

    /// The self-authenticating principal of the root key.
    pub fn id(&self) -> Principal {
        Principal::self_authenticating(&self.root_key_der)
    }

    /// Adds `subnet/...` and `canister_ranges/...` to `tree`; the subnet
    /// hosts every canister id (`<8 bytes> 01 01`).
    pub fn add_to(&self, tree: &mut Node) {
        let id = self.id();
        let ranges = canister_ranges();
        let ranges_cbor = serde_cbor::to_vec(&ranges).expect("principals serialize");
        let sid = id.as_slice();
        tree.insert(&[b"subnet", sid, b"public_key"], self.root_key_der.clone());
        tree.insert(&[b"subnet", sid, b"canister_ranges"], ranges_cbor.clone());
        tree.insert(&[b"subnet", sid, b"type"], b"application".to_vec());
        tree.insert(
            &[
                b"subnet",
                sid,
                b"node",
                self.node.id().as_slice(),
                b"public_key",
            ],
            self.node.public_key_der(),
        );
        tree.insert(
            &[b"canister_ranges", sid, ranges[0].0.as_slice()],
            ranges_cbor,
        );
    }
}

fn canister_ranges() -> Vec<(Principal, Principal)> {
    let low = Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
    let high = Principal::from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 1]);
    vec![(low, high)]
}

/// The node's Ed25519 key, fixed so a failure reproduces.
pub(crate) struct NodeKey {
    key: ed25519_dalek::SigningKey,
}

impl NodeKey {
    fn new() -> Self {
        use sha2::Digest as _;
        let seed: [u8; 32] = sha2::Sha256::digest(b"asset-server test node").into();
        NodeKey {
            key: ed25519_dalek::SigningKey::from_bytes(&seed),
        }
    }

    pub fn public_key_der(&self) -> Vec<u8> {
        let mut der = ED25519_DER_PREFIX.to_vec();
        der.extend_from_slice(self.key.verifying_key().as_bytes());
        der
    }

    /// The node id: the self-authenticating principal of its key.
    pub fn id(&self) -> Principal {
        Principal::self_authenticating(self.public_key_der())
    }

    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.key.sign(message).to_bytes().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ic_certification::hash_tree::LookupResult;

    fn sample() -> Node {
        let mut tree = Node::branch();
        tree.insert(&[b"time"], leb128(42));
        tree.insert(
            &[b"request_status", b"aaaa", b"status"],
            b"replied".to_vec(),
        );
        tree.insert(&[b"request_status", b"aaaa", b"reply"], b"DIDL".to_vec());
        tree.insert(
            &[b"request_status", b"cccc", b"status"],
            b"replied".to_vec(),
        );
        tree
    }

    #[test]
    fn a_witness_has_the_full_trees_root_hash_and_reveals_only_what_was_asked() {
        let tree = sample();
        let full = tree.full();
        let witness = tree.witness(&[vec![b"request_status".to_vec(), b"aaaa".to_vec()]]);
        assert_eq!(witness.digest(), full.digest());
        assert_eq!(
            witness.lookup_path([b"request_status".as_ref(), b"aaaa", b"reply"]),
            LookupResult::Found(b"DIDL".as_ref())
        );
        assert_eq!(
            witness.lookup_path([b"request_status".as_ref(), b"cccc", b"status"]),
            LookupResult::Unknown
        );
        assert_eq!(
            witness.lookup_path([b"request_status".as_ref(), b"bbbb", b"status"]),
            LookupResult::Absent,
            "an unknown request is provably absent"
        );
        assert_eq!(
            witness.lookup_path([b"time".as_ref()]),
            LookupResult::Unknown,
            "what was not asked for is pruned"
        );
    }
}
