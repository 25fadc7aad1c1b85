//! The in-process host (`wasm-host`): the canister wasm under wasmtime,
//! with instructions counted.

use candid::Principal;
use wasm_host::Host;

use super::{Called, CanisterCalls};

/// Calls into a borrowed host as `caller`; borrowing lets the preview hand
/// the same host to the gateway after the upload.
pub struct HostCalls<'a> {
    pub host: &'a mut Host,
    pub caller: Principal,
}

impl<'a> HostCalls<'a> {
    pub fn new(host: &'a mut Host, caller: Principal) -> Self {
        Self { host, caller }
    }
}

impl CanisterCalls for HostCalls<'_> {
    fn update(&mut self, method: &str, arg: Vec<u8>) -> Result<Called, String> {
        let reply = self
            .host
            .update(method, &arg, self.caller)
            .map_err(|e| format!("{method}: {e}"))?;
        Ok(Called {
            bytes: reply.bytes,
            instructions: Some(reply.instructions),
        })
    }

    fn query(&mut self, method: &str, arg: Vec<u8>) -> Result<Called, String> {
        let reply = self
            .host
            .query(method, &arg, self.caller)
            .map_err(|e| format!("{method}: {e}"))?;
        Ok(Called {
            bytes: reply.bytes,
            instructions: Some(reply.instructions),
        })
    }
}
