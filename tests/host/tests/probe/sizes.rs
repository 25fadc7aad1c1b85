//! Ingress and reply size limits.

use wasm_host::CallError;

use crate::common::*;

const MIB: usize = 1024 * 1024;

#[test]
fn ingress_over_2_mib_is_refused_before_execution() {
    let mut host = installed(5);
    let err = host
        .update("set_value", &vec![0; 2 * MIB + 1], admin())
        .unwrap_err();
    assert_eq!(
        err,
        CallError::ArgumentTooLarge {
            size: 2 * MIB + 1,
            limit: 2 * MIB
        }
    );
    let err = host
        .query("get_value", &vec![0; 2 * MIB + 1], admin())
        .unwrap_err();
    assert!(matches!(err, CallError::ArgumentTooLarge { .. }));
    // Just under the limit goes through.
    update::<_, ()>(&mut host, "stable_put", (8u64, vec![3u8; 2 * MIB - 100])).unwrap();
    assert_eq!(stable(&mut host, 8, 3), [3, 3, 3]);
}

#[test]
fn update_reply_over_2_mib_is_refused_and_rolled_back() {
    let mut host = installed(5);
    let err = update::<_, (Vec<u8>,)>(
        &mut host,
        "set_value_and_reply_of",
        (77u64, (2 * MIB) as u64),
    )
    .unwrap_err();
    assert!(
        matches!(err, CallError::ReplyTooLarge { limit, .. } if limit == 2 * MIB),
        "{err:?}"
    );
    assert_eq!(value(&mut host), 5);
    let (bytes,) = update::<_, (Vec<u8>,)>(
        &mut host,
        "set_value_and_reply_of",
        (77u64, (2 * MIB - 100) as u64),
    )
    .unwrap();
    assert_eq!(bytes.len(), 2 * MIB - 100);
    assert_eq!(value(&mut host), 77);
}

#[test]
fn query_reply_limit_is_3_mib() {
    let mut host = installed(5);
    let (bytes,) =
        query::<_, (Vec<u8>,)>(&mut host, "reply_of_query", ((3 * MIB - 100) as u64,)).unwrap();
    assert_eq!(bytes.len(), 3 * MIB - 100);
    let err = query::<_, (Vec<u8>,)>(&mut host, "reply_of_query", ((3 * MIB) as u64,)).unwrap_err();
    assert!(
        matches!(err, CallError::ReplyTooLarge { limit, .. } if limit == 3 * MIB),
        "{err:?}"
    );
}
