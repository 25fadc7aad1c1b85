//! The IC's `wasm_memory_limit` on the heap, as a wasmtime resource
//! limiter on the canister's store.
//!
//! The limiter sees every `memory.grow`, including the host's own: the
//! initial memory at instantiation and the regrowth when a rollback
//! instantiates afresh (`instance.rs`). Those run with no message in
//! place and are always allowed, so a limit never stops a rollback.

use wasmtime::ResourceLimiter;

use crate::context::{CanisterData, Context};
use crate::error::HostTrap;

impl ResourceLimiter for CanisterData {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let Some(message) = &self.message else {
            return Ok(true);
        };
        match self.memory_limits.max_heap_bytes() {
            Some(limit) if applies_in(message.context) && desired as u64 > limit => {
                // An error, not `Ok(false)`: the IC traps here rather than
                // letting `memory.grow` return -1.
                Err(wasmtime::Error::new(HostTrap::WasmMemoryLimit {
                    limit,
                    requested: desired as u64,
                }))
            }
            _ => Ok(true),
        }
    }

    fn table_growing(
        &mut self,
        _current: usize,
        _desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(true)
    }
}

/// Where the IC enforces `wasm_memory_limit`: updates, install and
/// post-upgrade (timers and heartbeats too, which the host never runs).
/// Queries, callbacks, `inspect_message` and `canister_pre_upgrade` are
/// exempt, so a canister over its limit can still answer, finish its calls
/// and be upgraded.
fn applies_in(context: Context) -> bool {
    matches!(context, Context::Update | Context::Init)
}
