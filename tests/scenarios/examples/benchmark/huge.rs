//! Issue 10's size walls on the wasm (`scripts/bench.sh --huge [FILES]`,
//! default 5): files of 1 GiB each, uploaded with the calls dfx makes for
//! a large file (`create_chunk` per 1.9 MB chunk, then one `commit_batch`
//! carrying the body's SHA-256), so that 5 of them put 5 GiB in stable
//! memory. Each commit hashes its gibibyte over several messages (one may
//! hash about 450 MiB). Every file is then read back whole the way today's
//! gateway reads it, a `206` after another, each answer verified and its
//! bytes compared; the first is also streamed whole under v1 and verified.
//! After an upgrade, a range of every file is served and verified again.
//!
//! Bodies are generated a chunk at a time and never held whole (but the v1
//! stream of the first, which the verifier hashes as one body), so the
//! test process stays near 1 GiB while the host backs stable memory with
//! RAM: about 5 GiB for 5 files.

use std::time::Instant;

use asset_server::types::*;
use scenarios::AssetClient;
use scenarios::client::content_range;
use serde_bytes::ByteBuf;
use sha2::{Digest, Sha256};

const GIB: u64 = 1 << 30;
const CHUNK: u64 = 1_900_000;

/// Bytes `range` of file `file`: the same every time, different per file.
fn body_bytes(file: usize, range: std::ops::Range<u64>) -> Vec<u8> {
    range
        .map(|i| ((i / 7) ^ (i >> 16) ^ (file as u64 * 37)) as u8)
        .collect()
}

pub fn huge_run(wasm: Vec<u8>, files: usize) {
    let mut client = AssetClient::install(scenarios::backend::host_backend(), wasm);
    let admin = client.controller();
    let started = Instant::now();
    println!();
    println!(
        "| file | bytes | create_chunk calls | commit_batch instructions | messages of the commit | 206 answers verified | heap bytes | stable memory bytes | minutes so far |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for file in 0..files {
        let key = format!("/films/{file}.bin");
        let batch_id = client.create_batch(admin).unwrap();
        let mut chunk_ids = Vec::new();
        let mut sha = Sha256::new();
        let mut at = 0;
        while at < GIB {
            let end = (at + CHUNK).min(GIB);
            let bytes = body_bytes(file, at..end);
            sha.update(&bytes);
            chunk_ids.push(client.create_chunk(admin, &batch_id, &bytes).unwrap().0);
            at = end;
        }
        let calls = chunk_ids.len();
        let operations = vec![
            BatchOperationKind::CreateAsset(CreateAssetArguments {
                key: key.clone(),
                content_type: "video/webm".into(),
                max_age: None,
                headers: None,
                enable_aliasing: None,
                allow_raw_access: None,
            }),
            BatchOperationKind::SetAssetContent(SetAssetContentArguments {
                key: key.clone(),
                content_encoding: "identity".into(),
                chunk_ids,
                last_chunk: None,
                sha256: Some(ByteBuf::from(sha.finalize().to_vec())),
            }),
        ];
        let instructions = client
            .commit_batch(
                admin,
                CommitBatchArguments {
                    batch_id,
                    operations,
                },
            )
            .unwrap_or_else(|e| panic!("commit of {key}: {e}"))
            .unwrap_or_default();
        let continued = client.take_continuations();
        let answers = read_back(&mut client, &key, file, 0);
        let (heap, stable) = client.backend.memory_bytes().unwrap_or_default();
        println!(
            "| {key} | {GIB} | {calls} | {instructions} | {} | {answers} | {heap} | {stable} | {:.1} |",
            continued + 1,
            started.elapsed().as_secs_f64() / 60.0
        );
    }
    let first = client.fetch_verified("/films/0.bin").body;
    assert!(
        first == body_bytes(0, 0..GIB),
        "/films/0.bin streamed under v1 differs"
    );
    drop(first);
    println!("v1: /films/0.bin streamed whole (1 GiB) and verified");
    let upgrade = crate::scale::upgrade_in_place(&mut client).unwrap_or_default();
    // From the start of the third chunk from the end: a range answer
    // starts where a certified chunk does.
    let last_three = (GIB.div_ceil(CHUNK) - 3) * CHUNK;
    for file in 0..files {
        let key = format!("/films/{file}.bin");
        read_back(&mut client, &key, file, last_three);
    }
    let (heap, stable) = client.backend.memory_bytes().unwrap_or_default();
    println!(
        "after an upgrade ({upgrade} instructions): the last 3 chunks of every file served and verified again; heap {heap} bytes, stable memory {stable} bytes; {:.1} minutes in all",
        started.elapsed().as_secs_f64() / 60.0
    );
}

/// Reads `key` from `from` to its end as today's gateway does (a 206, then
/// `Range: bytes=<next>-` until the end), each answer verified under v2
/// and compared with the bytes file `file` holds there. The answer count.
fn read_back(client: &mut AssetClient, key: &str, file: usize, from: u64) -> usize {
    let mut at = from;
    let mut answers = 0;
    loop {
        let mut request = client.gateway_request(key);
        if at > 0 {
            request = request.with_header("range", &format!("bytes={at}-"));
        }
        let response = client.fetch_verified_v2(&request);
        assert_eq!(response.status, 206, "{key} at {at}");
        let (start, end, total) = content_range(&response);
        assert_eq!((start, total), (at, GIB), "{key}");
        assert!(
            response.body == body_bytes(file, start..end + 1),
            "{key}: bytes {start}-{end} differ"
        );
        answers += 1;
        at = end + 1;
        if at == total {
            return answers;
        }
    }
}
