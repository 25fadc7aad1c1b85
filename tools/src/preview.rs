//! Setting up a preview: a fresh in-process host with the canister
//! installed and a site uploaded, ready to hand to the [`Gateway`].
//!
//! [`Gateway`]: crate::gateway::Gateway

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use asset_server::types::AssetCanisterArgs;
use candid::Principal;
use wasm_host::{CompiledModule, Host};

use crate::site::{big_file, sample_dir};
use crate::transport::HostCalls;
use crate::upload::{LocalFile, Progress, Report, collect, upload};

/// The principal that installs and uploads; any non-anonymous one works,
/// the installer gets every permission.
pub fn controller() -> Principal {
    Principal::from_slice(&[0xA5, 0x5E, 0x75])
}

/// Compiles the canister wasm for the host.
pub fn compile(wasm: &[u8]) -> Result<CompiledModule, String> {
    wasm_host::compile(wasm).map_err(|e| format!("compiling the canister wasm: {e}"))
}

/// A host at the current time with the canister installed (no argument:
/// the installer gets every permission).
pub fn install(module: &CompiledModule) -> Result<Host, String> {
    let mut host = Host::new();
    host.set_time(now_ns());
    let arg = candid::encode_one(None::<AssetCanisterArgs>).map_err(|e| e.to_string())?;
    host.install(module, &arg, controller())
        .map_err(|e| format!("installing the canister: {e}"))?;
    Ok(host)
}

/// The files to preview: `dir` as it is, or the sample site plus the
/// generated 5 MiB file (too big to commit, but worth streaming).
pub fn site_files(dir: Option<&Path>) -> Result<Vec<LocalFile>, String> {
    match dir {
        Some(dir) => collect(dir),
        None => {
            let mut files = collect(&sample_dir())?;
            files.push(big_file());
            Ok(files)
        }
    }
}

/// Uploads `files` to the canister on `host` as the controller.
pub fn upload_to_host(
    host: &mut Host,
    files: &[LocalFile],
    progress: Progress,
) -> Result<Report, String> {
    host.set_time(now_ns());
    upload(&mut HostCalls::new(host, controller()), files, progress)
}

pub fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default()
}
