//! Deploys by proposal, the upload limits and the `validate_*` methods SNS
//! governance calls before it puts a proposal to the vote.
//!
//! Permissions as in DFINITY's asset canister: proposing, computing the
//! evidence and reading the configuration need Prepare; committing a
//! proposed batch and configuring need Commit; validating needs nothing
//! and changes nothing.

use ic_stable_structures::Memory;

use super::AssetServer;
use crate::access::{self, Caller};
use crate::error::{AssetError, Result};
use crate::store::Configuration;
use crate::types::*;
use crate::upload::{self, Prehashed, to_u64};

impl<M: Memory> AssetServer<M> {
    pub fn propose_commit_batch(
        &mut self,
        caller: Caller,
        now: u64,
        args: CommitBatchArguments,
    ) -> Result<()> {
        access::require(&self.stores.permissions, caller, Permission::Prepare)?;
        upload::propose(&mut self.stores, args, now)
    }

    /// `Some(evidence)` once it is computed; call again while `None`.
    pub fn compute_evidence(
        &mut self,
        caller: Caller,
        now: u64,
        args: ComputeEvidenceArguments,
    ) -> Result<Option<Vec<u8>>> {
        access::require(&self.stores.permissions, caller, Permission::Prepare)?;
        let batch_id = to_u64(&args.batch_id)?;
        let evidence =
            upload::compute_evidence(&mut self.stores, batch_id, args.max_iterations, now)?;
        Ok(evidence.map(|e| e.to_vec()))
    }

    /// Commits the proposed operations if `args.evidence` is the one
    /// computed; the batch is gone afterwards.
    pub fn commit_proposed_batch(
        &mut self,
        caller: Caller,
        now: u64,
        args: CommitProposedBatchArguments,
    ) -> Result<()> {
        self.commit_proposed_batch_prehashed(caller, now, args, Prehashed::default())
    }

    /// `commit_proposed_batch` with some bodies' chunks hashed beforehand
    /// (see `upload::BodyHashing`).
    pub fn commit_proposed_batch_prehashed(
        &mut self,
        caller: Caller,
        now: u64,
        args: CommitProposedBatchArguments,
        prehashed: Prehashed,
    ) -> Result<()> {
        access::require(&self.stores.permissions, caller, Permission::Commit)?;
        let batch_id = upload::check_evidence(&self.stores, &args)?;
        let operations = upload::proposed_operations(&self.stores, batch_id);
        upload::check_commit_limits(&self.stores, &operations)?;
        self.commit_prehashed(Some(batch_id), operations, now, prehashed)?;
        upload::delete_batch(&mut self.stores, batch_id)
    }

    /// The operations `commit_proposed_batch(args)` would apply, if the
    /// evidence is right: what to hash ahead of it.
    pub fn operations_proposed(
        &self,
        args: &CommitProposedBatchArguments,
    ) -> Result<Vec<BatchOperationKind>> {
        let batch_id = upload::check_evidence(&self.stores, args)?;
        Ok(upload::proposed_operations(&self.stores, batch_id))
    }

    pub fn validate_commit_proposed_batch(
        &self,
        args: CommitProposedBatchArguments,
    ) -> ValidationResult {
        upload::check_evidence(&self.stores, &args)
            .map(|batch_id| {
                format!(
                    "commit proposed batch {batch_id} with evidence {}",
                    hex::encode(&args.evidence)
                )
            })
            .map_err(|error| error.to_string())
    }

    pub fn get_configuration(&self, caller: Caller) -> Result<ConfigurationResponse> {
        access::require(&self.stores.permissions, caller, Permission::Prepare)?;
        let Configuration {
            max_batches,
            max_chunks,
            max_bytes,
        } = self.stores.configuration().clone();
        Ok(ConfigurationResponse {
            max_batches,
            max_chunks,
            max_bytes,
        })
    }

    pub fn configure(&mut self, caller: Caller, args: ConfigureArguments) -> Result<()> {
        access::require(&self.stores.permissions, caller, Permission::Commit)?;
        let mut configuration = self.stores.configuration().clone();
        if let Some(max_batches) = args.max_batches {
            configuration.max_batches = max_batches;
        }
        if let Some(max_chunks) = args.max_chunks {
            configuration.max_chunks = max_chunks;
        }
        if let Some(max_bytes) = args.max_bytes {
            configuration.max_bytes = max_bytes;
        }
        self.stores.set_configuration(configuration);
        Ok(())
    }
}

/// What `configure` would do.
pub fn validate_configure(args: &ConfigureArguments) -> ValidationResult {
    Ok(format!("configure: {args:?}"))
}

/// What `grant_permission` would do; refused where it would be.
pub fn validate_grant_permission(args: &GrantPermission) -> ValidationResult {
    if args.to_principal == candid::Principal::anonymous() {
        return Err(AssetError::CannotGrantToAnonymous.to_string());
    }
    Ok(format!(
        "grant {} permission to principal {}",
        args.permission, args.to_principal
    ))
}

pub fn validate_revoke_permission(args: &RevokePermission) -> ValidationResult {
    Ok(format!(
        "revoke {} permission from principal {}",
        args.permission, args.of_principal
    ))
}

pub fn validate_take_ownership() -> ValidationResult {
    Ok("revoke all permissions, then gives the caller Commit permissions".to_string())
}
