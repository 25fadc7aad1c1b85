//! A tiny canister for the wasm host's own tests. Each method exercises one
//! piece of the system API or one failure mode; arguments and replies are
//! Candid so the tests read like calls to a real canister.

use std::cell::{Cell, RefCell};

use candid::Principal;
use ic_cdk::api;
use ic_cdk::call::{Call, CallFailed};
use ic_cdk::{init, post_upgrade, pre_upgrade, query, update};

const PAGE: u64 = 64 * 1024;

/// Bytes [0, 8) of stable memory carry the heap value across an upgrade,
/// so tests pick stable offsets from `UPGRADE_SLOT_END` up.
const UPGRADE_SLOT_END: u64 = 8;

thread_local! {
    static VALUE: Cell<u64> = const { Cell::new(0) };
    static RESTORED: Cell<Option<u64>> = const { Cell::new(None) };
    static INSTALLER: Cell<Option<Principal>> = const { Cell::new(None) };
    static TRAP_IN_PRE_UPGRADE: Cell<bool> = const { Cell::new(false) };
    static BALLAST: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

#[init]
fn init(value: Option<u64>) {
    VALUE.set(value.unwrap_or(0));
    INSTALLER.set(Some(api::msg_caller()));
}

#[pre_upgrade]
fn pre_upgrade() {
    if TRAP_IN_PRE_UPGRADE.get() {
        api::trap("pre_upgrade asked to trap");
    }
    ensure_stable(UPGRADE_SLOT_END);
    api::stable_write(0, &VALUE.get().to_le_bytes());
}

#[post_upgrade]
fn post_upgrade(mode: Option<String>) {
    let mut slot = [0u8; 8];
    api::stable_read(0, &mut slot);
    RESTORED.set(Some(u64::from_le_bytes(slot)));
    if mode.as_deref() == Some("trap") {
        api::trap("post_upgrade asked to trap");
    }
}

fn ensure_stable(end: u64) {
    let have = api::stable_size() * PAGE;
    if end > have {
        let pages = (end - have).div_ceil(PAGE);
        if api::stable_grow(pages) == u64::MAX {
            api::trap("stable memory is full");
        }
    }
}

#[update]
fn set_value(value: u64) {
    VALUE.set(value);
}

#[query]
fn get_value() -> u64 {
    VALUE.get()
}

/// What post_upgrade read from the slot pre_upgrade wrote, if any.
#[query]
fn restored() -> Option<u64> {
    RESTORED.get()
}

#[query]
fn installer() -> Option<Principal> {
    INSTALLER.get()
}

#[update]
fn set_trap_in_pre_upgrade(on: bool) {
    TRAP_IN_PRE_UPGRADE.set(on);
}

#[update]
fn stable_put(offset: u64, data: Vec<u8>) {
    ensure_stable(offset + data.len() as u64);
    api::stable_write(offset, &data);
}

#[query]
fn stable_get(offset: u64, len: u64) -> Vec<u8> {
    let mut buf = vec![0; len as usize];
    api::stable_read(offset, &mut buf);
    buf
}

#[query]
fn stable_pages() -> u64 {
    api::stable_size()
}

#[update]
fn set_certified(data: Vec<u8>) {
    api::certified_data_set(data);
}

/// Not allowed in a query: the host must trap.
#[query]
fn set_certified_in_query(data: Vec<u8>) {
    api::certified_data_set(data);
}

/// The certificate as seen from a query (present) or an update (absent).
#[query]
fn certificate() -> Option<Vec<u8>> {
    api::data_certificate()
}

#[update]
fn certificate_in_update() -> Option<Vec<u8>> {
    api::data_certificate()
}

/// Grows the wasm heap by `mib` MiB that stay allocated.
#[update]
fn grow_heap(mib: u64) {
    BALLAST.with_borrow_mut(|b| b.push(vec![1; (mib * 1024 * 1024) as usize]));
}

#[query]
fn heap_pages() -> u64 {
    // The probe also builds natively (workspace-wide cargo commands), where
    // there is no wasm memory to measure.
    #[cfg(target_arch = "wasm32")]
    return core::arch::wasm32::memory_size(0) as u64;
    #[cfg(not(target_arch = "wasm32"))]
    return 0;
}

/// Changes everything a call can change, then traps: nothing may persist.
#[update]
fn mutate_then_trap(value: u64, stable: Vec<u8>, certified: Vec<u8>) {
    VALUE.set(value);
    ensure_stable(UPGRADE_SLOT_END + stable.len() as u64 + 4 * PAGE);
    api::stable_write(UPGRADE_SLOT_END, &stable);
    api::certified_data_set(certified);
    grow_heap(8);
    api::trap("probe trapped on purpose");
}

/// Changes the heap, then spins until the instruction budget runs out.
#[update]
fn mutate_then_spin(value: u64) {
    VALUE.set(value);
    spin_forever();
}

#[query]
fn spin_query() {
    spin_forever();
}

fn spin_forever() {
    let mut x = 0u64;
    loop {
        x = core::hint::black_box(x.wrapping_add(1));
    }
}

/// A query that writes heap and stable memory; neither may persist.
#[query]
fn write_in_query(value: u64, stable: Vec<u8>) -> u64 {
    VALUE.set(value);
    ensure_stable(UPGRADE_SLOT_END + stable.len() as u64);
    api::stable_write(UPGRADE_SLOT_END, &stable);
    grow_heap(2);
    VALUE.get()
}

#[update]
fn reply_of(len: u64) -> Vec<u8> {
    vec![7; len as usize]
}

#[query]
fn reply_of_query(len: u64) -> Vec<u8> {
    vec![7; len as usize]
}

/// Sets the heap value, then replies with `len` bytes.
#[update]
fn set_value_and_reply_of(value: u64, len: u64) -> Vec<u8> {
    VALUE.set(value);
    vec![7; len as usize]
}

/// Performance counter before and after `rounds` of hashing-like work.
#[update]
fn counters(rounds: u64) -> (u64, u64) {
    let before = api::performance_counter(0);
    let mut x = 1u64;
    for i in 0..rounds {
        x = core::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
    }
    (before, api::performance_counter(0))
}

#[query]
fn whoami() -> Principal {
    api::msg_caller()
}

#[query]
fn caller_is_controller() -> bool {
    api::is_controller(&api::msg_caller())
}

#[query]
fn self_id() -> Principal {
    api::canister_self()
}

#[query]
fn now() -> u64 {
    api::time()
}

/// Sets the heap value, then rejects: the change is kept, as on the IC.
#[update(manual_reply = true)]
fn reject_with(value: u64, message: String) {
    VALUE.set(value);
    api::msg_reject(message);
}

#[update]
fn version() -> u64 {
    api::canister_version()
}

#[update]
fn balance() -> u128 {
    api::canister_cycle_balance()
}

#[update]
fn set_timer(at: u64) -> u64 {
    api::global_timer_set(at)
}

#[query]
fn replicated() -> bool {
    api::in_replicated_execution()
}

#[update]
fn say(text: String) {
    api::debug_print(text);
}

// Self-calls: an update awaits a call to one of the probe's own methods, so
// its work spans several messages.

/// Adds `n` to the heap value and returns it; called by the probe itself.
#[update]
fn add_to_value(n: u64) -> u64 {
    VALUE.set(VALUE.get() + n);
    VALUE.get()
}

/// Who called this update, and the call's deadline (0 if unbounded).
#[update]
fn caller_and_deadline() -> (Principal, u64) {
    let deadline = api::msg_deadline().map_or(0, |d| d.get());
    (api::msg_caller(), deadline)
}

/// Adds 1 to the heap value, then awaits `add_to_value(n)` on itself
/// (bounded wait) and `caller_and_deadline` (unbounded). Replies with what
/// the callee returned, the value the callback sees, whom the callee saw
/// as its caller and both deadlines, and the call context's instruction
/// count against this message's.
#[update]
async fn add_via_self_call(n: u64) -> (u64, u64, Principal, u64, u64, u64, u64) {
    VALUE.set(VALUE.get() + 1);
    let this = api::canister_self();
    let from_callee: u64 = Call::bounded_wait(this, "add_to_value")
        .with_arg(n)
        .await
        .expect("add_to_value replies")
        .candid()
        .expect("a u64");
    let (caller, bounded_deadline): (Principal, u64) =
        Call::bounded_wait(this, "caller_and_deadline")
            .await
            .expect("caller_and_deadline replies")
            .candid_tuple()
            .expect("a principal and a u64");
    let (_, unbounded_deadline): (Principal, u64) =
        Call::unbounded_wait(this, "caller_and_deadline")
            .await
            .expect("caller_and_deadline replies")
            .candid_tuple()
            .expect("a principal and a u64");
    (
        from_callee,
        VALUE.get(),
        caller,
        bounded_deadline,
        unbounded_deadline,
        api::call_context_instruction_counter(),
        api::instruction_counter(),
    )
}

fn spin(rounds: u64) {
    let mut x = 1u64;
    for i in 0..rounds {
        x = core::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
    }
}

/// Spins `rounds` and counts the message in the heap value.
#[update]
fn spin_and_count(rounds: u64) {
    spin(rounds);
    VALUE.set(VALUE.get() + 1);
}

/// Spins `rounds` in each of `2 * calls + 1` messages: this one, `calls`
/// self-calls to `spin_and_count` and the callback after each. Each
/// message counts itself in the heap value.
#[update]
async fn spin_across_messages(calls: u32, rounds: u64) -> u64 {
    let this = api::canister_self();
    for _ in 0..calls {
        spin_and_count(rounds);
        Call::unbounded_wait(this, "spin_and_count")
            .with_arg(rounds)
            .await
            .expect("spin_and_count replies");
    }
    spin_and_count(rounds);
    VALUE.get()
}

/// Sets the heap value, then self-calls `mutate_then_trap`. Replies with
/// the reject the await got and the heap value after it.
#[update]
async fn call_trapping_method(
    value: u64,
    stable: Vec<u8>,
    certified: Vec<u8>,
) -> (u32, String, u64) {
    VALUE.set(value);
    let result = Call::unbounded_wait(api::canister_self(), "mutate_then_trap")
        .with_args(&(value + 1, stable, certified))
        .await;
    match result {
        Ok(_) => api::trap("mutate_then_trap replied"),
        Err(CallFailed::CallRejected(rejected)) => (
            rejected.raw_reject_code(),
            rejected.reject_message().to_string(),
            VALUE.get(),
        ),
        Err(other) => api::trap(format!("unexpected call failure: {other}")),
    }
}

/// Sets the heap value and writes stable memory, self-calls
/// `add_to_value(1)`, then in the callback changes both again and traps.
#[update]
async fn trap_after_self_call(value: u64, before: Vec<u8>, after: Vec<u8>) {
    VALUE.set(value);
    ensure_stable(UPGRADE_SLOT_END + before.len().max(after.len()) as u64);
    api::stable_write(UPGRADE_SLOT_END, &before);
    Call::unbounded_wait(api::canister_self(), "add_to_value")
        .with_arg(1u64)
        .await
        .expect("add_to_value replies");
    VALUE.set(value + 1000);
    api::stable_write(UPGRADE_SLOT_END, &after);
    api::trap("callback trapped on purpose");
}

/// Calls `method` on `callee`; replies with the reject code and message.
#[update]
async fn call_other(callee: Principal, method: String) -> (u32, String) {
    match Call::unbounded_wait(callee, &method).await {
        Ok(_) => (0, String::new()),
        Err(CallFailed::CallRejected(rejected)) => (
            rejected.raw_reject_code(),
            rejected.reject_message().to_string(),
        ),
        Err(other) => api::trap(format!("unexpected call failure: {other}")),
    }
}

/// Replies at once and leaves a one-way self-call to `add_to_value(n)`
/// behind: no callback waits for it.
#[update]
fn add_later(n: u64) {
    Call::unbounded_wait(api::canister_self(), "add_to_value")
        .with_arg(n)
        .oneway()
        .expect("the call is queued");
}

/// Awaits self-calls one after the other, forever: the host must give up,
/// not hang.
#[update]
async fn call_self_forever() {
    loop {
        Call::unbounded_wait(api::canister_self(), "add_to_value")
            .with_arg(1u64)
            .await
            .expect("add_to_value replies");
    }
}

/// Queries may not call: the host traps in `call_new`.
#[query]
async fn call_from_query() -> u64 {
    Call::unbounded_wait(api::canister_self(), "get_value")
        .await
        .expect("refused")
        .candid()
        .expect("a u64")
}
