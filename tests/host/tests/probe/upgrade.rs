//! Upgrades keep stable memory only, and fail without a trace.

use candid::encode_args;
use wasm_host::CallError;

use crate::common::*;

fn upgrade_arg(mode: Option<&str>) -> Vec<u8> {
    encode_args((mode.map(str::to_string),)).unwrap()
}

fn restored(host: &mut wasm_host::Host) -> Option<u64> {
    query::<_, (Option<u64>,)>(host, "restored", ()).unwrap().0
}

#[test]
fn upgrade_keeps_stable_memory_and_drops_the_heap() {
    let mut host = installed(5);
    update::<_, ()>(&mut host, "set_value", (11u64,)).unwrap();
    update::<_, ()>(&mut host, "stable_put", (100u64, b"keep".to_vec())).unwrap();
    update::<_, ()>(&mut host, "set_certified", (vec![4u8; 32],)).unwrap();
    update::<_, ()>(&mut host, "grow_heap", (4u64,)).unwrap();
    let heap_before = heap_pages(&mut host);

    let outcome = host.upgrade(&probe(), &upgrade_arg(None), admin()).unwrap();
    assert!(outcome.instructions > 0);

    assert_eq!(value(&mut host), 0, "fresh heap; init does not run");
    assert_eq!(
        restored(&mut host),
        Some(11),
        "pre_upgrade saved, post_upgrade read"
    );
    assert_eq!(stable(&mut host, 100, 4), b"keep");
    assert_eq!(host.certified_data(), vec![4u8; 32]);
    assert!(heap_pages(&mut host) < heap_before);
}

#[test]
fn trapping_post_upgrade_leaves_the_old_canister() {
    let mut host = installed(5);
    update::<_, ()>(&mut host, "set_value", (11u64,)).unwrap();
    update::<_, ()>(&mut host, "stable_put", (100u64, b"keep".to_vec())).unwrap();
    let pages = stable_pages(&mut host);

    let err = host
        .upgrade(&probe(), &upgrade_arg(Some("trap")), admin())
        .unwrap_err();
    assert!(
        matches!(&err, CallError::Trapped { message, .. } if message.contains("post_upgrade asked to trap")),
        "{err:?}"
    );
    assert_eq!(value(&mut host), 11, "old heap");
    assert_eq!(restored(&mut host), None, "old instance");
    assert_eq!(
        stable(&mut host, 0, 8),
        [0; 8],
        "pre_upgrade's write undone"
    );
    assert_eq!(stable(&mut host, 100, 4), b"keep");
    assert_eq!(stable_pages(&mut host), pages);
    // And it still upgrades afterwards.
    host.upgrade(&probe(), &upgrade_arg(None), admin()).unwrap();
    assert_eq!(restored(&mut host), Some(11));
}

#[test]
fn trapping_pre_upgrade_leaves_the_old_canister() {
    let mut host = installed(5);
    update::<_, ()>(&mut host, "set_trap_in_pre_upgrade", (true,)).unwrap();
    let err = host
        .upgrade(&probe(), &upgrade_arg(None), admin())
        .unwrap_err();
    assert!(matches!(err, CallError::Trapped { .. }), "{err:?}");
    assert_eq!(value(&mut host), 5);
}

#[test]
fn only_controllers_upgrade_and_install_happens_once() {
    let mut host = installed(5);
    let err = host
        .upgrade(&probe(), &upgrade_arg(None), stranger())
        .unwrap_err();
    assert_eq!(err, CallError::NotAController { caller: stranger() });
    let err = host.install(&probe(), &[], admin()).unwrap_err();
    assert_eq!(err, CallError::AlreadyInstalled);
}

#[test]
fn install_runs_init_with_its_argument() {
    let mut host = installed(123);
    assert_eq!(value(&mut host), 123);
}

#[test]
fn trapping_init_installs_nothing() {
    let wasm = wat::parse_str(
        r#"(module
          (import "ic0" "trap" (func $trap (param i32 i32)))
          (memory 1)
          (func (export "canister_init") (call $trap (i32.const 0) (i32.const 0))))"#,
    )
    .unwrap();
    let mut host = wasm_host::Host::new();
    let err = host
        .install(&wasm_host::compile(&wasm).unwrap(), &[], admin())
        .unwrap_err();
    assert!(matches!(err, CallError::Trapped { .. }), "{err:?}");
    assert!(host.controllers().is_empty());
    assert_eq!(host.query("x", &[], admin()), Err(CallError::NotInstalled));
    host.install(&probe(), &encode_args((Some(1u64),)).unwrap(), admin())
        .unwrap();
}
