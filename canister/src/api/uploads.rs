//! Batches, chunks, commits and the single-call changes.

use super::hashing::hash_bodies;
use super::{caller, read, wire, write, write_as};
use crate::types::*;

#[ic_cdk::update]
fn create_batch(_: CreateBatchArguments) -> CreateBatchResponse {
    write(|server, caller, now| server.create_batch(caller, now))
}

// `create_chunk(s)` are exported by hand so that `wire` reads a chunk
// straight from the message into its own buffer (see `wire::Argument`);
// ic-cdk's export would first copy the whole argument into a zeroed one.
// The `_interface` functions give the candid interface their types.

#[cfg_attr(
    target_family = "wasm",
    unsafe(export_name = "canister_update create_chunk")
)]
#[cfg_attr(
    not(target_family = "wasm"),
    unsafe(export_name = "canister_update.create_chunk")
)]
fn create_chunk() {
    ic_cdk::futures::in_executor_context(|| {
        let args = wire::decode_create_chunk(&Message);
        let response: CreateChunkResponse =
            write(|server, caller, now| server.create_chunk(caller, now, args));
        reply(&response);
    });
}

#[candid::candid_method(update, rename = "create_chunk")]
#[allow(dead_code, unused_variables)]
fn create_chunk_interface(args: CreateChunkArguments) -> CreateChunkResponse {
    unreachable!("only describes create_chunk for export_candid")
}

#[cfg_attr(
    target_family = "wasm",
    unsafe(export_name = "canister_update create_chunks")
)]
#[cfg_attr(
    not(target_family = "wasm"),
    unsafe(export_name = "canister_update.create_chunks")
)]
fn create_chunks() {
    ic_cdk::futures::in_executor_context(|| {
        let args = wire::decode_create_chunks(&Message);
        let response: CreateChunksResponse =
            write(|server, caller, now| server.create_chunks(caller, now, args));
        reply(&response);
    });
}

#[candid::candid_method(update, rename = "create_chunks")]
#[allow(dead_code, unused_variables)]
fn create_chunks_interface(args: CreateChunksArguments) -> CreateChunksResponse {
    unreachable!("only describes create_chunks for export_candid")
}

/// The argument of the message being run.
struct Message;

impl wire::Argument for Message {
    fn size(&self) -> usize {
        ic0::msg_arg_data_size()
    }

    fn append_to(&self, offset: usize, count: usize, out: &mut Vec<u8>) {
        out.reserve(count);
        let filled = out.len();
        ic0::msg_arg_data_copy_uninit(&mut out.spare_capacity_mut()[..count], offset);
        // SAFETY: msg_arg_data_copy_uninit initialised those `count` bytes
        // (or trapped).
        unsafe { out.set_len(filled + count) };
    }
}

fn reply(response: &impl candid::CandidType) {
    let bytes = candid::encode_one(response).expect("our replies encode");
    ic_cdk::api::msg_reply(bytes);
}

#[ic_cdk::update]
async fn commit_batch(args: CommitBatchArguments) {
    let caller = caller();
    read(|server| server.require_commit(caller));
    let prehashed = hash_bodies(&args.operations).await;
    write_as(caller, |server, caller, now| {
        server.commit_batch_prehashed(caller, now, args, prehashed)
    })
}

#[ic_cdk::update]
fn delete_batch(args: DeleteBatchArguments) {
    write(|server, caller, _| server.delete_batch(caller, args))
}

#[ic_cdk::update]
fn store(args: StoreArguments) {
    write(|server, caller, now| server.store(caller, now, args))
}

#[ic_cdk::update]
fn create_asset(args: CreateAssetArguments) {
    write(|server, caller, now| {
        server.apply_operation(caller, now, BatchOperationKind::CreateAsset(args))
    })
}

#[ic_cdk::update]
fn set_asset_content(args: SetAssetContentArguments) {
    write(|server, caller, now| {
        server.apply_operation(caller, now, BatchOperationKind::SetAssetContent(args))
    })
}

#[ic_cdk::update]
fn unset_asset_content(args: UnsetAssetContentArguments) {
    write(|server, caller, now| {
        server.apply_operation(caller, now, BatchOperationKind::UnsetAssetContent(args))
    })
}

#[ic_cdk::update]
fn delete_asset(args: DeleteAssetArguments) {
    write(|server, caller, now| {
        server.apply_operation(caller, now, BatchOperationKind::DeleteAsset(args))
    })
}

#[ic_cdk::update]
fn clear(args: ClearArguments) {
    write(|server, caller, now| {
        server.apply_operation(caller, now, BatchOperationKind::Clear(args))
    })
}

#[ic_cdk::update]
fn set_asset_properties(args: SetAssetPropertiesArguments) {
    write(|server, caller, now| {
        server.apply_operation(caller, now, BatchOperationKind::SetAssetProperties(args))
    })
}
