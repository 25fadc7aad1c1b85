//! Queries see their own writes but keep none of them.

use wasm_host::{CallError, InstructionLimits};

use crate::common::*;

#[test]
fn query_changes_never_persist() {
    let mut host = installed(5);
    update::<_, ()>(&mut host, "stable_put", (8u64, b"stable".to_vec())).unwrap();
    let heap_before = heap_pages(&mut host);
    let stable_before = stable_pages(&mut host);

    let (seen,) =
        query::<_, (u64,)>(&mut host, "write_in_query", (99u64, vec![9u8; 300_000])).unwrap();
    assert_eq!(seen, 99, "the query saw its own write");

    assert_eq!(value(&mut host), 5);
    assert_eq!(stable(&mut host, 8, 6), b"stable");
    assert_eq!(stable_pages(&mut host), stable_before);
    assert_eq!(heap_pages(&mut host), heap_before);
}

#[test]
fn query_method_called_as_update_runs_replicated_and_keeps_nothing() {
    let mut host = installed(5);
    let reply = host
        .update(
            "write_in_query",
            &candid::encode_args((99u64, b"x".to_vec())).unwrap(),
            admin(),
        )
        .unwrap();
    assert_eq!(candid::decode_one::<u64>(&reply.bytes).unwrap(), 99);
    assert_eq!(value(&mut host), 5);
    assert!(update::<_, (bool,)>(&mut host, "replicated", ()).unwrap().0);
    assert!(!query::<_, (bool,)>(&mut host, "replicated", ()).unwrap().0);
}

#[test]
fn update_method_called_as_query_is_refused() {
    let mut host = installed(5);
    let err = query::<_, ()>(&mut host, "set_value", (1u64,)).unwrap_err();
    assert!(matches!(err, CallError::WrongMethodKind { .. }), "{err:?}");
    assert_eq!(value(&mut host), 5);
}

#[test]
fn unknown_method_and_missing_canister_are_reported() {
    let mut host = installed(5);
    let err = host.update("nope", &[], admin()).unwrap_err();
    assert_eq!(err.to_string(), "the canister has no update method `nope`");
    let mut empty = wasm_host::Host::new();
    assert_eq!(
        empty.query("get_value", &[], admin()),
        Err(CallError::NotInstalled)
    );
}

#[test]
fn query_budget_is_enforced() {
    let mut host = installed(5);
    host.set_instruction_limits(InstructionLimits {
        query: 10_000_000,
        ..InstructionLimits::default()
    });
    let err = query::<_, ()>(&mut host, "spin_query", ()).unwrap_err();
    assert_eq!(err, CallError::OutOfInstructions { limit: 10_000_000 });
    assert_eq!(value(&mut host), 5);
}

#[test]
fn composite_queries_run_as_queries_only() {
    let wasm = wat::parse_str(
        r#"(module
          (import "ic0" "msg_reply" (func $reply))
          (import "ic0" "data_certificate_present" (func $present (result i32)))
          (import "ic0" "trap" (func $trap (param i32 i32)))
          (memory 1)
          (func (export "canister_composite_query c")
            (if (i32.eqz (call $present)) (then (call $trap (i32.const 0) (i32.const 0))))
            (call $reply)))"#,
    )
    .unwrap();
    let mut host = wasm_host::Host::new();
    host.install(&wasm_host::compile(&wasm).unwrap(), &[], admin())
        .unwrap();
    assert!(host.query("c", &[], admin()).is_ok());
    assert!(matches!(
        host.update("c", &[], admin()),
        Err(CallError::WrongMethodKind { .. })
    ));
}
