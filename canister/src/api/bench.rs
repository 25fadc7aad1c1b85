//! Probes the benchmark needs and users never call: built only with the
//! `phases` feature (the benchmark's second wasm), so neither the shipped
//! wasm nor its `.did` has them.

use sha2::{Digest, Sha256};

/// The hashing floor uploads are compared with: the instructions SHA-256
/// (the same `sha2` code the commit runs) spends on `length` bytes that
/// are already on the heap, nothing read from stable memory and nothing
/// stored. Filling the buffer is not counted.
#[ic_cdk::query]
fn bench_hash_floor(length: u64) -> u64 {
    let bytes = vec![0x5a_u8; length as usize];
    let before = ic_cdk::api::performance_counter(0);
    let digest = Sha256::digest(&bytes);
    let spent = ic_cdk::api::performance_counter(0) - before;
    std::hint::black_box(digest);
    spent
}
