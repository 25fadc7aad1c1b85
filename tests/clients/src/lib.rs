//! DFINITY's upload clients, unmodified, against the canister: each runs
//! over HTTP against the host's local replica endpoint
//! ([`wasm_host::replica`]) exactly as it runs against a replica, and
//! every file is then fetched through `http_request` and checked with
//! `ic-response-verification`.
//!
//! The pinned versions live in [`versions`], the generated site in
//! [`site`], and the agent plumbing (deploy, fetch, verify) in [`client`].

pub mod client;
pub mod site;

/// The clients and the versions the tests run, in one place. A test
/// checks them against `Cargo.lock`, so the output never names a version
/// that did not run.
pub mod versions {
    /// `ic-asset` from crates.io: the sync code `dfx deploy` runs.
    pub const IC_ASSET: &str = "0.29.0";
    /// The `ic-agent` line `ic-asset` 0.29 is built on.
    pub const IC_AGENT: &str = "0.47.3";

    /// `name version` pairs that must appear in `Cargo.lock`.
    pub const LOCKED: &[(&str, &str)] = &[("ic-asset", IC_ASSET), ("ic-agent", IC_AGENT)];
}
