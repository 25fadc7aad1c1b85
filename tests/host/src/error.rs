//! What can go wrong: compiling a module, and running a message. Every
//! failure a canister can cause is a value here, never a host panic.

use thiserror::Error;

/// A wasm module that wasmtime refuses to compile.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HostError {
    #[error("invalid canister wasm: {0}")]
    InvalidWasm(String),
}

/// Why a call (install, upgrade, update or query) did not produce a reply.
///
/// Unless stated otherwise the canister's state is exactly what it was
/// before the call. The exception is an update that made calls: the
/// messages that ran before the failing one keep their changes, as on the
/// IC, and the `instructions` reported count all of the call's messages.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CallError {
    #[error("no canister is installed: call install first")]
    NotInstalled,
    #[error("a canister is already installed: use upgrade")]
    AlreadyInstalled,
    #[error("{caller} is not a controller of the canister")]
    NotAController { caller: candid::Principal },
    /// The module needs something the host does not provide; raised when
    /// installing or upgrading, before any code runs.
    #[error("cannot link the canister module: {0}")]
    Link(String),
    #[error("the canister has no {kind} method `{method}`")]
    NoSuchMethod { method: String, kind: &'static str },
    /// e.g. an update method called with `query`, or a composite query
    /// called with `update` (the IC runs those only non-replicated).
    #[error("method `{method}` cannot be called this way: {reason}")]
    WrongMethodKind {
        method: String,
        reason: &'static str,
    },
    /// Refused before execution, as the IC refuses ingress messages.
    #[error("argument of {size} bytes exceeds the ingress limit of {limit} bytes")]
    ArgumentTooLarge { size: usize, limit: usize },
    #[error("reply of {size}+ bytes exceeds the limit of {limit} bytes")]
    ReplyTooLarge {
        size: usize,
        limit: usize,
        instructions: u64,
    },
    #[error("canister trapped: {message} (after {instructions} instructions)")]
    Trapped { message: String, instructions: u64 },
    #[error("canister exceeded the instruction limit of {limit}")]
    OutOfInstructions { limit: u64 },
    /// The canister called `ic0.msg_reject`. As on the IC, an update's
    /// state changes are kept.
    #[error("canister rejected the call: {message}")]
    Rejected { message: String, instructions: u64 },
    /// The method returned without replying. As on the IC, an update's
    /// state changes are kept.
    #[error("canister did not reply to the call")]
    NoReply { instructions: u64 },
    /// The update kept calling (itself) and was still unanswered after
    /// this many messages; the messages that ran keep their changes.
    #[error(
        "the call set off {limit} messages without being answered: are the canister's calls endless?"
    )]
    TooManyMessages { limit: usize },
    /// `canister_inspect_message` did not call `ic0.accept_message`.
    #[error("canister_inspect_message did not accept the message to `{method}`")]
    NotAccepted { method: String },
}

/// A trap raised inside an `ic0` function; it unwinds the wasm call and is
/// turned into a [`CallError`] afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub(crate) enum HostTrap {
    /// `ic0.trap` with the canister's message.
    #[error("{0}")]
    Explicit(String),
    /// A system API call the interface specification forbids here.
    #[error("{0}")]
    Contract(String),
    #[error("reply of {size} bytes exceeds the limit of {limit} bytes")]
    ReplyTooLarge { size: usize, limit: usize },
    /// The heap grew past the canister's `wasm_memory_limit`.
    #[error(
        "Canister exceeded its Wasm memory limit of {limit} bytes: memory.grow asked for {requested} bytes"
    )]
    WasmMemoryLimit { limit: u64, requested: u64 },
}
