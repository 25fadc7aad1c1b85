//! The agent side: an `ic_agent::Agent` over HTTP to the local replica,
//! with its default verification (root key fetched from `/api/v2/status`,
//! query signatures checked against the certified node keys), deploying
//! the wasm through the management canister as a deploy script does, and
//! fetching `http_request` as an HTTP gateway does.
//!
//! The candid types of `http_request` are written here from the asset
//! canister interface, not taken from our canister's crate, so the check
//! is independent of our own type definitions.

use std::sync::Arc;

use asset_testkit::{GatewayRequest, GatewayResponse, Verifier};
use candid::{CandidType, Decode, Deserialize, Encode, Nat, Principal};
use ic_agent::{Agent, Identity};
use ic_utils::call::AsyncCall as _;
use ic_utils::interfaces::ManagementCanister;
use ic_utils::interfaces::management_canister::builders::CanisterInstallMode;
use serde_bytes::ByteBuf;
use tokio::runtime::Runtime;

pub type HeaderField = (String, String);

#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<HeaderField>,
    pub body: ByteBuf,
    pub certificate_version: Option<u16>,
}

#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct StreamingCallbackToken {
    pub key: String,
    pub content_encoding: String,
    pub index: Nat,
    pub sha256: Option<ByteBuf>,
}

candid::define_function!(pub StreamingCallback : (StreamingCallbackToken) -> (Option<StreamingCallbackHttpResponse>) query);

#[derive(CandidType, Deserialize, Clone, Debug)]
pub enum StreamingStrategy {
    Callback {
        callback: StreamingCallback,
        token: StreamingCallbackToken,
    },
}

#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct HttpResponse {
    pub status_code: u16,
    pub headers: Vec<HeaderField>,
    pub body: ByteBuf,
    pub streaming_strategy: Option<StreamingStrategy>,
}

#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct StreamingCallbackHttpResponse {
    pub body: ByteBuf,
    pub token: Option<StreamingCallbackToken>,
}

/// An Ed25519 identity (dfx's older default) from a fixed seed.
pub fn ed25519_identity(seed: u8) -> ic_agent::identity::BasicIdentity {
    ic_agent::identity::BasicIdentity::from_raw_key(&[seed; 32])
}

/// A PKCS#8 PEM of the Ed25519 key `ed25519_identity(seed)` uses, as
/// `dfx identity export` writes one.
pub fn ed25519_pem(seed: u8) -> String {
    const PKCS8_PREFIX: [u8; 16] = [
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    let mut der = PKCS8_PREFIX.to_vec();
    der.extend_from_slice(&[seed; 32]);
    use base64::Engine as _;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n")
}

/// A secp256k1 identity (dfx's current default) from a fixed seed.
pub fn secp256k1_identity(seed: u8) -> ic_agent::identity::Secp256k1Identity {
    let key = k256::SecretKey::from_slice(&[seed; 32]).expect("a valid secp256k1 scalar");
    ic_agent::identity::Secp256k1Identity::from_private_key(key)
}

/// An agent and the runtime that drives it.
pub struct Client {
    pub runtime: Runtime,
    pub agent: Agent,
}

impl Client {
    /// Connects to `url` as `identity`, fetching the root key as every
    /// client does for a local replica. Query signature verification stays
    /// on (the agent's default).
    pub fn connect(url: &str, identity: impl Identity + 'static) -> Result<Self, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("tokio runtime: {e}"))?;
        let agent = Agent::builder()
            .with_url(url)
            .with_arc_identity(Arc::new(identity))
            .build()
            .map_err(|e| format!("building the agent: {e}"))?;
        runtime
            .block_on(agent.fetch_root_key())
            .map_err(|e| format!("fetching the root key from {url}: {e}"))?;
        Ok(Client { runtime, agent })
    }

    pub fn principal(&self) -> Principal {
        self.agent
            .get_principal()
            .expect("the identity has a principal")
    }

    /// Creates a canister and installs `wasm` with an empty argument, as a
    /// deploy script written for a replica does (dfx: `canister create`
    /// with provisional cycles, then `canister install`).
    pub fn deploy(&self, wasm: &[u8]) -> Result<Principal, String> {
        let management = ManagementCanister::create(&self.agent);
        let (canister_id,) = self
            .runtime
            .block_on(
                management
                    .create_canister()
                    .as_provisional_create_with_amount(Some(1_000_000_000_000))
                    .call_and_wait(),
            )
            .map_err(|e| format!("provisional_create_canister_with_cycles: {e}"))?;
        self.install(canister_id, wasm, CanisterInstallMode::Install)?;
        Ok(canister_id)
    }

    pub fn install(
        &self,
        canister_id: Principal,
        wasm: &[u8],
        mode: CanisterInstallMode,
    ) -> Result<(), String> {
        let management = ManagementCanister::create(&self.agent);
        self.runtime
            .block_on(
                management
                    .install_code(&canister_id, wasm)
                    .with_mode(mode)
                    .call_and_wait(),
            )
            .map_err(|e| format!("install_code ({mode:?}): {e}"))
    }

    /// The module hash the management canister reports.
    pub fn module_hash(&self, canister_id: Principal) -> Result<Option<Vec<u8>>, String> {
        let management = ManagementCanister::create(&self.agent);
        let (status,) = self
            .runtime
            .block_on(management.canister_status(&canister_id).call_and_wait())
            .map_err(|e| format!("canister_status: {e}"))?;
        Ok(status.module_hash)
    }

    /// A raw candid update call.
    pub fn update(
        &self,
        canister_id: Principal,
        method: &str,
        arg: Vec<u8>,
    ) -> Result<Vec<u8>, String> {
        self.runtime
            .block_on(
                self.agent
                    .update(&canister_id, method)
                    .with_arg(arg)
                    .call_and_wait(),
            )
            .map_err(|e| format!("{method}: {e}"))
    }

    /// A raw candid query (signature verified by the agent).
    pub fn query(
        &self,
        canister_id: Principal,
        method: &str,
        arg: Vec<u8>,
    ) -> Result<Vec<u8>, String> {
        self.runtime
            .block_on(self.agent.query(&canister_id, method).with_arg(arg).call())
            .map_err(|e| format!("{method}: {e}"))
    }

    /// What a gateway assembles for `request`: `http_request`, then every
    /// chunk the streaming callback returns.
    pub fn fetch(
        &self,
        canister_id: Principal,
        request: &GatewayRequest,
    ) -> Result<GatewayResponse, String> {
        let arg = HttpRequest {
            method: request.method.clone(),
            url: request.url.clone(),
            headers: request.headers.clone(),
            body: ByteBuf::new(),
            certificate_version: None,
        };
        let bytes = self.query(canister_id, "http_request", Encode!(&arg).expect("encodes"))?;
        let response =
            Decode!(&bytes, HttpResponse).map_err(|e| format!("http_request reply: {e}"))?;
        let mut body = response.body.into_vec();
        let mut next = response
            .streaming_strategy
            .map(|StreamingStrategy::Callback { callback, token }| (callback, token));
        while let Some((callback, token)) = next {
            let bytes = self.query(
                callback.0.principal,
                &callback.0.method,
                Encode!(&token).expect("encodes"),
            )?;
            let chunk = Decode!(&bytes, Option<StreamingCallbackHttpResponse>)
                .map_err(|e| format!("streaming callback reply: {e}"))?
                .ok_or("the streaming callback returned no chunk")?;
            body.extend_from_slice(&chunk.body);
            next = chunk.token.map(|token| (callback, token));
        }
        Ok(GatewayResponse {
            status: response.status_code,
            headers: response.headers,
            body,
        })
    }
}

/// A request as a gateway forwards it for `url` on `canister_id`'s domain.
pub fn gateway_request(canister_id: Principal, url: &str) -> GatewayRequest {
    GatewayRequest::get(url).with_header("host", &format!("{canister_id}.icp0.io"))
}

/// The verifier for `canister_id` under the replica's root key.
pub fn verifier(canister_id: Principal, root_key_der: Vec<u8>) -> Verifier {
    Verifier {
        canister_id: canister_id.as_slice().to_vec(),
        root_key_der,
    }
}

/// Now, in nanoseconds, for the verifier's clock.
pub fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}
