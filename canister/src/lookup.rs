//! Which stored asset and which of its bodies answer a request path. The
//! certification tree is filled from the same answers, so a served body is
//! always the one certified for its path.

use crate::aliases::alias_targets;
use crate::store::{AssetRecord, EncodingRecord, Records};

pub const IDENTITY: &str = "identity";

/// The asset answering `path`: stored under it, or else an aliased asset
/// (`/x` -> `/x.html`, `/d/` -> `/d/index.html`). Assets without any body
/// yet answer nothing.
pub fn resolve(assets: &Records, path: &str) -> Option<(String, AssetRecord)> {
    let servable = |record: &&AssetRecord| !record.encodings.is_empty();
    if let Some(record) = assets.get(path).filter(servable) {
        return Some((path.to_string(), record.clone()));
    }
    alias_targets(path).into_iter().find_map(|key| {
        assets
            .get(&key)
            .filter(|record| record.aliased() && servable(record))
            .map(|record| (key, record.clone()))
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

/// The site's 404 page: served with status 404 under v2 for paths no asset
/// answers, instead of the single-page-app fallback to `/index.html`.
pub const NOT_FOUND_PAGE: &str = "/404.html";

/// What v2 answers for a path that no asset answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fallback {
    /// The site has a `/404.html` (in one chunk): it, with status 404.
    NotFoundPage(AssetRecord),
    /// Else, a single-page app: `/index.html` with status 200.
    Index(AssetRecord),
    /// Else a short certified text with status 404.
    Text,
}

pub fn fallback(assets: &Records) -> Fallback {
    if let Some((_, record)) = resolve(assets, NOT_FOUND_PAGE)
        && record.encodings.values().any(|e| e.chunks.len() <= 1)
    {
        return Fallback::NotFoundPage(record);
    }
    match resolve(assets, crate::certification::FALLBACK_PATH) {
        Some((_, record)) => Fallback::Index(record),
        None => Fallback::Text,
    }
}

/// The body v2 sends to a client that accepts `accepted` (encoding, quality
/// in thousandths) among `record`'s bodies that pass `usable`: the best
/// quality, and for equal qualities the smallest form (br, gzip, deflate,
/// identity). When the client accepts none, identity or else any body: an
/// answer it may not decode beats none.
pub fn negotiated_encoding<'r>(
    record: &'r AssetRecord,
    accepted: &[(String, u32)],
    usable: impl Fn(&EncodingRecord) -> bool,
) -> Option<(&'r str, &'r EncodingRecord)> {
    let quality = |name: &str| {
        let named = accepted.iter().find(|(n, _)| n == name).map(|(_, q)| *q);
        let any = accepted.iter().find(|(n, _)| n == "*").map(|(_, q)| *q);
        named
            .or(any)
            .unwrap_or(if name == IDENTITY { 1 } else { 0 })
    };
    let rank = |name: &str| match name {
        "br" => 4,
        "gzip" => 3,
        "deflate" => 2,
        IDENTITY => 1,
        _ => 0,
    };
    let usable_bodies = || {
        record
            .encodings
            .iter()
            .filter(|(_, encoding)| usable(encoding))
    };
    usable_bodies()
        .filter(|(name, _)| quality(name) > 0)
        .max_by_key(|(name, _)| (quality(name), rank(name)))
        .or_else(|| usable_bodies().find(|(name, _)| *name == IDENTITY))
        .or_else(|| usable_bodies().next())
        .map(|(name, encoding)| (name.as_str(), encoding))
}
