//! The message: argument, caller, reply/reject, inspect_message.

use wasmtime::Linker;

use super::{
    Ctx, REPLYING, Res, contract, copy_out, message, message_mut, read_heap, require, trap,
    write_u128,
};
use crate::context::{CanisterData, Context, Response};
use crate::error::HostTrap;

use Context::*;

/// Contexts with an argument: not pre_upgrade, nor reject or cleanup
/// callbacks (a reply callback's argument is the reply).
const WITH_ARG: &[Context] = &[
    Init,
    Update,
    ReplicatedQuery,
    Query,
    CompositeQuery,
    InspectMessage,
    ReplyCallback,
];

pub(super) fn define(l: &mut Linker<CanisterData>) -> wasmtime::Result<()> {
    l.func_wrap("ic0", "msg_arg_data_size", |c: Ctx<'_>| -> Res<u32> {
        require(&c, "msg_arg_data_size", WITH_ARG)?;
        Ok(message(&c, "msg_arg_data_size")?.arg.len() as u32)
    })?;
    l.func_wrap(
        "ic0",
        "msg_arg_data_copy",
        |mut c: Ctx<'_>, dst: u32, offset: u32, size: u32| -> Res<()> {
            const API: &str = "msg_arg_data_copy";
            require(&c, API, WITH_ARG)?;
            let arg = std::mem::take(&mut message_mut(&mut c, API)?.arg);
            let result = copy_out(&mut c, API, &arg, dst, offset, size);
            message_mut(&mut c, API)?.arg = arg;
            result
        },
    )?;
    l.func_wrap("ic0", "msg_caller_size", |c: Ctx<'_>| -> Res<u32> {
        Ok(message(&c, "msg_caller_size")?.caller.len() as u32)
    })?;
    l.func_wrap(
        "ic0",
        "msg_caller_copy",
        |mut c: Ctx<'_>, dst: u32, offset: u32, size: u32| -> Res<()> {
            let caller = message(&c, "msg_caller_copy")?.caller.clone();
            copy_out(&mut c, "msg_caller_copy", &caller, dst, offset, size)
        },
    )?;
    // 0 in a reply callback (and its cleanup), so one function can serve
    // as both callbacks.
    l.func_wrap("ic0", "msg_reject_code", |c: Ctx<'_>| -> Res<u32> {
        const API: &str = "msg_reject_code";
        require(&c, API, &[ReplyCallback, RejectCallback, Cleanup])?;
        Ok(message(&c, API)?
            .reject
            .as_ref()
            .map_or(0, |(code, _)| *code))
    })?;
    l.func_wrap("ic0", "msg_reject_msg_size", |c: Ctx<'_>| -> Res<u32> {
        const API: &str = "msg_reject_msg_size";
        require(&c, API, &[RejectCallback])?;
        Ok(reject_message(&c, API)?.len() as u32)
    })?;
    l.func_wrap(
        "ic0",
        "msg_reject_msg_copy",
        |mut c: Ctx<'_>, dst: u32, offset: u32, size: u32| -> Res<()> {
            const API: &str = "msg_reject_msg_copy";
            require(&c, API, &[RejectCallback])?;
            let text = reject_message(&c, API)?.to_owned();
            copy_out(&mut c, API, text.as_bytes(), dst, offset, size)
        },
    )?;
    // 0 means "guaranteed response": ingress messages, and calls made
    // without `call_with_best_effort_response`.
    l.func_wrap("ic0", "msg_deadline", |c: Ctx<'_>| -> Res<u64> {
        require(&c, "msg_deadline", REPLYING)?;
        Ok(message(&c, "msg_deadline")?.deadline)
    })?;
    l.func_wrap(
        "ic0",
        "msg_reply_data_append",
        |mut c: Ctx<'_>, src: u32, size: u32| -> Res<()> {
            const API: &str = "msg_reply_data_append";
            require(&c, API, REPLYING)?;
            not_yet_responded(&c, API)?;
            let m = message(&c, API)?;
            let total = m.reply.len() + size as usize;
            if total > m.reply_limit {
                return trap(HostTrap::ReplyTooLarge {
                    size: total,
                    limit: m.reply_limit,
                });
            }
            let bytes = read_heap(&mut c, API, u64::from(src), u64::from(size))?;
            message_mut(&mut c, API)?.reply.extend_from_slice(&bytes);
            Ok(())
        },
    )?;
    l.func_wrap("ic0", "msg_reply", |mut c: Ctx<'_>| -> Res<()> {
        require(&c, "msg_reply", REPLYING)?;
        not_yet_responded(&c, "msg_reply")?;
        message_mut(&mut c, "msg_reply")?.response = Some(Response::Reply);
        Ok(())
    })?;
    l.func_wrap(
        "ic0",
        "msg_reject",
        |mut c: Ctx<'_>, src: u32, size: u32| -> Res<()> {
            require(&c, "msg_reject", REPLYING)?;
            not_yet_responded(&c, "msg_reject")?;
            let bytes = read_heap(&mut c, "msg_reject", u64::from(src), u64::from(size))?;
            let text = String::from_utf8_lossy(&bytes).into_owned();
            message_mut(&mut c, "msg_reject")?.response = Some(Response::Reject(text));
            Ok(())
        },
    )?;
    // Ingress messages carry no cycles, and the host sends none with calls.
    l.func_wrap(
        "ic0",
        "msg_cycles_available128",
        |mut c: Ctx<'_>, dst: u32| -> Res<()> {
            const API: &str = "msg_cycles_available128";
            require(
                &c,
                API,
                &[Update, ReplicatedQuery, ReplyCallback, RejectCallback],
            )?;
            write_u128(&mut c, API, dst, 0)
        },
    )?;
    l.func_wrap(
        "ic0",
        "msg_cycles_accept128",
        |mut c: Ctx<'_>, _high: u64, _low: u64, dst: u32| -> Res<()> {
            const API: &str = "msg_cycles_accept128";
            require(&c, API, &[Update, ReplyCallback, RejectCallback])?;
            write_u128(&mut c, API, dst, 0)
        },
    )?;
    l.func_wrap("ic0", "msg_method_name_size", |c: Ctx<'_>| -> Res<u32> {
        require(&c, "msg_method_name_size", &[InspectMessage])?;
        Ok(message(&c, "msg_method_name_size")?.method.len() as u32)
    })?;
    l.func_wrap(
        "ic0",
        "msg_method_name_copy",
        |mut c: Ctx<'_>, dst: u32, offset: u32, size: u32| -> Res<()> {
            const API: &str = "msg_method_name_copy";
            require(&c, API, &[InspectMessage])?;
            let name = message(&c, API)?.method.clone();
            copy_out(&mut c, API, name.as_bytes(), dst, offset, size)
        },
    )?;
    l.func_wrap("ic0", "accept_message", |mut c: Ctx<'_>| -> Res<()> {
        require(&c, "accept_message", &[InspectMessage])?;
        let m = message_mut(&mut c, "accept_message")?;
        if m.accepted {
            return contract("ic0.accept_message called twice".into());
        }
        m.accepted = true;
        Ok(())
    })?;
    Ok(())
}

fn not_yet_responded(c: &Ctx<'_>, api: &str) -> Res<()> {
    let m = message(c, api)?;
    if m.response.is_some() || m.answered_before {
        return contract(format!(
            "ic0.{api}: the call was already replied to or rejected"
        ));
    }
    Ok(())
}

fn reject_message<'c>(c: &'c Ctx<'_>, api: &str) -> Res<&'c str> {
    match &message(c, api)?.reject {
        Some((_, text)) => Ok(text),
        None => contract(format!("ic0.{api}: there is no reject message")),
    }
}
