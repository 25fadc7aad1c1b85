//! The in-process host: the same wasm under wasmtime, instructions counted
//! with fuel. Modules are compiled once per process and shared.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use candid::Principal;
use sha2::{Digest, Sha256};
use wasm_host::{CompiledModule, Host};

use crate::backend::{Backend, Called, InstructionLimits, MemoryLimits, principal};

pub struct HostBackend {
    host: Host,
    controller: Principal,
}

impl HostBackend {
    pub fn new() -> Self {
        Self {
            host: Host::new(),
            controller: principal(1),
        }
    }
}

fn compiled(wasm: &[u8]) -> Result<CompiledModule, String> {
    static MODULES: OnceLock<Mutex<HashMap<[u8; 32], CompiledModule>>> = OnceLock::new();
    let key: [u8; 32] = Sha256::digest(wasm).into();
    let mut modules = MODULES
        .get_or_init(Default::default)
        .lock()
        .map_err(|e| e.to_string())?;
    if let Some(module) = modules.get(&key) {
        return Ok(module.clone());
    }
    let module = wasm_host::compile(wasm).map_err(|e| e.to_string())?;
    modules.insert(key, module.clone());
    Ok(module)
}

impl Backend for HostBackend {
    fn name(&self) -> String {
        "in-process wasmtime host (wasm-host)".into()
    }

    fn controller(&self) -> Principal {
        self.controller
    }

    fn canister_id(&self) -> Principal {
        self.host.canister_id()
    }

    fn root_key_der(&self) -> Vec<u8> {
        self.host.root_key_der()
    }

    fn time_ns(&self) -> u64 {
        self.host.time()
    }

    fn set_time_ns(&mut self, ns: u64) {
        self.host.set_time(ns)
    }

    fn advance_time(&mut self, by: Duration) {
        self.host.advance_time(by)
    }

    fn install(&mut self, wasm: &[u8], arg: Vec<u8>) -> Result<Option<u64>, String> {
        let module = compiled(wasm)?;
        let outcome = self
            .host
            .install(&module, &arg, self.controller)
            .map_err(|e| e.to_string())?;
        Ok(Some(outcome.instructions))
    }

    fn upgrade(&mut self, wasm: &[u8], arg: Vec<u8>) -> Result<Option<u64>, String> {
        let module = compiled(wasm)?;
        let outcome = self
            .host
            .upgrade(&module, &arg, self.controller)
            .map_err(|e| e.to_string())?;
        Ok(Some(outcome.instructions))
    }

    fn update(&mut self, caller: Principal, method: &str, arg: Vec<u8>) -> Result<Called, String> {
        let reply = self
            .host
            .update(method, &arg, caller)
            .map_err(|e| e.to_string())?;
        Ok(Called {
            bytes: reply.bytes,
            instructions: Some(reply.instructions),
        })
    }

    fn memory_bytes(&self) -> Option<(u64, u64)> {
        Some(self.host.memory_bytes())
    }

    fn take_debug_log(&mut self) -> Vec<String> {
        self.host.take_debug_log()
    }

    fn query(&mut self, caller: Principal, method: &str, arg: Vec<u8>) -> Result<Called, String> {
        let reply = self
            .host
            .query(method, &arg, caller)
            .map_err(|e| e.to_string())?;
        Ok(Called {
            bytes: reply.bytes,
            instructions: Some(reply.instructions),
        })
    }

    fn set_instruction_limits(&mut self, limits: InstructionLimits) -> bool {
        self.host.set_instruction_limits(limits);
        true
    }

    fn set_memory_limits(&mut self, limits: MemoryLimits) -> bool {
        self.host.set_memory_limits(limits);
        true
    }

    fn certified_data(&self) -> Option<Vec<u8>> {
        Some(self.host.certified_data())
    }
}
