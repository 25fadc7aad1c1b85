//! Model-based random testing of the core: random sequences of calls,
//! checked after every step against a plain in-memory model of the
//! canister (assets, permissions, batches, time). The sequences, the
//! model and the checks are in `sequences.rs`, shared with the run on the
//! wasm (`tests/scenarios`, `reliability_model_sequences_on_the_wasm`);
//! this file runs them on the core, in this process (`native.rs`).
//!
//! `MODEL_CASES` sequences (default 320) of 1 to `MODEL_STEPS` steps
//! (default 64): about 10,500 operations. The run prints its seed;
//! `MODEL_SEED=<32 hex digits>` with the same counts reruns exactly that
//! run (a failure also prints the shortest failing sequence). Serving and
//! verifying is most of the cost (a BLS signature checked per response), so
//! every body of every path is served and verified every `MODEL_FULL_EVERY`
//! steps (default 16) and on the last step, and one key's bodies on the
//! steps between; list, permissions and the root are compared after every
//! step whatever it says.

#[path = "../support/mod.rs"]
mod support;

mod native;
mod sequences;

#[test]
fn random_sequences_keep_the_canister_and_the_model_in_agreement() {
    let run = sequences::Run {
        prefix: "MODEL",
        label: "core",
        cases: 320,
        steps: 64,
        full_every: 16,
        max_shrink_iters: 100_000,
    };
    sequences::run(&run, native::harness);
}
