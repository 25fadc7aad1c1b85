//! The canister's own facts and certification: identity, cycles, time,
//! controllers, certified data, counters, debugging and traps.

use candid::Principal;
use wasmtime::Linker;

use super::{Ctx, Res, contract, copy_out, message, read_heap, require, trap, write_u128};
use crate::certify;
use crate::context::{CanisterData, Context};
use crate::error::HostTrap;
use crate::limits::{CYCLE_BALANCE, MAX_CERTIFIED_DATA};

use Context::*;

/// Where certified data may be set: the spec's I G U Ry Rt (and T,
/// system tasks, which never run here).
const MUTATING: &[Context] = &[Init, PreUpgrade, Update, ReplyCallback, RejectCallback];

/// Where the global timer may be set: those and cleanup callbacks (C).
const TIMER_SETTING: &[Context] = &[
    Init,
    PreUpgrade,
    Update,
    ReplyCallback,
    RejectCallback,
    Cleanup,
];

/// Where a data certificate exists: non-replicated queries.
const CERTIFIED: &[Context] = &[Query, CompositeQuery];

/// `canister_status`: the host's canister is always running.
const STATUS_RUNNING: u32 = 1;

pub(super) fn define(l: &mut Linker<CanisterData>) -> wasmtime::Result<()> {
    l.func_wrap("ic0", "canister_self_size", |c: Ctx<'_>| -> Res<u32> {
        Ok(message(&c, "canister_self_size")?.canister_id.len() as u32)
    })?;
    l.func_wrap(
        "ic0",
        "canister_self_copy",
        |mut c: Ctx<'_>, dst: u32, offset: u32, size: u32| -> Res<()> {
            let id = message(&c, "canister_self_copy")?.canister_id.clone();
            copy_out(&mut c, "canister_self_copy", &id, dst, offset, size)
        },
    )?;
    for api in [
        "canister_cycle_balance128",
        "canister_liquid_cycle_balance128",
    ] {
        l.func_wrap("ic0", api, move |mut c: Ctx<'_>, dst: u32| -> Res<()> {
            message(&c, api)?;
            write_u128(&mut c, api, dst, CYCLE_BALANCE)
        })?;
    }
    l.func_wrap("ic0", "canister_status", |c: Ctx<'_>| -> Res<u32> {
        message(&c, "canister_status")?;
        Ok(STATUS_RUNNING)
    })?;
    l.func_wrap("ic0", "canister_version", |c: Ctx<'_>| -> Res<u64> {
        Ok(message(&c, "canister_version")?.canister_version)
    })?;
    l.func_wrap("ic0", "root_key_size", |c: Ctx<'_>| -> Res<u32> {
        Ok(message(&c, "root_key_size")?.root_key.len() as u32)
    })?;
    l.func_wrap(
        "ic0",
        "root_key_copy",
        |mut c: Ctx<'_>, dst: u32, offset: u32, size: u32| -> Res<()> {
            let key = message(&c, "root_key_copy")?.root_key.clone();
            copy_out(&mut c, "root_key_copy", &key, dst, offset, size)
        },
    )?;
    l.func_wrap(
        "ic0",
        "certified_data_set",
        |mut c: Ctx<'_>, src: u32, size: u32| -> Res<()> {
            require(&c, "certified_data_set", MUTATING)?;
            if size as usize > MAX_CERTIFIED_DATA {
                return contract(format!(
                    "ic0.certified_data_set: {size} bytes exceed the limit of {MAX_CERTIFIED_DATA}"
                ));
            }
            let data = read_heap(
                &mut c,
                "certified_data_set",
                u64::from(src),
                u64::from(size),
            )?;
            c.data_mut().certified_data = data;
            Ok(())
        },
    )?;
    l.func_wrap(
        "ic0",
        "data_certificate_present",
        |c: Ctx<'_>| -> Res<u32> {
            let context = message(&c, "data_certificate_present")?.context;
            Ok(u32::from(CERTIFIED.contains(&context)))
        },
    )?;
    l.func_wrap("ic0", "data_certificate_size", |c: Ctx<'_>| -> Res<u32> {
        require(&c, "data_certificate_size", CERTIFIED)?;
        Ok(current_certificate(&c, "data_certificate_size")?.len() as u32)
    })?;
    l.func_wrap(
        "ic0",
        "data_certificate_copy",
        |mut c: Ctx<'_>, dst: u32, offset: u32, size: u32| -> Res<()> {
            const API: &str = "data_certificate_copy";
            require(&c, API, CERTIFIED)?;
            let cert = current_certificate(&c, API)?;
            copy_out(&mut c, API, &cert, dst, offset, size)
        },
    )?;
    l.func_wrap("ic0", "time", |c: Ctx<'_>| -> Res<u64> {
        Ok(message(&c, "time")?.time)
    })?;
    // The timer is recorded but never fires: the host runs no system tasks.
    l.func_wrap(
        "ic0",
        "global_timer_set",
        |mut c: Ctx<'_>, timestamp: u64| -> Res<u64> {
            require(&c, "global_timer_set", TIMER_SETTING)?;
            Ok(std::mem::replace(&mut c.data_mut().global_timer, timestamp))
        },
    )?;
    l.func_wrap(
        "ic0",
        "performance_counter",
        |c: Ctx<'_>, counter_type: u32| -> Res<u64> {
            // 0: this message; 1: the call context, i.e. this message and
            // the earlier ones (before an await) answering the same call.
            if counter_type > 1 {
                return contract(format!(
                    "ic0.performance_counter: unknown counter type {counter_type}"
                ));
            }
            let m = message(&c, "performance_counter")?;
            let (limit, earlier) = (m.fuel_limit, m.context_instructions);
            let this_message = limit.saturating_sub(c.get_fuel()?);
            Ok(match counter_type {
                0 => this_message,
                _ => earlier + this_message,
            })
        },
    )?;
    l.func_wrap(
        "ic0",
        "is_controller",
        |mut c: Ctx<'_>, src: u32, size: u32| -> Res<u32> {
            let bytes = read_heap(&mut c, "is_controller", u64::from(src), u64::from(size))?;
            if Principal::try_from_slice(&bytes).is_err() {
                return contract("ic0.is_controller: the argument is not a valid principal".into());
            }
            let m = message(&c, "is_controller")?;
            Ok(u32::from(m.controllers.contains(&bytes)))
        },
    )?;
    l.func_wrap("ic0", "in_replicated_execution", |c: Ctx<'_>| -> Res<u32> {
        Ok(u32::from(
            message(&c, "in_replicated_execution")?.context.replicated(),
        ))
    })?;
    l.func_wrap(
        "ic0",
        "debug_print",
        |mut c: Ctx<'_>, src: u32, size: u32| -> Res<()> {
            // A bad range is ignored, as the IC ignores it for debug_print.
            if let Ok(bytes) = read_heap(&mut c, "debug_print", u64::from(src), u64::from(size)) {
                let line = String::from_utf8_lossy(&bytes).into_owned();
                eprintln!("[canister] {line}");
                c.data_mut().debug_log.push(line);
            }
            Ok(())
        },
    )?;
    l.func_wrap(
        "ic0",
        "trap",
        |mut c: Ctx<'_>, src: u32, size: u32| -> Res<()> {
            let text = match read_heap(&mut c, "trap", u64::from(src), u64::from(size)) {
                Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Err(_) => "(trap message out of bounds)".to_string(),
            };
            trap(HostTrap::Explicit(text))
        },
    )?;
    Ok(())
}

/// The certificate of the committed certified data at the message's time.
fn current_certificate(c: &Ctx<'_>, api: &str) -> Res<std::sync::Arc<Vec<u8>>> {
    let m = message(c, api)?;
    Ok(certify::certificate(
        &m.canister_id,
        &c.data().certified_data,
        m.time,
    ))
}
