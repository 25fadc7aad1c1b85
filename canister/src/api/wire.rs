//! `http_request`'s argument and reply, the reply of
//! `http_request_streaming_callback` and the arguments of `create_chunk(s)`,
//! in candid, written and read directly: candid's generic (de)serializer
//! spent about 100 K instructions reading a request, 220 K writing a 1 KiB
//! response, twice the hand-written cost writing a 1.9 MB chunk and 3.8 M
//! reading one (2 instructions a byte, the whole cost of storing it). A
//! large body is neither copied in nor out: see `Argument` and `Encoded`. An
//! argument typed differently goes through `candid` itself, and the tests
//! check that both ways give the same bytes and values.

use std::sync::OnceLock;

use candid::types::internal::env_clear;
use candid::{CandidType, Func, Nat};
use serde_bytes::ByteBuf;

use crate::types::{
    CreateChunkArguments, CreateChunksArguments, HeaderField, HttpRequest, HttpResponse,
    StreamingCallbackHttpResponse, StreamingCallbackToken, StreamingStrategy,
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

fn create_chunk_shape() -> &'static Shape {
    static SHAPE: OnceLock<Shape> = OnceLock::new();
    SHAPE.get_or_init(|| Shape {
        header: header_of::<CreateChunkArguments>(),
        fields: field_order(&["batch_id", "content"]),
    })
}

fn create_chunks_shape() -> &'static Shape {
    static SHAPE: OnceLock<Shape> = OnceLock::new();
    SHAPE.get_or_init(|| Shape {
        header: header_of::<CreateChunksArguments>(),
        fields: field_order(&["batch_id", "content"]),
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
    create_chunk_shape();
    create_chunks_shape();
    nested();
}

/// A reply's bytes, with the body (the one large field) left where it is:
/// copying a 1.9 MB chunk into the reply buffer cost an instruction a
/// byte, nearly all of a large body's answer. The reply is `written[..at]`,
/// then `body`, then `written[at..]`, handed to the system in turn
/// (`reads`); one buffer, so a small reply costs no more allocations.
pub struct Encoded<'a> {
    written: Vec<u8>,
    at: usize,
    body: &'a [u8],
}

impl<'a> Encoded<'a> {
    pub fn parts(&self) -> [&[u8]; 3] {
        let (head, tail) = self.written.split_at(self.at);
        [head, self.body, tail]
    }

    /// The reply as one buffer (for tests).
    #[cfg(test)]
    pub fn to_vec(&self) -> Vec<u8> {
        self.parts().concat()
    }
}

/// The reply of `http_request`.
pub fn encode_response(response: &HttpResponse) -> Encoded<'_> {
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
    // Sized once: all but the body.
    let mut out = Vec::with_capacity(shape.header.len() + headers_len + strategy_len + 32);
    let mut at = None;
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
            "body" => {
                leb128(response.body.len() as u64, &mut out);
                at = Some(out.len());
            }
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
    Encoded {
        written: out,
        at: at.expect("the response shape has a body"),
        body: &response.body,
    }
}

/// The reply of `http_request_streaming_callback`.
pub fn encode_chunk(chunk: &Option<StreamingCallbackHttpResponse>) -> Encoded<'_> {
    let shape = chunk_shape();
    let token_len = chunk
        .as_ref()
        .and_then(|c| c.token.as_ref())
        .map_or(0, token_len);
    let mut out = Vec::with_capacity(shape.header.len() + token_len + 16);
    out.extend_from_slice(&shape.header);
    let Some(chunk) = chunk else {
        out.push(0);
        let at = out.len();
        return Encoded {
            written: out,
            at,
            body: &[],
        };
    };
    let mut at = None;
    out.push(1);
    for field in &shape.fields {
        match *field {
            "body" => {
                leb128(chunk.body.len() as u64, &mut out);
                at = Some(out.len());
            }
            _ => match &chunk.token {
                None => out.push(0),
                Some(token) => {
                    out.push(1);
                    write_token(token, &mut out);
                }
            },
        }
    }
    Encoded {
        written: out,
        at: at.expect("the chunk shape has a body"),
        body: &chunk.body,
    }
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
    read_request(&bytes).unwrap_or_else(|| decode_with_candid(&bytes, "HttpRequest"))
}

/// A call's argument, read in pieces where it lies: the message (see
/// `uploads`), or bytes in tests. A chunk's bytes are then copied once,
/// into their own `Vec`; reading the whole argument first and decoding it
/// cost a copy more, and zeroing the buffer another (2 instructions a
/// byte, 3.8 M for a 1.9 MB chunk: the whole cost of storing it).
pub trait Argument {
    fn size(&self) -> usize;
    /// Appends bytes `offset..offset + count` (within `size`) to `out`.
    fn append_to(&self, offset: usize, count: usize, out: &mut Vec<u8>);
}

impl Argument for [u8] {
    fn size(&self) -> usize {
        self.len()
    }

    fn append_to(&self, offset: usize, count: usize, out: &mut Vec<u8>) {
        out.extend_from_slice(&self[offset..offset + count]);
    }
}

/// `create_chunk`'s argument, as `decode_request` reads a request.
pub fn decode_create_chunk(arg: &(impl Argument + ?Sized)) -> CreateChunkArguments {
    read_create_chunk(arg)
        .unwrap_or_else(|| decode_with_candid(&whole(arg), "CreateChunkArguments"))
}

/// `create_chunks`' argument, as `decode_request` reads a request.
pub fn decode_create_chunks(arg: &(impl Argument + ?Sized)) -> CreateChunksArguments {
    read_create_chunks(arg)
        .unwrap_or_else(|| decode_with_candid(&whole(arg), "CreateChunksArguments"))
}

fn whole(arg: &(impl Argument + ?Sized)) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(arg.size());
    arg.append_to(0, arg.size(), &mut bytes);
    bytes
}

fn decode_with_candid<T>(bytes: &[u8], what: &str) -> T
where
    T: CandidType + for<'de> serde::Deserialize<'de>,
{
    let mut config = candid::DecoderConfig::new();
    config.set_skipping_quota(10_000);
    let (value,) = candid::utils::decode_args_with_config(bytes, &config)
        .unwrap_or_else(|e| ic_cdk::trap(format!("cannot decode the {what}: {e}")));
    value
}

/// The same argument types as ours, with the type table in the order
/// `@dfinity/candid` writes it (the vector before the record that holds
/// it), as `@dfinity/assets` sends them; the tests decode them with candid.
const JS_CREATE_CHUNK_HEADER: &[u8] =
    b"DIDL\x02\x6d\x7b\x6c\x02\xb9\x9a\xde\xcb\x01\x00\x80\xb5\xa6\xf0\x04\x7d\x01\x01";
const JS_CREATE_CHUNKS_HEADER: &[u8] =
    b"DIDL\x03\x6d\x7b\x6d\x00\x6c\x02\xb9\x9a\xde\xcb\x01\x01\x80\xb5\xa6\xf0\x04\x7d\x01\x02";

/// An argument read from the front: a few bytes at a time for headers and
/// lengths, a blob at once into its own `Vec`.
struct Pieces<'a, A: Argument + ?Sized> {
    arg: &'a A,
    at: usize,
}

impl<'a, A: Argument + ?Sized> Pieces<'a, A> {
    /// Past the first of `headers` the argument starts with.
    fn after_header(arg: &'a A, headers: [&[u8]; 2]) -> Option<Self> {
        let longest = headers.iter().map(|h| h.len()).max().unwrap_or(0);
        let mut start = Vec::new();
        arg.append_to(0, longest.min(arg.size()), &mut start);
        let header = headers.into_iter().find(|h| start.starts_with(h))?;
        Some(Self {
            arg,
            at: header.len(),
        })
    }

    fn leb128(&mut self) -> Option<u64> {
        let mut window = Vec::new();
        self.arg
            .append_to(self.at, 10.min(self.arg.size() - self.at), &mut window);
        let mut rest = window.as_slice();
        let value = leb128::read::unsigned(&mut rest).ok()?;
        self.at += window.len() - rest.len();
        Some(value)
    }

    fn blob(&mut self) -> Option<Vec<u8>> {
        let len = usize::try_from(self.leb128()?).ok()?;
        if len > self.arg.size() - self.at {
            return None;
        }
        let mut bytes = Vec::with_capacity(len);
        self.arg.append_to(self.at, len, &mut bytes);
        self.at += len;
        Some(bytes)
    }

    fn at_end(&self) -> bool {
        self.at == self.arg.size()
    }
}

/// Reads a `create_chunk` argument typed exactly as ours is (what `dfx`,
/// `icx-asset` and `@dfinity/assets` send); `None` for anything else.
fn read_create_chunk(arg: &(impl Argument + ?Sized)) -> Option<CreateChunkArguments> {
    let shape = create_chunk_shape();
    let mut pieces = Pieces::after_header(arg, [&shape.header, JS_CREATE_CHUNK_HEADER])?;
    let mut args = CreateChunkArguments {
        batch_id: Nat::from(0u8),
        content: ByteBuf::new(),
    };
    for field in &shape.fields {
        match *field {
            "batch_id" => args.batch_id = Nat::from(pieces.leb128()?),
            _ => args.content = ByteBuf::from(pieces.blob()?),
        }
    }
    pieces.at_end().then_some(args)
}

/// As `read_create_chunk`, for `create_chunks`.
fn read_create_chunks(arg: &(impl Argument + ?Sized)) -> Option<CreateChunksArguments> {
    let shape = create_chunks_shape();
    let mut pieces = Pieces::after_header(arg, [&shape.header, JS_CREATE_CHUNKS_HEADER])?;
    let mut args = CreateChunksArguments {
        batch_id: Nat::from(0u8),
        content: Vec::new(),
    };
    for field in &shape.fields {
        match *field {
            "batch_id" => args.batch_id = Nat::from(pieces.leb128()?),
            _ => {
                let count = pieces.leb128()?;
                // Each chunk takes at least a byte: no huge allocation from
                // a small argument.
                if count > (arg.size() - pieces.at) as u64 {
                    return None;
                }
                args.content = (0..count)
                    .map(|_| pieces.blob().map(ByteBuf::from))
                    .collect::<Option<_>>()?;
            }
        }
    }
    pieces.at_end().then_some(args)
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
        let ours = encode_response(response).to_vec();
        assert_eq!(ours, candid::encode_one(response).unwrap());
        let read: HttpResponse = candid::decode_one(&ours).unwrap();
        assert!(same_response(&read, response));
    }

    fn assert_chunk_encodes_as_candid(chunk: Option<StreamingCallbackHttpResponse>) {
        let ours = encode_chunk(&chunk).to_vec();
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

    fn chunk_args(batch_id: u128, len: usize) -> CreateChunkArguments {
        CreateChunkArguments {
            batch_id: Nat::from(batch_id),
            content: ByteBuf::from((0..len).map(|i| i as u8).collect::<Vec<_>>()),
        }
    }

    #[test]
    fn chunk_arguments_read_as_candid_reads_them() {
        for batch_id in [0, 1, 127, 128, u128::from(u64::MAX)] {
            for len in [0, 1, 1_900_000] {
                let args = chunk_args(batch_id, len);
                let bytes = candid::encode_one(&args).unwrap();
                assert_eq!(read_create_chunk(&bytes[..]), Some(args.clone()));
                assert_eq!(decode_create_chunk(&bytes[..]), args);
            }
        }
        for count in [0, 1, 3] {
            let args = CreateChunksArguments {
                batch_id: Nat::from(9u8),
                content: (0..count)
                    .map(|n| chunk_args(0, n * 1000).content)
                    .collect(),
            };
            let bytes = candid::encode_one(&args).unwrap();
            assert_eq!(read_create_chunks(&bytes[..]), Some(args.clone()));
            assert_eq!(decode_create_chunks(&bytes[..]), args);
        }
    }

    #[test]
    fn chunk_arguments_as_the_javascript_agent_writes_them_read_directly() {
        // Bytes `IDL.encode` of @dfinity/candid 3 wrote for batch 5 and
        // the content [1, 2, 3] (and for `create_chunks`, one such chunk).
        let js_chunk =
            hex::decode("4449444c026d7b6c02b99adecb010080b5a6f0047d01010301020305").unwrap();
        let js_chunks =
            hex::decode("4449444c036d7b6d006c02b99adecb010180b5a6f0047d0102010301020305").unwrap();
        let expected = CreateChunkArguments {
            batch_id: Nat::from(5u8),
            content: ByteBuf::from(vec![1, 2, 3]),
        };
        let by_candid: CreateChunkArguments = candid::decode_one(&js_chunk).unwrap();
        assert_eq!(by_candid, expected);
        assert_eq!(read_create_chunk(&js_chunk[..]), Some(expected.clone()));
        let by_candid: CreateChunksArguments = candid::decode_one(&js_chunks).unwrap();
        assert_eq!(by_candid.content, vec![expected.content.clone()]);
        assert_eq!(read_create_chunks(&js_chunks[..]), Some(by_candid));
    }

    #[test]
    fn other_chunk_argument_shapes_and_damage_go_to_candid() {
        #[derive(CandidType)]
        struct WithNote {
            batch_id: Nat,
            content: ByteBuf,
            note: String,
        }
        let bytes = candid::encode_one(WithNote {
            batch_id: Nat::from(4u8),
            content: ByteBuf::from(vec![9; 10]),
            note: "x".into(),
        })
        .unwrap();
        assert!(read_create_chunk(&bytes[..]).is_none());
        let read = decode_create_chunk(&bytes[..]);
        assert_eq!(
            (read.batch_id, read.content.into_vec()),
            (Nat::from(4u8), vec![9; 10])
        );

        // A batch id past u64 is candid's to read.
        let huge = chunk_args(u128::MAX, 5);
        let bytes = candid::encode_one(&huge).unwrap();
        assert!(read_create_chunk(&bytes[..]).is_none());
        assert_eq!(decode_create_chunk(&bytes[..]), huge);

        let bytes = candid::encode_one(chunk_args(300, 50)).unwrap();
        for cut in 0..bytes.len() {
            assert!(read_create_chunk(&bytes[..cut]).is_none(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(read_create_chunk(&longer[..]).is_none());
        let args = CreateChunksArguments {
            batch_id: Nat::from(1u8),
            content: vec![ByteBuf::from(vec![1; 20]); 2],
        };
        let bytes = candid::encode_one(&args).unwrap();
        for cut in 0..bytes.len() {
            assert!(read_create_chunks(&bytes[..cut]).is_none(), "cut at {cut}");
        }
    }
}
