//! `http_request`'s argument and reply, and the reply of
//! `http_request_streaming_callback`, in candid, written and read directly:
//! candid's generic (de)serializer spent about 100 K instructions reading a
//! request, 220 K writing a 1 KiB response and twice the hand-written cost
//! writing a 1.9 MB chunk. A request typed differently goes through
//! `candid` itself, and the tests check that both ways give the same bytes
//! and values.

use std::sync::OnceLock;

use candid::types::internal::env_clear;
use candid::{CandidType, Func};
use serde_bytes::ByteBuf;

use crate::types::{
    HeaderField, HttpRequest, HttpResponse, StreamingCallbackHttpResponse, StreamingCallbackToken,
    StreamingStrategy,
};

/// `DIDL`, the type table and the argument types of one `T`, as candid
/// writes them (they depend on the type alone).
fn header_of<T: CandidType>() -> Vec<u8> {
    env_clear();
    let mut types = candid::ser::TypeSerialize::new();
    types.push_type(&T::ty()).expect("our types serialize");
    types.serialize().expect("our types serialize");
    let mut header = b"DIDL".to_vec();
    header.extend_from_slice(types.get_result());
    header
}

/// The record's field names in the order candid writes their values
/// (by field id).
fn field_order(names: &[&'static str]) -> Vec<&'static str> {
    let mut names = names.to_vec();
    names.sort_by_key(|name| candid::idl_hash(name));
    names
}

struct Shape {
    header: Vec<u8>,
    fields: Vec<&'static str>,
}

fn response_shape() -> &'static Shape {
    static SHAPE: OnceLock<Shape> = OnceLock::new();
    SHAPE.get_or_init(|| Shape {
        header: header_of::<HttpResponse>(),
        fields: field_order(&[
            "status_code",
            "headers",
            "body",
            "streaming_strategy",
            "upgrade",
        ]),
    })
}

/// `opt StreamingCallbackHttpResponse`, the streaming callback's reply.
fn chunk_shape() -> &'static Shape {
    static SHAPE: OnceLock<Shape> = OnceLock::new();
    SHAPE.get_or_init(|| Shape {
        header: header_of::<Option<StreamingCallbackHttpResponse>>(),
        fields: field_order(&["body", "token"]),
    })
}

fn request_shape() -> &'static Shape {
    static SHAPE: OnceLock<Shape> = OnceLock::new();
    SHAPE.get_or_init(|| Shape {
        header: header_of::<HttpRequest>(),
        fields: field_order(&["method", "url", "headers", "body", "certificate_version"]),
    })
}

/// The field orders of the records nested in the replies (they have no
/// header of their own).
struct Nested {
    callback: Vec<&'static str>,
    token: Vec<&'static str>,
}

fn nested() -> &'static Nested {
    static NESTED: OnceLock<Nested> = OnceLock::new();
    NESTED.get_or_init(|| Nested {
        callback: field_order(&["callback", "token"]),
        token: field_order(&["key", "content_encoding", "index", "sha256"]),
    })
}

/// Computes the shapes now. Call it where the heap persists (install,
/// upgrade): a query's heap is thrown away, so a shape first computed in a
/// query would be computed again in every query (about 250 K instructions).
pub fn warm() {
    response_shape();
    chunk_shape();
    request_shape();
    nested();
}

/// The reply bytes of `response`.
pub fn encode_response(response: HttpResponse) -> Vec<u8> {
    let shape = response_shape();
    let headers_len: usize = response
        .headers
        .iter()
        .map(|(n, v)| n.len() + v.len() + 20)
        .sum();
    let strategy_len = match &response.streaming_strategy {
        Some(StreamingStrategy::Callback { callback, token }) => {
            callback.0.method.len() + token_len(token) + 64
        }
        None => 0,
    };
    // Sized once: growing would copy a 1.9 MB body again.
    let mut out = Vec::with_capacity(
        shape.header.len() + headers_len + strategy_len + response.body.len() + 32,
    );
    out.extend_from_slice(&shape.header);
    for field in &shape.fields {
        match *field {
            "status_code" => out.extend_from_slice(&response.status_code.to_le_bytes()),
            "headers" => {
                leb128(response.headers.len() as u64, &mut out);
                for (name, value) in &response.headers {
                    write_text(name, &mut out);
                    write_text(value, &mut out);
                }
            }
            "body" => write_blob(&response.body, &mut out),
            "streaming_strategy" => match &response.streaming_strategy {
                None => out.push(0),
                Some(StreamingStrategy::Callback { callback, token }) => {
                    out.push(1);
                    // `Callback`, the variant's only case.
                    out.push(0);
                    for field in &nested().callback {
                        match *field {
                            "callback" => write_func(&callback.0, &mut out),
                            _ => write_token(token, &mut out),
                        }
                    }
                }
            },
            _ => match response.upgrade {
                None => out.push(0),
                Some(upgrade) => out.extend_from_slice(&[1, upgrade.into()]),
            },
        }
    }
    out
}

/// The reply bytes of `http_request_streaming_callback`.
pub fn encode_chunk(chunk: Option<StreamingCallbackHttpResponse>) -> Vec<u8> {
    let shape = chunk_shape();
    let Some(chunk) = chunk else {
        let mut out = shape.header.clone();
        out.push(0);
        return out;
    };
    let token_len = chunk.token.as_ref().map_or(0, token_len);
    let mut out = Vec::with_capacity(shape.header.len() + token_len + chunk.body.len() + 16);
    out.extend_from_slice(&shape.header);
    out.push(1);
    for field in &shape.fields {
        match *field {
            "body" => write_blob(&chunk.body, &mut out),
            _ => match &chunk.token {
                None => out.push(0),
                Some(token) => {
                    out.push(1);
                    write_token(token, &mut out);
                }
            },
        }
    }
    out
}

/// Room for what `write_token` writes (an index past 2^300 would only
/// cost a reallocation).
fn token_len(token: &StreamingCallbackToken) -> usize {
    token.key.len()
        + token.content_encoding.len()
        + token.sha256.as_ref().map_or(0, |s| s.len())
        + 64
}

fn write_token(token: &StreamingCallbackToken, out: &mut Vec<u8>) {
    for field in &nested().token {
        match *field {
            "key" => write_text(&token.key, out),
            "content_encoding" => write_text(&token.content_encoding, out),
            "index" => token
                .index
                .encode(out)
                .expect("writing to a Vec cannot fail"),
            _ => match &token.sha256 {
                None => out.push(0),
                Some(sha256) => {
                    out.push(1);
                    write_blob(sha256, out);
                }
            },
        }
    }
}

/// A `func` reference: not opaque, then the canister as a principal
/// reference, then the method name.
fn write_func(func: &Func, out: &mut Vec<u8>) {
    out.extend_from_slice(&[1, 1]);
    write_blob(func.principal.as_slice(), out);
    write_text(&func.method, out);
}

/// The request in `bytes`; a malformed argument traps as candid's own
/// decoding would.
pub fn decode_request(bytes: Vec<u8>) -> HttpRequest {
    read_request(&bytes).unwrap_or_else(|| {
        let mut config = candid::DecoderConfig::new();
        config.set_skipping_quota(10_000);
        let (request,) = candid::utils::decode_args_with_config(&bytes, &config)
            .unwrap_or_else(|e| ic_cdk::trap(format!("cannot decode the HttpRequest: {e}")));
        request
    })
}

/// Reads a request typed exactly as ours is (what gateways built with the
/// Rust agent send); `None` for anything else.
fn read_request(bytes: &[u8]) -> Option<HttpRequest> {
    let shape = request_shape();
    let mut reader = Reader {
        bytes: bytes.strip_prefix(shape.header.as_slice())?,
    };
    let mut request = HttpRequest {
        method: String::new(),
        url: String::new(),
        headers: Vec::new(),
        body: ByteBuf::new(),
        certificate_version: None,
    };
    for field in &shape.fields {
        match *field {
            "method" => request.method = reader.text()?,
            "url" => request.url = reader.text()?,
            "headers" => {
                let count = reader.leb128()?;
                // Each header takes at least two bytes: no huge allocation
                // from a small argument.
                if count > reader.bytes.len() as u64 / 2 {
                    return None;
                }
                let mut headers: Vec<HeaderField> = Vec::with_capacity(count as usize);
                for _ in 0..count {
                    headers.push((reader.text()?, reader.text()?));
                }
                request.headers = headers;
            }
            "body" => request.body = ByteBuf::from(reader.blob()?.to_vec()),
            _ => {
                request.certificate_version = match reader.byte()? {
                    0 => None,
                    1 => Some(u16::from_le_bytes(reader.take(2)?.try_into().ok()?)),
                    _ => return None,
                }
            }
        }
    }
    reader.bytes.is_empty().then_some(request)
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.bytes.len() {
            return None;
        }
        let (taken, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Some(taken)
    }

    fn byte(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    fn leb128(&mut self) -> Option<u64> {
        leb128::read::unsigned(&mut self.bytes).ok()
    }

    fn blob(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.leb128()?).ok()?;
        self.take(len)
    }

    fn text(&mut self) -> Option<String> {
        String::from_utf8(self.blob()?.to_vec()).ok()
    }
}

fn leb128(value: u64, out: &mut Vec<u8>) {
    leb128::write::unsigned(out, value).expect("writing to a Vec cannot fail");
}

fn write_blob(bytes: &[u8], out: &mut Vec<u8>) {
    leb128(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

fn write_text(text: &str, out: &mut Vec<u8>) {
    write_blob(text.as_bytes(), out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::StreamingCallback;
    use candid::{Nat, Principal};
    use proptest::prelude::*;

    fn response(headers: usize, body: usize) -> HttpResponse {
        HttpResponse {
            status_code: 206,
            headers: (0..headers)
                .map(|i| (format!("x-{i}"), "é".repeat(i * 70)))
                .collect(),
            body: ByteBuf::from(vec![7; body]),
            streaming_strategy: None,
            upgrade: None,
        }
    }

    fn token(index: Nat, sha256: Option<Vec<u8>>) -> StreamingCallbackToken {
        StreamingCallbackToken {
            key: "/dös/大きい.bin".into(),
            content_encoding: "gzip".into(),
            index,
            sha256: sha256.map(ByteBuf::from),
        }
    }

    fn callback(principal: Principal, method: &str) -> StreamingCallback {
        StreamingCallback(Func {
            principal,
            method: method.into(),
        })
    }

    fn same_response(a: &HttpResponse, b: &HttpResponse) -> bool {
        let same_strategy = match (&a.streaming_strategy, &b.streaming_strategy) {
            (None, None) => true,
            (
                Some(StreamingStrategy::Callback { callback, token }),
                Some(StreamingStrategy::Callback {
                    callback: other_callback,
                    token: other_token,
                }),
            ) => callback == other_callback && token == other_token,
            _ => false,
        };
        a.status_code == b.status_code
            && a.headers == b.headers
            && a.body == b.body
            && a.upgrade == b.upgrade
            && same_strategy
    }

    /// Our bytes are candid's, and candid reads them back as `response`.
    fn assert_encodes_as_candid(response: &HttpResponse) {
        let ours = encode_response(response.clone());
        assert_eq!(ours, candid::encode_one(response).unwrap());
        let read: HttpResponse = candid::decode_one(&ours).unwrap();
        assert!(same_response(&read, response));
    }

    fn assert_chunk_encodes_as_candid(chunk: Option<StreamingCallbackHttpResponse>) {
        let ours = encode_chunk(chunk.clone());
        assert_eq!(ours, candid::encode_one(&chunk).unwrap());
        assert_eq!(ours, candid::encode_args((&chunk,)).unwrap());
        let read: Option<StreamingCallbackHttpResponse> = candid::decode_one(&ours).unwrap();
        assert_eq!(
            read.map(|c| (c.body, c.token)),
            chunk.map(|c| (c.body, c.token))
        );
    }

    #[test]
    fn responses_are_the_bytes_candid_writes() {
        for (headers, body) in [(0, 0), (1, 1), (3, 1024), (9, 200), (40, 3), (2, 70_000)] {
            assert_encodes_as_candid(&response(headers, body));
        }
        for upgrade in [Some(false), Some(true)] {
            let mut r = response(2, 10);
            r.upgrade = upgrade;
            assert_encodes_as_candid(&r);
        }
    }

    #[test]
    fn streaming_responses_are_the_bytes_candid_writes() {
        let canister = Principal::from_text("rrkah-fqaaa-aaaaa-aaaaq-cai").unwrap();
        let indexes = [0u128, 1, 127, 128, 1 << 40, u128::MAX];
        for (i, index) in indexes.into_iter().enumerate() {
            for sha256 in [None, Some(vec![]), Some(vec![0xab; 32])] {
                let mut r = response(i * 3, [0, 1, 1_900_000][i % 3]);
                r.streaming_strategy = Some(StreamingStrategy::Callback {
                    callback: callback(canister, "http_request_streaming_callback"),
                    token: token(Nat::from(index), sha256),
                });
                r.upgrade = [None, Some(false), Some(true)][i % 3];
                assert_encodes_as_candid(&r);
            }
        }
        let mut r = response(1, 5);
        r.streaming_strategy = Some(StreamingStrategy::Callback {
            callback: callback(Principal::anonymous(), ""),
            token: StreamingCallbackToken {
                key: String::new(),
                content_encoding: String::new(),
                index: Nat::from(0u8),
                sha256: None,
            },
        });
        assert_encodes_as_candid(&r);
    }

    #[test]
    fn chunks_are_the_bytes_candid_writes() {
        assert_chunk_encodes_as_candid(None);
        for body in [0, 1, 1_900_000] {
            assert_chunk_encodes_as_candid(Some(StreamingCallbackHttpResponse {
                body: ByteBuf::from(vec![3; body]),
                token: None,
            }));
            for index in [0u128, 2, 1 << 40, u128::MAX] {
                for sha256 in [None, Some(vec![0xcd; 32])] {
                    assert_chunk_encodes_as_candid(Some(StreamingCallbackHttpResponse {
                        body: ByteBuf::from(vec![3; body]),
                        token: Some(token(Nat::from(index), sha256)),
                    }));
                }
            }
        }
    }

    fn any_token() -> impl Strategy<Value = StreamingCallbackToken> {
        (
            ".{0,20}",
            ".{0,10}",
            prop_oneof![any::<u8>().prop_map(u128::from), any::<u128>()],
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40)),
        )
            .prop_map(
                |(key, content_encoding, index, sha256)| StreamingCallbackToken {
                    key,
                    content_encoding,
                    index: Nat::from(index),
                    sha256: sha256.map(ByteBuf::from),
                },
            )
    }

    fn any_strategy() -> impl Strategy<Value = StreamingStrategy> {
        (
            proptest::collection::vec(any::<u8>(), 0..=29),
            ".{0,40}",
            any_token(),
        )
            .prop_map(|(principal, method, token)| StreamingStrategy::Callback {
                callback: callback(Principal::from_slice(&principal), &method),
                token,
            })
    }

    fn any_body() -> impl Strategy<Value = ByteBuf> {
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(ByteBuf::from)
    }

    fn any_response() -> impl Strategy<Value = HttpResponse> {
        (
            any::<u16>(),
            proptest::collection::vec((".{0,12}", ".{0,30}"), 0..20),
            any_body(),
            proptest::option::of(any_strategy()),
            proptest::option::of(any::<bool>()),
        )
            .prop_map(
                |(status_code, headers, body, streaming_strategy, upgrade)| HttpResponse {
                    status_code,
                    headers,
                    body,
                    streaming_strategy,
                    upgrade,
                },
            )
    }

    fn any_chunk() -> impl Strategy<Value = Option<StreamingCallbackHttpResponse>> {
        proptest::option::of(
            (any_body(), proptest::option::of(any_token()))
                .prop_map(|(body, token)| StreamingCallbackHttpResponse { body, token }),
        )
    }

    proptest! {
        #[test]
        fn random_responses_are_the_bytes_candid_writes(response in any_response()) {
            assert_encodes_as_candid(&response);
        }

        #[test]
        fn random_chunks_are_the_bytes_candid_writes(chunk in any_chunk()) {
            assert_chunk_encodes_as_candid(chunk);
        }
    }

    fn request(version: Option<u16>, headers: usize) -> HttpRequest {
        HttpRequest {
            method: "GET".into(),
            url: "/päge?q=1".into(),
            headers: (0..headers)
                .map(|i| (format!("h{i}"), "v".repeat(i * 50)))
                .collect(),
            body: ByteBuf::from(b"body".to_vec()),
            certificate_version: version,
        }
    }

    fn same(a: &HttpRequest, b: &HttpRequest) -> bool {
        a.method == b.method
            && a.url == b.url
            && a.headers == b.headers
            && a.body == b.body
            && a.certificate_version == b.certificate_version
    }

    #[test]
    fn requests_read_as_candid_reads_them() {
        for (version, headers) in [(None, 0), (Some(2), 3), (Some(1), 40)] {
            let r = request(version, headers);
            let bytes = candid::encode_one(&r).unwrap();
            let read = read_request(&bytes).expect("our own shape reads directly");
            assert!(same(&read, &r));
            assert!(same(&decode_request(bytes), &r));
        }
    }

    #[test]
    fn other_shapes_and_damage_go_to_candid() {
        #[derive(CandidType)]
        struct OldRequest {
            method: String,
            url: String,
            headers: Vec<HeaderField>,
            body: ByteBuf,
        }
        let old = OldRequest {
            method: "GET".into(),
            url: "/".into(),
            headers: vec![("host".into(), "x".into())],
            body: ByteBuf::new(),
        };
        let bytes = candid::encode_one(&old).unwrap();
        assert!(read_request(&bytes).is_none());
        let decoded = decode_request(bytes);
        assert_eq!(decoded.url, "/");
        assert_eq!(decoded.certificate_version, None);

        let bytes = candid::encode_one(request(Some(2), 2)).unwrap();
        for cut in 0..bytes.len() {
            assert!(read_request(&bytes[..cut]).is_none(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(read_request(&longer).is_none());
    }
}
