//! Batches, chunks, commits and the single-call changes.

use super::hashing::hash_bodies;
use super::{caller, read, write, write_as};
use crate::types::*;

#[ic_cdk::update]
fn create_batch(_: CreateBatchArguments) -> CreateBatchResponse {
    write(|server, caller, now| server.create_batch(caller, now))
}

#[ic_cdk::update]
fn create_chunk(args: CreateChunkArguments) -> CreateChunkResponse {
    write(|server, caller, now| server.create_chunk(caller, now, args))
}

#[ic_cdk::update]
fn create_chunks(args: CreateChunksArguments) -> CreateChunksResponse {
    write(|server, caller, now| server.create_chunks(caller, now, args))
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
