//! The IC's limits that the host enforces, in one place.

/// Instruction budget of a query (non-replicated or replicated).
pub const QUERY_INSTRUCTIONS: u64 = 5_000_000_000;

/// Instruction budget of an update message.
pub const UPDATE_INSTRUCTIONS: u64 = 40_000_000_000;

/// Instruction budget of `install_code`: `canister_init` on install, and
/// `canister_pre_upgrade` plus `canister_post_upgrade` together on upgrade.
pub const INSTALL_INSTRUCTIONS: u64 = 300_000_000_000;

/// Instruction budget of `canister_inspect_message`.
pub const INSPECT_INSTRUCTIONS: u64 = 200_000_000;

/// The IC refuses ingress messages whose argument exceeds 2 MiB.
pub const MAX_INGRESS_ARG: usize = 2 * 1024 * 1024;

/// Largest reply an update may produce.
pub const MAX_UPDATE_REPLY: usize = 2 * 1024 * 1024;

/// Largest reply a query may produce.
pub const MAX_QUERY_REPLY: usize = 3 * 1024 * 1024;

/// Largest argument of an inter-canister call (and of its reply).
pub const MAX_CALL_PAYLOAD: usize = 2 * 1024 * 1024;

/// `ic0.call_with_best_effort_response` bounds timeouts to 300 s.
pub const MAX_CALL_TIMEOUT_SECONDS: u32 = 300;

/// Calls a canister may have in flight, as the IC's queue capacity per
/// destination allows; `ic0.call_perform` fails beyond it.
pub const MAX_CALLS_IN_FLIGHT: usize = 500;

/// Messages one ingress call may set off (its own, callees', callbacks)
/// before the host gives up on it: only endless self-calls get there.
pub const MAX_MESSAGES_PER_CALL: usize = 10_000;

/// `ic0.certified_data_set` accepts at most 32 bytes.
pub const MAX_CERTIFIED_DATA: usize = 32;

/// Size of a wasm and a stable memory page.
pub const PAGE_SIZE: u64 = 64 * 1024;

/// Stable memory the host is willing to back with RAM (8 GiB: the long
/// run of issue 10 stores 5 GiB); the IC allows far more, and a grow past
/// this fails the way a full subnet does (`stable64_grow` returns -1).
/// [`MemoryLimits::stable_pages`] can only lower it.
pub const MAX_STABLE_PAGES: u64 = 131_072;

/// Cycle balance reported by `ic0.canister_cycle_balance128`: the host
/// charges nothing, so the balance is a constant.
pub const CYCLE_BALANCE: u128 = 100_000_000_000_000;

/// Per-message instruction budgets. The default is the IC's; tests that
/// exhaust a budget on purpose lower it to stay fast.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstructionLimits {
    pub query: u64,
    pub update: u64,
    /// Install (`canister_init`) or upgrade (both hooks together).
    pub install: u64,
}

impl Default for InstructionLimits {
    fn default() -> Self {
        InstructionLimits {
            query: QUERY_INSTRUCTIONS,
            update: UPDATE_INSTRUCTIONS,
            install: INSTALL_INSTRUCTIONS,
        }
    }
}

/// Per-canister memory limits, for tests that make a message run out of
/// memory part way. The default sets none: stable memory stops at
/// [`MAX_STABLE_PAGES`] and the heap at wasm32's 4 GiB.
///
/// The two fail differently, because the IC's do:
/// - stable memory: a grow past `stable_pages` makes `ic0.stable64_grow`
///   (and `ic0.stable_grow`) return -1, as on a subnet that is out of
///   memory or a canister at its memory allocation. The canister decides
///   what follows; `ic-stable-structures` traps.
/// - the heap: `heap_pages` is the IC's `wasm_memory_limit`, which does
///   not make `memory.grow` return -1 but traps the message that grows the
///   heap past it, and only in updates, `canister_init` and
///   `canister_post_upgrade`. Queries, callbacks, `inspect_message` and
///   `canister_pre_upgrade` ignore it (so a canister over its limit can
///   still be read and upgraded), as on the IC.
///
/// Either way a message that hits a limit traps and is rolled back like
/// any other trap.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoryLimits {
    /// Largest stable memory, in 64 KiB pages.
    pub stable_pages: Option<u64>,
    /// Largest wasm heap, in 64 KiB pages (`wasm_memory_limit`).
    pub heap_pages: Option<u64>,
}

impl MemoryLimits {
    /// The stable memory size no grow may pass.
    pub fn max_stable_pages(&self) -> u64 {
        self.stable_pages
            .map_or(MAX_STABLE_PAGES, |pages| pages.min(MAX_STABLE_PAGES))
    }

    /// The heap size in bytes no grow may pass in a message the limit
    /// applies to, if there is a limit.
    pub fn max_heap_bytes(&self) -> Option<u64> {
        self.heap_pages.map(|pages| pages.saturating_mul(PAGE_SIZE))
    }
}
