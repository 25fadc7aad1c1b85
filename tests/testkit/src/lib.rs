//! Test support shared by the canister's unit tests and the in-process host:
//! a test subnet that signs certificates exactly as the IC does (BLS12-381
//! min-sig over `"\x0Dic-state-root" || root_hash`), and the official
//! response verifier (`ic-response-verification`) behind one call.
//!
//! Nothing here is a mock of the check: responses go through the same
//! verifier HTTP gateways use, with our test root key in its DER form.

use ic_certification::hash_tree::{HashTree, fork, label, leaf};
use ic_certification::{Certificate, Label};
use ic_http_certification::{HttpRequest, HttpResponse, Method, StatusCode};
use ic_verify_bls_signature::PrivateKey;
use sha2::{Digest, Sha256};

/// DER prefix of an IC BLS12-381 G2 public key (RFC 8410 style wrapping,
/// OID 1.3.6.1.4.1.44668.5.3.1.2.1 / 1.3.6.1.4.1.44668.5.3.2.1).
const DER_PREFIX: [u8; 37] = [
    0x30, 0x81, 0x82, 0x30, 0x1d, 0x06, 0x0d, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0xdc, 0x7c, 0x05,
    0x03, 0x01, 0x02, 0x01, 0x06, 0x0c, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0xdc, 0x7c, 0x05, 0x03,
    0x02, 0x01, 0x03, 0x61, 0x00,
];

/// Domain separator the IC prepends to a state root before signing it.
const STATE_ROOT_DOMAIN: &[u8] = b"\x0Dic-state-root";

/// The verifier accepts certificates within five minutes of its clock.
pub const MAX_CERT_TIME_OFFSET_NS: u128 = 5 * 60 * 1_000_000_000;

/// A subnet with a fixed BLS key that signs state trees for tests.
pub struct TestSubnet {
    key: PrivateKey,
}

impl Default for TestSubnet {
    fn default() -> Self {
        Self::new(b"asset-server test subnet")
    }
}

impl TestSubnet {
    /// A subnet whose key is derived from `seed`; the same seed gives the
    /// same root key, so a failure reproduces.
    pub fn new(seed: &[u8]) -> Self {
        let mut counter = 0u32;
        loop {
            let mut digest: [u8; 32] = Sha256::new()
                .chain_update(seed)
                .chain_update(counter.to_be_bytes())
                .finalize()
                .into();
            // Keep the big-endian scalar below the group order.
            digest[0] &= 0x3f;
            if let Ok(key) = PrivateKey::deserialize(&digest) {
                return Self { key };
            }
            counter += 1;
        }
    }

    /// The 96-byte compressed G2 public key.
    pub fn root_key_raw(&self) -> Vec<u8> {
        self.key.public_key().serialize().to_vec()
    }

    /// The 133-byte DER root key, as agents and the verifier take it.
    pub fn root_key_der(&self) -> Vec<u8> {
        let mut der = DER_PREFIX.to_vec();
        der.extend_from_slice(&self.root_key_raw());
        der
    }

    /// A CBOR certificate (self-describe tagged) whose state tree holds
    /// `/canister/<canister_id>/certified_data` and `/time`, signed by this
    /// subnet: the bytes `ic0.data_certificate_copy` hands to a canister.
    pub fn certificate(&self, canister_id: &[u8], certified_data: &[u8], time_ns: u64) -> Vec<u8> {
        let mut time = Vec::new();
        leb128::write::unsigned(&mut time, time_ns).expect("writing to a Vec cannot fail");
        let tree: HashTree<Vec<u8>> = fork(
            label(
                "canister",
                label(
                    Label::from(canister_id.to_vec()),
                    label("certified_data", leaf(certified_data.to_vec())),
                ),
            ),
            label("time", leaf(time)),
        );
        self.sign_tree(tree)
    }

    /// Signs any state tree as this subnet's certificate (no delegation)
    /// and returns it as self-describing CBOR: what a replica's
    /// `read_state` and synchronous `call` answer with. The tree may be
    /// pruned; the signature covers its root hash.
    pub fn sign_tree(&self, tree: HashTree<Vec<u8>>) -> Vec<u8> {
        let mut message = STATE_ROOT_DOMAIN.to_vec();
        message.extend_from_slice(&tree.digest());
        let signature = self.key.sign(&message).serialize().to_vec();
        let certificate = Certificate {
            tree,
            signature,
            delegation: None,
        };
        let mut serializer = serde_cbor::Serializer::new(Vec::new());
        serializer
            .self_describe()
            .expect("writing to a Vec cannot fail");
        serde::Serialize::serialize(&certificate, &mut serializer)
            .expect("a certificate always serializes");
        serializer.into_inner()
    }
}

/// An HTTP request as a gateway forwards it to `http_request`.
#[derive(Clone, Debug)]
pub struct GatewayRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
}

impl GatewayRequest {
    pub fn get(url: &str) -> Self {
        Self {
            method: "GET".into(),
            url: url.into(),
            headers: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// A complete response: for a streamed asset, `body` is every chunk joined.
#[derive(Clone, Debug)]
pub struct GatewayResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl GatewayResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What a gateway needs to check responses from one canister.
#[derive(Clone, Debug)]
pub struct Verifier {
    pub canister_id: Vec<u8>,
    pub root_key_der: Vec<u8>,
}

impl Verifier {
    /// Runs `ic-response-verification` with minimum version 1, as an HTTP
    /// gateway does; `now_ns` is the verifier's clock.
    pub fn verify(
        &self,
        request: &GatewayRequest,
        response: &GatewayResponse,
        now_ns: u64,
    ) -> Result<u16, String> {
        self.verify_min_version(request, response, now_ns, 1)
    }

    /// As `verify`, refusing responses certified below `min_version` (2
    /// accepts only certification v2).
    pub fn verify_min_version(
        &self,
        request: &GatewayRequest,
        response: &GatewayResponse,
        now_ns: u64,
        min_version: u8,
    ) -> Result<u16, String> {
        let method = Method::from_bytes(request.method.as_bytes()).map_err(|e| e.to_string())?;
        let http_request = HttpRequest::builder()
            .with_method(method)
            .with_url(request.url.clone())
            .with_headers(request.headers.clone())
            .build();
        let status = StatusCode::from_u16(response.status).map_err(|e| e.to_string())?;
        let http_response = HttpResponse::builder()
            .with_status_code(status)
            .with_headers(response.headers.clone())
            .with_body(response.body.as_slice())
            .build();
        ic_response_verification::verify_request_response_pair(
            http_request,
            http_response,
            &self.canister_id,
            now_ns as u128,
            MAX_CERT_TIME_OFFSET_NS,
            &self.root_key_der,
            min_version,
        )
        .map(|info| info.verification_version)
        .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_key_is_133_bytes_of_der() {
        let der = TestSubnet::default().root_key_der();
        assert_eq!(der.len(), 133);
        assert_eq!(&der[..37], &DER_PREFIX);
    }

    #[test]
    fn certificate_signature_verifies_under_the_root_key() {
        let subnet = TestSubnet::default();
        let cert = subnet.certificate(&[1, 2, 3], &[7; 32], 42);
        assert_eq!(&cert[..3], &[0xd9, 0xd9, 0xf7], "self-describe tag");
        let parsed: serde_cbor::Value = serde_cbor::from_slice(&cert).unwrap();
        let serde_cbor::Value::Map(map) = parsed else {
            panic!("certificate is a map")
        };
        let sig = map
            .get(&serde_cbor::Value::Text("signature".into()))
            .unwrap();
        let serde_cbor::Value::Bytes(sig) = sig else {
            panic!("signature is bytes")
        };
        assert_eq!(sig.len(), 48);
    }

    #[test]
    fn different_seeds_give_different_keys() {
        assert_ne!(
            TestSubnet::new(b"a").root_key_raw(),
            TestSubnet::new(b"b").root_key_raw()
        );
    }
}
