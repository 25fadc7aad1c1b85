//! The one interface every scenario runs against.

use std::time::Duration;

use candid::Principal;
pub use wasm_host::{InstructionLimits, MemoryLimits};

/// A call's reply and, where the backend can tell, the instructions it used.
#[derive(Debug)]
pub struct Called {
    pub bytes: Vec<u8>,
    pub instructions: Option<u64>,
}

pub trait Backend {
    /// Names the backend in test output.
    fn name(&self) -> String;
    /// The principal that installs the canister and controls it.
    fn controller(&self) -> Principal;
    fn canister_id(&self) -> Principal;
    /// The 133-byte DER root key certificates verify against.
    fn root_key_der(&self) -> Vec<u8>;
    fn time_ns(&self) -> u64;
    fn set_time_ns(&mut self, ns: u64);
    fn advance_time(&mut self, by: Duration);
    /// Installs `wasm` with `arg` as the controller; returns instructions.
    fn install(&mut self, wasm: &[u8], arg: Vec<u8>) -> Result<Option<u64>, String>;
    /// Upgrades to `wasm` with `arg` as the controller; returns instructions.
    fn upgrade(&mut self, wasm: &[u8], arg: Vec<u8>) -> Result<Option<u64>, String>;
    fn update(&mut self, caller: Principal, method: &str, arg: Vec<u8>) -> Result<Called, String>;
    fn query(&mut self, caller: Principal, method: &str, arg: Vec<u8>) -> Result<Called, String>;
    /// Bytes of wasm heap and of stable memory, where the backend can tell.
    fn memory_bytes(&self) -> Option<(u64, u64)> {
        None
    }
    /// What the canister printed with `debug_print` since the last call to
    /// this, where the backend can tell (the host); else nothing.
    fn take_debug_log(&mut self) -> Vec<String> {
        Vec::new()
    }
    /// Sets the per-message instruction budgets, to make a call or an
    /// upgrade run out part way. Only the in-process host can; the others
    /// return false and the scenario says SKIPPED.
    fn set_instruction_limits(&mut self, _limits: InstructionLimits) -> bool {
        false
    }
    /// Sets the canister's memory limits (stable pages, heap pages), to
    /// make a call or an upgrade run out of memory part way. Only the
    /// in-process host can; the others return false and the scenario says
    /// SKIPPED.
    fn set_memory_limits(&mut self, _limits: MemoryLimits) -> bool {
        false
    }
    /// The canister's certified data as the system holds it, where the
    /// backend can read it directly (the in-process host).
    fn certified_data(&self) -> Option<Vec<u8>> {
        None
    }
}

/// PocketIC when `POCKET_IC_BIN` points to a server binary, else the
/// in-process host.
pub fn select_backend() -> Box<dyn Backend> {
    match std::env::var_os("POCKET_IC_BIN") {
        Some(path) if !path.is_empty() => Box::new(crate::pocket_backend::PocketIcBackend::new()),
        _ => Box::new(crate::host_backend::HostBackend::new()),
    }
}

/// The in-process host, whatever `POCKET_IC_BIN` says (for measurements:
/// PocketIC does not report instructions per call).
pub fn host_backend() -> Box<dyn Backend> {
    Box::new(crate::host_backend::HostBackend::new())
}

/// A principal made from one repeated byte, for test identities.
pub fn principal(n: u8) -> Principal {
    Principal::from_slice(&[n; 29])
}

/// Which backend `select_backend` will use, for the test output.
pub fn backend_description() -> String {
    match std::env::var("POCKET_IC_BIN") {
        Ok(path) if !path.is_empty() => format!("PocketIC (POCKET_IC_BIN={path})"),
        _ => "in-process wasmtime host (set POCKET_IC_BIN to run on PocketIC)".into(),
    }
}
