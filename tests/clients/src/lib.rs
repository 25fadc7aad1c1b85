//! DFINITY's upload clients, unmodified, against the canister: each runs
//! over HTTP against the host's local replica endpoint
//! ([`wasm_host::replica`]) exactly as it runs against a replica, and
//! every file is then fetched through `http_request` and checked with
//! `ic-response-verification`.
//!
//! The pinned versions live in [`versions`], the generated site in
//! [`site`], and the agent plumbing (deploy, fetch, verify) in [`client`].

pub mod check;
pub mod client;
pub mod harness;
pub mod site;

/// The clients and the versions the tests run, in one place. A test
/// checks them against `Cargo.lock`, so the output never names a version
/// that did not run.
pub mod versions {
    /// `ic-asset` from crates.io: the sync code `dfx deploy` runs.
    pub const IC_ASSET: &str = "0.29.0";
    /// The `ic-agent` line `ic-asset` 0.29 is built on.
    pub const IC_AGENT: &str = "0.47.3";

    /// The `icx-asset` CLI from crates.io, installed by
    /// `scripts/install-clients.sh` (which pins the same version).
    pub const ICX_ASSET: &str = "0.29.0";

    /// Where `scripts/install-clients.sh` puts `icx-asset`, or `ICX_ASSET`.
    pub fn icx_asset_binary() -> std::path::PathBuf {
        std::env::var_os("ICX_ASSET")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                crate::harness::workspace_root().join(format!(
                    "target/clients/icx-asset-{ICX_ASSET}/bin/icx-asset"
                ))
            })
    }

    /// `name version` pairs that must appear in `Cargo.lock`.
    pub const LOCKED: &[(&str, &str)] = &[("ic-asset", IC_ASSET), ("ic-agent", IC_AGENT)];
}
