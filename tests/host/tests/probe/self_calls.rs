//! Updates that await calls to the probe's own methods: every call and
//! every callback is a message of its own, with its own budget, kept or
//! undone on its own.

use candid::{Principal, decode_args, encode_args};
use wasm_host::{CallError, Host, InstructionLimits, limits};

use crate::common::*;

#[test]
fn an_awaited_self_call_continues_in_a_new_message() {
    let mut host = installed(5);
    let version = host.canister_version();
    let reply = host
        .update(
            "add_via_self_call",
            &encode_args((10u64,)).unwrap(),
            admin(),
        )
        .unwrap();
    type Seen = (u64, u64, Principal, u64, u64, u64, u64);
    let (from_callee, after, callee_caller, bounded, unbounded, context_counter, message_counter): Seen =
        decode_args(&reply.bytes).unwrap();
    // 5, +1 before the call, +10 in the callee.
    assert_eq!((from_callee, after), (16, 16));
    assert_eq!(value(&mut host), 16);
    assert_eq!(
        callee_caller,
        host.canister_id(),
        "the canister calls itself"
    );
    assert_eq!(
        bounded,
        host.time() + 300 * 1_000_000_000,
        "ic-cdk's bounded wait"
    );
    assert_eq!(unbounded, 0);

    // The method, then three times a callee and the callback after it.
    let m = &reply.message_instructions;
    assert_eq!(m.len(), 7, "{m:?}");
    assert!(m.iter().all(|&i| i > 0));
    assert_eq!(reply.instructions, m.iter().sum::<u64>());
    assert_eq!(
        host.canister_version(),
        version + 7,
        "every message was kept"
    );
    // The call context counts the method and its callbacks, not the callees.
    let earlier = m[0] + m[2] + m[4];
    let counted = context_counter - message_counter;
    assert!(
        counted <= earlier && earlier - counted < 1_000,
        "{context_counter} - {message_counter} vs {earlier}"
    );
}

#[test]
fn each_message_of_a_self_call_chain_has_its_own_budget() {
    let mut host = installed(0);
    let rounds = 1_000_000u64;
    let one = host
        .update("spin_and_count", &encode_args((rounds,)).unwrap(), admin())
        .unwrap()
        .instructions;
    // A message fits twice in the budget; the seven of the chain do not.
    let limit = 2 * one;
    host.set_instruction_limits(InstructionLimits {
        update: limit,
        ..InstructionLimits::default()
    });
    update::<_, ()>(&mut host, "set_value", (0u64,)).unwrap();

    let reply = host
        .update(
            "spin_across_messages",
            &encode_args((3u32, rounds)).unwrap(),
            admin(),
        )
        .unwrap();
    let (counted,): (u64,) = decode_args(&reply.bytes).unwrap();
    assert_eq!(counted, 7, "every message spun and was kept");
    assert_eq!(value(&mut host), 7);
    assert_eq!(reply.message_instructions.len(), 7);
    assert!(reply.max_message_instructions() < limit);
    assert!(
        reply.instructions > 3 * limit,
        "{} vs {limit}",
        reply.instructions
    );

    // The same work in one message exceeds the budget.
    let err = update::<_, ()>(&mut host, "spin_and_count", (7 * rounds,)).unwrap_err();
    assert_eq!(err, CallError::OutOfInstructions { limit });
    assert_eq!(value(&mut host), 7);
}

#[test]
fn a_trapping_callee_rejects_the_await_and_is_undone_alone() {
    let mut host = installed(5);
    update::<_, ()>(&mut host, "stable_put", (8u64, b"before".to_vec())).unwrap();
    update::<_, ()>(&mut host, "set_certified", (vec![1u8; 32],)).unwrap();
    let (code, message, after): (u32, String, u64) = update(
        &mut host,
        "call_trapping_method",
        (7u64, b"after!".to_vec(), vec![2u8; 32]),
    )
    .unwrap();
    assert_eq!(code, 5, "CANISTER_ERROR");
    assert!(message.contains("probe trapped on purpose"), "{message}");
    // The caller's change before the call stays; the callee's are undone.
    assert_eq!(after, 7);
    assert_eq!(value(&mut host), 7);
    assert_eq!(stable(&mut host, 8, 6), b"before");
    assert_eq!(host.certified_data(), vec![1u8; 32]);
}

#[test]
fn a_trap_after_the_await_undoes_only_the_callback() {
    let mut host = installed(5);
    let err = update::<_, ()>(
        &mut host,
        "trap_after_self_call",
        (20u64, b"before".to_vec(), b"after!".to_vec()),
    )
    .unwrap_err();
    match &err {
        CallError::Trapped { message, .. } => {
            assert!(message.contains("callback trapped on purpose"), "{message}")
        }
        other => panic!("expected the callback's trap, got {other:?}"),
    }
    // The method's 20 and stable write stay, the callee's +1 too; the
    // callback's 1020 and stable write are undone.
    assert_eq!(value(&mut host), 21);
    assert_eq!(stable(&mut host, 8, 6), b"before");
    // The canister goes on working.
    update::<_, ()>(&mut host, "set_value", (3u64,)).unwrap();
    assert_eq!(value(&mut host), 3);
}

#[test]
fn a_call_to_another_canister_is_rejected_as_destination_invalid() {
    let mut host = installed(5);
    let other = Principal::from_text("ryjl3-tyaaa-aaaaa-aaaba-cai").unwrap();
    let (code, message): (u32, String) =
        update(&mut host, "call_other", (other, "transfer".to_string())).unwrap();
    assert_eq!(code, 3);
    assert!(message.contains(&other.to_text()), "{message}");

    let me = host.canister_id();
    let (code, message): (u32, String) =
        update(&mut host, "call_other", (me, "no_such_method".to_string())).unwrap();
    assert_eq!(code, 3);
    assert!(message.contains("no_such_method"), "{message}");
}

#[test]
fn the_update_returns_after_the_work_it_left_behind() {
    let mut host = installed(5);
    let reply = host
        .update("add_later", &encode_args((4u64,)).unwrap(), admin())
        .unwrap();
    assert_eq!(value(&mut host), 9, "the one-way call ran");
    // The method, the callee, and the (missing) callback that trapped.
    assert_eq!(reply.message_instructions.len(), 3);
}

#[test]
fn endless_self_calls_end_in_an_error_not_a_hang() {
    let mut host = installed(0);
    let err = host
        .update("call_self_forever", &encode_args(()).unwrap(), admin())
        .unwrap_err();
    assert_eq!(
        err,
        CallError::TooManyMessages {
            limit: limits::MAX_MESSAGES_PER_CALL
        }
    );
    // The messages that ran were kept: half of them were the callee.
    assert_eq!(value(&mut host), limits::MAX_MESSAGES_PER_CALL as u64 / 2);
}

#[test]
fn queries_cannot_call() {
    let mut host = installed(5);
    for (result, context) in [
        (
            host.query("call_from_query", &encode_args(()).unwrap(), admin()),
            "a query",
        ),
        (
            host.update("call_from_query", &encode_args(()).unwrap(), admin()),
            "a replicated query",
        ),
    ] {
        match result {
            Err(CallError::Trapped { message, .. }) => assert!(
                message.contains(&format!("ic0.call_new cannot be called in {context}")),
                "{message}"
            ),
            other => panic!("expected a trap, got {other:?}"),
        }
    }
}

#[test]
fn canister_init_cannot_call() {
    let wasm = wat::parse_str(
        r#"(module
          (import "ic0" "call_new"
            (func $call_new (param i32 i32 i32 i32 i32 i32 i32 i32)))
          (memory 1)
          (func (export "canister_init")
            (call $call_new (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
                            (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))))"#,
    )
    .unwrap();
    let err = Host::new()
        .install(&wasm_host::compile(&wasm).unwrap(), &[], admin())
        .unwrap_err();
    match err {
        CallError::Trapped { message, .. } => {
            assert!(
                message.contains("ic0.call_new cannot be called in canister_init"),
                "{message}"
            )
        }
        other => panic!("expected a trap, got {other:?}"),
    }
}

/// The host's side of a call without ic-cdk: callbacks are table entries
/// called with their `env`, a trapping reply callback is undone, then the
/// cleanup callback runs and is kept, and the caller gets the trap.
#[test]
fn cleanup_runs_after_a_trapping_callback_and_is_kept() {
    let wasm = wat::parse_str(
        r#"(module
          (import "ic0" "call_new"
            (func $call_new (param i32 i32 i32 i32 i32 i32 i32 i32)))
          (import "ic0" "call_on_cleanup" (func $on_cleanup (param i32 i32)))
          (import "ic0" "call_perform" (func $perform (result i32)))
          (import "ic0" "canister_self_size" (func $self_size (result i32)))
          (import "ic0" "canister_self_copy" (func $self_copy (param i32 i32 i32)))
          (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
          (import "ic0" "msg_reply" (func $reply))
          (import "ic0" "trap" (func $trap (param i32 i32)))
          (memory 1)
          (table 3 funcref)
          (elem (i32.const 1) $reply_callback $cleanup_callback)
          (data (i32.const 100) "ping")
          ;; Decimal digits, one per message that ran and was kept.
          (global $log (mut i32) (i32.const 0))
          (func $record (param $digit i32)
            (global.set $log
              (i32.add (i32.mul (global.get $log) (i32.const 10)) (local.get $digit))))
          (func (export "canister_update start")
            (call $record (i32.const 1))
            (call $self_copy (i32.const 0) (i32.const 0) (call $self_size))
            (call $call_new (i32.const 0) (call $self_size) (i32.const 100) (i32.const 4)
                            (i32.const 1) (i32.const 7) (i32.const 1) (i32.const 8))
            (call $on_cleanup (i32.const 2) (i32.const 9))
            (drop (call $perform)))
          (func (export "canister_update ping")
            (call $record (i32.const 2))
            (call $reply))
          (func $reply_callback (param $env i32)
            (call $record (local.get $env))
            (call $trap (i32.const 0) (i32.const 0)))
          (func $cleanup_callback (param $env i32)
            (call $record (local.get $env)))
          (func (export "canister_query log")
            (i32.store (i32.const 200) (global.get $log))
            (call $append (i32.const 200) (i32.const 4))
            (call $reply)))"#,
    )
    .unwrap();
    let mut host = Host::new();
    host.install(&wasm_host::compile(&wasm).unwrap(), &[], admin())
        .unwrap();
    let err = host.update("start", &[], admin()).unwrap_err();
    assert!(matches!(err, CallError::Trapped { .. }), "{err:?}");
    let log = host.query("log", &[], admin()).unwrap().bytes;
    // start (1), ping (2), the reply callback (7) undone, cleanup (9).
    assert_eq!(log, 129u32.to_le_bytes());
}
