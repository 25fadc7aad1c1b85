//! DFINITY's `icp` CLI (icp-cli), the binary npm ships, unmodified and
//! pinned (`tests/clients/node/package.json`, installed by `npm ci` from
//! `scripts/install-clients.sh`), pointed at the local replica endpoint as
//! a `connected` network with its root key pinned: `icp deploy` upgrades a
//! linked canister to our wasm, `icp canister status` reads it back, and
//! every asset stored before still verifies. A wasm over 2 MiB is
//! installed the way icp-cli installs one (`operations/install.rs`): its
//! 1 MiB chunks uploaded with `upload_chunk`, then `install_chunked_code`,
//! the store cleared before and after.
//!
//! What icp-cli cannot do here, and so is not tested: create the canister
//! (on a connected network it asks the cycles minting canister for a
//! subnet first, and the endpoint hosts only the management canister), and
//! upload assets (icp-cli 1.x dropped its built-in `assets` sync step; the
//! `@dfinity/asset-canister` recipe's sync plugin is a wasm from a GitHub
//! release, not a registry package).
//!
//! Without the binary and without `node` the test says SKIPPED; with `node`
//! it fails, so a failed install never passes quietly.

use std::path::Path;
use std::process::Command;

use asset_clients::client::{
    Client, ed25519_identity, ed25519_pem, gateway_request, now_ns, verifier,
};
use asset_clients::{harness, site, versions};
use candid::{CandidType, Encode};
use ic_agent::Identity as _;
use serde_bytes::ByteBuf;
use wasm_host::append_custom_section;
use wasm_host::replica::Replica;

const CASES: &[harness::Case] = &[
    (
        "the_installed_icp_cli_is_the_pinned_version",
        the_installed_icp_cli_is_the_pinned_version,
    ),
    (
        "icp_deploy_upgrades_the_canister_and_every_asset_still_verifies",
        icp_deploy_upgrades_the_canister_and_every_asset_still_verifies,
    ),
    (
        "icp_deploy_installs_a_wasm_over_2_mib_in_chunks_and_every_asset_still_verifies",
        icp_deploy_installs_a_wasm_over_2_mib_in_chunks_and_every_asset_still_verifies,
    ),
];

fn main() {
    let client = format!("icp-cli {}", versions::ICP_CLI);
    let binary = versions::icp_cli_binary();
    let has_node = Command::new("node").arg("--version").output().is_ok();
    if !binary.exists() && !has_node {
        println!(
            "client: {client} SKIPPED: not installed at {} and no node/npm to install it (scripts/install-clients.sh)",
            binary.display()
        );
        return;
    }
    harness::run(
        &client,
        &format!(
            "npm's @icp-sdk/icp-cli-linux-x64 at {}, a connected network at the local replica endpoint",
            binary.display()
        ),
        CASES,
    );
}

fn the_installed_icp_cli_is_the_pinned_version(_: &[u8]) {
    let output = Command::new(versions::icp_cli_binary())
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("icp does not run ({e}): run scripts/install-clients.sh"));
    let version = String::from_utf8_lossy(&output.stdout);
    assert_eq!(version.trim(), format!("icp {}", versions::ICP_CLI));
}

/// Runs `icp <args>` in `project` with its own `HOME` (identities live
/// there) and telemetry off, and returns what it printed.
fn icp(home: &Path, project: &Path, args: &[&str]) -> String {
    let output = Command::new(versions::icp_cli_binary())
        .args(args)
        .current_dir(project)
        .env("HOME", home)
        .env("ICP_TELEMETRY_DISABLED", "1")
        .env("DO_NOT_TRACK", "1")
        .output()
        .expect("icp runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "icp {} failed ({}):\n{}",
        args.join(" "),
        output.status,
        text.chars().take(4000).collect::<String>()
    );
    text
}

#[derive(CandidType)]
struct StoreArguments {
    key: String,
    content_type: String,
    content_encoding: String,
    content: ByteBuf,
    sha256: Option<ByteBuf>,
}

fn icp_deploy_upgrades_the_canister_and_every_asset_still_verifies(wasm: &[u8]) {
    icp_deploy_upgrades_to(wasm, wasm);
}

/// icp-cli installs in chunks once the module, its argument and 500 bytes
/// for the encoding pass 2 MiB; the wasm is padded to about 2.3 MiB, three
/// chunks, whatever size the build has today.
fn icp_deploy_installs_a_wasm_over_2_mib_in_chunks_and_every_asset_still_verifies(wasm: &[u8]) {
    const MIB: usize = 1024 * 1024;
    let padding = (2 * MIB + 3 * MIB / 10)
        .saturating_sub(wasm.len())
        .max(MIB / 4);
    let padded = append_custom_section(wasm, "padding", &vec![0; padding]);
    assert!(padded.len() > 2 * MIB, "{} bytes", padded.len());

    let replica = icp_deploy_upgrades_to(wasm, &padded);
    let chunks = padded.len().div_ceil(MIB) as u64;
    let replies = |method| replica.management_replies(method);
    assert_eq!(replies("upload_chunk"), chunks);
    assert_eq!(replies("install_chunked_code"), 1);
    assert_eq!(replies("clear_chunk_store"), 2, "before and after");
    assert_eq!(replies("install_code"), 1, "only the first install, ours");
}

/// Installs `installed` with the agent, stores two assets, has icp-cli
/// upgrade the canister to `deployed`, and checks the module hash icp-cli
/// and the agent read and that every asset still verifies. Returns the
/// replica, for what a case checks further.
fn icp_deploy_upgrades_to(installed: &[u8], deployed: &[u8]) -> Replica {
    const SEED: u8 = 41;
    let replica = Replica::start().expect("replica");
    let deployer = Client::connect(&replica.url(), ed25519_identity(SEED)).expect("agent");
    let canister = deployer.deploy(installed).expect("deploy");
    let assets = [
        (
            "/index.html",
            "text/html",
            &b"<h1>deployed by icp</h1>\n"[..],
        ),
        ("/with space/h\u{e9}llo.txt", "text/plain", b"hello\n"),
    ];
    for (key, content_type, body) in assets {
        let arg = StoreArguments {
            key: key.into(),
            content_type: content_type.into(),
            content_encoding: "identity".into(),
            content: ByteBuf::from(body.to_vec()),
            sha256: None,
        };
        deployer
            .update(canister, "store", Encode!(&arg).unwrap())
            .expect("store");
    }

    // The project: the wasm as a pre-built build step, the endpoint as a
    // connected network with its root key pinned, the deployer's key
    // imported as an icp identity.
    let dir = tempfile::tempdir().expect("temporary directory");
    let (home, project) = (dir.path().join("home"), dir.path().join("project"));
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(project.join("asset_server.wasm"), deployed).unwrap();
    std::fs::write(project.join("deployer.pem"), ed25519_pem(SEED)).unwrap();
    let root_key: String = replica
        .root_key_der()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    std::fs::write(
        project.join("icp.yaml"),
        format!(
            "canisters:\n  - name: frontend\n    build:\n      steps:\n        - type: pre-built\n          path: asset_server.wasm\n\
             networks:\n  - name: replica-endpoint\n    mode: connected\n    url: {}\n    root-key: {root_key}\n\
             environments:\n  - name: test\n    network: replica-endpoint\n    canisters: [frontend]\n",
            replica.url()
        ),
    )
    .unwrap();
    icp(
        &home,
        &project,
        &[
            "identity",
            "import",
            "--storage",
            "plaintext",
            "--from-pem",
            "deployer.pem",
            "deployer",
        ],
    );
    let principal = icp(
        &home,
        &project,
        &["identity", "principal", "--identity", "deployer"],
    );
    let deployer_principal = ed25519_identity(SEED).sender().unwrap();
    assert!(
        principal.contains(&deployer_principal.to_text()),
        "{principal}"
    );

    let id = canister.to_text();
    icp(
        &home,
        &project,
        &["canister", "link", "frontend", &id, "-e", "test"],
    );
    let output = icp(
        &home,
        &project,
        &[
            "deploy",
            "-e",
            "test",
            "-y",
            "--no-create",
            "--mode",
            "upgrade",
            "--identity",
            "deployer",
        ],
    );
    assert!(output.contains(&id), "{output}");

    // canister_status as icp-cli decodes it (the current record, with
    // `status_visibility` and `minimum_incoming_canister_call_cycles`).
    let status = icp(
        &home,
        &project,
        &[
            "canister",
            "status",
            "frontend",
            "-e",
            "test",
            "--identity",
            "deployer",
        ],
    );
    assert!(
        status.contains(&format!("Module hash: 0x{}", hex_sha256(deployed))),
        "{status}"
    );
    assert!(status.contains(&deployer_principal.to_text()), "{status}");

    let verifier = verifier(canister, replica.root_key_der());
    for (key, _, body) in assets {
        let request = gateway_request(canister, &site::url_of(key));
        let response = deployer.fetch(canister, &request).expect("fetch");
        verifier
            .verify(&request, &response, now_ns())
            .unwrap_or_else(|e| panic!("{key} does not verify after icp deploy: {e}"));
        assert_eq!(response.body, body, "{key}");
    }
    assert_eq!(
        deployer.module_hash(canister).expect("canister_status"),
        Some(sha256(deployed))
    );
    replica
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).to_vec()
}

fn hex_sha256(bytes: &[u8]) -> String {
    sha256(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
