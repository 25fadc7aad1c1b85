//! `ic-asset` of the older protocol line (0.26, the newest of 0.25/0.26),
//! unmodified, through its own `ic_agent` 0.44 over HTTP to the local
//! replica endpoint, with the agent's default verification. ic-agent 0.44
//! calls only `/api/v3/canister/<id>/call` (synchronous, no fallback to
//! v2) and `/api/v2` query and read_state, where the 0.27+ line calls
//! `/api/v4` and `/api/v3`; a logging proxy between the agent and the
//! replica checks that this line is what ran.
//!
//! The deploy, both syncs, the authorization and the upgrade all go
//! through the 0.44 agent; every file is then fetched and verified with
//! the shared check helpers (which fetch as a gateway does).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};

use asset_clients::client::{Client, ed25519_identity, gateway_request, now_ns, verifier};
use asset_clients::site;
use asset_clients::{check, harness, versions};
use candid::{Decode, Encode, Principal};
use ic_agent_legacy::{Agent, Identity};
use ic_utils_legacy::call::AsyncCall as _;
use ic_utils_legacy::interfaces::ManagementCanister;
use ic_utils_legacy::interfaces::management_canister::builders::CanisterInstallMode;
use wasm_host::replica::Replica;

const CASES: &[harness::Case] = &[
    (
        "the_versions_named_are_the_versions_locked",
        the_versions_named_are_the_versions_locked,
    ),
    (
        "ic_asset_legacy_syncs_a_site_and_every_file_verifies",
        ic_asset_legacy_syncs_a_site_and_every_file_verifies,
    ),
];

fn main() {
    harness::run(
        &format!("ic-asset {}", versions::IC_ASSET_LEGACY),
        &format!(
            "ic-agent {}, the v3 call / v2 query line, over the local replica endpoint wasm-host::replica",
            versions::IC_AGENT_LEGACY
        ),
        CASES,
    );
}

fn the_versions_named_are_the_versions_locked(_: &[u8]) {
    let lock =
        std::fs::read_to_string(harness::workspace_root().join("Cargo.lock")).expect("Cargo.lock");
    for (name, version) in [
        ("ic-asset", versions::IC_ASSET_LEGACY),
        ("ic-agent", versions::IC_AGENT_LEGACY),
        ("ic-utils", versions::IC_AGENT_LEGACY),
    ] {
        let entry = format!("name = \"{name}\"\nversion = \"{version}\"");
        assert!(lock.contains(&entry), "Cargo.lock has no {name} {version}");
    }
}

// ---- the 0.44 agent ----

/// An ic-agent 0.44 agent and the runtime that drives it, with the
/// agent's default verification (root key fetched, query signatures
/// checked against the certified node keys).
struct Legacy {
    runtime: tokio::runtime::Runtime,
    agent: Agent,
}

impl Legacy {
    fn connect(url: &str, identity: impl Identity + 'static) -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let agent = Agent::builder()
            .with_url(url)
            .with_arc_identity(Arc::new(identity))
            .build()
            .expect("building the agent");
        runtime
            .block_on(agent.fetch_root_key())
            .unwrap_or_else(|e| panic!("fetching the root key from {url}: {e}"));
        Legacy { runtime, agent }
    }

    fn principal(&self) -> Principal {
        self.agent.get_principal().expect("a principal")
    }

    fn deploy(&self, wasm: &[u8]) -> Principal {
        let management = ManagementCanister::create(&self.agent);
        let (canister_id,) = self
            .runtime
            .block_on(
                management
                    .create_canister()
                    .as_provisional_create_with_amount(Some(1_000_000_000_000))
                    .call_and_wait(),
            )
            .unwrap_or_else(|e| panic!("provisional_create_canister_with_cycles: {e}"));
        self.install(canister_id, wasm, CanisterInstallMode::Install);
        canister_id
    }

    fn install(&self, canister_id: Principal, wasm: &[u8], mode: CanisterInstallMode) {
        let management = ManagementCanister::create(&self.agent);
        self.runtime
            .block_on(
                management
                    .install_code(&canister_id, wasm)
                    .with_mode(mode)
                    .call_and_wait(),
            )
            .unwrap_or_else(|e| panic!("install_code ({mode:?}): {e}"));
    }

    fn module_hash(&self, canister_id: Principal) -> Option<Vec<u8>> {
        let management = ManagementCanister::create(&self.agent);
        let (status,) = self
            .runtime
            .block_on(management.canister_status(&canister_id).call_and_wait())
            .unwrap_or_else(|e| panic!("canister_status: {e}"));
        status.module_hash
    }

    fn update(&self, canister_id: Principal, method: &str, arg: Vec<u8>) -> Vec<u8> {
        self.runtime
            .block_on(
                self.agent
                    .update(&canister_id, method)
                    .with_arg(arg)
                    .call_and_wait(),
            )
            .unwrap_or_else(|e| panic!("{method}: {e}"))
    }

    fn query(&self, canister_id: Principal, method: &str, arg: Vec<u8>) -> Vec<u8> {
        self.runtime
            .block_on(self.agent.query(&canister_id, method).with_arg(arg).call())
            .unwrap_or_else(|e| panic!("{method}: {e}"))
    }

    fn sync(&self, canister: Principal, dir: &Path) {
        let canister = ic_utils_legacy::Canister::builder()
            .with_agent(&self.agent)
            .with_canister_id(canister)
            .build()
            .expect("canister");
        let logger = slog::Logger::root(slog::Discard, slog::o!());
        self.runtime
            .block_on(ic_asset_legacy::sync(
                &canister,
                &[dir],
                false,
                &logger,
                None,
            ))
            .unwrap_or_else(|e| {
                panic!(
                    "ic_asset::sync ({}) failed: {e:?}",
                    versions::IC_ASSET_LEGACY
                )
            });
    }
}

fn secp256k1_identity(seed: u8) -> ic_agent_legacy::identity::Secp256k1Identity {
    let key = k256::SecretKey::from_slice(&[seed; 32]).expect("a valid secp256k1 scalar");
    ic_agent_legacy::identity::Secp256k1Identity::from_private_key(key)
}

// ---- a proxy that records the paths the agent posts to ----

/// Listens on a local port and forwards every connection to `upstream`,
/// recording the method and path of each request the client sends
/// (requests are read by their `Content-Length`, as the agent sends them).
struct Proxy {
    url: String,
    paths: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    fn start(upstream: &str) -> Proxy {
        let upstream = upstream
            .strip_prefix("http://")
            .expect("http url")
            .trim_end_matches('/')
            .to_string();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let paths = Arc::new(Mutex::new(Vec::new()));
        let recorded = paths.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                let recorded = recorded.clone();
                let (mut from_server, mut to_client) =
                    (server.try_clone().unwrap(), client.try_clone().unwrap());
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut from_server, &mut to_client);
                    let _ = to_client.shutdown(std::net::Shutdown::Write);
                });
                std::thread::spawn(move || {
                    let _ = forward_requests(client, server, &recorded);
                });
            }
        });
        Proxy { url, paths }
    }

    fn paths(&self) -> Vec<String> {
        self.paths.lock().unwrap().clone()
    }
}

fn forward_requests(
    client: TcpStream,
    mut server: TcpStream,
    recorded: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(client);
    loop {
        let mut head = Vec::new();
        let mut content_length = 0usize;
        let mut first = true;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 {
                let _ = server.shutdown(std::net::Shutdown::Write);
                return Ok(());
            }
            if first {
                let mut parts = line.split_whitespace();
                let method = parts.next().unwrap_or_default();
                let path = parts.next().unwrap_or_default();
                recorded.lock().unwrap().push(format!("{method} {path}"));
                first = false;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                content_length = value.trim().parse().unwrap_or(0);
            }
            head.extend_from_slice(line.as_bytes());
            if line == "\r\n" || line == "\n" {
                break;
            }
        }
        let mut body = vec![0; content_length];
        reader.read_exact(&mut body)?;
        server.write_all(&head)?;
        server.write_all(&body)?;
    }
}

// ---- the deploy and the syncs ----

fn ic_asset_legacy_syncs_a_site_and_every_file_verifies(wasm: &[u8]) {
    let replica = Replica::start().expect("replica");
    let proxy = Proxy::start(&replica.url());
    let deployer = Legacy::connect(&proxy.url, ed25519_identity_legacy(7));
    let canister = deployer.deploy(wasm);
    assert_eq!(
        deployer.module_hash(canister),
        Some(sha256(wasm)),
        "canister_status reports the installed module's hash"
    );
    let version = deployer.query(canister, "api_version", Encode!().unwrap());
    assert_eq!(Decode!(&version, u16).unwrap(), 2);

    // The gateway side of the checks: a current agent straight to the
    // replica, fetching `http_request` and verifying each response.
    let gateway = Client::connect(&replica.url(), ed25519_identity(7)).expect("agent");

    let dir = tempfile::tempdir().expect("temporary directory");
    let site_dir = dir.path().join("dist");

    // First deploy, as the Ed25519 identity that installed the canister:
    // the whole site, over 1,200 operations, so the client splits its
    // commit into batches of 500.
    let first = site::first_version();
    site::write(&site_dir, &first).expect("writing the site");
    deployer.sync(canister, &site_dir);
    check::check_site(&replica, &gateway, canister, &first, &[]);

    // A second identity (secp256k1) gets Commit and deploys the changes:
    // changed, added and deleted files.
    let uploader = Legacy::connect(&proxy.url, secp256k1_identity(9));
    deployer.update(
        canister,
        "authorize",
        Encode!(&uploader.principal()).unwrap(),
    );
    let (second, deleted) = site::second_version();
    site::write(&site_dir, &second).expect("writing the site");
    uploader.sync(canister, &site_dir);
    check::check_site(&replica, &gateway, canister, &second, &deleted);
    for key in &deleted {
        let old = &first[key];
        let request = gateway_request(canister, &site::url_of(key));
        let response = gateway.fetch(canister, &request).expect("fetch");
        let verdict =
            verifier(canister, replica.root_key_der()).verify(&request, &response, now_ns());
        assert!(
            verdict.is_err() || response.body != *old,
            "{key} was deleted but its old content still verifies"
        );
    }

    // An upgrade through the management canister by the 0.44 agent keeps
    // the assets (ic_asset.rs checks every file after one; here the front
    // page and the streamed big file, to keep the run short).
    deployer.install(canister, wasm, CanisterInstallMode::Upgrade(None));
    for key in ["/index.html", site::BIG_KEY] {
        let request = gateway_request(canister, &site::url_of(key));
        let response = gateway.fetch(canister, &request).expect("fetch");
        verifier(canister, replica.root_key_der())
            .verify(&request, &response, now_ns())
            .unwrap_or_else(|e| panic!("{key} after the upgrade: {e}"));
        assert_eq!(response.body, second[key], "{key} after the upgrade");
    }

    // What ran was the 0.44 line: calls on v3 (answered synchronously,
    // so never a read_state poll for a request status), queries and
    // read_state on v2, and never an endpoint of the 0.45+ line.
    let paths = proxy.paths();
    let count = |prefix: &str, suffix: &str| {
        paths
            .iter()
            .filter(|p| p.starts_with(prefix) && p.ends_with(suffix))
            .count()
    };
    let calls = count("POST /api/v3/canister/", "/call");
    let queries = count("POST /api/v2/canister/", "/query");
    let read_states = count("POST /api/v2/canister/", "/read_state");
    assert!(calls > 0 && queries > 0 && read_states > 0, "{paths:?}");
    let other: Vec<&String> = paths
        .iter()
        .filter(|p| {
            !(*p == "GET /api/v2/status"
                || (p.starts_with("POST /api/v3/canister/") && p.ends_with("/call"))
                || (p.starts_with("POST /api/v2/canister/")
                    && (p.ends_with("/query") || p.ends_with("/read_state"))))
        })
        .collect();
    assert!(
        other.is_empty(),
        "endpoints outside the 0.44 line: {other:?}"
    );
    println!(
        "  through the proxy: {calls} v3 calls, {queries} v2 queries, {read_states} v2 read_state"
    );
}

fn ed25519_identity_legacy(seed: u8) -> ic_agent_legacy::identity::BasicIdentity {
    ic_agent_legacy::identity::BasicIdentity::from_raw_key(&[seed; 32])
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).to_vec()
}
