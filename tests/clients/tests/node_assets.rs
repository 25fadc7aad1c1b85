//! DFINITY's JavaScript upload client from npm, unmodified and pinned: the
//! `AssetManager` of `@dfinity/assets` on an `HttpAgent` of
//! `@dfinity/agent`, with the agent's default verification (root key
//! fetched, query signatures checked), run by Node against the local
//! replica endpoint. `tests/clients/node/assets.mjs` drives it;
//! `scripts/install-clients.sh` installs the packages there with `npm ci`
//! from the committed `package-lock.json`. Every file is then checked
//! through `http_request` with `ic-response-verification`.
//!
//! Without `node` the test says SKIPPED; with `node` but without the
//! installed packages it fails, so a failed install never passes quietly.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use asset_clients::check::{self, SiteConfig};
use asset_clients::client::{Client, ed25519_identity, gateway_request, now_ns, verifier};
use asset_clients::site::{self, Files};
use asset_clients::{harness, versions};
use candid::{Decode, Encode, Principal};
use ic_agent::Identity as _;
use wasm_host::replica::Replica;

const CASES: &[harness::Case] = &[
    (
        "the_installed_packages_are_the_pinned_versions",
        the_installed_packages_are_the_pinned_versions,
    ),
    (
        "asset_manager_syncs_updates_and_clears_a_site_and_every_file_verifies",
        asset_manager_syncs_updates_and_clears_a_site_and_every_file_verifies,
    ),
    (
        "a_chunked_upload_hashed_out_of_order_is_refused_not_certified",
        a_chunked_upload_hashed_out_of_order_is_refused_not_certified,
    ),
];

/// The Node binary: `NODE`, or `node` on the `PATH`.
fn node() -> PathBuf {
    std::env::var_os("NODE").map_or_else(|| PathBuf::from("node"), PathBuf::from)
}

fn main() {
    // The versions named are the ones installed (the first case checks
    // them against the pins).
    let installed = |package| {
        installed_version(package)
            .unwrap_or_else(|| format!("(not installed; {} pinned)", versions::ASSETS_JS))
    };
    let client = format!("@dfinity/assets {}", installed("@dfinity/assets"));
    let node_version = match Command::new(node()).arg("--version").output() {
        Ok(output) if output.status.success() => {
            String::from_utf8_lossy(&output.stdout).trim().to_string()
        }
        _ => {
            println!(
                "client: {client} SKIPPED: no `node` (set NODE, or install Node.js 20+ and run scripts/install-clients.sh)"
            );
            return;
        }
    };
    harness::run(
        &client,
        &format!(
            "@dfinity/agent {} on Node {node_version}, from {}/node_modules, over the local replica endpoint wasm-host::replica",
            installed("@dfinity/agent"),
            versions::node_dir().display()
        ),
        CASES,
    );
}

/// The `"version"` of `tests/clients/node/node_modules/<package>`.
fn installed_version(package: &str) -> Option<String> {
    let manifest = versions::node_dir().join(format!("node_modules/{package}/package.json"));
    json_string_field(&std::fs::read_to_string(manifest).ok()?, "version")
}

/// The first `"field": "value"` in a JSON text (package manifests put
/// their own version before any nested one).
fn json_string_field(json: &str, field: &str) -> Option<String> {
    let rest = &json[json.find(&format!("\"{field}\""))? + field.len() + 2..];
    let rest = rest.trim_start().strip_prefix(':')?.trim_start();
    let rest = rest.strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_string())
}

fn the_installed_packages_are_the_pinned_versions(_: &[u8]) {
    let dir = versions::node_dir();
    let manifest = std::fs::read_to_string(dir.join("package.json")).expect("package.json");
    let lock = std::fs::read_to_string(dir.join("package-lock.json")).expect("package-lock.json");
    for (package, version) in versions::NODE_PACKAGES {
        assert!(
            manifest.contains(&format!("\"{package}\": \"{version}\"")),
            "package.json does not pin {package} to exactly {version}"
        );
        let locked = &lock[lock
            .find(&format!("\"node_modules/{package}\""))
            .unwrap_or_else(|| panic!("package-lock.json has no {package}"))..];
        assert_eq!(
            json_string_field(locked, "version").as_deref(),
            Some(*version),
            "package-lock.json locks another {package}"
        );
        assert_eq!(
            installed_version(package).as_deref(),
            Some(*version),
            "{package} {version} is not installed in {}/node_modules: run scripts/install-clients.sh",
            dir.display()
        );
    }
}

/// Runs `node assets.mjs <url> <canister> <seed> <args>` and returns the
/// JSON of its `result` line, or its output if it failed.
fn assets_js(
    replica: &Replica,
    canister: Principal,
    seed: u8,
    args: &[&str],
) -> Result<String, String> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (stdout, stderr) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let mut child = Command::new(node())
        .arg(versions::node_dir().join("assets.mjs"))
        .arg(replica.url())
        .arg(canister.to_text())
        .arg(hex(&[seed; 32]))
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout).expect("stdout file"))
        .stderr(std::fs::File::create(&stderr).expect("stderr file"))
        .spawn()
        .expect("node runs");
    // A client that hangs fails the test instead of stalling CI.
    let deadline = Instant::now() + Duration::from_secs(600);
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for node") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break child.wait().expect("waiting for node");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = format!(
        "{}{}",
        std::fs::read_to_string(&stdout).unwrap_or_default(),
        std::fs::read_to_string(&stderr).unwrap_or_default()
    );
    match output.lines().find_map(|l| l.strip_prefix("result ")) {
        Some(result) if status.success() => Ok(result.to_string()),
        _ => Err(format!(
            "node assets.mjs {} ({status}):\n{}",
            args.join(" "),
            output.chars().take(4000).collect::<String>()
        )),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn asset_manager_syncs_updates_and_clears_a_site_and_every_file_verifies(wasm: &[u8]) {
    const DEPLOYER: u8 = 21;
    const UPLOADER: u8 = 23;
    let replica = Replica::start().expect("replica");
    let deployer = Client::connect(&replica.url(), ed25519_identity(DEPLOYER)).expect("agent");
    let canister = deployer
        .deploy(wasm)
        .expect("deploy through the management canister");
    let dir = tempfile::tempdir().expect("temporary directory");
    let site_dir = dir.path().join("dist");
    let dist = site_dir.to_str().expect("a UTF-8 path");

    // The script's identity is the Ed25519 key ic-agent makes from the same
    // seed; until it is authorized, the canister refuses its uploads.
    let uploader = ed25519_identity(UPLOADER).sender().expect("a principal");
    let whoami = assets_js(&replica, canister, UPLOADER, &["whoami"]).expect("whoami");
    assert!(whoami.contains(&uploader.to_text()), "{whoami}");
    let refused = assets_js(&replica, canister, UPLOADER, &["clear"])
        .expect_err("clear by an identity without permission");
    assert!(refused.contains("Reject"), "{refused}");
    deployer
        .update(canister, "authorize", Encode!(&uploader).unwrap())
        .expect("authorize");

    // First deploy: the small files in one `batch()` commit, the big file
    // through `store`, which chunks it.
    let first = site::first_version();
    site::write_files(&site_dir, &first).expect("writing the site");
    let synced = assets_js(&replica, canister, UPLOADER, &["sync", dist]).expect("sync");
    assert!(synced.contains(site::BIG_KEY), "{synced}");
    check::check_site_with(&replica, &deployer, canister, &first, &[], SiteConfig::None);
    let spot_checks = [
        site::BIG_KEY,
        "/index.html",
        "/docs/guide/index.html",
        "/unicode/h\u{e9}llo w\u{f6}rld \u{2713}.txt",
        "/many/00/file-0000.txt",
    ];
    let mut args = vec!["check", dist];
    args.extend(spot_checks);
    assets_js(&replica, canister, UPLOADER, &args).expect("get, verifySha256 and isCertified");

    // Second deploy: changed, added and deleted files, one `store` or
    // `delete` call each; the changed big file chunked again.
    let (second, deleted) = site::second_version();
    site::write_files(&site_dir, &second).expect("writing the site");
    let synced = assets_js(
        &replica,
        canister,
        UPLOADER,
        &["sync", dist, "--one-by-one"],
    )
    .expect("sync, one by one");
    assert!(synced.contains(site::BIG_KEY), "{synced}");
    check::check_site_with(
        &replica,
        &deployer,
        canister,
        &second,
        &deleted,
        SiteConfig::None,
    );
    assert_gone(&replica, &deployer, canister, &first, &deleted);
    let mut args = vec!["check", dist, site::BIG_KEY, "/index.html"];
    args.extend(
        second
            .keys()
            .filter(|k| k.starts_with("/added/"))
            .map(String::as_str),
    );
    assets_js(&replica, canister, UPLOADER, &args).expect("get, verifySha256 and isCertified");

    // `clear` empties the canister: nothing is listed, nothing old verifies.
    let cleared = assets_js(&replica, canister, UPLOADER, &["clear"]).expect("clear");
    assert!(cleared.contains("\"listed\":0"), "{cleared}");
    assert_eq!(
        listed_keys(&deployer, canister),
        Vec::<String>::new(),
        "the canister lists assets after clear"
    );
    // Every tenth file and the big one stand for the site (every one of
    // them would add half a minute).
    let sample: Vec<String> = second.keys().step_by(10).cloned().collect();
    assert_gone(&replica, &deployer, canister, &second, &sample);
    assert_gone(
        &replica,
        &deployer,
        canister,
        &second,
        &[site::BIG_KEY.into()],
    );
}

/// `AssetManagerBatch.store` hashes a chunked file in the order its chunk
/// reads finish, which concurrent reads do not keep (a bug of the client,
/// in every version to 3.4.3; `sync` above passes the sha256 itself).
/// DFINITY's asset canister certifies the hash it is given, so such a file
/// is served with a certificate no gateway accepts; ours hashes every byte
/// it certifies and refuses the commit, so nothing wrong is ever served.
fn a_chunked_upload_hashed_out_of_order_is_refused_not_certified(wasm: &[u8]) {
    const DEPLOYER: u8 = 25;
    let replica = Replica::start().expect("replica");
    let deployer = Client::connect(&replica.url(), ed25519_identity(DEPLOYER)).expect("agent");
    let canister = deployer.deploy(wasm).expect("deploy");
    let key = "/out of order/reversed.bin";
    let result = assets_js(&replica, canister, DEPLOYER, &["check-chunk-order", key])
        .expect("check-chunk-order");
    assert!(result.contains("\"committed\":false"), "{result}");
    assert!(result.contains("sha256 mismatch"), "{result}");
    assert_eq!(listed_keys(&deployer, canister), Vec::<String>::new());
}

#[derive(candid::CandidType, candid::Deserialize)]
struct ListArguments {}

#[derive(candid::CandidType, candid::Deserialize)]
struct ListedAsset {
    key: String,
}

fn listed_keys(client: &Client, canister: Principal) -> Vec<String> {
    let reply = client
        .query(canister, "list", Encode!(&ListArguments {}).unwrap())
        .expect("list");
    let listed = Decode!(&reply, Vec<ListedAsset>).expect("list reply");
    listed.into_iter().map(|asset| asset.key).collect()
}

/// No old body of `keys` is served with a certificate that verifies.
fn assert_gone(
    replica: &Replica,
    client: &Client,
    canister: Principal,
    old: &Files,
    keys: &[String],
) {
    let verifier = verifier(canister, replica.root_key_der());
    for key in keys {
        let request = gateway_request(canister, &site::url_of(key));
        let response = client.fetch(canister, &request).expect("fetch");
        assert!(
            verifier.verify(&request, &response, now_ns()).is_err() || response.body != old[key],
            "{key} was removed but its old content still verifies"
        );
    }
}
