//! What a running canister sees: its persistent system state (stable
//! memory, certified data, timer) and the current message's context.

use wasmtime::Memory;

use crate::stable::StableMemory;

/// The execution contexts of the interface specification that the host
/// runs (the spec's letters in brackets). Callbacks, cleanup, heartbeat and
/// timers never run here: the host makes no inter-canister calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Context {
    /// `canister_init` and `canister_post_upgrade` (I).
    Init,
    /// `canister_pre_upgrade` (G).
    PreUpgrade,
    /// An update method (U).
    Update,
    /// A query method called as an update (RQ): runs replicated, keeps
    /// nothing.
    ReplicatedQuery,
    /// A query method called as a query (NRQ).
    Query,
    /// A composite query method called as a query (CQ).
    CompositeQuery,
    /// `canister_inspect_message` (F).
    InspectMessage,
}

impl Context {
    pub fn describe(self) -> &'static str {
        match self {
            Context::Init => "canister_init/canister_post_upgrade",
            Context::PreUpgrade => "canister_pre_upgrade",
            Context::Update => "an update",
            Context::ReplicatedQuery => "a replicated query",
            Context::Query => "a query",
            Context::CompositeQuery => "a composite query",
            Context::InspectMessage => "canister_inspect_message",
        }
    }

    /// Whether the spec calls this execution replicated.
    pub fn replicated(self) -> bool {
        matches!(
            self,
            Context::Init | Context::PreUpgrade | Context::Update | Context::ReplicatedQuery
        )
    }

    /// Whether the method may reply (and must, to produce a result).
    pub fn replies(self) -> bool {
        matches!(
            self,
            Context::Update | Context::ReplicatedQuery | Context::Query | Context::CompositeQuery
        )
    }
}

/// How the method answered, once it has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Response {
    Reply,
    Reject(String),
}

/// The current message as the system API exposes it.
pub(crate) struct Message {
    pub context: Context,
    pub method: String,
    pub arg: Vec<u8>,
    pub caller: Vec<u8>,
    pub canister_id: Vec<u8>,
    pub controllers: Vec<Vec<u8>>,
    pub time: u64,
    pub canister_version: u64,
    pub root_key: Vec<u8>,
    /// Fuel the message started with: `performance_counter` reports what
    /// has been burnt since.
    pub fuel_limit: u64,
    pub reply: Vec<u8>,
    pub reply_limit: usize,
    pub response: Option<Response>,
    pub accepted: bool,
}

impl Message {
    pub fn new(context: Context, method: &str, arg: Vec<u8>, caller: Vec<u8>) -> Self {
        Message {
            context,
            method: method.to_string(),
            arg,
            caller,
            canister_id: Vec::new(),
            controllers: Vec::new(),
            time: 0,
            canister_version: 0,
            root_key: Vec::new(),
            fuel_limit: 0,
            reply: Vec::new(),
            reply_limit: 0,
            response: None,
            accepted: false,
        }
    }
}

/// A store's data: everything about the canister that is not wasm state.
#[derive(Default)]
pub(crate) struct CanisterData {
    pub stable: StableMemory,
    pub certified_data: Vec<u8>,
    pub global_timer: u64,
    /// The exported memory, once instantiated.
    pub memory: Option<Memory>,
    /// `None` between messages.
    pub message: Option<Message>,
    /// Lines the canister printed with `ic0.debug_print`, oldest first,
    /// until `Host::take_debug_log` takes them (whether or not the
    /// message that printed them was kept, as in the IC's log).
    pub debug_log: Vec<String>,
}
