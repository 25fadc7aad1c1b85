//! Uploading a site: the same protocol `dfx deploy` uses. One batch,
//! `create_chunk` for every chunk of every changed encoding, then ONE
//! `commit_batch`, so visitors see the old site or the new one, never a mix.

mod encode;
mod plan;
mod progress;
mod walk;

use std::fmt;

use asset_server::types::*;
use candid::Nat;
use serde_bytes::ByteBuf;

use crate::transport::{CanisterCalls, query_typed, update_typed};

pub use encode::{Encoded, encodings, is_compressible};
pub use plan::{FileUpload, Plan, plan};
pub use progress::Progress;
pub use walk::{LocalFile, collect, content_type_of};

/// Chunks stay under the canister's 2 MiB limit with room for the
/// message's own framing, as dfx does.
pub const CHUNK_SIZE: usize = 1_900_000;

/// What an upload did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// Keys whose content was uploaded.
    pub uploaded: Vec<String>,
    /// Keys left alone because they are unchanged.
    pub skipped: Vec<String>,
    /// Keys deleted because they are no longer in the directory.
    pub deleted: Vec<String>,
    /// Bytes sent in chunks (all encodings).
    pub bytes: u64,
    /// Instructions of every call, when the transport reports them.
    pub instructions: Option<u64>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "uploaded {} files ({} bytes), skipped {} unchanged, deleted {}",
            self.uploaded.len(),
            self.bytes,
            self.skipped.len(),
            self.deleted.len()
        )?;
        if let Some(instructions) = self.instructions {
            write!(f, ", {instructions} instructions")?;
        }
        Ok(())
    }
}

/// Makes the canister hold exactly `files` (sync semantics): unchanged
/// files are skipped, changed and new ones uploaded, missing ones deleted.
pub fn upload(
    calls: &mut dyn CanisterCalls,
    files: &[LocalFile],
    progress: Progress,
) -> Result<Report, String> {
    let mut instructions = Instructions::default();
    let (remote, used): (Vec<AssetDetails>, _) =
        query_typed(calls, "list", ListArguments::default())?;
    instructions.add(used);
    let plan = plan(files, &remote);
    let mut report = Report {
        skipped: plan.skipped.clone(),
        ..Report::default()
    };
    if plan.is_empty() {
        report.instructions = instructions.total();
        return Ok(report);
    }

    let (batch, used): (CreateBatchResponse, _) =
        update_typed(calls, "create_batch", CreateBatchArguments {})?;
    instructions.add(used);
    let bar = progress.bar(plan.bytes());
    let mut operations: Vec<BatchOperationKind> = plan
        .deletes
        .iter()
        .map(|key| BatchOperationKind::DeleteAsset(DeleteAssetArguments { key: key.clone() }))
        .collect();
    for file in &plan.uploads {
        if file.replace {
            operations.push(BatchOperationKind::DeleteAsset(DeleteAssetArguments {
                key: file.key.clone(),
            }));
        }
        if file.create {
            operations.push(BatchOperationKind::CreateAsset(CreateAssetArguments {
                key: file.key.clone(),
                content_type: file.content_type.clone(),
                max_age: None,
                headers: None,
                enable_aliasing: None,
                allow_raw_access: None,
            }));
        }
        for encoded in &file.encodings {
            let mut chunk_ids = Vec::new();
            for chunk in encoded.body.chunks(CHUNK_SIZE) {
                let args = CreateChunkArguments {
                    batch_id: batch.batch_id.clone(),
                    content: ByteBuf::from(chunk.to_vec()),
                };
                let (reply, used): (CreateChunkResponse, _) =
                    update_typed(calls, "create_chunk", args)
                        .map_err(|e| format!("{} ({}): {e}", file.key, encoded.encoding))?;
                instructions.add(used);
                chunk_ids.push(reply.chunk_id);
                bar.inc(chunk.len() as u64);
            }
            operations.push(BatchOperationKind::SetAssetContent(set_content(
                &file.key, encoded, chunk_ids,
            )));
        }
        for encoding in &file.unset {
            operations.push(BatchOperationKind::UnsetAssetContent(
                UnsetAssetContentArguments {
                    key: file.key.clone(),
                    content_encoding: encoding.clone(),
                },
            ));
        }
        report.uploaded.push(file.key.clone());
    }
    bar.finish_and_clear();

    let commit = CommitBatchArguments {
        batch_id: batch.batch_id,
        operations,
    };
    let ((), used): ((), _) = update_typed(calls, "commit_batch", commit)
        .map_err(|e| format!("committing the batch: {e}"))?;
    instructions.add(used);
    report.bytes = plan.bytes();
    report.deleted = plan.deletes;
    report.instructions = instructions.total();
    Ok(report)
}

fn set_content(key: &str, encoded: &Encoded, chunk_ids: Vec<Nat>) -> SetAssetContentArguments {
    SetAssetContentArguments {
        key: key.to_string(),
        content_encoding: encoded.encoding.to_string(),
        // An empty body has no chunk; the canister takes it as an empty
        // last chunk.
        last_chunk: chunk_ids.is_empty().then(ByteBuf::new),
        chunk_ids,
        sha256: Some(ByteBuf::from(encoded.sha256.to_vec())),
    }
}

/// Sums instructions while every call reports them; one call that does not
/// (a replica) makes the total unknown rather than wrong.
#[derive(Default)]
struct Instructions {
    total: u64,
    unknown: bool,
}

impl Instructions {
    fn add(&mut self, used: Option<u64>) {
        match used {
            Some(n) => self.total += n,
            None => self.unknown = true,
        }
    }

    fn total(&self) -> Option<u64> {
        (!self.unknown).then_some(self.total)
    }
}
