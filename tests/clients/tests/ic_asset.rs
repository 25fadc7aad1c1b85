//! `ic-asset` (the sync code `dfx deploy` runs), unmodified, through a real
//! `ic_agent::Agent` over HTTP to the local replica endpoint, with the
//! agent's default verification. A plain harness so the output names the
//! client and its version once and each case as it runs.

use std::path::Path;

use asset_clients::client::{
    Client, ed25519_identity, gateway_request, now_ns, secp256k1_identity, verifier,
};
use asset_clients::site;
use asset_clients::{check, harness, versions};
use candid::{Decode, Encode, Principal};
use ic_agent::Identity as _;
use ic_utils::interfaces::management_canister::builders::CanisterInstallMode;
use wasm_host::replica::Replica;

const CASES: &[harness::Case] = &[
    (
        "the_versions_named_are_the_versions_locked",
        the_versions_named_are_the_versions_locked,
    ),
    (
        "replica_endpoint_refuses_bad_envelopes_like_a_replica",
        replica_endpoint_refuses_bad_envelopes_like_a_replica,
    ),
    (
        "ic_asset_syncs_a_site_and_every_file_verifies",
        ic_asset_syncs_a_site_and_every_file_verifies,
    ),
];

fn main() {
    harness::run(
        &format!("ic-asset {}", versions::IC_ASSET),
        &format!(
            "ic-agent {}, over the local replica endpoint wasm-host::replica",
            versions::IC_AGENT
        ),
        CASES,
    );
}

fn the_versions_named_are_the_versions_locked(_: &[u8]) {
    let lock =
        std::fs::read_to_string(harness::workspace_root().join("Cargo.lock")).expect("Cargo.lock");
    for (name, version) in versions::LOCKED {
        let entry = format!("name = \"{name}\"\nversion = \"{version}\"");
        assert!(lock.contains(&entry), "Cargo.lock has no {name} {version}");
    }
}

// ---- the endpoint itself, as a replica answers ----

fn post(url: &str, body: &[u8]) -> (u16, Vec<u8>) {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("http url");
    let (host, path) = rest.split_once('/').expect("a path");
    let mut stream = std::net::TcpStream::connect(host).expect("connect");
    write!(
        stream,
        "POST /{path} HTTP/1.0\r\nHost: {host}\r\nContent-Type: application/cbor\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers end");
    let status: u16 = String::from_utf8_lossy(&response[9..12]).parse().unwrap();
    (status, response[split + 4..].to_vec())
}

fn replica_endpoint_refuses_bad_envelopes_like_a_replica(wasm: &[u8]) {
    let replica = Replica::start().expect("replica");
    let client = Client::connect(&replica.url(), ed25519_identity(1)).expect("agent");
    let runtime = &client.runtime;
    let status = runtime.block_on(client.agent.status()).expect("status");
    assert_eq!(
        status.root_key.as_deref(),
        Some(&replica.root_key_der()[..])
    );
    assert_eq!(replica.root_key_der().len(), 133);

    let canister = client.deploy(wasm).expect("deploy");
    assert_eq!(
        client.module_hash(canister).expect("canister_status"),
        Some(sha256(wasm)),
        "canister_status reports the installed module's hash"
    );
    let base = format!("{}/api/v2/canister/{canister}", replica.url());

    // Malformed CBOR.
    let (code, body) = post(&format!("{base}/query"), b"\xff\xff not cbor");
    assert_eq!(code, 400, "{}", String::from_utf8_lossy(&body));

    // A signed query whose sender was swapped for another principal.
    let signed = client
        .agent
        .query(&canister, "api_version")
        .with_arg(Encode!().unwrap())
        .sign()
        .expect("sign");
    let mut envelope: serde_cbor::Value =
        serde_cbor::from_slice(&signed.signed_query).expect("cbor");
    if let serde_cbor::Value::Map(map) = &mut envelope
        && let Some(serde_cbor::Value::Map(content)) =
            map.get_mut(&serde_cbor::Value::Text("content".into()))
    {
        content.insert(
            serde_cbor::Value::Text("sender".into()),
            serde_cbor::Value::Bytes(ed25519_identity(2).sender().unwrap().as_slice().to_vec()),
        );
    }
    let (code, body) = post(
        &format!("{base}/query"),
        &serde_cbor::to_vec(&envelope).unwrap(),
    );
    let text = String::from_utf8_lossy(&body);
    assert_eq!(code, 400, "{text}");
    assert!(text.contains("Failed to authenticate request"), "{text}");

    // The unmodified envelope is answered.
    let (code, _) = post(&format!("{base}/query"), &signed.signed_query);
    assert_eq!(code, 200);

    // Expired ingress.
    let expired = client
        .agent
        .query(&canister, "api_version")
        .with_arg(Encode!().unwrap())
        .expire_at(std::time::SystemTime::now() - std::time::Duration::from_secs(60))
        .sign()
        .expect("sign");
    let (code, body) = post(&format!("{base}/query"), &expired.signed_query);
    let text = String::from_utf8_lossy(&body);
    assert_eq!(code, 400, "{text}");
    assert!(text.contains("Invalid request expiry"), "{text}");

    // A canister the replica does not host: the agent gets the replica's
    // reject (or refusal), never a hang or a panic.
    let unknown = Principal::from_slice(&[0, 0, 0, 0, 0, 0x0f, 0, 1, 1, 1]);
    let error = runtime
        .block_on(
            client
                .agent
                .query(&unknown, "api_version")
                .with_arg(Encode!().unwrap())
                .call(),
        )
        .expect_err("no such canister");
    assert!(error.to_string().contains("not found"), "{error}");

    // A method the canister does not have: reject code 5, IC0536.
    let error = client
        .update(canister, "no_such_method", Encode!().unwrap())
        .expect_err("no such method");
    assert!(
        error.contains("IC0536") || error.contains("no update method"),
        "{error}"
    );

    // The agent's own calls work with verification on: a query (node
    // signature checked) and an update (certificate checked).
    let reply = client
        .query(canister, "api_version", Encode!().unwrap())
        .expect("api_version");
    assert_eq!(Decode!(&reply, u16).unwrap(), 2);
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).to_vec()
}

// ---- ic-asset's sync ----

fn ic_asset_syncs_a_site_and_every_file_verifies(wasm: &[u8]) {
    let replica = Replica::start().expect("replica");
    let deployer = Client::connect(&replica.url(), ed25519_identity(7)).expect("agent");
    let canister = deployer
        .deploy(wasm)
        .expect("deploy through the management canister");
    let dir = tempfile::tempdir().expect("temporary directory");
    let site_dir = dir.path().join("dist");

    // First deploy, as the Ed25519 identity that installed the canister.
    let first = site::first_version();
    site::write(&site_dir, &first).expect("writing the site");
    sync(&deployer, canister, &site_dir);
    check::check_site(&replica, &deployer, canister, &first, &[]);

    // A second identity (secp256k1, dfx's default) gets Commit and
    // deploys the changes: changed, added and deleted files.
    let uploader = Client::connect(&replica.url(), secp256k1_identity(9)).expect("agent");
    deployer
        .update(
            canister,
            "authorize",
            Encode!(&uploader.principal()).unwrap(),
        )
        .expect("authorize");
    let (second, deleted) = site::second_version();
    site::write(&site_dir, &second).expect("writing the site");
    sync(&uploader, canister, &site_dir);
    check::check_site(&replica, &uploader, canister, &second, &deleted);
    for key in &deleted {
        let old = &first[key];
        let request = gateway_request(canister, &site::url_of(key));
        let response = uploader.fetch(canister, &request).expect("fetch");
        let verdict =
            verifier(canister, replica.root_key_der()).verify(&request, &response, now_ns());
        assert!(
            verdict.is_err() || response.body != *old,
            "{key} was deleted but its old content still verifies"
        );
    }

    // An upgrade through the management canister keeps every asset.
    deployer
        .install(canister, wasm, CanisterInstallMode::Upgrade(None))
        .expect("upgrade");
    check::check_site(&replica, &deployer, canister, &second, &deleted);
}

fn sync(client: &Client, canister: Principal, dir: &Path) {
    let canister = ic_utils::Canister::builder()
        .with_agent(&client.agent)
        .with_canister_id(canister)
        .build()
        .expect("canister");
    let logger = slog::Logger::root(slog::Discard, slog::o!());
    client
        .runtime
        .block_on(ic_asset::sync(&canister, &[dir], false, &logger, None))
        .unwrap_or_else(|e| panic!("ic_asset::sync failed: {e:?}"));
}
