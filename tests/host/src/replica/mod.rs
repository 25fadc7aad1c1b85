//! A local replica endpoint: an HTTP server on 127.0.0.1 that speaks the
//! IC's HTTP interface for the canisters it hosts, so real agents
//! (ic-agent, @dfinity/agent, dfx's and icx-asset's sync code) talk to the
//! in-process host exactly as they talk to a replica, with their default
//! verification on: the root key comes from `/api/v2/status`, every
//! certificate is signed by the host's BLS subnet key, and query
//! responses are signed by a node key published in the certified state.
//!
//! ```no_run
//! use wasm_host::replica::Replica;
//! let replica = Replica::start().unwrap();
//! println!("icx-asset --replica {} ...", replica.url());
//! ```
//!
//! Layout, one file per concern: [`envelope`] decodes requests, computes
//! request ids and authenticates senders; [`state_tree`] builds, prunes
//! and signs the certified state; [`routes`] maps HTTP to host calls;
//! [`management`] is the management canister, and [`chunk_store`] the
//! chunk store of its chunked code install; [`canisters`] holds the
//! hosts, the outcomes `read_state` reports and the IC's reject codes;
//! [`byzantine`] alters `http_request` replies when asked to
//! ([`Replica::tamper_http_body`]). Each canister runs on its own
//! [`Host`], through its ordinary `update`, `query`, `install` and
//! `upgrade`.
//!
//! Requests are served one at a time, in the order they arrive, on one
//! thread: a call's effects are visible to every request after it.

mod byzantine;
mod canisters;
mod chunk_store;
mod envelope;
mod management;
mod routes;
mod state_tree;

use std::io::Read;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use candid::Principal;

use crate::Host;
use canisters::World;
use routes::{Answer, MAX_BODY};

/// A running replica endpoint; it stops when dropped.
pub struct Replica {
    address: SocketAddr,
    world: Arc<Mutex<World>>,
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
}

impl Replica {
    /// Starts a replica with no canisters (create them through the
    /// management canister) on an ephemeral port of 127.0.0.1.
    pub fn start() -> std::io::Result<Self> {
        Self::start_on("127.0.0.1:0")
    }

    /// Starts a replica listening on `address`, e.g. `127.0.0.1:4943`.
    pub fn start_on(address: &str) -> std::io::Result<Self> {
        let server = tiny_http::Server::http(address).map_err(std::io::Error::other)?;
        let address = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| std::io::Error::other("the server has no IP address"))?;
        let server = Arc::new(server);
        let world = Arc::new(Mutex::new(World::new(crate::certify::root_key_der())));
        let thread = {
            let server = server.clone();
            let world = world.clone();
            std::thread::Builder::new()
                .name(format!("replica {address}"))
                .spawn(move || serve(&server, &world))?
        };
        Ok(Replica {
            address,
            world,
            server,
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:<port>`: what an agent takes as its URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// The root key agents fetch from `/api/v2/status` (133 bytes of DER).
    pub fn root_key_der(&self) -> Vec<u8> {
        crate::certify::root_key_der()
    }

    /// The subnet id: the self-authenticating principal of the root key.
    pub fn subnet_id(&self) -> Principal {
        self.world().subnet.id()
    }

    /// Hosts an already prepared canister (installed or not) under its id.
    pub fn add_canister(&self, host: Host) -> Principal {
        self.world().add(host)
    }

    /// A fresh canister id, as `create_canister` would allocate it.
    pub fn new_canister_id(&self) -> Principal {
        self.world().new_canister_id()
    }

    pub fn canister_ids(&self) -> Vec<Principal> {
        self.world().canister_ids()
    }

    /// How many calls to the management canister's `method` (e.g.
    /// `upload_chunk`) this endpoint has replied to: what a client test
    /// checks to know which path a deploy tool took.
    pub fn management_replies(&self, method: &str) -> u64 {
        self.world()
            .management_replies
            .get(method)
            .copied()
            .unwrap_or(0)
    }

    /// From now on (in addition to paths named before), answers every
    /// `http_request` query for `path` (the URL without its query string)
    /// with the body altered, before signing the reply: a byzantine node,
    /// to show that a gateway refuses what the canister did not certify.
    /// Not for anything but demonstrations and tests.
    pub fn tamper_http_body(&self, path: &str) {
        self.world().tampered_http_paths.insert(path.to_string());
    }

    /// Runs `f` on the host of `canister` between requests, e.g. to call
    /// `http_request` directly. The replica's clock is applied first.
    pub fn with_host<R>(&self, canister: &Principal, f: impl FnOnce(&mut Host) -> R) -> Option<R> {
        let mut world = self.world();
        let now = world.now();
        world.host_mut(canister).map(|host| {
            host.set_time(now);
            f(host)
        })
    }

    fn world(&self) -> MutexGuard<'_, World> {
        lock(&self.world)
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn lock(world: &Mutex<World>) -> MutexGuard<'_, World> {
    world
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn serve(server: &tiny_http::Server, world: &Mutex<World>) {
    while let Ok(mut request) = server.recv() {
        let answer = read_body(&mut request).map_or_else(
            |refusal| refusal,
            |body| {
                let method = request.method().as_str().to_string();
                let url = request.url().to_string();
                let mut world = lock(world);
                catch_unwind(AssertUnwindSafe(|| {
                    routes::handle(&mut world, &method, &url, &body)
                }))
                .unwrap_or_else(|_| {
                    Answer::text(
                        500,
                        "Internal error: the local replica failed on this request",
                    )
                })
            },
        );
        let header = tiny_http::Header::from_bytes("Content-Type", answer.content_type)
            .expect("a valid header");
        let response = tiny_http::Response::from_data(answer.body)
            .with_status_code(answer.status)
            .with_header(header);
        // A client that hung up gets no answer; nothing else to do.
        let _ = request.respond(response);
    }
}

fn read_body(request: &mut tiny_http::Request) -> Result<Vec<u8>, Answer> {
    if request.body_length().is_some_and(|n| n > MAX_BODY) {
        return Err(Answer::text(
            413,
            format!("Request body too large: the limit is {MAX_BODY} bytes"),
        ));
    }
    let mut body = Vec::new();
    let read = request
        .as_reader()
        .take(MAX_BODY as u64 + 1)
        .read_to_end(&mut body);
    match read {
        Err(e) => Err(Answer::text(
            400,
            format!("Could not read the request body: {e}"),
        )),
        Ok(_) if body.len() > MAX_BODY => Err(Answer::text(
            413,
            format!("Request body too large: the limit is {MAX_BODY} bytes"),
        )),
        Ok(_) => Ok(body),
    }
}
