//! End-to-end scenarios for `asset_server.wasm`, written once against a
//! small [`Backend`] interface and run on whichever backend is selected:
//! PocketIC when `POCKET_IC_BIN` names a server binary, otherwise the
//! in-process wasmtime host (`wasm-host`).

pub mod backend;
pub mod client;
mod host_backend;
mod pocket_backend;
pub mod site;

pub use backend::{Backend, Called, select_backend};
pub use client::AssetClient;

/// A wasm the test scripts build beside ours (`host_probe`,
/// `reference_asset_canister`), from the release target directory.
pub fn fixture_wasm(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../target/wasm32-unknown-unknown/release/{name}.wasm",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("cannot read {path}: {e}; build it with scripts/test.sh"))
}
