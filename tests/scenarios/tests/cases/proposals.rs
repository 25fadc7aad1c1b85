//! A deploy by proposal, as `dfx deploy --by-proposal` and SNS governance
//! make it: the same batch proposed on DFINITY's asset canister and on ours
//! gives the same evidence, and ours commits it with that evidence only.

use asset_server::types::*;
use candid::{Nat, Principal};
use scenarios::site::{SiteFile, large_body, site_file, url_of};
use scenarios::{AssetClient, fixture_wasm, select_backend};
use serde_bytes::ByteBuf;
use sha2::{Digest, Sha256};

const CHUNK: usize = 1_000_000;

/// What is online before the proposal: one file it replaces, one it
/// deletes, one it leaves alone.
fn online() -> Vec<SiteFile> {
    vec![
        site_file("/index.html", "text/html", "<h1>v1</h1>"),
        site_file("/old.txt", "text/plain", "going away"),
        site_file("/kept.css", "text/css", "body { color: teal }"),
    ]
}

/// What is online after the commit.
fn proposed_files() -> Vec<SiteFile> {
    vec![
        site_file("/index.html", "text/html", "<h1>v2</h1>"),
        site_file(
            "/big.bin",
            "application/octet-stream",
            large_body(2_500_000),
        ),
        site_file("/small.txt", "text/plain", "sent as last_chunk"),
        site_file("/kept.css", "text/css", "body { color: teal }"),
    ]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha(body: &[u8]) -> Option<ByteBuf> {
    Some(ByteBuf::from(Sha256::digest(body).to_vec()))
}

fn call<A: candid::CandidType>(
    client: &mut AssetClient,
    method: &str,
    arg: A,
) -> Result<(), String> {
    let admin = client.controller();
    client.update::<_, ()>(admin, method, (arg,)).map(|_| ())
}

fn create(key: &str, content_type: &str) -> CreateAssetArguments {
    CreateAssetArguments::new(key, content_type)
}

/// Uploads the chunks and proposes the batch; returns its id.
fn propose(client: &mut AssetClient) -> Nat {
    let admin = client.controller();
    let batch = client.create_batch(admin).expect("create_batch");
    let upload = |client: &mut AssetClient, body: &[u8]| -> Vec<Nat> {
        body.chunks(CHUNK)
            .map(|part| client.create_chunk(admin, &batch, part).unwrap().0)
            .collect()
    };
    let files = proposed_files();
    let index_chunks = upload(client, &files[0].body);
    let big_chunks = upload(client, &files[1].body);
    assert_eq!(big_chunks.len(), 3, "a multi-chunk file");
    let mut big = create("/big.bin", "application/octet-stream");
    big.max_age = Some(86_400);
    big.headers = Some(vec![
        ("X-Zeta".into(), "last".into()),
        ("Cache-Control".into(), "public".into()),
    ]);
    big.enable_aliasing = Some(false);
    big.allow_raw_access = Some(false);
    let operations = vec![
        BatchOperationKind::DeleteAsset(DeleteAssetArguments {
            key: "/index.html".into(),
        }),
        BatchOperationKind::CreateAsset(create("/index.html", "text/html")),
        BatchOperationKind::SetAssetContent(SetAssetContentArguments {
            key: "/index.html".into(),
            content_encoding: "identity".into(),
            chunk_ids: index_chunks,
            last_chunk: None,
            sha256: sha(&files[0].body),
        }),
        BatchOperationKind::CreateAsset(big),
        BatchOperationKind::SetAssetContent(SetAssetContentArguments {
            key: "/big.bin".into(),
            content_encoding: "identity".into(),
            chunk_ids: big_chunks,
            last_chunk: None,
            sha256: sha(&files[1].body),
        }),
        BatchOperationKind::CreateAsset(create("/small.txt", "text/plain")),
        BatchOperationKind::SetAssetContent(SetAssetContentArguments {
            key: "/small.txt".into(),
            content_encoding: "identity".into(),
            chunk_ids: vec![],
            last_chunk: Some(ByteBuf::from(files[2].body.clone())),
            sha256: None,
        }),
        BatchOperationKind::SetAssetProperties(SetAssetPropertiesArguments {
            key: "/small.txt".into(),
            max_age: Some(Some(60)),
            headers: Some(Some(vec![("X-Proposed".into(), "yes".into())])),
            allow_raw_access: None,
            is_aliased: Some(None),
        }),
        BatchOperationKind::DeleteAsset(DeleteAssetArguments {
            key: "/old.txt".into(),
        }),
    ];
    call(
        client,
        "propose_commit_batch",
        CommitBatchArguments {
            batch_id: batch.clone(),
            operations,
        },
    )
    .expect("propose_commit_batch");
    batch
}

/// Calls `compute_evidence` one step per call until it answers.
fn compute_evidence(client: &mut AssetClient, batch: &Nat) -> (Vec<u8>, usize) {
    let admin = client.controller();
    let args = ComputeEvidenceArguments {
        batch_id: batch.clone(),
        max_iterations: Some(1),
    };
    for calls in 1..1000 {
        let ((evidence,), _): ((Option<ByteBuf>,), _) = client
            .update(admin, "compute_evidence", (args.clone(),))
            .expect("compute_evidence");
        if let Some(evidence) = evidence {
            return (evidence.into_vec(), calls);
        }
    }
    panic!("compute_evidence never finished");
}

fn proposed(batch: &Nat, evidence: &[u8]) -> CommitProposedBatchArguments {
    CommitProposedBatchArguments {
        batch_id: batch.clone(),
        evidence: ByteBuf::from(evidence.to_vec()),
    }
}

fn validate(client: &mut AssetClient, args: CommitProposedBatchArguments) -> ValidationResult {
    let ((result,), _): ((ValidationResult,), _) = client
        .update(
            Principal::anonymous(),
            "validate_commit_proposed_batch",
            (args,),
        )
        .expect("validate_commit_proposed_batch");
    result
}

fn prepared(wasm: Vec<u8>) -> (AssetClient, Nat, Vec<u8>, usize) {
    let mut client = AssetClient::install(select_backend(), wasm);
    let admin = client.controller();
    client.upload(admin, &online(), CHUNK).expect("upload");
    let batch = propose(&mut client);
    let (evidence, calls) = compute_evidence(&mut client, &batch);
    (client, batch, evidence, calls)
}

pub fn a_proposed_batch_has_dfinitys_evidence_and_commits_with_it_only(wasm: &[u8]) {
    let (_, _, reference_evidence, reference_calls) =
        prepared(fixture_wasm("reference_asset_canister"));
    let (mut client, batch, evidence, calls) = prepared(wasm.to_vec());
    assert_eq!(evidence.len(), 32);
    assert_eq!(
        hex(&evidence),
        hex(&reference_evidence),
        "the evidence DFINITY's asset canister computes for the same batch"
    );
    assert_eq!(calls, reference_calls, "in as many steps");
    println!("  evidence {} in {calls} calls on both", hex(&evidence));

    // Nothing changed yet, and a wrong evidence is refused and changes nothing.
    let before = client.list();
    let mut wrong = evidence.clone();
    wrong[31] ^= 0xff;
    let refusal = call(
        &mut client,
        "commit_proposed_batch",
        proposed(&batch, &wrong),
    )
    .expect_err("a wrong evidence is refused");
    assert!(
        refusal.contains("does not match presented evidence"),
        "{refusal}"
    );
    assert!(validate(&mut client, proposed(&batch, &wrong)).is_err());
    assert_eq!(client.list(), before);
    client.assert_all_verify(&online());

    assert_eq!(
        validate(&mut client, proposed(&batch, &evidence)),
        Ok(format!(
            "commit proposed batch {batch} with evidence {}",
            hex(&evidence)
        ))
    );
    call(
        &mut client,
        "commit_proposed_batch",
        proposed(&batch, &evidence),
    )
    .expect("commit_proposed_batch with the evidence");
    client.assert_all_verify(&proposed_files());
    assert!(!client.verifies_with_body("/old.txt", b"going away"));
    assert!(!client.verifies_with_body("/index.html", b"<h1>v1</h1>"));
    let small = client.fetch_verified(&url_of("/small.txt"));
    assert_eq!(small.header("x-proposed"), Some("yes"));
    let big = client.fetch_verified(&url_of("/big.bin"));
    assert_eq!(big.header("x-zeta"), Some("last"));
    // Committed once: the batch is gone.
    assert!(
        call(
            &mut client,
            "commit_proposed_batch",
            proposed(&batch, &evidence)
        )
        .is_err()
    );
}
