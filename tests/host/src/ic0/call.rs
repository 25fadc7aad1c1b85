//! Inter-canister calls: assembling one (`call_new` … `call_perform`),
//! what it would cost, and the refund a callback sees. A performed call
//! waits in the message; the host sends it only if the message does not
//! trap (`host/calls.rs`).

use wasmtime::Linker;

use super::{Ctx, Res, contract, message, message_mut, read_heap, require, write_u128};
use crate::call_queue::{Closure, OutgoingCall};
use crate::context::{CanisterData, Context};
use crate::limits::{CYCLE_BALANCE, MAX_CALL_PAYLOAD, MAX_CALL_TIMEOUT_SECONDS};

use Context::*;

/// Where a call may be made: the spec's U CQ Ry Rt (and T, system tasks,
/// which never run here). Composite queries are refused separately.
const CALLING: &[Context] = &[Update, CompositeQuery, ReplyCallback, RejectCallback];

/// Where cycles may be attached: U Ry Rt.
const PAYING: &[Context] = &[Update, ReplyCallback, RejectCallback];

/// `call_perform`'s only error code: the call could not be queued.
const NOT_QUEUED: u32 = 2;

/// What the IC charges per call and per byte of method name and argument
/// on a 13-node subnet; only reported, since the host charges nothing.
const CALL_FEE: u128 = 260_000;
const CALL_BYTE_FEE: u128 = 1_000;

pub(super) fn define(l: &mut Linker<CanisterData>) -> wasmtime::Result<()> {
    l.func_wrap(
        "ic0",
        "call_new",
        |mut c: Ctx<'_>,
         callee_src: u32,
         callee_size: u32,
         name_src: u32,
         name_size: u32,
         reply_fun: u32,
         reply_env: u32,
         reject_fun: u32,
         reject_env: u32|
         -> Res<()> {
            const API: &str = "call_new";
            may_call(&c, API)?;
            let callee = read_heap(&mut c, API, callee_src.into(), callee_size.into())?;
            let name = read_heap(&mut c, API, name_src.into(), name_size.into())?;
            // A call already in progress is discarded, as the spec says.
            message_mut(&mut c, API)?.call_in_progress = Some(OutgoingCall {
                callee,
                method: String::from_utf8_lossy(&name).into_owned(),
                arg: Vec::new(),
                on_reply: Closure {
                    fun: reply_fun,
                    env: reply_env,
                },
                on_reject: Closure {
                    fun: reject_fun,
                    env: reject_env,
                },
                on_cleanup: None,
                timeout_seconds: None,
            });
            Ok(())
        },
    )?;
    l.func_wrap(
        "ic0",
        "call_on_cleanup",
        |mut c: Ctx<'_>, fun: u32, env: u32| -> Res<()> {
            const API: &str = "call_on_cleanup";
            may_call(&c, API)?;
            let call = call_in_progress(&mut c, API)?;
            if call.on_cleanup.is_some() {
                return contract(format!("ic0.{API} was already called for this call"));
            }
            call.on_cleanup = Some(Closure { fun, env });
            Ok(())
        },
    )?;
    l.func_wrap(
        "ic0",
        "call_data_append",
        |mut c: Ctx<'_>, src: u32, size: u32| -> Res<()> {
            const API: &str = "call_data_append";
            may_call(&c, API)?;
            let have = call_in_progress(&mut c, API)?.arg.len();
            let total = have + size as usize;
            if total > MAX_CALL_PAYLOAD {
                return contract(format!(
                    "ic0.{API}: the argument of {total} bytes exceeds the inter-canister limit of {MAX_CALL_PAYLOAD}"
                ));
            }
            let bytes = read_heap(&mut c, API, src.into(), size.into())?;
            call_in_progress(&mut c, API)?
                .arg
                .extend_from_slice(&bytes);
            Ok(())
        },
    )?;
    l.func_wrap(
        "ic0",
        "call_with_best_effort_response",
        |mut c: Ctx<'_>, timeout_seconds: u32| -> Res<()> {
            const API: &str = "call_with_best_effort_response";
            may_call(&c, API)?;
            let call = call_in_progress(&mut c, API)?;
            if call.timeout_seconds.is_some() {
                return contract(format!("ic0.{API} was already called for this call"));
            }
            // Longer timeouts are bounded silently, as the spec says.
            call.timeout_seconds = Some(timeout_seconds.min(MAX_CALL_TIMEOUT_SECONDS));
            Ok(())
        },
    )?;
    // The host keeps no cycle accounts: attached cycles are checked
    // against the constant balance, then forgotten.
    l.func_wrap(
        "ic0",
        "call_cycles_add128",
        |mut c: Ctx<'_>, high: u64, low: u64| -> Res<()> {
            const API: &str = "call_cycles_add128";
            require(&c, API, PAYING)?;
            call_in_progress(&mut c, API)?;
            let amount = (u128::from(high) << 64) | u128::from(low);
            if amount > CYCLE_BALANCE {
                return contract(format!(
                    "ic0.{API}: cannot attach {amount} cycles, the balance is {CYCLE_BALANCE}"
                ));
            }
            Ok(())
        },
    )?;
    l.func_wrap("ic0", "call_perform", |mut c: Ctx<'_>| -> Res<u32> {
        const API: &str = "call_perform";
        may_call(&c, API)?;
        let m = message_mut(&mut c, API)?;
        let Some(call) = m.call_in_progress.take() else {
            return contract(format!("ic0.{API}: no call is being assembled"));
        };
        if m.call_capacity == 0 {
            return Ok(NOT_QUEUED);
        }
        m.call_capacity -= 1;
        m.performed.push(call);
        Ok(0)
    })?;
    l.func_wrap(
        "ic0",
        "msg_cycles_refunded128",
        |mut c: Ctx<'_>, dst: u32| -> Res<()> {
            const API: &str = "msg_cycles_refunded128";
            require(&c, API, &[ReplyCallback, RejectCallback])?;
            write_u128(&mut c, API, dst, 0)
        },
    )?;
    l.func_wrap(
        "ic0",
        "cost_call",
        |mut c: Ctx<'_>, method_name_size: u64, payload_size: u64, dst: u32| -> Res<()> {
            const API: &str = "cost_call";
            message(&c, API)?;
            let bytes = u128::from(method_name_size) + u128::from(payload_size);
            write_u128(&mut c, API, dst, CALL_FEE + CALL_BYTE_FEE * bytes)
        },
    )?;
    Ok(())
}

/// Traps unless the context may make calls; composite queries may on the
/// IC, but the host does not run their calls.
fn may_call(c: &Ctx<'_>, api: &str) -> Res<()> {
    if message(c, api)?.context == CompositeQuery {
        return contract(format!(
            "ic0.{api}: the wasm host does not run calls from composite queries"
        ));
    }
    require(c, api, CALLING)
}

fn call_in_progress<'c>(c: &'c mut Ctx<'_>, api: &str) -> Res<&'c mut OutgoingCall> {
    match message_mut(c, api)?.call_in_progress.as_mut() {
        Some(call) => Ok(call),
        None => contract(format!(
            "ic0.{api}: no call is being assembled (call ic0.call_new first)"
        )),
    }
}
