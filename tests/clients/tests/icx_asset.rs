//! The `icx-asset` CLI from crates.io, unmodified and pinned (installed by
//! `scripts/install-clients.sh`, which `scripts/test.sh` runs), pointed at
//! the local replica endpoint with `--replica`: `sync`, `ls` and `upload`,
//! with every file checked by `ic-response-verification` afterwards.

use std::path::Path;
use std::process::Command;

use asset_clients::client::{
    Client, ed25519_identity, ed25519_pem, gateway_request, now_ns, verifier,
};
use asset_clients::{check, harness, site, versions};
use wasm_host::replica::Replica;

const CASES: &[harness::Case] = &[
    (
        "the_installed_icx_asset_is_the_pinned_version",
        the_installed_icx_asset_is_the_pinned_version,
    ),
    (
        "icx_asset_syncs_lists_and_uploads_and_every_file_verifies",
        icx_asset_syncs_lists_and_uploads_and_every_file_verifies,
    ),
];

fn main() {
    let client = format!("icx-asset {}", versions::ICX_ASSET);
    let binary = versions::icx_asset_binary();
    if !binary.exists() {
        println!(
            "client: {client} SKIPPED: not installed at {} (scripts/install-clients.sh installs it; scripts/test.sh runs that)",
            binary.display()
        );
        return;
    }
    harness::run(
        &client,
        &format!(
            "crates.io binary {}, --replica at the local replica endpoint",
            binary.display()
        ),
        CASES,
    );
}

fn the_installed_icx_asset_is_the_pinned_version(_: &[u8]) {
    let output = Command::new(versions::icx_asset_binary())
        .arg("--version")
        .output()
        .expect("icx-asset runs");
    let version = String::from_utf8_lossy(&output.stdout);
    assert!(
        version.trim().ends_with(versions::ICX_ASSET),
        "icx-asset --version says {version:?}"
    );
    let script =
        std::fs::read_to_string(harness::workspace_root().join("scripts/install-clients.sh"))
            .expect("scripts/install-clients.sh");
    assert!(
        script.contains(&format!("ICX_ASSET_VERSION={}", versions::ICX_ASSET)),
        "scripts/install-clients.sh pins another icx-asset version"
    );
}

/// Runs `icx-asset --replica <endpoint> --pem <pem> --ttl 5m <args>`.
///
/// Why `--ttl 5m`: `sync` signs one `get_asset_properties` query per asset
/// up front (about 640 here) and the endpoint answers them one at a time;
/// on a loaded 2-core machine the last ones outlived the default 3-minute
/// expiry (rounded down to the minute) and the endpoint refused them, as a
/// replica would. A replica answers queries in parallel; ours does not.
fn icx_asset(replica: &Replica, pem: &Path, args: &[&str]) -> String {
    let output = Command::new(versions::icx_asset_binary())
        .arg("--replica")
        .arg(replica.url())
        .arg("--pem")
        .arg(pem)
        .args(["--ttl", "5m"])
        .args(args)
        .output()
        .expect("icx-asset runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "icx-asset {} failed ({}):\n{text}",
        args.join(" "),
        output.status
    );
    text
}

/// The `(key, length, content encoding)` of each line `icx-asset ls`
/// prints: `<date> <time> UTC <length> <key, padded> (<type>, <encoding>)`.
fn listed_encodings(listing: &str) -> Vec<(String, usize, String)> {
    listing
        .lines()
        .filter_map(|line| {
            let (_, rest) = line.split_once(" UTC ")?;
            let (length, rest) = rest.trim_start().split_once(' ')?;
            let (key, kinds) = rest.rsplit_once(" (")?;
            let (_, encoding) = kinds.strip_suffix(')')?.rsplit_once(", ")?;
            Some((
                key.trim_end().to_string(),
                length.parse().ok()?,
                encoding.to_string(),
            ))
        })
        .collect()
}

fn icx_asset_syncs_lists_and_uploads_and_every_file_verifies(wasm: &[u8]) {
    const SEED: u8 = 11;
    let replica = Replica::start().expect("replica");
    let deployer = Client::connect(&replica.url(), ed25519_identity(SEED)).expect("agent");
    let canister = deployer
        .deploy(wasm)
        .expect("deploy through the management canister");
    let id = canister.to_text();
    let dir = tempfile::tempdir().expect("temporary directory");
    let pem = dir.path().join("identity.pem");
    std::fs::write(&pem, ed25519_pem(SEED)).expect("writing the PEM");
    let site_dir = dir.path().join("dist");
    let dist = site_dir.to_str().expect("a UTF-8 path");

    let first = site::first_version();
    site::write(&site_dir, &first).expect("writing the site");
    icx_asset(&replica, &pem, &["sync", &id, dist]);
    check::check_site(&replica, &deployer, canister, &first, &[]);

    // `ls` logs one line per encoding through slog-async, whose queue
    // drops lines when the terminal writer falls behind (it then prints
    // "logger dropped messages"): on a loaded 2-core machine it has shown
    // anywhere from 81 to 557 of these 631 keys. So no count is required;
    // every line it does show must be an encoding of the site with the
    // right length, and at least one must be shown.
    let listing = icx_asset(&replica, &pem, &["ls", &id]);
    let shown = listed_encodings(&listing);
    assert!(
        !shown.is_empty(),
        "icx-asset ls shows no entries:\n{listing}"
    );
    for (key, length, encoding) in &shown {
        let body = first
            .get(key)
            .unwrap_or_else(|| panic!("icx-asset ls shows {key:?}, which the site does not hold"));
        if encoding == "identity" {
            assert_eq!(*length, body.len(), "icx-asset ls: the length of {key}");
        }
    }
    println!(
        "icx-asset ls showed {} encodings of {} keys (its logger drops lines under load)",
        shown.len(),
        first.len()
    );
    for key in site::IGNORED {
        assert!(!listing.contains(key), "icx-asset ls lists ignored {key}");
    }

    let (second, deleted) = site::second_version();
    site::write(&site_dir, &second).expect("writing the site");
    icx_asset(&replica, &pem, &["sync", &id, dist]);
    check::check_site(&replica, &deployer, canister, &second, &deleted);

    let extra = dir.path().join("uploaded.txt");
    std::fs::write(&extra, b"uploaded with icx-asset upload\n").expect("writing a file");
    let key = "/uploads/by icx-asset.txt";
    icx_asset(
        &replica,
        &pem,
        &["upload", &id, &format!("{key}={}", extra.display())],
    );
    let request = gateway_request(canister, &site::url_of(key));
    let response = deployer.fetch(canister, &request).expect("fetch");
    verifier(canister, replica.root_key_der())
        .verify(&request, &response, now_ns())
        .unwrap_or_else(|e| panic!("{key} does not verify: {e}"));
    assert_eq!(response.body, b"uploaded with icx-asset upload\n");
}
