//! The interface specification's rules on where each call is allowed.

use wasm_host::CallError;

use crate::common::*;

#[test]
fn certified_data_set_traps_in_a_query() {
    let mut host = installed(0);
    let err = query::<_, ()>(&mut host, "set_certified_in_query", (vec![3u8; 32],)).unwrap_err();
    match err {
        CallError::Trapped { message, .. } => assert!(
            message.contains("ic0.certified_data_set cannot be called in a query"),
            "{message}"
        ),
        other => panic!("expected a trap, got {other:?}"),
    }
    assert_eq!(host.certified_data(), Vec::<u8>::new());
}

#[test]
fn data_certificate_only_in_queries() {
    let mut host = installed(0);
    let (in_update,) =
        update::<_, (Option<Vec<u8>>,)>(&mut host, "certificate_in_update", ()).unwrap();
    assert_eq!(
        in_update, None,
        "data_certificate_present is 0 in an update"
    );
    let (in_query,) = query::<_, (Option<Vec<u8>>,)>(&mut host, "certificate", ()).unwrap();
    assert!(in_query.is_some(), "a query gets a certificate");
}

#[test]
fn certified_data_over_32_bytes_traps() {
    let mut host = installed(0);
    let err = update::<_, ()>(&mut host, "set_certified", (vec![1u8; 33],)).unwrap_err();
    assert!(matches!(err, CallError::Trapped { .. }), "{err:?}");
}

/// A canister replying twice, or reading outside its heap, traps.
#[test]
fn reply_twice_and_bad_pointers_trap() {
    let wasm = wat::parse_str(
        r#"(module
          (import "ic0" "msg_reply" (func $reply))
          (import "ic0" "msg_arg_data_copy" (func $arg (param i32 i32 i32)))
          (memory 1)
          (func (export "canister_update twice") (call $reply) (call $reply))
          (func (export "canister_update wild")
            (call $arg (i32.const 0xfffffff0) (i32.const 0) (i32.const 0))
            (call $arg (i32.const 65535) (i32.const 0) (i32.const 2))))"#,
    )
    .unwrap();
    let module = wasm_host::compile(&wasm).unwrap();
    let mut host = wasm_host::Host::new();
    host.install(&module, &[], admin()).unwrap();
    let message = |r: Result<wasm_host::Reply, CallError>| match r {
        Err(CallError::Trapped { message, .. }) => message,
        other => panic!("expected a trap, got {other:?}"),
    };
    assert!(message(host.update("twice", &[], admin())).contains("already replied"));
    let wild = message(host.update("wild", &[], admin()));
    assert!(wild.contains("out of bounds"), "{wild}");
    let wild = message(host.update("wild", &[1, 2], admin()));
    assert!(wild.contains("out of bounds"), "{wild}");
}

#[test]
fn reject_keeps_changes_and_reports_the_message() {
    let mut host = installed(0);
    let err = update::<_, ()>(&mut host, "reject_with", (3u64, "go away".to_string())).unwrap_err();
    assert!(
        matches!(&err, CallError::Rejected { message, .. } if message == "go away"),
        "{err:?}"
    );
    assert_eq!(value(&mut host), 3);
}

/// `canister_inspect_message` runs before ingress updates (not queries)
/// and must accept; here it accepts non-empty arguments only.
#[test]
fn inspect_message_filters_updates() {
    let wasm = wat::parse_str(
        r#"(module
          (import "ic0" "msg_arg_data_size" (func $size (result i32)))
          (import "ic0" "accept_message" (func $accept))
          (import "ic0" "msg_reply" (func $reply))
          (memory 1)
          (func (export "canister_inspect_message")
            (if (call $size) (then (call $accept))))
          (func (export "canister_update m") (call $reply))
          (func (export "canister_query q") (call $reply)))"#,
    )
    .unwrap();
    let module = wasm_host::compile(&wasm).unwrap();
    let mut host = wasm_host::Host::new();
    host.install(&module, &[], admin()).unwrap();
    assert!(host.update("m", &[1], admin()).is_ok());
    assert_eq!(
        host.update("m", &[], admin()),
        Err(CallError::NotAccepted { method: "m".into() })
    );
    assert!(host.query("q", &[], admin()).is_ok());
}

#[test]
fn host_can_move_between_threads() {
    fn send<T: Send>() {}
    send::<wasm_host::Host>();
    send::<wasm_host::CompiledModule>();
}

/// The legacy 32-bit stable memory API shares stable memory with the
/// 64-bit one.
#[test]
fn legacy_stable_api_works() {
    let wasm = wat::parse_str(
        r#"(module
          (import "ic0" "stable_grow" (func $grow (param i32) (result i32)))
          (import "ic0" "stable_size" (func $size (result i32)))
          (import "ic0" "stable_write" (func $write (param i32 i32 i32)))
          (import "ic0" "stable_read" (func $read (param i32 i32 i32)))
          (import "ic0" "stable64_size" (func $size64 (result i64)))
          (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
          (import "ic0" "msg_reply" (func $reply))
          (memory 1)
          (data (i32.const 0) "hello")
          (func (export "canister_update go")
            (drop (call $grow (i32.const 2)))
            (call $write (i32.const 70000) (i32.const 0) (i32.const 5))
            (call $read (i32.const 100) (i32.const 70000) (i32.const 5))
            (i32.store (i32.const 105) (call $size))
            (i64.store (i32.const 109) (call $size64))
            (call $append (i32.const 100) (i32.const 17))
            (call $reply)))"#,
    )
    .unwrap();
    let mut host = wasm_host::Host::new();
    host.install(&wasm_host::compile(&wasm).unwrap(), &[], admin())
        .unwrap();
    let bytes = host.update("go", &[], admin()).unwrap().bytes;
    assert_eq!(&bytes[..5], b"hello");
    assert_eq!(bytes[5..9], 2u32.to_le_bytes());
    assert_eq!(bytes[9..17], 2u64.to_le_bytes());
}
