//! An in-process Internet Computer host for tests: runs one canister's
//! wasm under wasmtime with the `ic0` system API, the IC's instruction and
//! size limits, rollback of failed messages, query isolation, upgrades,
//! and data certificates signed by a test subnet.
//!
//! ```no_run
//! use wasm_host::{compile, Host};
//! # let wasm: Vec<u8> = vec![];
//! let module = compile(&wasm).unwrap(); // compiled once per process
//! let mut host = Host::new();
//! let admin = candid::Principal::anonymous();
//! host.install(&module, &candid::encode_args(()).unwrap(), admin).unwrap();
//! let reply = host.query("get", &candid::encode_args(()).unwrap(), admin).unwrap();
//! println!("{} bytes in {} instructions", reply.bytes.len(), reply.instructions);
//! ```
//!
//! Rules worth knowing (they follow the IC interface specification):
//! - a trap, an exhausted instruction budget or an oversized reply undoes
//!   the whole message: heap, globals, stable memory, certified data;
//! - memory limits ([`Host::set_memory_limits`]) fail a message as the
//!   IC does: a stable grow past the limit returns -1, a heap grow past
//!   `wasm_memory_limit` traps (see [`MemoryLimits`]); either way nothing
//!   the message did is kept;
//! - a reject (`ic0.msg_reject`) or a missing reply keeps an update's
//!   changes, as on the IC;
//! - queries never keep changes; a query method called with
//!   [`Host::update`] runs as a replicated query (no data certificate,
//!   nothing kept); update methods cannot be called with [`Host::query`];
//! - `canister_inspect_message`, if exported, runs before every update
//!   call and must accept it;
//! - imports the host does not provide fail [`Host::install`] and
//!   [`Host::upgrade`] with [`CallError::Link`] naming the import.
//!
//! The host's own tests run the `host-probe` canister; build it first with
//! `cargo build -p host-probe --target wasm32-unknown-unknown --release`
//! (or point `HOST_PROBE_WASM` at a build of it).
//!
//! - an update may call its own canister's methods (ic-cdk's `Call`,
//!   awaited): the call and its callback run as messages of their own,
//!   each with a fresh budget and undone alone if it traps, and
//!   [`Host::update`] returns once the update's call is answered; the
//!   reply lists each message's instructions.
//!
//! What the host does not do: calls to other canisters (they are rejected
//! as calls to a canister that does not exist), calls from composite
//! queries (they trap), bounded-wait timeouts (every call is answered),
//! cycles accounting (the balance is constant), heartbeats and timers (the
//! timer is recorded but never fires), and advancing time on its own.

mod call_queue;
mod certify;
mod context;
mod error;
mod heap_limit;
mod host;
mod ic0;
mod instance;
pub mod limits;
mod module;
pub mod replica;
mod rewrite;
mod stable;

pub use candid::Principal;
pub use error::{CallError, HostError};
pub use host::{Host, Outcome, Reply};
pub use limits::{InstructionLimits, MemoryLimits};
pub use module::{CompiledModule, append_custom_section, compile};
