//! `ic-asset`'s deploy by proposal (what `dfx deploy --by-proposal` runs),
//! unmodified, through a real `ic_agent::Agent` over HTTP to the local
//! replica endpoint: an identity with only `Prepare` stages a sync with
//! `prepare_sync_for_proposal`; the evidence the canister computes must be
//! the one `ic-asset` computes locally; a `Commit` holder (the SNS
//! governance canister, on the IC) commits with it, and nothing changes
//! before that or with any other evidence.

use std::path::Path;

use asset_clients::client::{Client, ed25519_identity, secp256k1_identity};
use asset_clients::{check, harness, site, versions};
use candid::{CandidType, Decode, Deserialize, Encode, Nat, Principal};
use serde_bytes::ByteBuf;
use wasm_host::replica::Replica;

const CASES: &[harness::Case] = &[(
    "ic_asset_prepares_a_sync_for_proposal_and_only_its_evidence_commits_it",
    ic_asset_prepares_a_sync_for_proposal_and_only_its_evidence_commits_it,
)];

fn main() {
    harness::run(
        &format!("ic-asset {} by proposal", versions::IC_ASSET),
        &format!(
            "prepare_sync_for_proposal over ic-agent {}, local replica endpoint",
            versions::IC_AGENT
        ),
        CASES,
    );
}

// The candid types of the permission and proposal methods, written from
// the asset canister interface rather than taken from our crate.

#[derive(CandidType, Deserialize, Clone, Copy, Debug)]
enum Permission {
    Commit,
    Prepare,
    ManagePermissions,
}

#[derive(CandidType)]
struct GrantPermission {
    to_principal: Principal,
    permission: Permission,
}

#[derive(CandidType)]
struct ComputeEvidenceArguments {
    batch_id: Nat,
    max_iterations: Option<u16>,
}

#[derive(CandidType)]
struct CommitProposedBatchArguments {
    batch_id: Nat,
    evidence: ByteBuf,
}

#[derive(CandidType, Deserialize, Debug)]
enum ValidationResult {
    Ok(String),
    Err(String),
}

#[derive(CandidType)]
struct ListArguments {}

#[derive(CandidType, Deserialize, Debug)]
struct ListedAsset {
    key: String,
    encodings: Vec<ListedEncoding>,
}

#[derive(CandidType, Deserialize, Debug, PartialEq)]
struct ListedEncoding {
    content_encoding: String,
    sha256: Option<ByteBuf>,
}

fn ic_asset_prepares_a_sync_for_proposal_and_only_its_evidence_commits_it(wasm: &[u8]) {
    let replica = Replica::start().expect("replica");
    let controller = Client::connect(&replica.url(), ed25519_identity(31)).expect("agent");
    let canister = controller
        .deploy(wasm)
        .expect("deploy through the management canister");
    let dir = tempfile::tempdir().expect("temporary directory");
    let site_dir = dir.path().join("dist");

    // The site as it is before the vote, synced directly.
    let first = site::first_version();
    site::write(&site_dir, &first).expect("writing the site");
    sync(&controller, canister, &site_dir);
    check::check_site(&replica, &controller, canister, &first, &[]);
    let before = list(&controller, canister);

    // The proposer may only prepare; the committer stands for governance.
    let proposer = Client::connect(&replica.url(), secp256k1_identity(32)).expect("agent");
    let committer = Client::connect(&replica.url(), ed25519_identity(33)).expect("agent");
    grant(
        &controller,
        canister,
        proposer.principal(),
        Permission::Prepare,
    );
    grant(
        &controller,
        canister,
        committer.principal(),
        Permission::Commit,
    );

    // The changes proposed: changed, added and deleted files.
    let (second, deleted) = site::second_version();
    site::write(&site_dir, &second).expect("writing the site");
    let local_evidence = local_evidence(&proposer, canister, &site_dir);
    let (batch_id, evidence) = prepare(&proposer, canister, &site_dir);
    assert_eq!(
        hex(&evidence),
        local_evidence,
        "the canister's evidence for batch {batch_id} differs from the one ic-asset computes locally"
    );

    // Asked directly, the canister answers with the same evidence.
    let computed = loop {
        let reply = proposer
            .update(
                canister,
                "compute_evidence",
                Encode!(&ComputeEvidenceArguments {
                    batch_id: batch_id.clone(),
                    max_iterations: Some(1),
                })
                .unwrap(),
            )
            .expect("compute_evidence");
        if let Some(evidence) = Decode!(&reply, Option<ByteBuf>).expect("opt blob") {
            break evidence;
        }
    };
    assert_eq!(hex(&computed), local_evidence);

    // Preparing does not include committing.
    let refused = commit(&proposer, canister, &batch_id, &evidence);
    assert!(
        refused.is_err(),
        "an identity with only Prepare committed a proposed batch"
    );

    // Any other evidence is refused, by the validator too, and changes
    // nothing; the batch stays committable.
    let mut wrong = evidence.to_vec();
    wrong[0] ^= 1;
    let wrong = ByteBuf::from(wrong);
    match validate(&committer, canister, &batch_id, &wrong) {
        ValidationResult::Err(_) => {}
        ValidationResult::Ok(text) => panic!("wrong evidence validates: {text}"),
    }
    let error = commit(&committer, canister, &batch_id, &wrong)
        .expect_err("commit_proposed_batch accepted wrong evidence");
    assert!(error.contains("evidence"), "{error}");
    let error = commit(
        &committer,
        canister,
        &batch_id,
        &ByteBuf::from(vec![0u8; 3]),
    )
    .expect_err("commit_proposed_batch accepted a 3-byte evidence");
    assert!(error.contains("evidence"), "{error}");
    assert_eq!(
        list(&controller, canister),
        before,
        "preparing, proposing or the refused commits changed the assets"
    );
    // Nor what is served.
    check::check_site(&replica, &controller, canister, &first, &[]);

    // The evidence commits it: every file of the new version verifies.
    match validate(&committer, canister, &batch_id, &evidence) {
        ValidationResult::Ok(text) => assert!(text.contains(&hex(&evidence)), "{text}"),
        ValidationResult::Err(text) => panic!("the right evidence does not validate: {text}"),
    }
    commit(&committer, canister, &batch_id, &evidence).expect("commit_proposed_batch");
    check::check_site(&replica, &controller, canister, &second, &deleted);

    // The batch is gone once committed.
    assert!(
        commit(&committer, canister, &batch_id, &evidence).is_err(),
        "a proposed batch committed twice"
    );
}

fn ic_utils_canister(client: &Client, canister: Principal) -> ic_utils::Canister<'_> {
    ic_utils::Canister::builder()
        .with_agent(&client.agent)
        .with_canister_id(canister)
        .build()
        .expect("canister")
}

fn sync(client: &Client, canister: Principal, dir: &Path) {
    let canister = ic_utils_canister(client, canister);
    let logger = slog::Logger::root(slog::Discard, slog::o!());
    client
        .runtime
        .block_on(ic_asset::sync(&canister, &[dir], false, &logger, None))
        .unwrap_or_else(|e| panic!("ic_asset::sync failed: {e:?}"));
}

/// `ic_asset::compute_evidence`: the evidence computed on this machine
/// from the directory and the canister's current assets (hex).
fn local_evidence(client: &Client, canister: Principal, dir: &Path) -> String {
    let canister = ic_utils_canister(client, canister);
    let logger = slog::Logger::root(slog::Discard, slog::o!());
    client
        .runtime
        .block_on(ic_asset::compute_evidence(&canister, &[dir], &logger, None))
        .unwrap_or_else(|e| panic!("ic_asset::compute_evidence failed: {e:?}"))
}

/// `ic_asset::prepare_sync_for_proposal`: uploads, proposes and asks the
/// canister for the evidence until it has it.
fn prepare(client: &Client, canister: Principal, dir: &Path) -> (Nat, ByteBuf) {
    let canister = ic_utils_canister(client, canister);
    let logger = slog::Logger::root(slog::Discard, slog::o!());
    client
        .runtime
        .block_on(ic_asset::prepare_sync_for_proposal(
            &canister,
            &[dir],
            &logger,
            None,
        ))
        .unwrap_or_else(|e| panic!("ic_asset::prepare_sync_for_proposal failed: {e:?}"))
}

fn grant(client: &Client, canister: Principal, to: Principal, permission: Permission) {
    let arg = GrantPermission {
        to_principal: to,
        permission,
    };
    client
        .update(canister, "grant_permission", Encode!(&arg).unwrap())
        .unwrap_or_else(|e| panic!("grant_permission {permission:?}: {e}"));
}

fn commit(
    client: &Client,
    canister: Principal,
    batch_id: &Nat,
    evidence: &ByteBuf,
) -> Result<(), String> {
    let arg = CommitProposedBatchArguments {
        batch_id: batch_id.clone(),
        evidence: evidence.clone(),
    };
    client
        .update(canister, "commit_proposed_batch", Encode!(&arg).unwrap())
        .map(|_| ())
}

fn validate(
    client: &Client,
    canister: Principal,
    batch_id: &Nat,
    evidence: &ByteBuf,
) -> ValidationResult {
    let arg = CommitProposedBatchArguments {
        batch_id: batch_id.clone(),
        evidence: evidence.clone(),
    };
    let reply = client
        .update(
            canister,
            "validate_commit_proposed_batch",
            Encode!(&arg).unwrap(),
        )
        .expect("validate_commit_proposed_batch");
    Decode!(&reply, ValidationResult).expect("ValidationResult")
}

/// Every asset with its encodings and their hashes, in key order.
fn list(client: &Client, canister: Principal) -> Vec<(String, Vec<ListedEncoding>)> {
    let reply = client
        .query(canister, "list", Encode!(&ListArguments {}).unwrap())
        .expect("list");
    let mut assets: Vec<(String, Vec<ListedEncoding>)> = Decode!(&reply, Vec<ListedAsset>)
        .expect("list reply")
        .into_iter()
        .map(|asset| (asset.key, asset.encodings))
        .collect();
    assets.sort_by(|a, b| a.0.cmp(&b.0));
    assets
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
