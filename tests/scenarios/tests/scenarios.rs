//! The end-to-end scenarios, run on the backend `select_backend` picks.
//! A plain harness so the output names the backend once and ends with
//! "N passed, M failed". Pass a substring to run only matching scenarios.

mod cases;

use std::panic::{AssertUnwindSafe, catch_unwind};

fn load_wasm() -> Vec<u8> {
    let path = std::env::var("ASSET_SERVER_WASM").unwrap_or_else(|_| {
        format!(
            "{}/../../target/asset_server.wasm",
            env!("CARGO_MANIFEST_DIR")
        )
    });
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("cannot read {path}: {e}; build it with scripts/build.sh"))
}

fn main() {
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let wasm = load_wasm();
    println!(
        "scenarios backend: {}",
        scenarios::backend::backend_description()
    );
    let mut passed = 0;
    let mut failed = Vec::new();
    for (name, scenario) in cases::ALL {
        if filter.as_ref().is_some_and(|f| !name.contains(f.as_str())) {
            continue;
        }
        let started = std::time::Instant::now();
        match catch_unwind(AssertUnwindSafe(|| scenario(&wasm))) {
            Ok(()) => {
                passed += 1;
                println!(
                    "scenario {name} ... ok ({:.1}s)",
                    started.elapsed().as_secs_f64()
                );
            }
            Err(_) => {
                failed.push(*name);
                println!("scenario {name} ... FAILED");
            }
        }
    }
    println!();
    println!("scenarios: {passed} passed, {} failed", failed.len());
    if !failed.is_empty() {
        println!("failed: {}", failed.join(", "));
        std::process::exit(1);
    }
}
