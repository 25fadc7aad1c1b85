//! A local HTTP gateway in front of the in-process host, doing what the
//! IC's gateways do: each HTTP request becomes an `http_request` query,
//! streamed bodies are assembled through the callback, and the response
//! is checked with the official `ic-response-verification` before the
//! browser sees it. A response that fails verification is replaced by a
//! 503 whose body gives the verifier's reason.
//!
//! Uncertified error responses: the canister answers some requests with a
//! 4xx and no `IC-Certificate` header (403 on raw domains, 400 for a bad
//! URL, 405 for other methods, 404 when there is no `/index.html`),
//! because certification v1 cannot certify them. Such a response carries
//! no asset bytes, so this gateway passes it through and logs it as
//! `NOT verified`, rather than hiding the canister's explanation behind a
//! 503. A response with status < 400, or any response that does carry a
//! certificate, must verify.
//!
//! `tamper` is a demonstration and test switch: it flips one byte of the
//! body for one path after the canister answered and before verification,
//! to show that the gateway refuses altered content.
//!
//! The canister's host is either the gateway's own ([`Gateway::new`]) or
//! one that a local replica endpoint also serves
//! ([`Gateway::over_replica`]): one host behind two doors, so what a user
//! uploads through the endpoint (`icx-asset --replica ...`) is served here
//! with the next request.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use asset_server::types::{
    HttpRequest, HttpResponse, StreamingCallbackHttpResponse, StreamingStrategy,
};
use asset_testkit::{GatewayRequest, GatewayResponse, Verifier};
use candid::Principal;
use serde_bytes::ByteBuf;
use wasm_host::Host;
use wasm_host::replica::Replica;

use crate::transport::{HostCalls, query_typed};

/// The verifier's outcome for one response.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// Verified; passed to the client.
    Verified,
    /// An uncertified error response, passed to the client as is.
    PassedUnverified(String),
    /// Failed verification; the client got a 503 instead.
    Refused(String),
    /// The canister call itself failed; the client got a 502.
    CallFailed(String),
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verdict::Verified => f.write_str("verified"),
            Verdict::PassedUnverified(reason) => {
                write!(
                    f,
                    "NOT verified: {reason} (uncertified error, passed through)"
                )
            }
            Verdict::Refused(reason) => write!(f, "NOT verified: {reason} (refused with 503)"),
            Verdict::CallFailed(reason) => write!(f, "NOT verified: call failed: {reason}"),
        }
    }
}

/// What the gateway answers, and why.
#[derive(Clone, Debug)]
pub struct Served {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub verdict: Verdict,
    /// Instructions of the `http_request` query and every callback.
    pub instructions: u64,
}

/// Where the canister the gateway serves runs.
enum Canister {
    /// A host of the gateway's own.
    Own(Host),
    /// A host the replica endpoint serves too; reached between its
    /// requests, so a call and a gateway request never interleave.
    Replica {
        replica: Arc<Replica>,
        canister_id: Principal,
    },
}

impl Canister {
    /// Runs `fetch` on the host at the current time (the host's clock does
    /// not move on its own, and certificates must be signed at "now" or the
    /// verifier rejects them as stale); the time it ran at, for the
    /// verifier.
    fn fetch(&mut self, request: &GatewayRequest) -> (Result<(GatewayResponse, u64), String>, u64) {
        match self {
            Canister::Own(host) => {
                host.set_time(now_ns());
                (fetch(host, request), host.time())
            }
            // The replica sets its own clock, which never goes backwards.
            Canister::Replica {
                replica,
                canister_id,
            } => replica
                .with_host(canister_id, |host| (fetch(host, request), host.time()))
                .unwrap_or_else(|| {
                    (
                        Err(format!(
                            "the replica no longer hosts canister {canister_id}"
                        )),
                        now_ns(),
                    )
                }),
        }
    }
}

pub struct Gateway {
    canister: Canister,
    verifier: Verifier,
    tamper: Option<String>,
}

impl Gateway {
    /// A gateway for the canister installed on `host`. `tamper`: see the
    /// module documentation.
    pub fn new(host: Host, tamper: Option<String>) -> Self {
        let verifier = verifier(host.canister_id(), host.root_key_der());
        Self {
            canister: Canister::Own(host),
            verifier,
            tamper,
        }
    }

    /// A gateway for `canister_id` as hosted by `replica`, whose calls
    /// (uploads included) change what this gateway serves at once.
    pub fn over_replica(
        replica: Arc<Replica>,
        canister_id: Principal,
        tamper: Option<String>,
    ) -> Self {
        let verifier = verifier(canister_id, replica.root_key_der());
        Self {
            canister: Canister::Replica {
                replica,
                canister_id,
            },
            verifier,
            tamper,
        }
    }

    /// The host back, e.g. to upload more after serving; `None` when the
    /// host belongs to a replica endpoint.
    pub fn into_host(self) -> Option<Host> {
        match self.canister {
            Canister::Own(host) => Some(host),
            Canister::Replica { .. } => None,
        }
    }

    /// Serves one request: method, path with query, and headers as the
    /// client sent them (including `Host`).
    pub fn handle(&mut self, method: &str, url: &str, headers: Vec<(String, String)>) -> Served {
        let request = GatewayRequest {
            method: method.to_string(),
            url: url.to_string(),
            headers,
        };
        let (fetched, now) = self.canister.fetch(&request);
        let (mut response, instructions) = match fetched {
            Ok(fetched) => fetched,
            Err(reason) => {
                return Served {
                    status: 502,
                    headers: text_headers(),
                    body: format!("502 Bad Gateway: the canister call failed: {reason}\n")
                        .into_bytes(),
                    verdict: Verdict::CallFailed(reason),
                    instructions: 0,
                };
            }
        };
        if self.tamper.as_deref() == Some(path_of(url)) {
            tamper(&mut response.body);
        }
        let verdict = match self.verifier.verify(&request, &response, now) {
            Ok(_) => Verdict::Verified,
            Err(reason)
                if response.status >= 400 && response.header("ic-certificate").is_none() =>
            {
                Verdict::PassedUnverified(reason)
            }
            Err(reason) => {
                return Served {
                    status: 503,
                    headers: text_headers(),
                    body: format!(
                        "503 Service Unavailable: response verification failed: {reason}\n"
                    )
                    .into_bytes(),
                    verdict: Verdict::Refused(reason),
                    instructions,
                };
            }
        };
        Served {
            status: response.status,
            headers: response.headers,
            body: response.body,
            verdict,
            instructions,
        }
    }
}

/// The `http_request` query and every streaming callback, assembled as a
/// gateway does, with the instructions they used.
fn fetch(host: &mut Host, request: &GatewayRequest) -> Result<(GatewayResponse, u64), String> {
    let mut calls = HostCalls::new(host, Principal::anonymous());
    let args = HttpRequest {
        method: request.method.clone(),
        url: request.url.clone(),
        headers: request.headers.clone(),
        body: ByteBuf::new(),
        certificate_version: None,
    };
    let (response, used): (HttpResponse, _) = query_typed(&mut calls, "http_request", args)?;
    let mut instructions = used.unwrap_or_default();
    let mut body = response.body.into_vec();
    let mut token = response
        .streaming_strategy
        .map(|StreamingStrategy::Callback { token, .. }| token);
    while let Some(next) = token {
        let (chunk, used): (Option<StreamingCallbackHttpResponse>, _) =
            query_typed(&mut calls, "http_request_streaming_callback", next)?;
        instructions += used.unwrap_or_default();
        let chunk = chunk.ok_or("the streaming callback returned no chunk")?;
        body.extend_from_slice(&chunk.body);
        token = chunk.token;
    }
    let response = GatewayResponse {
        status: response.status_code,
        headers: response.headers,
        body,
    };
    Ok((response, instructions))
}

/// Serves HTTP on `listener` until `stop` is set, calling `log` with one
/// line per request: method, path, status, verdict, instructions.
pub fn serve(
    listener: TcpListener,
    mut gateway: Gateway,
    stop: Arc<AtomicBool>,
    log: &mut dyn FnMut(&str),
) -> Result<(), String> {
    let server = tiny_http::Server::from_listener(listener, None)
        .map_err(|e| format!("starting the HTTP server: {e}"))?;
    while !stop.load(Ordering::SeqCst) {
        // A short timeout so a stop request is noticed promptly.
        let request = match server.recv_timeout(Duration::from_millis(100)) {
            Ok(Some(request)) => request,
            Ok(None) => continue,
            Err(e) => return Err(format!("accepting a request: {e}")),
        };
        let method = request.method().as_str().to_string();
        let url = request.url().to_string();
        let headers = request
            .headers()
            .iter()
            .map(|h| {
                (
                    h.field.as_str().as_str().to_string(),
                    h.value.as_str().to_string(),
                )
            })
            .collect();
        let served = gateway.handle(&method, &url, headers);
        log(&format!(
            "{method} {url} {} {}, {} instructions",
            served.status, served.verdict, served.instructions
        ));
        let mut response = tiny_http::Response::from_data(served.body)
            .with_status_code(served.status)
            // Always send Content-Length: simpler clients, and the browser
            // knows the size of a streamed file up front.
            .with_chunked_threshold(usize::MAX);
        for (name, value) in &served.headers {
            // The server frames the body itself.
            if ["content-length", "transfer-encoding", "connection"]
                .iter()
                .any(|n| name.eq_ignore_ascii_case(n))
            {
                continue;
            }
            match tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
                Ok(header) => response.add_header(header),
                Err(()) => log(&format!("  dropped header {name:?}: not valid in HTTP/1.1")),
            }
        }
        if let Err(e) = request.respond(response) {
            log(&format!("  {method} {url}: writing the response: {e}"));
        }
    }
    Ok(())
}

fn path_of(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

/// Flips one byte in the middle of the body (or adds one to an empty body).
fn tamper(body: &mut Vec<u8>) {
    if body.is_empty() {
        body.push(b'!');
    } else {
        let middle = body.len() / 2;
        body[middle] ^= 0x01;
    }
}

fn verifier(canister_id: Principal, root_key_der: Vec<u8>) -> Verifier {
    Verifier {
        canister_id: canister_id.as_slice().to_vec(),
        root_key_der,
    }
}

fn text_headers() -> Vec<(String, String)> {
    vec![("content-type".into(), "text/plain; charset=utf-8".into())]
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default()
}
