//! Every v2 response, as status and headers, and its certification. The
//! tree is filled from these functions and `http_request` answers with
//! them, so a response served is a response certified.
//!
//! All responses use one expression: the request is not certified (a path
//! answers the same whatever the query string or request headers), and
//! every response header except `IC-Certificate` is.

use std::sync::OnceLock;

use ic_certification::Hash;
use ic_http_certification::{
    DefaultCelBuilder, DefaultResponseCertification, HttpResponse, StatusCode, response_hash,
};
use sha2::{Digest, Sha256};

use crate::lookup::{Fallback, IDENTITY};
use crate::store::{AssetRecord, ChunkSpan, EncodingRecord, ResponseCache};
use crate::types::HeaderField;

pub const CERTIFICATE_EXPRESSION: &str = "IC-CertificateExpression";

/// Status and headers of a response; the body is what the caller sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    pub status: u16,
    pub headers: Vec<HeaderField>,
}

/// Which response of an asset's encoding.
#[derive(Clone, Copy, Debug)]
pub enum Part {
    /// The whole body, with this status (200, or 404 for the site's 404 page).
    Whole(u16),
    /// One chunk of a body of several, as `206 Partial Content`.
    Chunk(ChunkSpan),
    /// `304 Not Modified` for a client that holds the current etag.
    NotModified,
}

/// One certified response: the hash of its status, headers and body, under
/// the one expression all responses use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Certification {
    pub response_hash: Hash,
}

/// Computes the constants every answer uses (the expression, the error
/// answers' certifications). Call it where the heap persists (install,
/// upgrade), or each query would compute them again.
pub fn warm() {
    expression();
    error_certification(405);
    super::lazy::empty_leaf_hash();
}

/// The hash of the expression every response names.
pub fn expression_hash() -> Hash {
    expression().1
}

/// The expression every response names, and its hash.
fn expression() -> &'static (String, Hash) {
    static EXPRESSION: OnceLock<(String, Hash)> = OnceLock::new();
    EXPRESSION.get_or_init(|| {
        let text = DefaultCelBuilder::response_only_certification()
            .with_response_certification(DefaultResponseCertification::response_header_exclusions(
                vec![],
            ))
            .build()
            .to_string();
        let hash = sha256(text.as_bytes());
        (text, hash)
    })
}

pub fn sha256(bytes: &[u8]) -> Hash {
    Sha256::digest(bytes).into()
}

/// The strong etag of an encoded body.
pub fn etag(encoding: &EncodingRecord) -> String {
    format!("\"{}\"", hex::encode(encoding.sha256))
}

/// Status and headers of `part` of `record`'s body in `encoding_name`.
pub fn asset_head(
    record: &AssetRecord,
    encoding_name: &str,
    encoding: &EncodingRecord,
    part: Part,
) -> Head {
    let mut headers = Vec::new();
    let status = match part {
        Part::Whole(status) => status,
        Part::Chunk(_) => 206,
        Part::NotModified => 304,
    };
    if !matches!(part, Part::NotModified) {
        headers.push(("content-type".to_string(), record.content_type.clone()));
    }
    headers.push(("etag".to_string(), etag(encoding)));
    if let Some(max_age) = record.max_age {
        headers.push(("cache-control".into(), format!("max-age={max_age}")));
    }
    if record.encodings.len() > 1 {
        headers.push(("vary".into(), "accept-encoding".into()));
    }
    if !matches!(part, Part::NotModified) {
        if encoding_name != IDENTITY {
            headers.push(("content-encoding".into(), encoding_name.into()));
        }
        if encoding.chunks.len() > 1 {
            headers.push(("accept-ranges".into(), "bytes".into()));
        }
        if let Part::Chunk(span) = part {
            let end = span.start + span.length.max(1) - 1;
            headers.push((
                "content-range".into(),
                format!("bytes {}-{end}/{}", span.start, encoding.length),
            ));
        }
        headers.extend(record.headers.iter().flatten().cloned());
    }
    headers.push((CERTIFICATE_EXPRESSION.into(), expression().0.clone()));
    Head { status, headers }
}

/// Status and headers of the canister's own error answers.
pub fn error_head(status: u16) -> Head {
    let mut headers = vec![(
        "content-type".to_string(),
        "text/plain; charset=utf-8".to_string(),
    )];
    if status == 405 {
        headers.push(("allow".into(), "GET, HEAD".into()));
    }
    headers.push((CERTIFICATE_EXPRESSION.into(), expression().0.clone()));
    Head { status, headers }
}

/// The body of an error answer: the same for every path, so one certified
/// response covers them all.
pub fn error_body(status: u16) -> &'static [u8] {
    match status {
        400 => b"400 Bad Request: the request URL has a malformed percent escape\n",
        404 => b"404 Not Found: nothing is stored at this address\n",
        405 => b"405 Method Not Allowed: use GET or HEAD\n",
        _ => b"",
    }
}

/// The certification of a response with `head` and a body hashing to
/// `body_sha256`.
pub fn certify(head: &Head, body_sha256: Hash) -> Certification {
    let response = HttpResponse::builder()
        .with_status_code(StatusCode::from_u16(head.status).expect("a valid status"))
        .with_headers(head.headers.clone())
        .build();
    let response_hash = response_hash(
        &response,
        &DefaultResponseCertification::response_header_exclusions(vec![]),
        Some(body_sha256),
    );
    Certification { response_hash }
}

/// Version of how asset responses are built (`asset_head`, the
/// expression): bump it when either changes, so that response hashes
/// cached by an older build are recomputed instead of used.
const RESPONSES_FORMAT: u8 = 1;

/// What a record stores as its `responses`: the format, the expression's
/// hash, then the hashes of `asset_certifications(record, 200, true)`.
pub fn seal(record: &AssetRecord) -> ResponseCache {
    let certifications = compute_certifications(record, 200, true);
    let mut bytes = Vec::with_capacity(33 + 32 * certifications.len());
    bytes.push(RESPONSES_FORMAT);
    bytes.extend_from_slice(&expression().1);
    for certification in certifications {
        bytes.extend_from_slice(&certification.response_hash);
    }
    ResponseCache(bytes)
}

/// The record's cached `asset_certifications(record, 200, true)`, if the
/// cache was written by a build that answers as this one does.
fn cached(record: &AssetRecord) -> Option<Vec<Certification>> {
    let bytes = &record.responses.0;
    if bytes.len() < 33 || bytes[0] != RESPONSES_FORMAT || bytes[1..33] != expression().1 {
        return None;
    }
    let hashes = &bytes[33..];
    if hashes.len() != 32 * certification_count(record) {
        return None;
    }
    Some(
        hashes
            .chunks_exact(32)
            .map(|h| Certification {
                response_hash: h.try_into().expect("32 bytes"),
            })
            .collect(),
    )
}

/// How many responses `asset_certifications(record, 200, true)` lists.
fn certification_count(record: &AssetRecord) -> usize {
    record.encodings.values().map(responses_of).sum()
}

/// The responses one encoding has at status 200: its body or its chunks,
/// and the 304.
fn responses_of(encoding: &EncodingRecord) -> usize {
    let bodies = if encoding.chunks.len() <= 1 {
        1
    } else if encoding.chunks_certifiable() {
        encoding.chunks.len()
    } else {
        0
    };
    bodies + 1
}

/// The certification of `part` of `record`'s body in `encoding_name` at
/// status 200 (or 304) from the record's cache; `None` when the cache
/// cannot say (written by an older build, or another status).
pub fn cached_certification(
    record: &AssetRecord,
    encoding_name: &str,
    part: Part,
) -> Option<Certification> {
    let mut index = 0;
    for (name, encoding) in &record.encodings {
        if name == encoding_name {
            index += match part {
                Part::Whole(200) if encoding.chunks.len() <= 1 => 0,
                Part::Chunk(span) if encoding.chunks.len() > 1 => span.index,
                Part::NotModified => responses_of(encoding) - 1,
                _ => return None,
            };
            return cached(record)?.get(index).copied();
        }
        index += responses_of(encoding);
    }
    None
}

/// Every response `record` gives: its whole bodies with `status` (bodies of
/// several chunks as one `206` per chunk, when `status` is 200), and a `304`
/// per body when `not_modified`. Bodies stored before v2 whose chunks are
/// not each hashed get none (they are served under v1).
pub fn asset_certifications(
    record: &AssetRecord,
    status: u16,
    not_modified: bool,
) -> Vec<Certification> {
    if status == 200
        && not_modified
        && let Some(certifications) = cached(record)
    {
        return certifications;
    }
    compute_certifications(record, status, not_modified)
}

fn compute_certifications(
    record: &AssetRecord,
    status: u16,
    not_modified: bool,
) -> Vec<Certification> {
    let mut certifications = Vec::new();
    for (name, encoding) in &record.encodings {
        if encoding.chunks.len() <= 1 {
            let head = asset_head(record, name, encoding, Part::Whole(status));
            certifications.push(certify(&head, encoding.sha256));
        } else if status == 200
            && let Some(spans) = encoding.chunk_spans()
        {
            for span in spans {
                let head = asset_head(record, name, encoding, Part::Chunk(span));
                certifications.push(certify(&head, span.sha256));
            }
        }
        if not_modified {
            let head = asset_head(record, name, encoding, Part::NotModified);
            certifications.push(certify(&head, sha256(b"")));
        }
    }
    certifications
}

/// Everything certified at a path that `record` answers exactly.
pub fn path_certifications(record: &AssetRecord) -> Vec<Certification> {
    let mut certifications = asset_certifications(record, 200, true);
    certifications.push(error_certification(405));
    certifications
}

/// The certification of the error answer with `status` (400, 404 or
/// 405): the same everywhere, so computed once.
pub fn error_certification(status: u16) -> Certification {
    static ERRORS: OnceLock<[Certification; 3]> = OnceLock::new();
    let errors = ERRORS
        .get_or_init(|| [400, 404, 405].map(|s| certify(&error_head(s), sha256(error_body(s)))));
    match status {
        400 => errors[0],
        404 => errors[1],
        405 => errors[2],
        _ => certify(&error_head(status), sha256(error_body(status))),
    }
}

/// Everything certified at the root wildcard: the fallback answer and the
/// errors a path without an exact entry may get.
pub fn fallback_certifications(fallback: &Fallback) -> Vec<Certification> {
    let mut certifications = match fallback {
        Fallback::NotFoundPage(record) => asset_certifications(record, 404, false),
        Fallback::Index(record) => asset_certifications(record, 200, false),
        Fallback::Text => vec![error_certification(404)],
    };
    for status in [400, 405] {
        certifications.push(error_certification(status));
    }
    certifications
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::chunk_entry;

    fn encoding(bodies: &[&[u8]]) -> EncodingRecord {
        let whole: Vec<u8> = bodies.concat();
        EncodingRecord {
            sha256: sha256(&whole),
            length: whole.len() as u64,
            modified: 7,
            chunks: (0..bodies.len() as u64).collect(),
            chunk_table: if bodies.len() > 1 {
                bodies.iter().flat_map(|b| chunk_entry(b)).collect()
            } else {
                Vec::new()
            },
        }
    }

    fn record() -> AssetRecord {
        let mut record = AssetRecord::new("text/html".into());
        record.max_age = Some(60);
        record.headers = Some(vec![("x-a".into(), "1".into())]);
        record.encodings.insert("br".into(), encoding(&[b"b"]));
        record
            .encodings
            .insert("gzip".into(), encoding(&[b"g1", b"g2", b"g3"]));
        record
            .encodings
            .insert("identity".into(), encoding(&[b"i"]));
        record
    }

    #[test]
    fn sealed_responses_are_the_computed_ones() {
        let mut record = record();
        let computed = compute_certifications(&record, 200, true);
        assert_eq!(cached(&record), None, "nothing sealed yet");
        record.responses = seal(&record);
        assert_eq!(cached(&record), Some(computed.clone()));
        assert_eq!(asset_certifications(&record, 200, true), computed);
        // Each part finds its own among them.
        for (name, encoding) in &record.encodings {
            let mut parts = vec![Part::NotModified];
            match encoding.chunk_spans() {
                Some(spans) if spans.len() > 1 => parts.extend(spans.into_iter().map(Part::Chunk)),
                _ => parts.push(Part::Whole(200)),
            }
            for part in parts {
                let head = asset_head(&record, name, encoding, part);
                let body = match part {
                    Part::Chunk(span) => span.sha256,
                    Part::NotModified => sha256(b""),
                    Part::Whole(_) => encoding.sha256,
                };
                assert_eq!(
                    cached_certification(&record, name, part),
                    Some(certify(&head, body)),
                    "{name} {part:?}"
                );
            }
        }
        assert_eq!(cached_certification(&record, "br", Part::Whole(404)), None);
    }

    #[test]
    fn a_stale_cache_is_not_used() {
        let mut record = record();
        record.responses = seal(&record);
        // Another encoding added without sealing again: the count differs.
        record.encodings.insert("deflate".into(), encoding(&[b"d"]));
        assert_eq!(cached(&record), None);
        // Another format or expression.
        let mut record = self::tests::record();
        record.responses = seal(&record);
        record.responses.0[0] = RESPONSES_FORMAT + 1;
        assert_eq!(cached(&record), None);
    }
}
