//! PocketIC: a real replica in a local server process. It does not report
//! instructions per call.

use candid::Principal;
use pocket_ic::PocketIc;

use super::{Called, CanisterCalls};

/// Calls into `canister_id` on a borrowed PocketIC instance as `caller`.
pub struct PocketIcCalls<'a> {
    pub pic: &'a PocketIc,
    pub canister_id: Principal,
    pub caller: Principal,
}

impl CanisterCalls for PocketIcCalls<'_> {
    fn update(&mut self, method: &str, arg: Vec<u8>) -> Result<Called, String> {
        let bytes = self
            .pic
            .update_call(self.canister_id, self.caller, method, arg)
            .map_err(|e| format!("{method}: {e}"))?;
        Ok(Called {
            bytes,
            instructions: None,
        })
    }

    fn query(&mut self, method: &str, arg: Vec<u8>) -> Result<Called, String> {
        let bytes = self
            .pic
            .query_call(self.canister_id, self.caller, method, arg)
            .map_err(|e| format!("{method}: {e}"))?;
        Ok(Called {
            bytes,
            instructions: None,
        })
    }
}
