//! The v2 branch (`http_expr`), kept by `ic-http-certification`: under each
//! request path, one leaf per response the canister may give there, keyed by
//! the hash of its certification expression and of the response itself
//! (status, headers, body). A path no asset answers is covered by the root
//! wildcard, which holds the site's fallback and error responses.

use ic_http_certification::HttpCertificationPath;
use ic_http_certification::utils::more_specific_wildcards_for;

use super::lazy::{Hash, LazyTree, Source, Witness, labeled_hash};
use super::responses::{Certification, expression_hash};

const LABEL: &[u8] = b"http_expr";

/// The path as the v2 tree (and so the verifier) sees it: empty segments
/// dropped, a trailing slash kept (`///` is `/`, `/a//b/` is `/a/b/`). Only
/// such paths get exact entries; a request for `/a//b` is answered as
/// `/a/b` under v2.
pub fn normalized(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut normal = format!("/{}", segments.join("/"));
    if path.ends_with('/') && !segments.is_empty() {
        normal.push('/');
    }
    normal
}

/// Where in the tree a response is certified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Exactly this decoded request path.
    Exact(String),
    /// Every path without an exact entry (the wildcard at `/`).
    Fallback,
}

impl Scope {
    fn path(&self) -> HttpCertificationPath<'_> {
        match self {
            Scope::Exact(path) => HttpCertificationPath::exact(path.as_str()),
            Scope::Fallback => HttpCertificationPath::wildcard("/"),
        }
    }

    /// The path the `IC-Certificate` header's `expr_path` field names.
    pub fn expr_path(&self) -> Vec<String> {
        self.path().to_expr_path()
    }

    /// The labels below `http_expr`: segments, then `<$>` or `<*>`.
    fn labels(&self) -> Vec<Vec<u8>> {
        tree_path(self.expr_path())
    }
}

/// `expr_path` without its leading `http_expr`, as tree labels.
fn tree_path(expr_path: Vec<String>) -> Vec<Vec<u8>> {
    expr_path
        .into_iter()
        .skip(1)
        .map(String::into_bytes)
        .collect()
}

/// The labels of one response's leaf at `scope`: the scope's, then the
/// expression hash, the (uncertified) request's empty label and the
/// response hash.
fn entry_path(scope_labels: &[Vec<u8>], certification: &Certification) -> Vec<Vec<u8>> {
    let mut path = scope_labels.to_vec();
    path.push(expression_hash().to_vec());
    path.push(Vec::new());
    path.push(certification.response_hash.to_vec());
    path
}

fn as_slices(path: &[Vec<u8>]) -> Vec<&[u8]> {
    path.iter().map(Vec::as_slice).collect()
}

#[derive(Default)]
pub struct V2Tree {
    tree: LazyTree,
}

impl V2Tree {
    /// The hash of the labeled branch.
    pub fn root_hash(&self) -> Hash {
        labeled_hash(LABEL, &self.tree.root_hash())
    }

    pub fn save(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        self.tree.save(out)
    }

    pub fn load(input: &mut Source<impl std::io::Read>) -> Option<Self> {
        Some(Self {
            tree: LazyTree::load(input)?,
        })
    }

    /// Makes `certifications` the only responses certified at `scope`.
    pub fn replace(
        &mut self,
        scope: &Scope,
        certifications: impl IntoIterator<Item = Certification>,
    ) {
        self.tree.delete(&as_slices(&scope.labels()));
        self.add(scope, certifications);
    }

    /// Certifies `certifications` at `scope` besides what is there (for
    /// building a tree from nothing, where there is nothing to replace).
    pub fn add(&mut self, scope: &Scope, certifications: impl IntoIterator<Item = Certification>) {
        let labels = scope.labels();
        let expression = expression_hash();
        let hashes: Vec<Hash> = certifications
            .into_iter()
            .map(|c| c.response_hash)
            .collect();
        let suffixes: Vec<[&[u8]; 3]> = hashes
            .iter()
            .map(|hash| [expression.as_slice(), b"".as_slice(), hash.as_slice()])
            .collect();
        let suffixes: Vec<&[&[u8]]> = suffixes.iter().map(|s| s.as_slice()).collect();
        self.tree.insert_below(&as_slices(&labels), &suffixes);
    }

    /// The labeled witness of one certified response, for a request whose
    /// decoded path is `request_path`; for the fallback it also proves that
    /// no exact or more specific entry exists for that path.
    pub fn witness(
        &self,
        scope: &Scope,
        certification: Certification,
        request_path: &str,
    ) -> Witness {
        let labels = scope.labels();
        let mut witness = self
            .tree
            .witness(&as_slices(&entry_path(&labels, &certification)));
        if *scope == Scope::Fallback {
            let requested = tree_path(HttpCertificationPath::exact(request_path).to_expr_path());
            witness = witness.merge(self.tree.witness(&as_slices(&requested)));
            for path in more_specific_wildcards_for(&requested, &labels) {
                witness = witness.merge(self.tree.witness(&as_slices(&path)));
            }
        }
        Witness::Labeled(LABEL.to_vec(), Box::new(witness))
    }

    /// Appends the CBOR of `witness`: written as the tree is walked for
    /// an exact match (a page view), built first for the fallback.
    pub fn write_witness(
        &self,
        scope: &Scope,
        certification: Certification,
        request_path: &str,
        out: &mut Vec<u8>,
    ) {
        if *scope != Scope::Fallback {
            let start = out.len();
            out.extend_from_slice(&[0x83, 0x02]);
            super::lazy::write_bytes(LABEL, out);
            let path = entry_path(&scope.labels(), &certification);
            if self.tree.write_path_witness(&as_slices(&path), out) {
                return;
            }
            out.truncate(start);
        }
        self.witness(scope, certification, request_path)
            .write_cbor(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certification(n: u8) -> Certification {
        Certification {
            response_hash: [n; 32],
        }
    }

    #[test]
    fn normalized_paths_drop_empty_segments_and_keep_a_trailing_slash() {
        for (path, normal) in [
            ("/", "/"),
            ("///", "/"),
            ("/a//b", "/a/b"),
            ("//a/b//", "/a/b/"),
            ("/a b/c.js", "/a b/c.js"),
        ] {
            assert_eq!(normalized(path), normal, "{path}");
        }
    }

    #[test]
    fn replace_leaves_only_the_new_certifications() {
        let mut replaced = V2Tree::default();
        replaced.replace(&Scope::Exact("/a".into()), [certification(1)]);
        replaced.replace(&Scope::Exact("/b".into()), [certification(3)]);
        replaced.replace(&Scope::Exact("/a".into()), [certification(2)]);
        let mut fresh = V2Tree::default();
        fresh.replace(&Scope::Exact("/b".into()), [certification(3)]);
        fresh.replace(&Scope::Exact("/a".into()), [certification(2)]);
        assert_eq!(replaced.root_hash(), fresh.root_hash());
    }

    #[test]
    fn replacing_with_nothing_empties_the_tree() {
        let mut tree = V2Tree::default();
        tree.replace(&Scope::Exact("/a/b".into()), [certification(1)]);
        tree.replace(&Scope::Exact("/a/b".into()), []);
        assert_eq!(tree.root_hash(), V2Tree::default().root_hash());
    }
}
