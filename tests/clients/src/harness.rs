//! A plain test harness for the client tests, so the output names the
//! client and its version once and then each case as it runs, like the
//! scenario suite. Pass a substring to run only matching cases.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A case: its name (what a user does) and the test, given the wasm.
pub type Case = (&'static str, fn(&[u8]));

/// The workspace root (this crate sits in `<root>/tests/clients`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `target/asset_server.wasm` as `scripts/build.sh` leaves it, or
/// `ASSET_SERVER_WASM`.
pub fn load_wasm() -> Vec<u8> {
    let path = std::env::var_os("ASSET_SERVER_WASM")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/asset_server.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; build it with scripts/build.sh",
            path.display()
        )
    })
}

/// Runs `cases`, printing `<client> <case> ... ok (Ns)` for each, and
/// exits with status 1 if any failed.
pub fn run(client: &str, description: &str, cases: &[Case]) {
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    println!("client: {client} ({description})");
    let wasm = load_wasm();
    let mut passed = 0;
    let mut failed = Vec::new();
    for (name, case) in cases {
        if filter.as_ref().is_some_and(|f| !name.contains(f.as_str())) {
            continue;
        }
        let started = Instant::now();
        match catch_unwind(AssertUnwindSafe(|| case(&wasm))) {
            Ok(()) => {
                passed += 1;
                println!(
                    "{client} {name} ... ok ({:.1}s)",
                    started.elapsed().as_secs_f64()
                );
            }
            Err(_) => {
                println!("{client} {name} ... FAILED");
                failed.push(*name);
            }
        }
    }
    println!("{client}: {passed} passed, {} failed", failed.len());
    if !failed.is_empty() {
        println!("failed: {}", failed.join(", "));
        std::process::exit(1);
    }
}
