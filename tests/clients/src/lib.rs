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

    /// `ic-asset` of the older protocol line: 0.26.0 is the newest of
    /// 0.25/0.26 (0.25 has no paginated `list`).
    pub const IC_ASSET_LEGACY: &str = "0.26.0";
    /// The `ic-agent` (and `ic-utils`) line `ic-asset` 0.26 is built on:
    /// `/api/v3` call only, `/api/v2` query and read_state.
    pub const IC_AGENT_LEGACY: &str = "0.44.3";

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

    /// `@dfinity/assets` from npm (its `AssetManager`), on `@dfinity/agent`
    /// of the exact same version, as its peer dependencies require: 3.4.3
    /// is the newest of both. Pinned in `tests/clients/node/package.json`
    /// and its `package-lock.json`, installed by `npm ci`.
    pub const ASSETS_JS: &str = "3.4.3";
    pub const AGENT_JS: &str = "3.4.3";

    /// The npm packages the Node test runs and their pinned versions.
    pub const NODE_PACKAGES: &[(&str, &str)] = &[
        ("@dfinity/assets", ASSETS_JS),
        ("@dfinity/agent", AGENT_JS),
        ("@dfinity/candid", AGENT_JS),
        ("@dfinity/identity", AGENT_JS),
        ("@dfinity/principal", AGENT_JS),
        ("@icp-sdk/icp-cli-linux-x64", ICP_CLI),
    ];

    /// DFINITY's `icp` CLI, the binary npm ships for Linux x64; 1.5.0 is
    /// the newest. Pinned and installed with the packages above.
    pub const ICP_CLI: &str = "1.5.0";

    /// Where `npm ci` puts the `icp` binary.
    pub fn icp_cli_binary() -> std::path::PathBuf {
        node_dir().join("node_modules/@icp-sdk/icp-cli-linux-x64/bin/icp")
    }

    /// `tests/clients/node`: the script, `package.json`, its lock, and the
    /// `node_modules` that `scripts/install-clients.sh` installs there.
    pub fn node_dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("node")
    }

    /// `name version` pairs that must appear in `Cargo.lock`.
    pub const LOCKED: &[(&str, &str)] = &[("ic-asset", IC_ASSET), ("ic-agent", IC_AGENT)];
}
