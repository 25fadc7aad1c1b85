//! A trap or an exhausted budget leaves no trace.

use wasm_host::{CallError, InstructionLimits};

use crate::common::*;

#[test]
fn trap_rolls_back_heap_stable_and_certified_data() {
    let mut host = installed(5);
    update::<_, ()>(&mut host, "set_value", (7u64,)).unwrap();
    update::<_, ()>(&mut host, "stable_put", (100u64, b"before".to_vec())).unwrap();
    update::<_, ()>(&mut host, "set_certified", (vec![1u8; 32],)).unwrap();
    let heap_before = heap_pages(&mut host);
    let stable_before = stable_pages(&mut host);

    let err = update::<_, ()>(
        &mut host,
        "mutate_then_trap",
        (99u64, b"after!".to_vec(), vec![2u8; 32]),
    )
    .unwrap_err();
    match &err {
        CallError::Trapped { message, .. } => {
            assert!(message.contains("probe trapped on purpose"), "{message}")
        }
        other => panic!("expected a trap, got {other:?}"),
    }

    assert_eq!(value(&mut host), 7);
    assert_eq!(stable(&mut host, 100, 6), b"before");
    assert_eq!(stable_pages(&mut host), stable_before);
    assert_eq!(heap_pages(&mut host), heap_before, "heap size restored");
    assert_eq!(host.certified_data(), vec![1u8; 32]);
    // The stack pointer and allocator came back too: the canister works.
    update::<_, ()>(&mut host, "set_value", (8u64,)).unwrap();
    assert_eq!(value(&mut host), 8);
}

#[test]
fn exhausted_budget_rolls_back_and_reports_the_limit() {
    let mut host = installed(5);
    let limits = InstructionLimits {
        update: 20_000_000,
        ..InstructionLimits::default()
    };
    host.set_instruction_limits(limits);
    let err = update::<_, ()>(&mut host, "mutate_then_spin", (42u64,)).unwrap_err();
    assert_eq!(err, CallError::OutOfInstructions { limit: 20_000_000 });
    assert_eq!(value(&mut host), 5);
}

#[test]
fn default_limits_are_the_ics() {
    let limits = wasm_host::Host::new().instruction_limits();
    assert_eq!(limits.query, 5_000_000_000);
    assert_eq!(limits.update, 40_000_000_000);
    assert_eq!(limits.install, 300_000_000_000);
}

#[test]
fn private_mutable_globals_are_rolled_back() {
    // The global is neither exported nor in memory: only the host's
    // rewrite makes it restorable.
    let wasm = wat::parse_str(
        r#"(module
          (import "ic0" "trap" (func $trap (param i32 i32)))
          (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
          (import "ic0" "msg_reply" (func $reply))
          (memory 1)
          (global $g (mut i32) (i32.const 0))
          (func (export "canister_update bump")
            (global.set $g (i32.add (global.get $g) (i32.const 1)))
            (i32.store (i32.const 0) (global.get $g))
            (call $append (i32.const 0) (i32.const 4))
            (call $reply))
          (func (export "canister_update set_and_trap")
            (global.set $g (i32.const 1000))
            (call $trap (i32.const 0) (i32.const 0))))"#,
    )
    .unwrap();
    let module = wasm_host::compile(&wasm).unwrap();
    let mut host = wasm_host::Host::new();
    host.install(&module, &[], admin()).unwrap();
    let bump = |host: &mut wasm_host::Host| host.update("bump", &[], admin()).unwrap().bytes;
    assert_eq!(bump(&mut host), 1u32.to_le_bytes());
    assert!(matches!(
        host.update("set_and_trap", &[], admin()),
        Err(CallError::Trapped { .. })
    ));
    assert_eq!(bump(&mut host), 2u32.to_le_bytes());
}
