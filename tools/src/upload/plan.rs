//! What an upload must change: compares the local files with the
//! canister's `list` and decides, per key, skip / create / replace / delete.
//! Pure, so the rules are tested without a canister.

use std::collections::{BTreeMap, BTreeSet};

use asset_server::types::AssetDetails;

use super::encode::{Encoded, encodings, sha256};
use super::walk::LocalFile;

/// One file whose content goes up in this batch.
#[derive(Clone, Debug)]
pub struct FileUpload {
    pub key: String,
    pub content_type: String,
    /// The key is new, or was deleted first: send `CreateAsset`.
    pub create: bool,
    /// The key exists with another content type, which `SetAssetContent`
    /// cannot change: send `DeleteAsset` then `CreateAsset`.
    pub replace: bool,
    pub encodings: Vec<Encoded>,
    /// Encodings on the canister this upload no longer has (e.g. a gzip
    /// that stopped saving bytes): unset them so no stale body is served.
    pub unset: Vec<String>,
}

impl FileUpload {
    pub fn bytes(&self) -> u64 {
        self.encodings.iter().map(|e| e.body.len() as u64).sum()
    }
}

#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub uploads: Vec<FileUpload>,
    /// Keys whose identity SHA-256 and content type are unchanged.
    pub skipped: Vec<String>,
    /// Keys on the canister that are not in the directory any more.
    pub deletes: Vec<String>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.uploads.is_empty() && self.deletes.is_empty()
    }

    pub fn bytes(&self) -> u64 {
        self.uploads.iter().map(FileUpload::bytes).sum()
    }
}

/// Plans a sync of `local` onto a canister holding `remote`.
pub fn plan(local: &[LocalFile], remote: &[AssetDetails]) -> Plan {
    let remote: BTreeMap<&str, &AssetDetails> = remote
        .iter()
        .map(|asset| (asset.key.as_str(), asset))
        .collect();
    let local_keys: BTreeSet<&str> = local.iter().map(|f| f.key.as_str()).collect();
    let mut plan = Plan {
        deletes: remote
            .keys()
            .filter(|key| !local_keys.contains(*key))
            .map(|key| key.to_string())
            .collect(),
        ..Plan::default()
    };
    for file in local {
        let existing = remote.get(file.key.as_str());
        let same_type = existing.is_some_and(|asset| asset.content_type == file.content_type);
        if same_type && identity_sha256(existing.copied()) == Some(sha256(&file.body)) {
            plan.skipped.push(file.key.clone());
            continue;
        }
        let encodings = encodings(&file.content_type, &file.body);
        let unset = match existing {
            Some(asset) if same_type => asset
                .encodings
                .iter()
                .map(|e| e.content_encoding.clone())
                .filter(|name| !encodings.iter().any(|e| e.encoding == name))
                .collect(),
            _ => Vec::new(),
        };
        plan.uploads.push(FileUpload {
            key: file.key.clone(),
            content_type: file.content_type.clone(),
            create: !same_type,
            replace: existing.is_some() && !same_type,
            encodings,
            unset,
        });
    }
    plan
}

fn identity_sha256(asset: Option<&AssetDetails>) -> Option<[u8; 32]> {
    asset?
        .encodings
        .iter()
        .find(|e| e.content_encoding == "identity")?
        .sha256
        .as_ref()?
        .as_slice()
        .try_into()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use asset_server::types::AssetEncodingDetails;
    use candid::{Int, Nat};
    use serde_bytes::ByteBuf;

    fn remote(key: &str, content_type: &str, body: &[u8], encodings: &[&str]) -> AssetDetails {
        AssetDetails {
            key: key.into(),
            content_type: content_type.into(),
            encodings: encodings
                .iter()
                .map(|name| AssetEncodingDetails {
                    content_encoding: name.to_string(),
                    sha256: Some(ByteBuf::from(sha256(body).to_vec())),
                    length: Nat::from(body.len()),
                    modified: Int::from(0),
                })
                .collect(),
        }
    }

    #[test]
    fn unchanged_is_skipped_changed_is_uploaded_missing_is_deleted() {
        let local = vec![
            LocalFile::new("/a.txt", b"same".to_vec()),
            LocalFile::new("/b.txt", b"new content".to_vec()),
            LocalFile::new("/c.txt", b"brand new".to_vec()),
        ];
        let remote = vec![
            remote("/a.txt", "text/plain", b"same", &["identity"]),
            remote(
                "/b.txt",
                "text/plain",
                b"old content",
                &["identity", "gzip"],
            ),
            remote("/gone.txt", "text/plain", b"x", &["identity"]),
        ];
        let plan = plan(&local, &remote);
        assert_eq!(plan.skipped, ["/a.txt"]);
        assert_eq!(plan.deletes, ["/gone.txt"]);
        let keys: Vec<_> = plan.uploads.iter().map(|u| u.key.as_str()).collect();
        assert_eq!(keys, ["/b.txt", "/c.txt"]);
        let b = &plan.uploads[0];
        assert!(!b.create && !b.replace);
        assert_eq!(
            b.unset,
            ["gzip"],
            "a stale gzip must not outlive its identity body"
        );
        assert!(plan.uploads[1].create && !plan.uploads[1].replace);
    }

    #[test]
    fn a_changed_content_type_replaces_the_asset() {
        let local = vec![LocalFile::new("/x.json", b"{}".to_vec())];
        let remote = vec![remote("/x.json", "text/plain", b"{}", &["identity"])];
        let plan = plan(&local, &remote);
        assert!(plan.skipped.is_empty());
        assert!(plan.uploads[0].create && plan.uploads[0].replace);
        assert!(plan.uploads[0].unset.is_empty());
    }
}
