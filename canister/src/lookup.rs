//! Which stored asset and which of its bodies answer a request path. The
//! certification tree is filled from the same answers, so a served body is
//! always the one certified for its path.

use ic_stable_structures::Memory;

use crate::aliases::alias_targets;
use crate::store::{AssetRecord, Assets, EncodingRecord};

pub const IDENTITY: &str = "identity";

/// The asset answering `path`: stored under it, or else an aliased asset
/// (`/x` -> `/x.html`, `/d/` -> `/d/index.html`). Assets without any body
/// yet answer nothing.
pub fn resolve<M: Memory>(assets: &Assets<M>, path: &str) -> Option<(String, AssetRecord)> {
    let servable = |record: &AssetRecord| !record.encodings.is_empty();
    if let Some(record) = assets.get(&path.to_string())
        && servable(&record)
    {
        return Some((path.to_string(), record));
    }
    alias_targets(path).into_iter().find_map(|key| {
        assets
            .get(&key)
            .filter(|record| record.aliased() && servable(record))
            .map(|record| (key, record))
    })
}

/// The body whose hash v1 certifies: the identity body when there is one
/// (verifiers decompress gzip and deflate before hashing), else the first
/// of the others, whose raw hash verifiers try second.
pub fn certified_encoding(record: &AssetRecord) -> Option<(&str, &EncodingRecord)> {
    record
        .encodings
        .get_key_value(IDENTITY)
        .or_else(|| record.encodings.get_key_value("gzip"))
        .or_else(|| record.encodings.get_key_value("deflate"))
        .or_else(|| record.encodings.iter().next())
        .map(|(name, encoding)| (name.as_str(), encoding))
}

/// The body to send to a client that accepts `accepted` encodings. Only
/// bodies that verify against the certified hash are candidates: gzip or
/// deflate when an identity body is certified, else the certified body.
pub fn served_encoding<'r>(
    record: &'r AssetRecord,
    accepted: &[String],
) -> Option<(&'r str, &'r EncodingRecord)> {
    if record.encodings.contains_key(IDENTITY) {
        for candidate in accepted {
            if (candidate == "gzip" || candidate == "deflate")
                && let Some((name, encoding)) = record.encodings.get_key_value(candidate.as_str())
            {
                return Some((name.as_str(), encoding));
            }
        }
    }
    certified_encoding(record)
}
