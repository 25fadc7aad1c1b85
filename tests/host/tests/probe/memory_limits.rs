//! Memory limits fail a message the IC's way (stable grow returns -1, the
//! heap traps at `wasm_memory_limit`), and the message is undone like any
//! trap.

use wasm_host::{CallError, Host, MemoryLimits, compile};

use crate::common::*;

const PAGE: u64 = 64 * 1024;

/// A module whose methods grow memory by 4 pages and reply with what the
/// grow returned (as an i64, little-endian), so the tests see the -1
/// itself. `bump` counts in a global and a heap word, state a failed
/// upgrade must leave in place; both upgrade hooks grow the heap.
const GROWER: &str = r#"(module
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "stable64_grow" (func $stable64_grow (param i64) (result i64)))
  (import "ic0" "stable_grow" (func $stable_grow (param i32) (result i32)))
  (memory 1)
  (global $count (mut i64) (i64.const 0))
  (func $reply_i64 (param i64)
    (i64.store (i32.const 0) (local.get 0))
    (call $append (i32.const 0) (i32.const 8))
    (call $reply))
  (func (export "canister_update stable64_grow")
    (call $reply_i64 (call $stable64_grow (i64.const 4))))
  (func (export "canister_update stable_grow")
    (call $reply_i64 (i64.extend_i32_s (call $stable_grow (i32.const 4)))))
  (func (export "canister_update memory_grow")
    (call $reply_i64 (i64.extend_i32_s (memory.grow (i32.const 4)))))
  (func (export "canister_query memory_grow_in_query")
    (call $reply_i64 (i64.extend_i32_s (memory.grow (i32.const 4)))))
  (func (export "canister_update bump")
    (global.set $count (i64.add (global.get $count) (i64.const 1)))
    (i64.store (i32.const 8) (i64.add (i64.load (i32.const 8)) (i64.const 1)))
    (call $reply_i64 (i64.add (global.get $count) (i64.load (i32.const 8)))))
  (func (export "canister_pre_upgrade") (drop (memory.grow (i32.const 4))))
  (func (export "canister_post_upgrade") (drop (memory.grow (i32.const 4)))))"#;

fn grower() -> Host {
    let module = compile(&wat::parse_str(GROWER).unwrap()).unwrap();
    let mut host = Host::new();
    host.install(&module, &[], admin()).unwrap();
    host
}

fn call(host: &mut Host, method: &str) -> Result<i64, CallError> {
    let reply = host.update(method, &[], admin())?;
    Ok(i64::from_le_bytes(reply.bytes.try_into().unwrap()))
}

fn is_heap_limit(err: &CallError) -> bool {
    matches!(err, CallError::Trapped { message, .. } if message.contains("Wasm memory limit"))
}

fn stable_limit(pages: u64) -> MemoryLimits {
    MemoryLimits {
        stable_pages: Some(pages),
        ..MemoryLimits::default()
    }
}

fn heap_limit(pages: u64) -> MemoryLimits {
    MemoryLimits {
        heap_pages: Some(pages),
        ..MemoryLimits::default()
    }
}

#[test]
fn a_stable_grow_past_the_limit_returns_minus_one() {
    let mut host = grower();
    host.set_memory_limits(stable_limit(6));
    assert_eq!(call(&mut host, "stable64_grow"), Ok(0));
    assert_eq!(call(&mut host, "stable64_grow"), Ok(-1), "4 + 4 > 6");
    assert_eq!(call(&mut host, "stable_grow"), Ok(-1), "the 32-bit API too");
    assert_eq!(host.memory_bytes().1, 4 * PAGE);
    host.set_memory_limits(MemoryLimits::default());
    assert_eq!(call(&mut host, "stable64_grow"), Ok(4), "lifted");
    assert_eq!(call(&mut host, "stable_grow"), Ok(8));
}

#[test]
fn a_heap_grow_past_the_limit_traps_updates_but_not_queries() {
    let mut host = grower();
    host.set_memory_limits(heap_limit(3));
    let err = call(&mut host, "memory_grow").unwrap_err();
    assert!(is_heap_limit(&err), "{err:?}");
    assert_eq!(host.memory_bytes().0, PAGE, "the heap did not grow");
    let reply = host.query("memory_grow_in_query", &[], admin()).unwrap();
    assert_eq!(reply.bytes, 1i64.to_le_bytes(), "queries ignore the limit");
    host.set_memory_limits(heap_limit(5));
    assert_eq!(call(&mut host, "memory_grow"), Ok(1), "1 + 4 pages fit");
}

#[test]
fn an_update_that_hits_the_stable_limit_is_rolled_back() {
    let mut host = installed(5);
    update::<_, ()>(&mut host, "set_value", (7u64,)).unwrap();
    update::<_, ()>(&mut host, "stable_put", (100u64, b"before".to_vec())).unwrap();
    update::<_, ()>(&mut host, "set_certified", (vec![1u8; 32],)).unwrap();
    let pages = stable_pages(&mut host);
    let heap = heap_pages(&mut host);
    host.set_memory_limits(stable_limit(pages));

    // The probe traps when `stable_grow` returns -1, after it has
    // changed the heap value: the limit fails the message part way.
    let err = update::<_, ()>(
        &mut host,
        "mutate_then_trap",
        (99u64, b"after!".to_vec(), vec![2u8; 32]),
    )
    .unwrap_err();
    assert!(
        matches!(&err, CallError::Trapped { message, .. } if message.contains("stable memory is full")),
        "{err:?}"
    );
    let far = pages * PAGE + 100;
    let put = |host: &mut Host| update::<_, ()>(host, "stable_put", (far, b"far".to_vec()));
    assert!(put(&mut host).is_err());

    assert_eq!(value(&mut host), 7);
    assert_eq!(stable(&mut host, 100, 6), b"before");
    assert_eq!(stable_pages(&mut host), pages);
    assert_eq!(heap_pages(&mut host), heap);
    assert_eq!(host.certified_data(), vec![1u8; 32]);

    host.set_memory_limits(MemoryLimits::default());
    put(&mut host).unwrap();
    assert_eq!(stable(&mut host, far, 3), b"far");
}

#[test]
fn an_update_that_hits_the_heap_limit_is_rolled_back() {
    let mut host = installed(5);
    update::<_, ()>(&mut host, "set_value", (7u64,)).unwrap();
    update::<_, ()>(&mut host, "stable_put", (100u64, b"before".to_vec())).unwrap();
    update::<_, ()>(&mut host, "set_certified", (vec![1u8; 32],)).unwrap();
    let stable_before = stable_pages(&mut host);
    let heap = heap_pages(&mut host);
    // 1 MiB of room: the probe's 8 MiB ballast passes it after the heap
    // value, stable memory and certified data have changed.
    host.set_memory_limits(heap_limit(heap + 16));

    let err = update::<_, ()>(
        &mut host,
        "mutate_then_trap",
        (99u64, b"after!".to_vec(), vec![2u8; 32]),
    )
    .unwrap_err();
    assert!(is_heap_limit(&err), "{err:?}");
    let grow = |host: &mut Host| update::<_, ()>(host, "grow_heap", (4u64,));
    assert!(is_heap_limit(&grow(&mut host).unwrap_err()));

    assert_eq!(value(&mut host), 7);
    assert_eq!(stable(&mut host, 100, 6), b"before");
    assert_eq!(stable_pages(&mut host), stable_before);
    assert_eq!(heap_pages(&mut host), heap);
    assert_eq!(host.certified_data(), vec![1u8; 32]);
    // A query may pass the limit (and keeps nothing anyway).
    let (read,) = query::<_, (u64,)>(&mut host, "write_in_query", (3u64, b"q".to_vec())).unwrap();
    assert_eq!(read, 3);

    host.set_memory_limits(MemoryLimits::default());
    grow(&mut host).unwrap();
    assert!(heap_pages(&mut host) >= heap + 64);
    assert_eq!(value(&mut host), 7);
}

#[test]
fn a_post_upgrade_past_the_heap_limit_leaves_the_old_canister() {
    let mut host = grower();
    let module = compile(&wat::parse_str(GROWER).unwrap()).unwrap();
    assert_eq!(call(&mut host, "bump"), Ok(2));
    assert_eq!(call(&mut host, "stable64_grow"), Ok(0));
    // pre_upgrade may grow the old heap to 5 pages, post_upgrade may not
    // grow the new one from 1 to 5.
    host.set_memory_limits(heap_limit(3));
    let err = host.upgrade(&module, &[], admin()).unwrap_err();
    assert!(is_heap_limit(&err), "{err:?}");
    assert_eq!(host.memory_bytes(), (PAGE, 4 * PAGE), "the old memories");
    assert_eq!(call(&mut host, "bump"), Ok(4), "the old global and heap");

    host.set_memory_limits(heap_limit(5));
    host.upgrade(&module, &[], admin()).unwrap();
    assert_eq!(host.memory_bytes(), (5 * PAGE, 4 * PAGE));
    assert_eq!(call(&mut host, "bump"), Ok(2), "a fresh instance");
}
