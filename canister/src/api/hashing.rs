//! Hashing a commit's uploaded bodies over as many messages as it takes
//! (`commit_batch`, `commit_proposed_batch`).

use super::with_server;
use crate::types::BatchOperationKind;
use crate::upload::{BodyHashing, Prehashed};

/// Instructions one message spends hashing a commit's bodies before it
/// continues in the next: a quarter of the 40 B an update may use, so
/// that the message that then commits has room for the rest.
const HASHING_PER_MESSAGE: u64 = 10_000_000_000;

/// Hashes the uploaded bodies `operations` set, in as many messages as it
/// takes: when one message has spent its share, a call to ourselves ends
/// it and the hashing goes on in the reply's. Nothing is changed until the
/// commit, which runs whole in the last message, so a client sees the
/// commit all at once or not at all.
pub(super) async fn hash_bodies(operations: &[BatchOperationKind]) -> Prehashed {
    let mut hashing = BodyHashing::new(operations);
    loop {
        let done = with_server(|server| {
            hashing.advance(server.chunks(), || {
                ic_cdk::api::performance_counter(0) < HASHING_PER_MESSAGE
            })
        });
        if done {
            return hashing.finish();
        }
        ic_cdk::api::debug_print(format!(
            "commit: {} chunks left to hash, continuing in the next message",
            hashing.chunks_left()
        ));
        // Any method of ours will do: the point is the new message.
        let yielded =
            ic_cdk::call::Call::unbounded_wait(ic_cdk::api::canister_self(), "api_version").await;
        if let Err(error) = yielded {
            ic_cdk::trap(format!(
                "commit_batch could not continue in a new message: {error}"
            ));
        }
    }
}
