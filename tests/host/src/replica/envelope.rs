//! Envelopes: decoding the CBOR a client posts, computing its request id,
//! and authenticating the sender, as the interface specification's
//! "Authentication" section says.
//!
//! The request id is the representation-independent hash of the `content`
//! map exactly as the client sent it (unknown fields included), computed
//! by `ic-transport-types`, the code ic-agent signs with.

use std::collections::BTreeMap;

use candid::Principal;
use ed25519_dalek::Verifier as _;
use ic_transport_types::{RequestId, to_request_id};
use serde::ser::{SerializeMap, SerializeSeq};
use serde_cbor::Value;

/// Domain separator of a request signature.
const REQUEST_DOMAIN: &[u8] = b"\x0Aic-request";

/// DER prefix of an Ed25519 public key (RFC 8410).
pub(crate) const ED25519_DER_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// DER prefix of an uncompressed secp256k1 public key (id-ecPublicKey,
/// secp256k1), as ic-agent and @dfinity/identity-secp256k1 encode it.
const SECP256K1_DER_PREFIX: [u8; 23] = [
    0x30, 0x56, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b,
    0x81, 0x04, 0x00, 0x0a, 0x03, 0x42, 0x00,
];

/// The CBOR self-describe tag 55799, which clients may put in front.
const SELF_DESCRIBE: [u8; 3] = [0xd9, 0xd9, 0xf7];

/// What a request asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Content {
    Call {
        canister_id: Principal,
        method_name: String,
        arg: Vec<u8>,
    },
    Query {
        canister_id: Principal,
        method_name: String,
        arg: Vec<u8>,
    },
    ReadState {
        paths: Vec<Vec<Vec<u8>>>,
    },
}

/// An authenticated request.
#[derive(Clone, Debug)]
pub(crate) struct Request {
    pub request_id: RequestId,
    pub sender: Principal,
    pub content: Content,
}

/// Why an envelope is refused, with the HTTP status a replica answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub status: u16,
    pub message: String,
}

impl Refusal {
    fn bad_request(message: impl Into<String>) -> Self {
        Refusal {
            status: 400,
            message: message.into(),
        }
    }
}

/// Decodes `body` as an envelope of the expected kind (`"call"`,
/// `"query"` or `"read_state"`), checks its expiry against `now_ns` and
/// authenticates its sender.
pub(crate) fn open(body: &[u8], expected: &str, now_ns: u64) -> Result<Request, Refusal> {
    let body = body.strip_prefix(&SELF_DESCRIBE[..]).unwrap_or(body);
    let value: Value = serde_cbor::from_slice(body).map_err(|e| {
        Refusal::bad_request(format!(
            "Could not parse body as {expected} message: invalid CBOR: {e}"
        ))
    })?;
    let envelope = as_map(&value)
        .ok_or_else(|| Refusal::bad_request("Could not parse body: the envelope is not a map"))?;
    let content = field(envelope, "content").ok_or_else(|| {
        Refusal::bad_request("Could not parse body: the envelope has no `content`")
    })?;
    let content_map = as_map(content)
        .ok_or_else(|| Refusal::bad_request("Could not parse body: `content` is not a map"))?;
    let request_id = to_request_id(&Hashable(content))
        .map_err(|e| Refusal::bad_request(format!("Could not compute the request id: {e}")))?;
    let request_type = text(content_map, "request_type")?;
    if request_type != expected {
        return Err(Refusal::bad_request(format!(
            "Could not parse body: expected a `{expected}` request, got `{request_type}`"
        )));
    }
    let sender = Principal::try_from_slice(&bytes(content_map, "sender")?)
        .map_err(|e| Refusal::bad_request(format!("Could not parse body: sender: {e}")))?;
    let ingress_expiry = nat(content_map, "ingress_expiry")?;
    check_expiry(ingress_expiry, now_ns)?;
    let content = match request_type.as_str() {
        "call" | "query" => {
            let canister_id = Principal::try_from_slice(&bytes(content_map, "canister_id")?)
                .map_err(|e| {
                    Refusal::bad_request(format!("Could not parse body: canister_id: {e}"))
                })?;
            let method_name = text(content_map, "method_name")?;
            let arg = bytes(content_map, "arg")?;
            if request_type == "call" {
                Content::Call {
                    canister_id,
                    method_name,
                    arg,
                }
            } else {
                Content::Query {
                    canister_id,
                    method_name,
                    arg,
                }
            }
        }
        _ => Content::ReadState {
            paths: paths(content_map)?,
        },
    };
    authenticate(envelope, &request_id, sender)?;
    Ok(Request {
        request_id,
        sender,
        content,
    })
}

/// The replica accepts expiries from now up to five minutes (plus a
/// little drift) ahead; agents set about four minutes.
fn check_expiry(expiry: u64, now_ns: u64) -> Result<(), Refusal> {
    const MAX_AHEAD_NS: u64 = 5 * 60 * 1_000_000_000 + 30 * 1_000_000_000;
    let max = now_ns.saturating_add(MAX_AHEAD_NS);
    if expiry < now_ns || expiry > max {
        return Err(Refusal::bad_request(format!(
            "Invalid request expiry: Specified ingress_expiry not within expected range: \
             Minimum allowed expiry: {now_ns}, Maximum allowed expiry: {max}, Provided expiry: {expiry}"
        )));
    }
    Ok(())
}

/// The sender must be anonymous with no signature, or the
/// self-authenticating principal of `sender_pubkey` with a valid
/// `sender_sig` over the request id.
fn authenticate(
    envelope: &BTreeMap<Value, Value>,
    request_id: &RequestId,
    sender: Principal,
) -> Result<(), Refusal> {
    let failed = |reason: String| {
        Refusal::bad_request(format!(
            "Failed to authenticate request 0x{} due to: {reason}",
            hex::encode(request_id.as_slice())
        ))
    };
    let pubkey = optional_bytes(envelope, "sender_pubkey").map_err(failed)?;
    let sig = optional_bytes(envelope, "sender_sig").map_err(failed)?;
    if field(envelope, "sender_delegation").is_some_and(|d| *d != Value::Null) {
        return Err(failed(
            "sender delegations are not supported by this local replica".into(),
        ));
    }
    if sender == Principal::anonymous() {
        if pubkey.is_some() || sig.is_some() {
            return Err(failed(
                "an anonymous request must carry no sender_pubkey or sender_sig".into(),
            ));
        }
        return Ok(());
    }
    let (Some(pubkey), Some(sig)) = (pubkey, sig) else {
        return Err(failed(format!(
            "the request from {sender} is not signed (sender_pubkey and sender_sig are required)"
        )));
    };
    let owner = Principal::self_authenticating(&pubkey);
    if owner != sender {
        return Err(failed(format!(
            "the sender {sender} is not the principal {owner} of sender_pubkey"
        )));
    }
    let mut message = REQUEST_DOMAIN.to_vec();
    message.extend_from_slice(request_id.as_slice());
    verify_signature(&pubkey, &message, &sig).map_err(failed)
}

/// Verifies a caller's signature (Ed25519, or ECDSA secp256k1 over
/// SHA-256 of the message).
pub(crate) fn verify_signature(der: &[u8], message: &[u8], sig: &[u8]) -> Result<(), String> {
    if let Some(raw) = der.strip_prefix(&ED25519_DER_PREFIX[..]) {
        let raw: [u8; 32] = raw
            .try_into()
            .map_err(|_| "malformed Ed25519 public key".to_string())?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(&raw)
            .map_err(|e| format!("malformed Ed25519 public key: {e}"))?;
        let sig = ed25519_dalek::Signature::from_slice(sig)
            .map_err(|e| format!("malformed Ed25519 signature: {e}"))?;
        return key
            .verify(message, &sig)
            .map_err(|_| "Invalid signature: Ed25519 signature could not be verified".into());
    }
    if let Some(raw) = der.strip_prefix(&SECP256K1_DER_PREFIX[..]) {
        use k256::ecdsa::signature::Verifier as _;
        let key = k256::ecdsa::VerifyingKey::from_sec1_bytes(raw)
            .map_err(|e| format!("malformed secp256k1 public key: {e}"))?;
        let sig = k256::ecdsa::Signature::from_slice(sig)
            .map_err(|e| format!("malformed secp256k1 signature: {e}"))?;
        return key.verify(message, &sig).map_err(|_| {
            "Invalid signature: ECDSA secp256k1 signature could not be verified".into()
        });
    }
    Err("unsupported sender_pubkey: only Ed25519 and secp256k1 keys are accepted".into())
}

fn as_map(value: &Value) -> Option<&BTreeMap<Value, Value>> {
    match value {
        Value::Map(map) => Some(map),
        Value::Tag(_, inner) => as_map(inner),
        _ => None,
    }
}

fn field<'a>(map: &'a BTreeMap<Value, Value>, name: &str) -> Option<&'a Value> {
    map.get(&Value::Text(name.into()))
}

fn missing(name: &str) -> Refusal {
    Refusal::bad_request(format!(
        "Could not parse body: `{name}` is missing or has the wrong type"
    ))
}

fn text(map: &BTreeMap<Value, Value>, name: &str) -> Result<String, Refusal> {
    match field(map, name) {
        Some(Value::Text(t)) => Ok(t.clone()),
        _ => Err(missing(name)),
    }
}

fn bytes(map: &BTreeMap<Value, Value>, name: &str) -> Result<Vec<u8>, Refusal> {
    match field(map, name) {
        Some(Value::Bytes(b)) => Ok(b.clone()),
        _ => Err(missing(name)),
    }
}

fn optional_bytes(map: &BTreeMap<Value, Value>, name: &str) -> Result<Option<Vec<u8>>, String> {
    match field(map, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bytes(b)) => Ok(Some(b.clone())),
        Some(_) => Err(format!("`{name}` is not a byte string")),
    }
}

fn nat(map: &BTreeMap<Value, Value>, name: &str) -> Result<u64, Refusal> {
    match field(map, name) {
        Some(Value::Integer(i)) => u64::try_from(*i).map_err(|_| missing(name)),
        _ => Err(missing(name)),
    }
}

fn paths(map: &BTreeMap<Value, Value>) -> Result<Vec<Vec<Vec<u8>>>, Refusal> {
    let Some(Value::Array(paths)) = field(map, "paths") else {
        return Err(missing("paths"));
    };
    paths
        .iter()
        .map(|path| match path {
            Value::Array(labels) => labels
                .iter()
                .map(|label| match label {
                    Value::Bytes(b) => Ok(b.clone()),
                    Value::Text(t) => Ok(t.as_bytes().to_vec()),
                    _ => Err(missing("paths")),
                })
                .collect(),
            _ => Err(missing("paths")),
        })
        .collect()
}

/// A CBOR value as the request-id hasher sees it: integers as unsigned
/// (or signed) LEB128, byte and text strings as their bytes, arrays and
/// maps as the spec's hash of a list and of a map.
struct Hashable<'a>(&'a Value);

impl serde::Serialize for Hashable<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Null => serializer.serialize_none(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Integer(i) => match u64::try_from(*i) {
                Ok(u) => serializer.serialize_u64(u),
                Err(_) => match i64::try_from(*i) {
                    Ok(i) => serializer.serialize_i64(i),
                    Err(_) => Err(serde::ser::Error::custom("integer out of range")),
                },
            },
            Value::Float(f) => serializer.serialize_f64(*f),
            Value::Bytes(b) => serializer.serialize_bytes(b),
            Value::Text(t) => serializer.serialize_str(t),
            Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&Hashable(item))?;
                }
                seq.end()
            }
            Value::Map(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(&Hashable(k), &Hashable(v))?;
                }
                map.end()
            }
            Value::Tag(_, inner) => Hashable(inner).serialize(serializer),
            _ => Err(serde::ser::Error::custom("unsupported CBOR value")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The interface specification's example (section "Request ids"):
    /// an anonymous call to `hello` with a fixed expiry.
    #[test]
    fn request_id_matches_the_interface_specification_example() {
        let mut content = BTreeMap::new();
        content.insert(
            Value::Text("request_type".into()),
            Value::Text("call".into()),
        );
        content.insert(Value::Text("sender".into()), Value::Bytes(vec![4]));
        content.insert(
            Value::Text("ingress_expiry".into()),
            Value::Integer(1_685_570_400_000_000_000),
        );
        content.insert(
            Value::Text("canister_id".into()),
            Value::Bytes(vec![0, 0, 0, 0, 0, 0, 0x04, 0xD2]),
        );
        content.insert(
            Value::Text("method_name".into()),
            Value::Text("hello".into()),
        );
        content.insert(
            Value::Text("arg".into()),
            Value::Bytes(b"DIDL\x00\xFD*".to_vec()),
        );
        let id = to_request_id(&Hashable(&Value::Map(content))).unwrap();
        assert_eq!(
            hex::encode(id.as_slice()),
            "1d1091364d6bb8a6c16b203ee75467d59ead468f523eb058880ae8ec80e2b101"
        );
    }

    #[test]
    fn malformed_cbor_is_a_400() {
        let refusal = open(b"\xff\x00 not cbor", "call", 0).unwrap_err();
        assert_eq!(refusal.status, 400);
        assert!(
            refusal.message.contains("Could not parse body"),
            "{refusal:?}"
        );
    }

    #[test]
    fn anonymous_requests_need_no_signature_and_expired_ones_are_refused() {
        let now = 1_700_000_000_000_000_000u64;
        let envelope = |expiry: u64| {
            let mut content = BTreeMap::new();
            content.insert(
                Value::Text("request_type".into()),
                Value::Text("read_state".into()),
            );
            content.insert(Value::Text("sender".into()), Value::Bytes(vec![4]));
            content.insert(
                Value::Text("ingress_expiry".into()),
                Value::Integer(expiry as i128),
            );
            content.insert(
                Value::Text("paths".into()),
                Value::Array(vec![Value::Array(vec![Value::Bytes(b"time".to_vec())])]),
            );
            let mut envelope = BTreeMap::new();
            envelope.insert(Value::Text("content".into()), Value::Map(content));
            serde_cbor::to_vec(&Value::Map(envelope)).unwrap()
        };
        let request = open(&envelope(now + 60_000_000_000), "read_state", now).unwrap();
        assert_eq!(request.sender, Principal::anonymous());
        assert_eq!(
            request.content,
            Content::ReadState {
                paths: vec![vec![b"time".to_vec()]]
            }
        );
        let refusal = open(&envelope(now - 1), "read_state", now).unwrap_err();
        assert_eq!(refusal.status, 400);
        assert!(
            refusal.message.starts_with("Invalid request expiry"),
            "{refusal:?}"
        );
        let wrong_kind = open(&envelope(now + 1), "call", now).unwrap_err();
        assert!(
            wrong_kind.message.contains("expected a `call`"),
            "{wrong_kind:?}"
        );
    }
}
