//! Deploys by proposal, the upload limits, and the `validate_*` methods SNS
//! governance calls (updates, as in DFINITY's interface).

use serde_bytes::ByteBuf;

use super::hashing::hash_bodies;
use super::{caller, read, with_server, write, write_as};
use crate::server::governance as validate;
use crate::types::*;

#[ic_cdk::update]
fn propose_commit_batch(args: CommitBatchArguments) {
    write(|server, caller, now| server.propose_commit_batch(caller, now, args))
}

#[ic_cdk::update]
fn compute_evidence(args: ComputeEvidenceArguments) -> Option<ByteBuf> {
    write(|server, caller, now| server.compute_evidence(caller, now, args)).map(ByteBuf::from)
}

#[ic_cdk::update]
async fn commit_proposed_batch(args: CommitProposedBatchArguments) {
    let caller = caller();
    let operations = read(|server| {
        server.require_commit(caller)?;
        server.operations_proposed(&args)
    });
    let prehashed = hash_bodies(&operations).await;
    write_as(caller, |server, caller, now| {
        server.commit_proposed_batch_prehashed(caller, now, args, prehashed)
    })
}

#[ic_cdk::update]
fn validate_commit_proposed_batch(args: CommitProposedBatchArguments) -> ValidationResult {
    with_server(|server| server.validate_commit_proposed_batch(args))
}

#[ic_cdk::update]
fn get_configuration() -> ConfigurationResponse {
    write(|server, caller, _| server.get_configuration(caller))
}

#[ic_cdk::update]
fn configure(args: ConfigureArguments) {
    write(|server, caller, _| server.configure(caller, args))
}

#[ic_cdk::update]
fn validate_configure(args: ConfigureArguments) -> ValidationResult {
    validate::validate_configure(&args)
}

#[ic_cdk::update]
fn validate_grant_permission(args: GrantPermission) -> ValidationResult {
    validate::validate_grant_permission(&args)
}

#[ic_cdk::update]
fn validate_revoke_permission(args: RevokePermission) -> ValidationResult {
    validate::validate_revoke_permission(&args)
}

#[ic_cdk::update]
fn validate_take_ownership() -> ValidationResult {
    validate::validate_take_ownership()
}
