//! Imports the host lacks fail at install time, by name.

use wasm_host::{CallError, Host, compile};

use crate::common::*;

#[test]
fn unsupported_import_fails_at_install_naming_it() {
    let wasm = wat::parse_str(
        r#"(module
          (import "ic0" "msg_reply" (func))
          (import "ic0" "cost_create_canister" (func (param i32)))
          (memory 1))"#,
    )
    .unwrap();
    let module = compile(&wasm).expect("compiling does not link");
    let mut host = Host::new();
    let err = host.install(&module, &[], admin()).unwrap_err();
    assert_eq!(
        err,
        CallError::Link("unsupported import ic0.cost_create_canister".into())
    );
    assert!(
        err.to_string()
            .contains("unsupported import ic0.cost_create_canister")
    );
    assert_eq!(host.query("x", &[], admin()), Err(CallError::NotInstalled));
}

#[test]
fn wrongly_typed_import_fails_at_install() {
    let wasm = wat::parse_str(r#"(module (import "ic0" "msg_reply" (func (param i32))))"#).unwrap();
    let err = Host::new()
        .install(&compile(&wasm).unwrap(), &[], admin())
        .unwrap_err();
    assert!(matches!(err, CallError::Link(_)), "{err:?}");
}

#[test]
fn upgrade_to_an_unlinkable_module_keeps_the_old_canister() {
    let mut host = installed(5);
    update::<_, ()>(&mut host, "stable_put", (100u64, b"keep".to_vec())).unwrap();
    let wasm = wat::parse_str(r#"(module (import "ic0" "subnet_self_size" (func (result i32))))"#)
        .unwrap();
    let err = host
        .upgrade(&compile(&wasm).unwrap(), &[], admin())
        .unwrap_err();
    assert_eq!(
        err,
        CallError::Link("unsupported import ic0.subnet_self_size".into())
    );
    assert_eq!(value(&mut host), 5);
    assert_eq!(stable(&mut host, 100, 4), b"keep");
}

#[test]
fn compiling_the_same_bytes_twice_reuses_the_module() {
    let a = probe();
    let b = compile(&std::fs::read(probe_wasm_path()).unwrap()).unwrap();
    assert_eq!(a.sha256(), b.sha256());
    assert_eq!(a.compile_time(), b.compile_time(), "the cached module");
}
