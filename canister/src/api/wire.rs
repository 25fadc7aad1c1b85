//! `http_request`'s argument and reply in candid, written and read
//! directly for the shapes every page view has: candid's generic
//! (de)serializer spent about 100 K instructions reading a request and
//! 220 K writing a 1 KiB response. Anything else (a request typed
//! differently, a response that streams) goes through `candid` itself, and
//! the tests check that both ways give the same bytes and values.

use std::sync::OnceLock;

use candid::CandidType;
use candid::types::internal::env_clear;
use serde_bytes::ByteBuf;

use crate::types::{HeaderField, HttpRequest, HttpResponse};

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

fn request_shape() -> &'static Shape {
    static SHAPE: OnceLock<Shape> = OnceLock::new();
    SHAPE.get_or_init(|| Shape {
        header: header_of::<HttpRequest>(),
        fields: field_order(&["method", "url", "headers", "body", "certificate_version"]),
    })
}

/// Computes the shapes now. Call it where the heap persists (install,
/// upgrade): a query's heap is thrown away, so a shape first computed in a
/// query would be computed again in every query (about 250 K instructions).
pub fn warm() {
    response_shape();
    request_shape();
}

/// The reply bytes of `response`.
pub fn encode_response(response: HttpResponse) -> Vec<u8> {
    if response.streaming_strategy.is_some() || response.upgrade.is_some() {
        return candid::encode_one(response).expect("a response always encodes");
    }
    let shape = response_shape();
    let headers_len: usize = response
        .headers
        .iter()
        .map(|(n, v)| n.len() + v.len() + 20)
        .sum();
    let mut out = Vec::with_capacity(shape.header.len() + headers_len + response.body.len() + 32);
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
                out.extend_from_slice(&response.body);
            }
            // `None`, checked above.
            _ => out.push(0),
        }
    }
    out
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

fn write_text(text: &str, out: &mut Vec<u8>) {
    leb128(text.len() as u64, out);
    out.extend_from_slice(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{StreamingCallback, StreamingCallbackToken, StreamingStrategy};
    use candid::{Func, Nat, Principal};

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

    #[test]
    fn responses_are_the_bytes_candid_writes() {
        for (headers, body) in [(0, 0), (1, 1), (3, 1024), (9, 200), (2, 70_000)] {
            let r = response(headers, body);
            assert_eq!(
                encode_response(r.clone()),
                candid::encode_one(r).unwrap(),
                "{headers} headers, {body} bytes"
            );
        }
        let mut streaming = response(2, 10);
        streaming.streaming_strategy = Some(StreamingStrategy::Callback {
            callback: StreamingCallback(Func {
                principal: Principal::anonymous(),
                method: "http_request_streaming_callback".into(),
            }),
            token: StreamingCallbackToken {
                key: "/a".into(),
                content_encoding: "identity".into(),
                index: Nat::from(1u8),
                sha256: None,
            },
        });
        assert_eq!(
            encode_response(streaming.clone()),
            candid::encode_one(streaming).unwrap()
        );
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
