//! PocketIC: a real replica, used when `POCKET_IC_BIN` names its server.
//! It does not report instructions per call.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use candid::Principal;
use pocket_ic::PocketIc;

use crate::backend::{Backend, Called, principal};

pub struct PocketIcBackend {
    pic: PocketIc,
    controller: Principal,
    canister_id: Option<Principal>,
}

impl PocketIcBackend {
    pub fn new() -> Self {
        Self {
            pic: PocketIc::new(),
            controller: principal(1),
            canister_id: None,
        }
    }

    fn id(&self) -> Result<Principal, String> {
        self.canister_id
            .ok_or_else(|| "no canister installed".to_string())
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "PocketIC call panicked".into())
}

impl Backend for PocketIcBackend {
    fn name(&self) -> String {
        format!(
            "PocketIC server at {}",
            std::env::var("POCKET_IC_BIN").unwrap_or_default()
        )
    }

    fn controller(&self) -> Principal {
        self.controller
    }

    fn canister_id(&self) -> Principal {
        self.canister_id.expect("install first")
    }

    fn root_key_der(&self) -> Vec<u8> {
        self.pic.root_key().expect("PocketIC has a root key")
    }

    fn time_ns(&self) -> u64 {
        self.pic.get_time().as_nanos_since_unix_epoch()
    }

    fn set_time_ns(&mut self, ns: u64) {
        self.pic.set_time(pocket_ic::Time::from(
            std::time::UNIX_EPOCH + Duration::from_nanos(ns),
        ));
        self.pic.tick();
    }

    fn advance_time(&mut self, by: Duration) {
        self.pic.advance_time(by);
        // Certify a new state so queries see the new time.
        self.pic.tick();
    }

    fn install(&mut self, wasm: &[u8], arg: Vec<u8>) -> Result<Option<u64>, String> {
        let id = self
            .pic
            .create_canister_with_settings(Some(self.controller), None);
        self.pic.add_cycles(id, 100_000_000_000_000);
        let wasm = wasm.to_vec();
        catch_unwind(AssertUnwindSafe(|| {
            self.pic
                .install_canister(id, wasm, arg, Some(self.controller))
        }))
        .map_err(panic_message)?;
        self.canister_id = Some(id);
        Ok(None)
    }

    fn upgrade(&mut self, wasm: &[u8], arg: Vec<u8>) -> Result<Option<u64>, String> {
        let id = self.id()?;
        self.pic
            .upgrade_canister(id, wasm.to_vec(), arg, Some(self.controller))
            .map_err(|e| e.to_string())?;
        Ok(None)
    }

    fn update(&mut self, caller: Principal, method: &str, arg: Vec<u8>) -> Result<Called, String> {
        let bytes = self
            .pic
            .update_call(self.id()?, caller, method, arg)
            .map_err(|e| e.to_string())?;
        Ok(Called {
            bytes,
            instructions: None,
        })
    }

    fn query(&mut self, caller: Principal, method: &str, arg: Vec<u8>) -> Result<Called, String> {
        let bytes = self
            .pic
            .query_call(self.id()?, caller, method, arg)
            .map_err(|e| e.to_string())?;
        Ok(Called {
            bytes,
            instructions: None,
        })
    }
}
