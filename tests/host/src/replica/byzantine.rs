//! A byzantine node, for demonstrations and tests: the replica can alter
//! the body of the `http_request` replies for one path before its node
//! signs them, as a malicious node answering a query could. An agent
//! accepts such a reply (a node of the subnet signed it); only a gateway
//! that checks the canister's certification can tell, and must refuse it.
//!
//! The reply is changed as candid values, not as bytes: decoded without
//! types, the `body` blob of the record altered (one byte flipped in the
//! middle, or one added to an empty body), encoded again.

use candid::types::value::{IDLArgs, IDLField, IDLValue};

/// Whether an `http_request` call with candid argument `arg` asks for
/// `path` (the URL without its query string).
pub(crate) fn asks_for(method: &str, arg: &[u8], path: &str) -> bool {
    if method != "http_request" {
        return false;
    }
    let Ok(args) = IDLArgs::from_bytes(arg) else {
        return false;
    };
    let url = args.args.first().and_then(|request| field(request, "url"));
    matches!(url, Some(IDLValue::Text(url)) if url.split('?').next() == Some(path))
}

/// The `http_request` reply with its body altered; the reply unchanged if
/// it is not an `HttpResponse` record with a body.
pub(crate) fn alter_body(reply: &[u8]) -> Vec<u8> {
    let Ok(mut args) = IDLArgs::from_bytes(reply) else {
        return reply.to_vec();
    };
    let Some(IDLValue::Record(fields)) = args.args.first_mut() else {
        return reply.to_vec();
    };
    let body_id = candid::idl_hash("body");
    let Some(body) = fields.iter_mut().find(|f| f.id.get_id() == body_id) else {
        return reply.to_vec();
    };
    match &mut body.val {
        IDLValue::Blob(bytes) => flip(bytes),
        IDLValue::Vec(values) => {
            let mut bytes: Vec<u8> = values
                .iter()
                .filter_map(|v| match v {
                    IDLValue::Nat8(b) => Some(*b),
                    _ => None,
                })
                .collect();
            flip(&mut bytes);
            body.val = IDLValue::Blob(bytes);
        }
        _ => return reply.to_vec(),
    }
    args.to_bytes().unwrap_or_else(|_| reply.to_vec())
}

fn field<'a>(record: &'a IDLValue, name: &str) -> Option<&'a IDLValue> {
    let IDLValue::Record(fields) = record else {
        return None;
    };
    let id = candid::idl_hash(name);
    fields
        .iter()
        .find(|IDLField { id: label, .. }| label.get_id() == id)
        .map(|f| &f.val)
}

fn flip(body: &mut Vec<u8>) {
    match body.len() {
        0 => body.push(b'!'),
        len => body[len / 2] ^= 0x01,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candid::{CandidType, Deserialize, encode_one};

    #[derive(CandidType, Deserialize, Debug, PartialEq)]
    struct Response {
        status_code: u16,
        headers: Vec<(String, String)>,
        #[serde(with = "serde_bytes")]
        body: Vec<u8>,
        upgrade: Option<bool>,
    }

    #[derive(CandidType)]
    struct Request {
        method: String,
        url: String,
        headers: Vec<(String, String)>,
        body: serde_bytes::ByteBuf,
        certificate_version: Option<u16>,
    }

    fn request(url: &str) -> Vec<u8> {
        encode_one(Request {
            method: "GET".into(),
            url: url.into(),
            headers: vec![],
            body: serde_bytes::ByteBuf::new(),
            certificate_version: Some(2),
        })
        .unwrap()
    }

    #[test]
    fn only_http_requests_for_the_path_are_picked() {
        assert!(asks_for(
            "http_request",
            &request("/style.css?v=2"),
            "/style.css"
        ));
        assert!(!asks_for("http_request", &request("/app.js"), "/style.css"));
        assert!(!asks_for("list", &request("/style.css"), "/style.css"));
    }

    #[test]
    fn the_body_changes_and_everything_else_decodes_as_before() {
        let original = Response {
            status_code: 200,
            headers: vec![],
            body: b"body { color: red }".to_vec(),
            upgrade: None,
        };
        let altered: Response =
            candid::decode_one(&alter_body(&encode_one(&original).unwrap())).unwrap();
        assert_ne!(altered.body, original.body);
        assert_eq!(altered.body.len(), original.body.len());
        assert_eq!(
            Response {
                body: original.body.clone(),
                ..altered
            },
            original
        );
    }
}
