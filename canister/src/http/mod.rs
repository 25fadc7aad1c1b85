//! Answers `http_request` and `http_request_streaming_callback`: finds the
//! asset, picks the body for the client's encodings, and attaches the
//! `IC-Certificate` header that lets a gateway verify it: v2 (`v2.rs`) when
//! the request asks for it, else v1 (here).

mod accept;
mod range;
mod raw_domain;
mod url;
mod v2;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use candid::{Func, Nat, Principal};
use ic_stable_structures::Memory;
use serde_bytes::ByteBuf;

use crate::certification::{CertifiedTree, FALLBACK_PATH};
use crate::error::{AssetError, Result};
use crate::lookup::{resolve, served_encoding};
use crate::phases::mark;
use crate::store::{AssetRecord, EncodingRecord, Stores};
use crate::types::{
    HeaderField, HttpRequest, HttpResponse, StreamingCallback, StreamingCallbackHttpResponse,
    StreamingCallbackToken, StreamingStrategy,
};

pub use raw_domain::{certified_alternative, normalize_host};
pub use url::request_path;

/// What a query learns from the system, passed in by the API edge.
pub struct QueryContext<'a> {
    pub canister_id: Principal,
    /// `ic0.data_certificate`: present only in non-replicated queries.
    pub certificate: Option<&'a [u8]>,
}

pub fn http_request<M: Memory>(
    stores: &Stores<M>,
    tree: &CertifiedTree,
    context: &QueryContext<'_>,
    request: &HttpRequest,
) -> HttpResponse {
    if let Some(refusal) = refuse_raw_domain(request) {
        return refusal;
    }
    if request.certificate_version.unwrap_or(1) >= 2
        && let Some(response) = v2::http_request(stores, tree, context, request)
    {
        return response;
    }
    // Any case: DFINITY's asset canister serves whatever the method, and
    // @dfinity/assets' `isCertified` asks with `get`.
    if !request.method.eq_ignore_ascii_case("GET") && !request.method.eq_ignore_ascii_case("HEAD") {
        let mut response = text_response(405, "405 Method Not Allowed: use GET or HEAD\n");
        response.headers.push(("allow".into(), "GET, HEAD".into()));
        return response;
    }
    let path = match request_path(&request.url) {
        Ok(path) => path,
        Err(error) => return text_response(400, &format!("400 Bad Request: {error}\n")),
    };
    let certificate_header = |certified_path: &str| {
        context.certificate.map(|certificate| {
            let witness = tree.v1_witness(certified_path);
            mark("witness");
            let header = certificate_header(certificate, &witness);
            mark("certificate_header");
            header
        })
    };
    mark("url");
    let accept_values: Vec<&str> = header_values(request, "accept-encoding").collect();
    let accepted = accept::accepted_encodings(&accept_values);

    // An unknown path gets /index.html, as v1 verifiers expect (SPA routing).
    let found = resolve(stores.assets.records(), &path)
        .or_else(|| resolve(stores.assets.records(), FALLBACK_PATH))
        .and_then(|(key, record)| {
            let (name, encoding) = served_encoding(&record, &accepted)?;
            let (name, encoding) = (name.to_string(), encoding.clone());
            Some((key, record, name, encoding))
        });
    mark("lookup");
    let Some((key, record, encoding_name, encoding)) = found else {
        let mut response = text_response(404, &format!("404 Not Found: {path}\n"));
        response.headers.extend(certificate_header(&path));
        return response;
    };

    let headers = asset_headers(&record, &encoding_name, &encoding);
    mark("headers");
    let body = ByteBuf::from(read_chunk(stores, &encoding, 0));
    mark("body");
    let mut response = HttpResponse {
        status_code: 200,
        headers,
        body,
        streaming_strategy: None,
        upgrade: None,
    };
    response.headers.extend(certificate_header(&path));
    if encoding.chunks.len() > 1 {
        response.streaming_strategy = Some(StreamingStrategy::Callback {
            callback: StreamingCallback(Func {
                principal: context.canister_id,
                method: "http_request_streaming_callback".into(),
            }),
            token: StreamingCallbackToken {
                key,
                content_encoding: encoding_name,
                index: Nat::from(1u64),
                sha256: Some(ByteBuf::from(encoding.sha256.to_vec())),
            },
        });
    }
    response
}

/// The chunk a streaming token asks for, and the token for the next one.
pub fn streaming_callback<M: Memory>(
    stores: &Stores<M>,
    token: &StreamingCallbackToken,
) -> Result<Option<StreamingCallbackHttpResponse>> {
    let record = stores
        .assets
        .get(&token.key)
        .ok_or_else(|| AssetError::AssetNotFound(token.key.clone()))?;
    let encoding = record
        .encodings
        .get(&token.content_encoding)
        .ok_or_else(|| AssetError::EncodingNotFound {
            key: token.key.clone(),
            encoding: token.content_encoding.clone(),
        })?;
    if let Some(sha256) = &token.sha256
        && sha256.as_slice() != encoding.sha256
    {
        return Err(AssetError::StaleSha256 {
            key: token.key.clone(),
        });
    }
    let index =
        chunk_index(&token.index, encoding).ok_or_else(|| AssetError::ChunkIndexOutOfRange {
            key: token.key.clone(),
            index: token.index.clone(),
        })?;
    let next = (index + 1 < encoding.chunks.len()).then(|| StreamingCallbackToken {
        index: Nat::from(index as u64 + 1),
        ..token.clone()
    });
    Ok(Some(StreamingCallbackHttpResponse {
        body: ByteBuf::from(read_chunk(stores, encoding, index)),
        token: next,
    }))
}

/// `index` as a position in `encoding`'s chunk list, if it is one.
pub fn chunk_index(index: &Nat, encoding: &EncodingRecord) -> Option<usize> {
    usize::try_from(&index.0)
        .ok()
        .filter(|i| *i < encoding.chunks.len())
}

/// The bytes of chunk `index` of `encoding` (empty for an empty body).
pub fn read_chunk<M: Memory>(
    stores: &Stores<M>,
    encoding: &EncodingRecord,
    index: usize,
) -> Vec<u8> {
    encoding
        .chunks
        .get(index)
        .map(|id| {
            stores
                .chunks
                .get(id)
                .expect("every chunk an encoding lists is stored")
        })
        .unwrap_or_default()
}

/// The values of the request headers called `name` (any case).
fn header_values<'r>(request: &'r HttpRequest, name: &'r str) -> impl Iterator<Item = &'r str> {
    request
        .headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

fn refuse_raw_domain(request: &HttpRequest) -> Option<HttpResponse> {
    let host = request
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("host"))
        .map(|(_, value)| normalize_host(value))?;
    let certified = certified_alternative(&host)?;
    Some(text_response(
        403,
        &format!(
            "403 Forbidden: this canister does not serve its assets through the raw domain {host}, \
             where no gateway verifies responses. Use https://{certified}/ instead.\n"
        ),
    ))
}

fn asset_headers(
    record: &AssetRecord,
    encoding_name: &str,
    encoding: &EncodingRecord,
) -> Vec<HeaderField> {
    let mut headers = vec![
        ("content-type".to_string(), record.content_type.clone()),
        (
            "etag".to_string(),
            format!("\"{}\"", hex::encode(encoding.sha256)),
        ),
    ];
    if encoding_name != crate::lookup::IDENTITY {
        headers.push(("content-encoding".into(), encoding_name.into()));
    }
    if let Some(max_age) = record.max_age {
        headers.push(("cache-control".into(), format!("max-age={max_age}")));
    }
    headers.extend(record.headers.iter().flatten().cloned());
    headers
}

fn certificate_header(certificate: &[u8], witness: &[u8]) -> HeaderField {
    (
        "IC-Certificate".into(),
        format!(
            "certificate=:{}:, tree=:{}:",
            BASE64.encode(certificate),
            BASE64.encode(witness)
        ),
    )
}

fn text_response(status_code: u16, body: &str) -> HttpResponse {
    HttpResponse {
        status_code,
        headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())],
        body: ByteBuf::from(body.as_bytes().to_vec()),
        streaming_strategy: None,
        upgrade: None,
    }
}
