//! Answers requests that ask for certification v2 (today's gateways send
//! `certificate_version = 2`). Every answer is certified with its status and
//! headers: assets in each stored encoding, large bodies as one `206` per
//! chunk, `304` for a current etag, the fallback page, and our errors.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ic_stable_structures::Memory;
use serde_bytes::ByteBuf;

use super::accept::qualities;
use super::range::{self, Ask};
use super::url::{UrlError, request_path};
use super::{QueryContext, header_values, read_chunk};
use crate::certification::{
    Certification, CertifiedTree, Head, Part, Scope, asset_head, cached_certification, certify,
    error_body, error_certification, error_head, normalized,
};
use crate::lookup::{Fallback, fallback, negotiated_encoding, resolve};
use crate::phases::mark;
use crate::store::{AssetRecord, Stores};
use crate::types::{HttpRequest, HttpResponse};

/// The v2 answer, or `None` when the asset's bodies were stored before v2
/// and are served under v1 instead.
pub fn http_request<M: Memory>(
    stores: &Stores<M>,
    tree: &CertifiedTree,
    context: &QueryContext<'_>,
    request: &HttpRequest,
) -> Option<HttpResponse> {
    let responder = Responder { tree, context };
    let (path, parsed) = match request_path(&request.url) {
        Ok(path) => (normalized(&path), true),
        // The verifier reads such a path with the bad escape left as it
        // is; our 400 is certified for it under the root wildcard.
        Err(UrlError::BadEscape) => match lenient_path(&request.url) {
            Some(path) => (path, false),
            None => return Some(uncertified(400, error_body(400))),
        },
        Err(_) => return Some(uncertified(400, error_body(400))),
    };
    mark("url");
    let found = if parsed {
        resolve(stores.assets.records(), &path)
    } else {
        None
    };
    mark("lookup");
    let scope = match found {
        Some(_) => Scope::Exact(path.clone()),
        None => Scope::Fallback,
    };
    // Any case, as under v1 (`mod.rs`).
    if !request.method.eq_ignore_ascii_case("GET") && !request.method.eq_ignore_ascii_case("HEAD") {
        return Some(responder.error(405, &scope, &path));
    }
    if !parsed {
        return Some(responder.error(400, &scope, &path));
    }
    let asked = Asked::from(request);
    match found {
        Some((_, record)) => responder.asset(stores, &asked, &scope, &path, &record, 200),
        None => match fallback(stores.assets.records()) {
            Fallback::NotFoundPage(record) => {
                responder.asset(stores, &asked, &scope, &path, &record, 404)
            }
            Fallback::Index(record) => responder.asset(stores, &asked, &scope, &path, &record, 200),
            Fallback::Text => Some(responder.error(404, &scope, &path)),
        },
    }
}

/// What the request's headers ask for.
struct Asked {
    encodings: Vec<(String, u32)>,
    range: Option<String>,
    if_none_match: Option<String>,
}

impl From<&HttpRequest> for Asked {
    fn from(request: &HttpRequest) -> Self {
        let first = |name: &str| header_values(request, name).next().map(str::to_string);
        Asked {
            encodings: qualities(&header_values(request, "accept-encoding").collect::<Vec<_>>()),
            range: first("range"),
            if_none_match: first("if-none-match"),
        }
    }
}

impl Asked {
    /// The client holds the body with this etag (`If-None-Match`).
    fn holds(&self, etag: &str) -> bool {
        self.if_none_match.as_deref().is_some_and(|value| {
            value
                .split(',')
                .map(|tag| tag.trim().trim_start_matches("W/"))
                .any(|tag| tag == etag || tag == "*")
        })
    }
}

struct Responder<'a> {
    tree: &'a CertifiedTree,
    context: &'a QueryContext<'a>,
}

impl Responder<'_> {
    /// `record`'s answer at `scope`: the whole body with `status`, a `206`
    /// chunk of a large body, or `304`.
    fn asset<M: Memory>(
        &self,
        stores: &Stores<M>,
        asked: &Asked,
        scope: &Scope,
        path: &str,
        record: &AssetRecord,
        status: u16,
    ) -> Option<HttpResponse> {
        // The same bodies `asset_certifications` certifies.
        let (name, encoding) = negotiated_encoding(record, &asked.encodings, |encoding| {
            if status == 200 {
                encoding.chunks_certifiable()
            } else {
                encoding.chunks.len() <= 1
            }
        })?;
        let conditional = matches!(scope, Scope::Exact(_));
        if conditional && asked.holds(&crate::certification::etag(encoding)) {
            let head = asset_head(record, name, encoding, Part::NotModified);
            let cached = cached_certification(record, name, Part::NotModified);
            return Some(self.respond(head, Vec::new(), sha256(b""), cached, scope, path));
        }
        if encoding.chunks.len() <= 1 {
            let head = asset_head(record, name, encoding, Part::Whole(status));
            mark("headers");
            let body = read_chunk(stores, encoding, 0);
            mark("body");
            let cached = cached_certification(record, name, Part::Whole(status));
            return Some(self.respond(head, body, encoding.sha256, cached, scope, path));
        }
        let spans = encoding.chunk_spans()?;
        let offset = match asked
            .range
            .as_deref()
            .map(|v| range::parse(v, encoding.length))
        {
            None | Some(Ask::Whole) => 0,
            Some(Ask::From(offset)) => offset,
            Some(Ask::Unsatisfiable) => {
                let mut response = uncertified(416, b"416 Range Not Satisfiable\n");
                response.headers.push((
                    "content-range".into(),
                    format!("bytes */{}", encoding.length),
                ));
                return Some(response);
            }
        };
        let span = *spans
            .iter()
            .rev()
            .find(|span| span.start <= offset)
            .expect("the first chunk starts at 0");
        let head = asset_head(record, name, encoding, Part::Chunk(span));
        mark("headers");
        let body = read_chunk(stores, encoding, span.index);
        mark("body");
        let cached = cached_certification(record, name, Part::Chunk(span));
        Some(self.respond(head, body, span.sha256, cached, scope, path))
    }

    fn error(&self, status: u16, scope: &Scope, path: &str) -> HttpResponse {
        let body = error_body(status);
        let certification = Some(error_certification(status));
        self.respond(
            error_head(status),
            body.to_vec(),
            sha256(body),
            certification,
            scope,
            path,
        )
    }

    fn respond(
        &self,
        head: Head,
        body: Vec<u8>,
        body_sha256: [u8; 32],
        cached: Option<Certification>,
        scope: &Scope,
        path: &str,
    ) -> HttpResponse {
        let mut headers = head.headers.clone();
        if let Some(certificate) = self.context.certificate {
            // Computed at commit and stored with the record, but for the
            // 404 page and records written by an older build.
            let certification = cached.unwrap_or_else(|| certify(&head, body_sha256));
            mark("response_hash");
            let witness = self.tree.v2_witness(scope, certification, path);
            mark("witness");
            let expr_path = crate::certification::to_cbor_value(&scope.expr_path());
            headers.push((
                "IC-Certificate".into(),
                format!(
                    "certificate=:{}:, tree=:{}:, expr_path=:{}:, version=2",
                    BASE64.encode(certificate),
                    BASE64.encode(witness),
                    BASE64.encode(expr_path)
                ),
            ));
            mark("certificate_header");
        }
        HttpResponse {
            status_code: head.status,
            headers,
            body: ByteBuf::from(body),
            streaming_strategy: None,
            upgrade: None,
        }
    }
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    crate::certification::sha256(bytes)
}

/// The path as the verifier decodes it when an escape is malformed: valid
/// escapes decoded, the others kept as they are.
fn lenient_path(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let path = super::url::strip_origin(path);
    if !path.starts_with('/') {
        return None;
    }
    percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .ok()
        .map(|decoded| decoded.into_owned())
}

fn uncertified(status: u16, body: &[u8]) -> HttpResponse {
    HttpResponse {
        status_code: status,
        headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())],
        body: ByteBuf::from(body.to_vec()),
        streaming_strategy: None,
        upgrade: None,
    }
}
