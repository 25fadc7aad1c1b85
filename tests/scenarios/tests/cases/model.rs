//! The model-based sequences of `canister/tests/model` on the wasm: the
//! same generator, model and checks as the native run, with every call a
//! candid call to a freshly installed canister and every answer checked by
//! `ic-response-verification` against the backend's certificate. A refused
//! call traps, so the system's rollback (not a harness's) undoes it.
//!
//! `MODEL_WASM_CASES` sequences (default 160) of 1 to `MODEL_WASM_STEPS`
//! steps (default 48), every body served and verified every 8th step; the seed is printed and `MODEL_WASM_SEED` reruns a
//! run. On the in-process host the certified data is read from the system
//! after every step and compared with the root recomputed from the model;
//! PocketIC does not expose it, so there the served answers verifying is
//! the check.

#[path = "../../../../canister/tests/model/sequences.rs"]
#[allow(dead_code)]
mod sequences;

use asset_server::types::*;
use asset_testkit::{GatewayRequest, GatewayResponse};
use candid::{CandidType, Principal};
use scenarios::client::gateway_host;
use scenarios::{AssetClient, select_backend};
use sequences::{ANONYMOUS, Call, Reply, Target, principal_of};

/// A fresh canister on the selected backend, as a `Target`.
struct Wasm {
    client: AssetClient,
}

impl Wasm {
    fn update<A: CandidType>(&mut self, who: usize, method: &str, arg: A) -> Result<(), String> {
        self.call::<_, ()>(who, method, arg)
    }

    fn call<A: CandidType, R: for<'a> candid::Deserialize<'a> + CandidType>(
        &mut self,
        who: usize,
        method: &str,
        arg: A,
    ) -> Result<R, String> {
        let ((reply,), _): ((R,), _) = self.client.update(principal_of(who), method, (arg,))?;
        Ok(reply)
    }
}

impl Target for Wasm {
    fn call(&mut self, who: usize, _allowed: bool, call: Call) -> Result<Reply, String> {
        let unit = |r: Result<(), String>| r.map(|()| Reply::Unit);
        match call {
            Call::CreateBatch => {
                let created: CreateBatchResponse =
                    self.call(who, "create_batch", CreateBatchArguments {})?;
                Ok(Reply::BatchId(created.batch_id))
            }
            Call::CreateChunk(args) => {
                let created: CreateChunkResponse = self.call(who, "create_chunk", args)?;
                Ok(Reply::ChunkIds(vec![created.chunk_id]))
            }
            Call::CreateChunks(args) => {
                let created: CreateChunksResponse = self.call(who, "create_chunks", args)?;
                Ok(Reply::ChunkIds(created.chunk_ids))
            }
            Call::CommitBatch(args) => unit(self.update(who, "commit_batch", args)),
            Call::ProposeCommitBatch(args) => unit(self.update(who, "propose_commit_batch", args)),
            Call::ComputeEvidence(args) => {
                let evidence: Option<serde_bytes::ByteBuf> =
                    self.call(who, "compute_evidence", args)?;
                Ok(Reply::Evidence(evidence.map(|e| e.into_vec())))
            }
            Call::CommitProposedBatch(args) => {
                unit(self.update(who, "commit_proposed_batch", args))
            }
            Call::DeleteBatch(args) => unit(self.update(who, "delete_batch", args)),
            Call::Store(args) => unit(self.update(who, "store", args)),
            Call::Operation(operation) => unit(match operation {
                BatchOperationKind::CreateAsset(args) => self.update(who, "create_asset", args),
                BatchOperationKind::SetAssetContent(args) => {
                    self.update(who, "set_asset_content", args)
                }
                BatchOperationKind::UnsetAssetContent(args) => {
                    self.update(who, "unset_asset_content", args)
                }
                BatchOperationKind::DeleteAsset(args) => self.update(who, "delete_asset", args),
                BatchOperationKind::Clear(args) => self.update(who, "clear", args),
                BatchOperationKind::SetAssetProperties(args) => {
                    self.update(who, "set_asset_properties", args)
                }
            }),
            Call::Grant(args) => unit(self.update(who, "grant_permission", args)),
            Call::Revoke(args) => unit(self.update(who, "revoke_permission", args)),
        }
    }

    fn time(&self) -> u64 {
        self.client.backend.time_ns()
    }

    fn set_time(&mut self, now: u64) {
        self.client.backend.set_time_ns(now);
    }

    fn upgrade(&mut self) {
        let arg = candid::encode_one(None::<AssetCanisterArgs>).unwrap();
        let wasm = self.client.wasm.clone();
        self.client.backend.upgrade(&wasm, arg).expect("upgrade");
    }

    fn list(&mut self) -> Vec<AssetDetails> {
        self.client.list()
    }

    fn list_permitted(&mut self, permission: Permission) -> Vec<Principal> {
        // An update in the interface dfx knows, as in DFINITY's canister.
        self.call(ANONYMOUS, "list_permitted", ListPermitted { permission })
            .expect("list_permitted")
    }

    fn certified_data(&mut self) -> Option<[u8; 32]> {
        let data = self.client.backend.certified_data()?;
        Some(data.try_into().expect("certified data of 32 bytes"))
    }

    fn gateway_host(&self) -> String {
        gateway_host(self.client.backend.canister_id())
    }

    fn fetch(
        &mut self,
        request: &GatewayRequest,
        certificate_version: Option<u16>,
    ) -> GatewayResponse {
        match certificate_version {
            None => self.client.fetch(request),
            Some(2) => self.client.fetch_v2(request),
            Some(other) => panic!("no certificate version {other}"),
        }
        .unwrap_or_else(|e| panic!("{}: {e}", request.url))
    }

    fn verify(
        &mut self,
        request: &GatewayRequest,
        response: &GatewayResponse,
        min_version: u8,
    ) -> Result<u16, String> {
        self.client.verifier().verify_min_version(
            request,
            response,
            self.client.backend.time_ns(),
            min_version,
        )
    }
}

pub fn model_sequences_on_the_wasm(wasm: &[u8]) {
    let run = sequences::Run {
        prefix: "MODEL_WASM",
        label: "wasm",
        cases: 160,
        steps: 48,
        full_every: 8,
        // Every shrinking step installs a canister and replays a sequence.
        max_shrink_iters: 300,
    };
    let operations = sequences::run(&run, || {
        let client = AssetClient::install(select_backend(), wasm.to_vec());
        assert_eq!(client.controller(), principal_of(sequences::CONTROLLER));
        Wasm { client }
    });
    assert!(operations > 0);
}
