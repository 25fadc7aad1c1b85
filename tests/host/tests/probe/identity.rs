//! Caller, controllers, canister id, time, version.

use std::time::Duration;

use candid::{Principal, decode_one, encode_args};

use crate::common::*;

fn query_as<R: candid::CandidType + for<'a> candid::Deserialize<'a>>(
    host: &mut wasm_host::Host,
    method: &str,
    caller: Principal,
) -> R {
    let reply = host
        .query(method, &encode_args(()).unwrap(), caller)
        .unwrap();
    decode_one(&reply.bytes).unwrap()
}

#[test]
fn caller_and_controllers() {
    let mut host = installed(0);
    assert_eq!(
        query_as::<Principal>(&mut host, "whoami", stranger()),
        stranger()
    );
    assert_eq!(
        query_as::<Option<Principal>>(&mut host, "installer", stranger()),
        Some(admin())
    );
    assert!(query_as::<bool>(&mut host, "caller_is_controller", admin()));
    assert!(!query_as::<bool>(
        &mut host,
        "caller_is_controller",
        stranger()
    ));
    host.add_controller(stranger());
    assert!(query_as::<bool>(
        &mut host,
        "caller_is_controller",
        stranger()
    ));
}

#[test]
fn canister_id_and_time() {
    let mut host = installed(0);
    assert_eq!(
        query_as::<Principal>(&mut host, "self_id", admin()),
        host.canister_id()
    );
    assert_eq!(host.canister_id().to_text(), "lxzze-o7777-77777-aaaaa-cai");
    assert_eq!(query_as::<u64>(&mut host, "now", admin()), host.time());
    host.set_time(1_700_000_000_000_000_000);
    host.advance_time(Duration::from_secs(2));
    assert_eq!(
        query_as::<u64>(&mut host, "now", admin()),
        1_700_000_002_000_000_000
    );
}

#[test]
fn version_balance_and_timer() {
    let mut host = installed(0);
    let (v1,) = update::<_, (u64,)>(&mut host, "version", ()).unwrap();
    let (v2,) = update::<_, (u64,)>(&mut host, "version", ()).unwrap();
    assert!(v2 > v1, "each update bumps the version");
    let (balance,) = update::<_, (u128,)>(&mut host, "balance", ()).unwrap();
    assert!(balance > 0);
    assert_eq!(
        update::<_, (u64,)>(&mut host, "set_timer", (5u64,))
            .unwrap()
            .0,
        0
    );
    assert_eq!(
        update::<_, (u64,)>(&mut host, "set_timer", (6u64,))
            .unwrap()
            .0,
        5
    );
    update::<_, ()>(&mut host, "say", ("hello from the probe".to_string(),)).unwrap();
}
