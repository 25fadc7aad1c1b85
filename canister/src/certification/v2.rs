//! The v2 branch (`http_expr`), kept by `ic-http-certification`: under each
//! request path, one leaf per response the canister may give there, keyed by
//! the hash of its certification expression and of the response itself
//! (status, headers, body). A path no asset answers is covered by the root
//! wildcard, which holds the site's fallback and error responses.

use ic_certification::{Hash, HashTree};
use ic_http_certification::{
    HttpCertification, HttpCertificationPath, HttpCertificationTree, HttpCertificationTreeEntry,
};

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
}

#[derive(Default)]
pub struct V2Tree {
    tree: HttpCertificationTree,
}

impl V2Tree {
    /// The hash of the labeled branch.
    pub fn root_hash(&self) -> Hash {
        self.tree.root_hash()
    }

    /// Makes `certifications` the only responses certified at `scope`.
    pub fn replace(
        &mut self,
        scope: &Scope,
        certifications: impl IntoIterator<Item = HttpCertification>,
    ) {
        self.tree.delete_by_path(&scope.path());
        self.add(scope, certifications);
    }

    /// Certifies `certifications` at `scope` besides what is there (for
    /// building a tree from nothing, where there is nothing to replace).
    pub fn add(
        &mut self,
        scope: &Scope,
        certifications: impl IntoIterator<Item = HttpCertification>,
    ) {
        let path = scope.path();
        for certification in certifications {
            self.tree
                .insert(&HttpCertificationTreeEntry::new(&path, certification));
        }
    }

    /// The labeled witness of one certified response, for a request whose
    /// decoded path is `request_path`; for the fallback it also proves that
    /// no exact or more specific entry exists for that path.
    pub fn witness(
        &self,
        scope: &Scope,
        certification: HttpCertification,
        request_path: &str,
    ) -> HashTree {
        let path = scope.path();
        let entry = HttpCertificationTreeEntry::new(&path, certification);
        self.tree
            .witness(&entry, request_path)
            .expect("the root wildcard is valid for every request path")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certification(n: u8) -> HttpCertification {
        HttpCertification::response_only_prehashed([0; 32], [n; 32])
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
