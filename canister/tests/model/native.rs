//! The core as a `Target`: the test harness of `support`, which certifies
//! the root after every successful change as the API layer does, signs
//! certificates with a test subnet key and checks answers with the
//! official verifier.

use asset_server::AssetServer;
use asset_server::access::Caller;
use asset_server::error::AssetError;
use asset_server::types::*;
use asset_testkit::{GatewayRequest, GatewayResponse};
use candid::Principal;
use ic_stable_structures::VectorMemory;

use crate::sequences::{CONTROLLER, Call, Reply, Target, principal_of};
use crate::support::{GATEWAY_HOST, Harness};

/// A fresh canister installed by the controller.
pub fn harness() -> Harness {
    let h = Harness::new();
    assert_eq!(h.controller, principal_of(CONTROLLER));
    h
}

fn caller(who: usize) -> Caller {
    match who {
        CONTROLLER => Caller::controller(principal_of(who)),
        _ => Caller::user(principal_of(who)),
    }
}

/// The core method behind `call`, as `api/` calls it.
fn dispatch(
    s: &mut AssetServer<VectorMemory>,
    c: Caller,
    now: u64,
    call: Call,
) -> Result<Reply, AssetError> {
    Ok(match call {
        Call::CreateBatch => Reply::BatchId(s.create_batch(c, now)?.batch_id),
        Call::CreateChunk(args) => Reply::ChunkIds(vec![s.create_chunk(c, now, args)?.chunk_id]),
        Call::CreateChunks(args) => Reply::ChunkIds(s.create_chunks(c, now, args)?.chunk_ids),
        Call::CommitBatch(args) => s.commit_batch(c, now, args).map(|()| Reply::Unit)?,
        Call::ProposeCommitBatch(args) => {
            s.propose_commit_batch(c, now, args).map(|()| Reply::Unit)?
        }
        Call::ComputeEvidence(args) => Reply::Evidence(s.compute_evidence(c, now, args)?),
        Call::CommitProposedBatch(args) => s
            .commit_proposed_batch(c, now, args)
            .map(|()| Reply::Unit)?,
        Call::DeleteBatch(args) => s.delete_batch(c, args).map(|()| Reply::Unit)?,
        Call::Store(args) => s.store(c, now, args).map(|()| Reply::Unit)?,
        Call::Operation(operation) => s.apply_operation(c, now, operation).map(|()| Reply::Unit)?,
        Call::Grant(args) => s.grant_permission(c, args).map(|()| Reply::Unit)?,
        Call::Revoke(args) => s.revoke_permission(c, args).map(|()| Reply::Unit)?,
    })
}

impl Target for Harness {
    /// A call expected to fail is made on saved memory and undone if it
    /// fails, as the API layer's trap undoes it (the heap is rebuilt from
    /// stable memory as after an upgrade, which is what the wasm's
    /// rollback amounts to for the core). A call expected to succeed is
    /// not saved first: if it fails, the test fails anyway.
    fn call(&mut self, who: usize, allowed: bool, call: Call) -> Result<Reply, String> {
        let saved = (!allowed).then(|| (self.memory.borrow().clone(), self.certified_data));
        let result = self.write(caller(who), |s, c, now| dispatch(s, c, now, call));
        if let (Err(_), Some((memory, certified_data))) = (&result, saved) {
            if *self.memory.borrow() != memory {
                *self.memory.borrow_mut() = memory;
                self.server = AssetServer::reopen(self.memory.clone()).unwrap().0;
            }
            self.certified_data = certified_data;
        }
        result.map_err(|e| e.to_string())
    }

    fn time(&self) -> u64 {
        self.now
    }

    fn set_time(&mut self, now: u64) {
        self.now = now;
    }

    fn upgrade(&mut self) {
        Harness::upgrade(self)
    }

    fn list(&mut self) -> Vec<AssetDetails> {
        self.server.list()
    }

    fn list_permitted(&mut self, permission: Permission) -> Vec<Principal> {
        self.server.list_permitted(permission)
    }

    fn certified_data(&mut self) -> Option<[u8; 32]> {
        Some(self.certified_data)
    }

    fn branch_roots(&mut self) -> Option<([u8; 32], [u8; 32])> {
        let tree = self.server.tree();
        Some((tree.v1.root_hash(), tree.v2.root_hash()))
    }

    fn check_internals(&mut self, expected_chunks: u64) -> Result<(), String> {
        if !self.server.assets_mirror_matches_stored() {
            return Err("the heap mirror of the assets drifted from stable memory".into());
        }
        if !self.server.chunk_copies_match_stored().0 {
            return Err("the heap copies of small chunks drifted from stable memory".into());
        }
        self.server
            .chunk_pages_check()
            .map_err(|e| format!("the large chunks' pages: {e}"))?;
        // No chunk leaks and none is lost: stored are exactly those of the
        // bodies served and of the uploads not yet committed.
        let stored = self.server.stored_chunk_count();
        if stored != expected_chunks {
            return Err(format!(
                "{stored} chunks stored, but the bodies and uploads in flight hold {expected_chunks}"
            ));
        }
        if self.certified_data != self.server.certified_root() {
            return Err("the certified data is not the current root".into());
        }
        Ok(())
    }

    fn gateway_host(&self) -> String {
        GATEWAY_HOST.into()
    }

    fn fetch(
        &mut self,
        request: &GatewayRequest,
        certificate_version: Option<u16>,
    ) -> GatewayResponse {
        match certificate_version {
            Some(2) => self.fetch_v2(request),
            None => Harness::fetch(self, request),
            Some(other) => panic!("no certificate version {other}"),
        }
    }

    fn verify(
        &mut self,
        request: &GatewayRequest,
        response: &GatewayResponse,
        min_version: u8,
    ) -> Result<u16, String> {
        self.verifier()
            .verify_min_version(request, response, self.now, min_version)
    }
}
