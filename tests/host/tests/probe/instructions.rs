//! Instructions are counted, reported, and visible to the canister.

use candid::{decode_args, encode_args};

use crate::common::*;

#[test]
fn every_result_reports_instructions() {
    let mut host = wasm_host::Host::new();
    let installed = host
        .install(&probe(), &encode_args((Some(1u64),)).unwrap(), admin())
        .unwrap();
    assert!(installed.instructions > 0);
    let reply = host
        .query("get_value", &encode_args(()).unwrap(), admin())
        .unwrap();
    assert!(reply.instructions > 0);
    let reply = host
        .update("set_value", &encode_args((2u64,)).unwrap(), admin())
        .unwrap();
    assert!(reply.instructions > 0);
}

#[test]
fn performance_counter_counts_the_current_message() {
    let mut host = installed(0);
    let run = |host: &mut wasm_host::Host, rounds: u64| {
        let reply = host
            .update("counters", &encode_args((rounds,)).unwrap(), admin())
            .unwrap();
        let (before, after): (u64, u64) = decode_args(&reply.bytes).unwrap();
        (before, after, reply.instructions)
    };
    let (before, after, total) = run(&mut host, 1_000);
    assert!(
        0 < before && before < after && after <= total,
        "{before} {after} {total}"
    );
    let (_, after_more, total_more) = run(&mut host, 100_000);
    assert!(after_more - before > 100_000, "a round costs instructions");
    assert!(total_more > total + 100_000);
}
