//! Today's HTTP gateway on 127.0.0.1, in front of a replica URL: DFINITY's
//! `ic-http-gateway` crate (the library the IC's gateways, ic-gateway, are
//! built on), unmodified, behind a small HTTP server. So the preview and
//! the tests see what a browser sees on `<id>.icp0.io`: the gateway asks
//! for certification v2, verifies every answer (and every `206` chunk of a
//! large body) with `ic-response-verification`, keeps only certified
//! headers, and refuses what does not verify.
//!
//! What this server adds, as ic-gateway does around the library: the
//! canister comes from the `Host` header (`<id>.localhost`, else the one
//! given at start), raw hosts (`<id>.raw.<domain>`) skip verification, and a
//! response the gateway could not verify becomes **503** with the reason.
//!
//! Two differences, both stricter than a real gateway:
//! - This server collects a streamed body before answering, so a chunk that
//!   fails verification turns the whole answer into a 503 (a real gateway
//!   has sent its headers by then and drops the connection).
//! - A v1 callback stream longer than the library verifies (the first body
//!   and 4 callback chunks) comes back from it unverified, certificate
//!   unchecked and headers as the canister sent them; a real gateway relays
//!   that, this one answers 503. So what the preview shows was verified.
//!
//! ```no_run
//! # let canister_id = candid::Principal::anonymous();
//! use local_gateway::{LocalGateway, RequestLog};
//! let gateway = LocalGateway::start(
//!     "http://127.0.0.1:4943", canister_id, "127.0.0.1:0", RequestLog::Stderr).unwrap();
//! println!("Preview: {}", gateway.url());
//! ```

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use bytes::Bytes;
use candid::Principal;
use http_body_util::BodyExt;
use ic_agent::Agent;
use ic_http_gateway::{HttpGatewayClient, HttpGatewayRequestArgs, HttpGatewayResponse};

/// The crate versions this gateway runs, for logs and test output.
pub const GATEWAY_VERSION: &str = "ic-http-gateway 0.4.3 (ic-agent 0.46.2)";

/// Where the gateway's one line per request goes: method, URL, the
/// `Range` asked for, status, the `Content-Range` answered and whether
/// (and under which certification version) the answer was verified, e.g.
/// `GET /film.webm range bytes=0- -> 206 bytes 0-1899999/21000000 (verified v2)`.
pub enum RequestLog {
    Off,
    Stderr,
    /// To a function: one that prints, or keeps the lines for a test.
    To(Box<dyn FnMut(&str) + Send>),
}

impl RequestLog {
    fn write(&mut self, line: &str) {
        match self {
            RequestLog::Off => {}
            RequestLog::Stderr => eprintln!("{line}"),
            RequestLog::To(sink) => sink(line),
        }
    }
}

/// A running gateway; it stops when dropped.
pub struct LocalGateway {
    address: SocketAddr,
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
}

impl LocalGateway {
    /// Starts a gateway on `listen` (e.g. `127.0.0.1:0`) for the replica
    /// at `replica_url`, whose root key it fetches, serving `canister_id`
    /// unless the `Host` header names another; one line per request goes
    /// to `log`.
    pub fn start(
        replica_url: &str,
        canister_id: Principal,
        listen: &str,
        log: RequestLog,
    ) -> Result<Self, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("tokio runtime: {e}"))?;
        let agent = Agent::builder()
            .with_url(replica_url)
            .build()
            .map_err(|e| format!("agent for {replica_url}: {e}"))?;
        runtime
            .block_on(agent.fetch_root_key())
            .map_err(|e| format!("root key of {replica_url}: {e}"))?;
        let client = HttpGatewayClient::builder()
            .with_agent(agent)
            .build()
            .map_err(|e| format!("gateway client: {e}"))?;
        let server =
            tiny_http::Server::http(listen).map_err(|e| format!("listen {listen}: {e}"))?;
        let address = server
            .server_addr()
            .to_ip()
            .ok_or("the gateway listens on an IP address")?;
        let server = Arc::new(server);
        let serving = Arc::clone(&server);
        let thread = std::thread::spawn(move || {
            let mut gateway = Gateway {
                client,
                canister_id,
                log,
            };
            for request in serving.incoming_requests() {
                runtime.block_on(gateway.answer(request));
            }
        });
        Ok(Self {
            address,
            server,
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }
}

impl Drop for LocalGateway {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Gateway {
    client: HttpGatewayClient,
    canister_id: Principal,
    log: RequestLog,
}

/// Headers the HTTP server sets itself.
const HOP_BY_HOP: &[&str] = &["content-length", "transfer-encoding", "connection"];

impl Gateway {
    async fn answer(&mut self, mut request: tiny_http::Request) {
        let method = request.method().as_str().to_string();
        let url = request.url().to_string();
        let host = request
            .headers()
            .iter()
            .find(|h| h.field.equiv("host"))
            .map(|h| h.value.as_str().to_ascii_lowercase())
            .unwrap_or_default();
        let range = request
            .headers()
            .iter()
            .find(|h| h.field.equiv("range"))
            .map(|h| format!(" range {}", h.value));
        let mut body = Vec::new();
        let _ = request.as_reader().read_to_end(&mut body);
        let mut builder = http::Request::builder().method(method.as_str()).uri(&url);
        for header in request.headers() {
            builder = builder.header(header.field.as_str().as_str(), header.value.as_str());
        }
        let (status, headers, body, note) = match builder.body(Bytes::from(body)) {
            Ok(canister_request) => {
                let (canister_id, raw) = self.route(&host);
                let args = HttpGatewayRequestArgs {
                    canister_request,
                    canister_id,
                };
                let mut call = self.client.request(args);
                call.unsafe_set_skip_verification(raw);
                let response = call.send().await;
                let version = response.metadata.response_verification_version;
                match relay(response, raw).await {
                    Ok((status, headers, body)) => {
                        let note = match version {
                            Some(version) if !raw => format!("verified v{version}"),
                            _ => "raw: not verified".to_string(),
                        };
                        (status, headers, body, note)
                    }
                    Err(reason) => {
                        let (status, headers, body) = unavailable(&reason);
                        let reason = reason.replace(['\r', '\n'], " ");
                        (status, headers, body, format!("NOT verified: {reason}"))
                    }
                }
            }
            Err(e) => (
                400,
                Vec::new(),
                format!("400 Bad Request: {e}\n").into_bytes(),
                "unreadable request".into(),
            ),
        };
        let content_range = headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("content-range"))
            .map(|(_, value)| format!(" {value}"));
        self.log.write(&format!(
            "{method} {url}{} -> {status}{} ({note})",
            range.unwrap_or_default(),
            content_range.unwrap_or_default()
        ));
        // The whole body is known: send its length, as ic-gateway does,
        // rather than tiny_http's chunked encoding for large bodies.
        let mut response = tiny_http::Response::from_data(body)
            .with_status_code(status)
            .with_chunked_threshold(usize::MAX);
        for (name, value) in headers {
            if HOP_BY_HOP.contains(&name.to_ascii_lowercase().as_str()) {
                continue;
            }
            if let Ok(header) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
                response.add_header(header);
            }
        }
        let _ = request.respond(response);
    }

    /// The canister a host names (`<id>.localhost`, `<id>.raw.localhost`),
    /// else the default one; and whether the host is a raw one.
    fn route(&self, host: &str) -> (Principal, bool) {
        let name = host
            .split(':')
            .next()
            .unwrap_or_default()
            .trim_end_matches('.');
        let mut labels = name.split('.');
        let first = labels.next().unwrap_or_default();
        let raw = labels.next() == Some("raw");
        let canister_id = Principal::from_text(first).unwrap_or(self.canister_id);
        (canister_id, raw)
    }
}

/// The status, headers and whole body a browser gets; or why the gateway
/// could not verify the response, before or while streaming, or (on a
/// host that is not raw) did not verify it at all.
async fn relay(
    response: HttpGatewayResponse,
    raw: bool,
) -> Result<(u16, Vec<(String, String)>, Vec<u8>), String> {
    if let Some(error) = response.metadata.internal_error {
        return Err(error.to_string());
    }
    if !raw && response.metadata.response_verification_version.is_none() {
        return Err(
            "the gateway library passed it on unverified (a callback stream longer than it \
             verifies, or an update call)"
                .into(),
        );
    }
    let (parts, body) = response.canister_response.into_parts();
    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    match body.collect().await {
        Ok(collected) => Ok((
            parts.status.as_u16(),
            headers,
            collected.to_bytes().to_vec(),
        )),
        Err(error) => Err(error.to_string()),
    }
}

fn unavailable(reason: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
    (
        503,
        vec![("content-type".into(), "text/plain; charset=utf-8".into())],
        format!("503 Service Unavailable: the response failed verification: {reason}\n")
            .into_bytes(),
    )
}
