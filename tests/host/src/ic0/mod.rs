//! The `ic0` system API as wasmtime host functions.
//!
//! Each function checks that the current execution context may call it
//! (the availability table of the interface specification) and that every
//! heap range the canister passes is in bounds; a violation traps the
//! canister, never the host.

mod call;
mod canister;
mod msg;
mod stable;

use std::sync::OnceLock;

use wasmtime::{Caller, Linker};

use crate::context::{CanisterData, Context, Message};
use crate::error::HostTrap;
use crate::module::engine;

pub(crate) type Ctx<'a> = Caller<'a, CanisterData>;
pub(crate) type Res<T> = wasmtime::Result<T>;

/// Contexts that may reply, reject or append reply data.
const REPLYING: &[Context] = &[
    Context::Update,
    Context::ReplicatedQuery,
    Context::Query,
    Context::CompositeQuery,
    Context::ReplyCallback,
    Context::RejectCallback,
];

/// The linker holding every supported import; shared since host
/// functions do not depend on a store.
pub(crate) fn linker() -> &'static Linker<CanisterData> {
    static LINKER: OnceLock<Linker<CanisterData>> = OnceLock::new();
    LINKER.get_or_init(|| {
        let mut linker = Linker::new(engine());
        msg::define(&mut linker).expect("ic0 names are unique");
        canister::define(&mut linker).expect("ic0 names are unique");
        stable::define(&mut linker).expect("ic0 names are unique");
        call::define(&mut linker).expect("ic0 names are unique");
        linker
    })
}

pub(crate) fn trap<T>(trap: HostTrap) -> Res<T> {
    Err(wasmtime::Error::new(trap))
}

pub(crate) fn contract<T>(message: String) -> Res<T> {
    trap(HostTrap::Contract(message))
}

/// The current message, or a trap if none is running (a `start` function
/// calling the system API).
pub(crate) fn message<'c>(caller: &'c Ctx<'_>, api: &str) -> Res<&'c Message> {
    match &caller.data().message {
        Some(m) => Ok(m),
        None => contract(format!(
            "ic0.{api} cannot be called from the start function"
        )),
    }
}

pub(crate) fn message_mut<'c>(caller: &'c mut Ctx<'_>, api: &str) -> Res<&'c mut Message> {
    match &mut caller.data_mut().message {
        Some(m) => Ok(m),
        None => contract(format!(
            "ic0.{api} cannot be called from the start function"
        )),
    }
}

/// Traps unless the current context is one of `allowed`.
pub(crate) fn require(caller: &Ctx<'_>, api: &str, allowed: &[Context]) -> Res<()> {
    let context = message(caller, api)?.context;
    if allowed.contains(&context) {
        Ok(())
    } else {
        contract(format!(
            "ic0.{api} cannot be called in {}",
            context.describe()
        ))
    }
}

fn out_of_bounds<T>(api: &str, addr: u64, size: u64) -> Res<T> {
    contract(format!(
        "ic0.{api}: heap range [{addr}, {addr}+{size}) is out of bounds"
    ))
}

/// Copies `size` bytes of the canister's heap from `src`.
pub(crate) fn read_heap(caller: &mut Ctx<'_>, api: &str, src: u64, size: u64) -> Res<Vec<u8>> {
    let Some(memory) = caller.data().memory else {
        return contract(format!("ic0.{api}: the module has no memory"));
    };
    let heap = memory.data(&caller);
    match src.checked_add(size) {
        Some(end) if end <= heap.len() as u64 => Ok(heap[src as usize..end as usize].to_vec()),
        _ => out_of_bounds(api, src, size),
    }
}

/// Writes `bytes` into the canister's heap at `dst`.
pub(crate) fn write_heap(caller: &mut Ctx<'_>, api: &str, dst: u64, bytes: &[u8]) -> Res<()> {
    let Some(memory) = caller.data().memory else {
        return contract(format!("ic0.{api}: the module has no memory"));
    };
    let heap = memory.data_mut(caller);
    let size = bytes.len() as u64;
    match dst.checked_add(size) {
        Some(end) if end <= heap.len() as u64 => {
            heap[dst as usize..end as usize].copy_from_slice(bytes);
            Ok(())
        }
        _ => out_of_bounds(api, dst, size),
    }
}

/// The `*_copy(dst, offset, size)` pattern: copies `size` bytes of
/// `source` from `offset` to the heap at `dst`, trapping if either range
/// is out of bounds.
pub(crate) fn copy_out(
    caller: &mut Ctx<'_>,
    api: &str,
    source: &[u8],
    dst: u32,
    offset: u32,
    size: u32,
) -> Res<()> {
    let end = u64::from(offset) + u64::from(size);
    if end > source.len() as u64 {
        return contract(format!(
            "ic0.{api}: range [{offset}, {offset}+{size}) exceeds the {} available bytes",
            source.len()
        ));
    }
    write_heap(
        caller,
        api,
        u64::from(dst),
        &source[offset as usize..end as usize],
    )
}

/// Writes a 128-bit amount as little-endian bytes, as the `*128` calls do.
pub(crate) fn write_u128(caller: &mut Ctx<'_>, api: &str, dst: u32, value: u128) -> Res<()> {
    write_heap(caller, api, u64::from(dst), &value.to_le_bytes())
}
