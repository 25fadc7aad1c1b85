//! Deploys by proposal (SNS governance) and the upload limits, named and
//! shaped as in DFINITY's `assets.did`.

use candid::{CandidType, Deserialize};
use serde_bytes::ByteBuf;

use super::BatchId;

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq)]
pub struct CommitProposedBatchArguments {
    pub batch_id: BatchId,
    pub evidence: ByteBuf,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq)]
pub struct ComputeEvidenceArguments {
    pub batch_id: BatchId,
    /// Steps to take in this call; 20 when absent, as in DFINITY's canister.
    pub max_iterations: Option<u16>,
}

/// The upload limits; `None` is no limit.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct ConfigurationResponse {
    pub max_batches: Option<u64>,
    pub max_chunks: Option<u64>,
    pub max_bytes: Option<u64>,
}

/// For each limit: absent leaves it, `Some(None)` removes it, `Some(Some(n))`
/// sets it.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct ConfigureArguments {
    pub max_batches: Option<Option<u64>>,
    pub max_chunks: Option<Option<u64>>,
    pub max_bytes: Option<Option<u64>>,
}

/// What an SNS `validate_*` method answers: `Ok` with a description of the
/// change the proposal would make, or `Err` with why it would fail.
pub type ValidationResult = Result<String, String>;
