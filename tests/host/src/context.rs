//! What a running canister sees: its persistent system state (stable
//! memory, certified data, timer) and the current message's context.

use wasmtime::Memory;

use crate::call_queue::{Closure, OutgoingCall};
use crate::limits::MemoryLimits;
use crate::stable::StableMemory;

/// The execution contexts of the interface specification that the host
/// runs (the spec's letters in brackets). Heartbeat and timers never run
/// here, nor do callbacks of composite queries (the host makes no calls
/// from queries).
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
    /// The reply callback of an inter-canister call (Ry).
    ReplyCallback,
    /// The reject callback of an inter-canister call (Rt).
    RejectCallback,
    /// The cleanup callback, after a reply or reject callback trapped (C).
    Cleanup,
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
            Context::ReplyCallback => "a reply callback",
            Context::RejectCallback => "a reject callback",
            Context::Cleanup => "a cleanup callback",
        }
    }

    /// Whether the spec calls this execution replicated.
    pub fn replicated(self) -> bool {
        matches!(
            self,
            Context::Init
                | Context::PreUpgrade
                | Context::Update
                | Context::ReplicatedQuery
                | Context::ReplyCallback
                | Context::RejectCallback
                | Context::Cleanup
        )
    }

    /// Whether the method must reply to produce a result: a method that
    /// returns without answering and makes no calls leaves its caller with
    /// "no reply". Callbacks may answer but need not.
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
    /// The call context was answered by an earlier message (a callback
    /// after the reply): replying or rejecting again traps.
    pub answered_before: bool,
    pub accepted: bool,
    /// `msg_deadline`: 0, or the deadline of the bounded-wait call this
    /// call context answers.
    pub deadline: u64,
    /// In a reject callback (and its cleanup): the reject code and message;
    /// code 0 in a reply callback.
    pub reject: Option<(u32, String)>,
    /// Instructions the call context used in earlier messages, so
    /// `performance_counter(1)` can count the whole call context.
    pub context_instructions: u64,
    /// The call being assembled between `call_new` and `call_perform`.
    pub call_in_progress: Option<OutgoingCall>,
    /// Calls `call_perform` queued; sent only if the message does not trap.
    pub performed: Vec<OutgoingCall>,
    /// Calls the canister may still queue in this message: the IC's
    /// output queue has a fixed capacity.
    pub call_capacity: usize,
}

/// What a message runs: an exported function, or a callback from the
/// table called with its `env`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Entry {
    Export(String),
    Callback(Closure),
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
            answered_before: false,
            accepted: false,
            deadline: 0,
            reject: None,
            context_instructions: 0,
            call_in_progress: None,
            performed: Vec::new(),
            call_capacity: 0,
        }
    }
}

/// A store's data: everything about the canister that is not wasm state.
#[derive(Default)]
pub(crate) struct CanisterData {
    pub stable: StableMemory,
    pub certified_data: Vec<u8>,
    pub global_timer: u64,
    /// Kept here, not in the host, because the store's resource limiter
    /// (`heap_limit.rs`) and `ic0.stable64_grow` can only see the store.
    pub memory_limits: MemoryLimits,
    /// The exported memory, once instantiated.
    pub memory: Option<Memory>,
    /// `None` between messages.
    pub message: Option<Message>,
    /// Lines the canister printed with `ic0.debug_print`, oldest first,
    /// until `Host::take_debug_log` takes them (whether or not the
    /// message that printed them was kept, as in the IC's log).
    pub debug_log: Vec<String>,
}
