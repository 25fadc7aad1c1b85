//! The management canister's chunked code install and `install_code` of a
//! gzipped module, called as the HTTP routes call it, on a small canister
//! padded past 2 MiB so that its module takes three chunks.

use candid::{CandidType, Decode, Encode, Principal};
use ic_management_canister_types::{
    CanisterIdRecord, CanisterInstallMode, CanisterSettings, ChunkHash, InstallChunkedCodeArgs,
    InstallCodeArgs, ProvisionalCreateCanisterWithCyclesArgs, UploadChunkArgs,
};
use sha2::{Digest, Sha256};

use super::super::canisters::{Reject, World};
use super::super::chunk_store::MAX_CHUNK_BYTES;
use super::{call, target_canister};
use crate::append_custom_section;

fn admin() -> Principal {
    Principal::from_slice(&[0xad; 29])
}

fn stranger() -> Principal {
    Principal::from_slice(&[0x5e; 29])
}

/// A canister whose query `hello` replies `reply`, padded with a custom
/// section to `2 MiB + 300 KiB`: three chunks of at most 1 MiB.
fn large_canister(reply: &str) -> Vec<u8> {
    let wasm = wat::parse_str(format!(
        r#"(module
          (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
          (import "ic0" "msg_reply" (func $reply))
          (memory 1)
          (data (i32.const 0) "{reply}")
          (func (export "canister_query hello")
            (call $append (i32.const 0) (i32.const {len}))
            (call $reply)))"#,
        len = reply.len()
    ))
    .unwrap();
    let padded =
        append_custom_section(&wasm, "padding", &vec![0; 2 * MAX_CHUNK_BYTES + 300 * 1024]);
    assert!(padded.len() > 2 * MAX_CHUNK_BYTES);
    padded
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

fn ok<T: CandidType + for<'de> candid::Deserialize<'de>>(
    world: &mut World,
    method: &str,
    arg: Vec<u8>,
) -> T {
    let reply = call(world, method, &arg, admin())
        .unwrap_or_else(|reject| panic!("{method} rejected: {reject:?}"));
    Decode!(&reply, T).unwrap()
}

/// A world with one empty canister controlled by `admin()`.
fn world_with_canister() -> (World, Principal) {
    let mut world = World::new(crate::certify::root_key_der());
    let canister = create(&mut world, None);
    (world, canister)
}

/// An empty canister, created by `admin()` (and controlled by it unless
/// `controllers` says otherwise).
fn create(world: &mut World, controllers: Option<Vec<Principal>>) -> Principal {
    let arg = ProvisionalCreateCanisterWithCyclesArgs {
        amount: None,
        settings: Some(CanisterSettings {
            controllers,
            ..CanisterSettings::default()
        }),
        specified_id: None,
        sender_canister_version: None,
    };
    let created: CanisterIdRecord = ok(
        world,
        "provisional_create_canister_with_cycles",
        Encode!(&arg).unwrap(),
    );
    created.canister_id
}

fn upload(world: &mut World, canister: Principal, chunk: &[u8]) -> ChunkHash {
    let arg = UploadChunkArgs {
        canister_id: canister,
        chunk: chunk.to_vec(),
    };
    ok(world, "upload_chunk", Encode!(&arg).unwrap())
}

/// Uploads `wasm` in chunks of the largest size, in order.
fn upload_all(world: &mut World, canister: Principal, wasm: &[u8]) -> Vec<ChunkHash> {
    wasm.chunks(MAX_CHUNK_BYTES)
        .map(|chunk| upload(world, canister, chunk))
        .collect()
}

fn stored(world: &mut World, canister: Principal) -> Vec<ChunkHash> {
    let arg = CanisterIdRecord {
        canister_id: canister,
    };
    ok(world, "stored_chunks", Encode!(&arg).unwrap())
}

fn chunked_install_arg(
    target: Principal,
    store: Option<Principal>,
    chunks: Vec<ChunkHash>,
    wasm_module_hash: Vec<u8>,
) -> Vec<u8> {
    Encode!(&InstallChunkedCodeArgs {
        mode: CanisterInstallMode::Install,
        target_canister: target,
        store_canister: store,
        chunk_hashes_list: chunks,
        wasm_module_hash,
        arg: Encode!().unwrap(),
        sender_canister_version: None,
    })
    .unwrap()
}

fn hello(world: &mut World, canister: Principal) -> Vec<u8> {
    world
        .query(canister, "hello", &Encode!().unwrap(), admin())
        .unwrap()
}

fn assert_reject(outcome: Result<Vec<u8>, Reject>, error_code: &str, message: &str) {
    let reject = outcome.expect_err("a reject");
    assert_eq!(reject.error_code, error_code, "{reject:?}");
    assert!(reject.message.contains(message), "{reject:?}");
}

#[test]
fn uploaded_chunks_are_listed_and_installed_in_order() {
    let (mut world, canister) = world_with_canister();
    let wasm = large_canister("chunked");
    let chunks = upload_all(&mut world, canister, &wasm);
    assert_eq!(chunks.len(), 3);
    for (hash, chunk) in chunks.iter().zip(wasm.chunks(MAX_CHUNK_BYTES)) {
        assert_eq!(hash.hash, sha256(chunk));
    }
    let mut listed = stored(&mut world, canister);
    listed.sort();
    let mut uploaded = chunks.clone();
    uploaded.sort();
    assert_eq!(listed, uploaded);

    let arg = chunked_install_arg(canister, None, chunks, sha256(&wasm));
    call(&mut world, "install_chunked_code", &arg, admin()).expect("installed");
    let host = world.host_mut(&canister).unwrap();
    assert_eq!(host.module_hash().map(|h| h.to_vec()), Some(sha256(&wasm)));
    assert_eq!(hello(&mut world, canister), b"chunked");
    assert_eq!(world.management_replies["upload_chunk"], 3);
    assert_eq!(world.management_replies["install_chunked_code"], 1);
    // As on the IC, installing leaves the chunks in the store.
    assert_eq!(stored(&mut world, canister).len(), 3);
}

#[test]
fn chunks_install_as_an_upgrade_and_from_another_canisters_store() {
    let (mut world, store) = world_with_canister();
    let target = create(&mut world, None);
    for (reply, mode) in [
        ("first", CanisterInstallMode::Install),
        ("second", CanisterInstallMode::Upgrade(None)),
    ] {
        let wasm = large_canister(reply);
        let chunks = upload_all(&mut world, store, &wasm);
        let mut args = Decode!(
            &chunked_install_arg(target, Some(store), chunks, sha256(&wasm)),
            InstallChunkedCodeArgs
        )
        .unwrap();
        args.mode = mode;
        call(
            &mut world,
            "install_chunked_code",
            &Encode!(&args).unwrap(),
            admin(),
        )
        .expect("installed");
        assert_eq!(hello(&mut world, target), reply.as_bytes());
    }
    assert_eq!(
        world.host_mut(&store).unwrap().module_hash(),
        None,
        "the store canister stays empty"
    );
}

#[test]
fn a_wrong_module_hash_is_rejected_and_nothing_is_installed() {
    let (mut world, canister) = world_with_canister();
    let wasm = large_canister("chunked");
    let chunks = upload_all(&mut world, canister, &wasm);
    let mut reversed = chunks.clone();
    reversed.reverse();
    let arg = chunked_install_arg(canister, None, reversed, sha256(&wasm));
    assert_reject(
        call(&mut world, "install_chunked_code", &arg, admin()),
        "IC0504",
        &format!(
            "Error from Wasm chunk store: Wasm module hash 0x{} does not match given hash 0x{}",
            hex::encode(sha256(
                &wasm
                    .chunks(MAX_CHUNK_BYTES)
                    .rev()
                    .collect::<Vec<_>>()
                    .concat()
            )),
            hex::encode(sha256(&wasm))
        ),
    );
    let arg = chunked_install_arg(canister, None, chunks[..2].to_vec(), sha256(&wasm));
    assert_reject(
        call(&mut world, "install_chunked_code", &arg, admin()),
        "IC0504",
        "does not match given hash",
    );
    let arg = chunked_install_arg(canister, None, chunks.clone(), vec![1, 2, 3]);
    assert_reject(
        call(&mut world, "install_chunked_code", &arg, admin()),
        "IC0504",
        "Invalid wasm hash [1, 2, 3]",
    );
    let missing = ChunkHash {
        hash: sha256(b"never uploaded"),
    };
    let arg = chunked_install_arg(canister, None, vec![missing.clone()], sha256(&wasm));
    assert_reject(
        call(&mut world, "install_chunked_code", &arg, admin()),
        "IC0504",
        &format!("Chunk hash 0x{} was not found", hex::encode(&missing.hash)),
    );
    assert_eq!(world.host_mut(&canister).unwrap().module_hash(), None);
    assert!(
        !world
            .management_replies
            .contains_key("install_chunked_code")
    );
}

#[test]
fn only_controllers_upload_list_clear_and_install_chunks() {
    let (mut world, canister) = world_with_canister();
    let hash = upload(&mut world, canister, b"chunk");
    let record = Encode!(&CanisterIdRecord {
        canister_id: canister
    })
    .unwrap();
    let upload = Encode!(&UploadChunkArgs {
        canister_id: canister,
        chunk: b"other".to_vec(),
    })
    .unwrap();
    let install = chunked_install_arg(canister, None, vec![hash], sha256(b"chunk"));
    for (method, arg) in [
        ("upload_chunk", &upload),
        ("stored_chunks", &record),
        ("clear_chunk_store", &record),
        ("install_chunked_code", &install),
    ] {
        assert_reject(
            call(&mut world, method, arg, stranger()),
            "IC0512",
            &format!("Only controllers of canister {canister} can call ic00 method {method}"),
        );
    }
    assert_eq!(stored(&mut world, canister).len(), 1, "nothing changed");

    // Chunks in a store the caller does not control are out of reach too.
    let store = create(&mut world, Some(vec![stranger()]));
    let arg = chunked_install_arg(canister, Some(store), vec![], sha256(b""));
    assert_reject(
        call(&mut world, "install_chunked_code", &arg, admin()),
        "IC0512",
        &format!("Only controllers of canister {store} can call ic00 method install_chunked_code"),
    );
}

#[test]
fn clearing_the_store_forgets_every_chunk() {
    let (mut world, canister) = world_with_canister();
    let hash = upload(&mut world, canister, b"chunk");
    assert_eq!(stored(&mut world, canister), vec![hash.clone()]);
    let arg = Encode!(&CanisterIdRecord {
        canister_id: canister
    })
    .unwrap();
    let () = ok(&mut world, "clear_chunk_store", arg);
    assert_eq!(stored(&mut world, canister), vec![]);
    let install = chunked_install_arg(canister, None, vec![hash], sha256(b"chunk"));
    assert_reject(
        call(&mut world, "install_chunked_code", &install, admin()),
        "IC0504",
        "was not found",
    );
}

#[test]
fn a_chunk_over_one_mib_is_rejected() {
    let (mut world, canister) = world_with_canister();
    let arg = Encode!(&UploadChunkArgs {
        canister_id: canister,
        chunk: vec![0; MAX_CHUNK_BYTES + 1],
    })
    .unwrap();
    assert_reject(
        call(&mut world, "upload_chunk", &arg, admin()),
        "IC0504",
        "Error from Wasm chunk store: Wasm chunk size 1048577 exceeds the maximum chunk size of 1048576.",
    );
    assert_eq!(stored(&mut world, canister), vec![]);
}

#[test]
fn install_code_takes_a_gzipped_module_and_reports_the_hash_of_what_it_was_sent() {
    use std::io::Write as _;
    let (mut world, canister) = world_with_canister();
    let wasm = large_canister("gzipped");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&wasm).unwrap();
    let gzipped = encoder.finish().unwrap();
    assert!(gzipped.starts_with(&[0x1f, 0x8b, 0x08]));
    let arg = Encode!(&InstallCodeArgs {
        mode: CanisterInstallMode::Install,
        canister_id: canister,
        wasm_module: gzipped.clone(),
        arg: Encode!().unwrap(),
        sender_canister_version: None,
    })
    .unwrap();
    call(&mut world, "install_code", &arg, admin()).expect("installed");
    assert_eq!(hello(&mut world, canister), b"gzipped");
    let host = world.host_mut(&canister).unwrap();
    assert_eq!(
        host.module_hash().map(|h| h.to_vec()),
        Some(sha256(&gzipped))
    );

    let broken = gzipped[..gzipped.len() / 2].to_vec();
    let arg = Encode!(&InstallCodeArgs {
        mode: CanisterInstallMode::Reinstall,
        canister_id: canister,
        wasm_module: broken,
        arg: Encode!().unwrap(),
        sender_canister_version: None,
    })
    .unwrap();
    assert_reject(
        call(&mut world, "install_code", &arg, admin()),
        "IC0505",
        "Canister's Wasm module is not valid: the gzipped module does not decompress",
    );
}

#[test]
fn chunk_methods_name_the_canister_they_act_on() {
    let canister = Principal::from_slice(&[1, 2, 3]);
    let record = Encode!(&CanisterIdRecord {
        canister_id: canister
    })
    .unwrap();
    let upload = Encode!(&UploadChunkArgs {
        canister_id: canister,
        chunk: vec![1],
    })
    .unwrap();
    let install = chunked_install_arg(canister, Some(admin()), vec![], vec![]);
    for (method, arg) in [
        ("upload_chunk", &upload),
        ("stored_chunks", &record),
        ("clear_chunk_store", &record),
        ("install_chunked_code", &install),
    ] {
        assert_eq!(target_canister(method, arg), Some(canister), "{method}");
    }
}

#[test]
fn an_unknown_method_is_rejected_with_the_list_of_answered_ones() {
    let (mut world, _) = world_with_canister();
    assert_reject(
        call(
            &mut world,
            "take_canister_snapshot",
            &Encode!().unwrap(),
            admin(),
        ),
        "IC0407",
        "upload_chunk, stored_chunks, clear_chunk_store, install_chunked_code",
    );
}
