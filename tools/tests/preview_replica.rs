//! The preview is a replica too: the `preview` binary, started as
//! `scripts/preview.sh` starts it, prints a replica endpoint over the same
//! hosted canister; the real `icx-asset` (crates.io, installed by
//! `scripts/install-clients.sh`) syncs a directory through it as the
//! principal named with `--controller`, and the preview's gateway serves the
//! synced files at once, verified. An identity not named may not upload.

#![cfg(feature = "agent")]

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use asset_tools::site::workspace_root;
use common::http_get;
use ic_agent::Identity as _;
use ic_agent::identity::BasicIdentity;

/// `icx-asset` as `scripts/install-clients.sh` installs it (the version is
/// read from the script, the one place it is pinned), or `ICX_ASSET`.
fn icx_asset_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("ICX_ASSET") {
        return PathBuf::from(path);
    }
    let script = std::fs::read_to_string(workspace_root().join("scripts/install-clients.sh"))
        .expect("scripts/install-clients.sh");
    let version = script
        .lines()
        .find_map(|line| line.strip_prefix("ICX_ASSET_VERSION="))
        .expect("the script pins ICX_ASSET_VERSION")
        .trim();
    workspace_root().join(format!("target/clients/icx-asset-{version}/bin/icx-asset"))
}

/// A PKCS#8 PEM of an Ed25519 key with a fixed seed, as
/// `dfx identity export` writes one, and its principal.
fn ed25519_pem(seed: u8) -> (String, candid::Principal) {
    const PKCS8_PREFIX: [u8; 16] = [
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    let mut der = PKCS8_PREFIX.to_vec();
    der.extend_from_slice(&[seed; 32]);
    let body = base64(&der);
    let pem = format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n");
    let principal = BasicIdentity::from_pem(&pem)
        .expect("a valid PEM")
        .sender()
        .expect("a principal");
    (pem, principal)
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for group in bytes.chunks(3) {
        let n = group
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= group.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The `preview` binary running; killed on drop.
struct RunningPreview {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    gateway_port: u16,
    replica_url: String,
    canister_id: String,
}

impl RunningPreview {
    /// Starts `preview DIR --controller <controller>` and waits for its
    /// `Preview:` and `Replica:` lines and the one saying who may upload.
    fn start(dir: &Path, controller: candid::Principal) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_preview"))
            .arg(dir)
            .args(["--controller", &controller.to_text()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the preview binary starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        {
            let lines = Arc::clone(&lines);
            // Keeps reading after startup, so the gateway's log never
            // fills the pipe.
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    println!("preview | {line}");
                    lines.lock().unwrap().push(line.clone());
                    let _ = tx.send(line);
                }
            });
        }
        let deadline = Instant::now() + Duration::from_secs(180);
        let (mut gateway_port, mut replica, mut uploaders) = (None, None, false);
        while gateway_port.is_none() || replica.is_none() || !uploaders {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("the preview printed no Preview and Replica lines"));
            if let Some(rest) = line.strip_prefix("Preview: http://127.0.0.1:") {
                let port = rest.split('/').next().unwrap_or_default();
                gateway_port = Some(port.parse::<u16>().expect("a port"));
            }
            if let Some(rest) = line.strip_prefix("Replica: ") {
                // `Replica: http://127.0.0.1:<port>  canister <id>`
                let (url, id) = rest.split_once("  canister ").expect("url and canister id");
                replica = Some((url.to_string(), id.trim().to_string()));
            }
            uploaders |= line.contains("may upload") || line.contains("To upload");
        }
        let (replica_url, canister_id) = replica.unwrap();
        RunningPreview {
            child,
            lines,
            gateway_port: gateway_port.unwrap(),
            replica_url,
            canister_id,
        }
    }

    fn log(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
}

impl Drop for RunningPreview {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `icx-asset --replica <url> --pem <pem> sync <id> <dir>`, as a user runs it.
fn icx_asset_sync(preview: &RunningPreview, pem: &Path, dir: &Path) -> Output {
    Command::new(icx_asset_binary())
        .arg("--replica")
        .arg(&preview.replica_url)
        .arg("--pem")
        .arg(pem)
        .arg("sync")
        .arg(&preview.canister_id)
        .arg(dir)
        .output()
        .expect("icx-asset runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (path, body) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }
}

#[test]
fn icx_asset_syncs_through_the_preview_replica_and_the_gateway_serves_it_verified() {
    let icx_asset = icx_asset_binary();
    if !icx_asset.exists() {
        println!(
            "SKIPPED: icx-asset is not installed at {} (scripts/install-clients.sh installs it; scripts/test.sh runs that)",
            icx_asset.display()
        );
        return;
    }
    let work = tempfile::tempdir().expect("temporary directory");
    let (pem, principal) = ed25519_pem(21);
    let pem_path = work.path().join("identity.pem");
    std::fs::write(&pem_path, pem).unwrap();
    let (stranger_pem, stranger) = ed25519_pem(22);
    let stranger_path = work.path().join("stranger.pem");
    std::fs::write(&stranger_path, stranger_pem).unwrap();

    let first = work.path().join("first");
    write(&first, &[("index.html", "<h1>first</h1>\n")]);
    let preview = RunningPreview::start(&first, principal);
    assert!(
        preview
            .log()
            .iter()
            .any(|l| l.contains(&format!("Controllers, who may upload: {principal}"))),
        "the preview names who may upload: {:#?}",
        preview.log()
    );

    let dist = work.path().join("dist");
    write(
        &dist,
        &[
            ("index.html", "<h1>second</h1>\n"),
            (
                "notes/hello.txt",
                "synced by icx-asset through the preview\n",
            ),
        ],
    );

    // An identity the preview was not told about may not upload.
    let refused = icx_asset_sync(&preview, &stranger_path, &dist);
    assert!(
        !refused.status.success(),
        "an unnamed identity synced:\n{}",
        text(&refused)
    );
    assert!(
        text(&refused).contains(&format!("caller {stranger} does not have")),
        "icx-asset failed for another reason:\n{}",
        text(&refused)
    );
    let unchanged = http_get(preview.gateway_port, "/", &[]);
    assert_eq!(unchanged.status, 200, "{}", unchanged.text());
    assert_eq!(unchanged.text(), "<h1>first</h1>\n");

    // The named controller syncs; the gateway serves it with the next
    // request, verified.
    let synced = icx_asset_sync(&preview, &pem_path, &dist);
    assert!(
        synced.status.success(),
        "icx-asset sync failed:\n{}",
        text(&synced)
    );
    for (path, body) in [
        (
            "/notes/hello.txt",
            "synced by icx-asset through the preview\n",
        ),
        ("/", "<h1>second</h1>\n"),
    ] {
        let reply = http_get(preview.gateway_port, path, &[]);
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
        assert_eq!(reply.text(), body, "{path}");
        assert!(
            reply.header("ic-certificate").is_some(),
            "{path}: no certificate header"
        );
    }
    let log = preview.log();
    assert!(
        log.iter()
            .any(|l| l.starts_with("GET /notes/hello.txt -> 200") && l.ends_with("(verified v2)")),
        "the gateway did not log the synced file as verified: {log:#?}"
    );
}
