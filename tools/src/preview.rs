//! Setting up a preview: a fresh in-process host with the canister
//! installed and a site uploaded, then handed to a local replica endpoint,
//! with today's HTTP gateway ([`LocalGateway`]: ic-http-gateway, asking for
//! certification v2, 503 for whatever does not verify) in front of that
//! endpoint. The browser and users' agents (`icx-asset`,
//! `@dfinity/assets`) reach the same canister.
//!
//! Who may upload through the endpoint: the principals named with
//! `--controller`, made controllers of the canister (which may do
//! everything, as the identity that deploys does on dfx's local replica).
//! Nobody else, and never the anonymous principal: the preview does not
//! hand out permissions the canister would refuse on the IC.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use asset_server::types::AssetCanisterArgs;
use candid::Principal;
use local_gateway::{LocalGateway, RequestLog};
use wasm_host::replica::Replica;
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

/// A principal named on the command line as an uploader; the anonymous
/// principal is refused, since the canister never lets it write.
pub fn parse_controller(text: &str) -> Result<Principal, String> {
    let principal = Principal::from_text(text)
        .map_err(|e| format!("--controller {text:?}: not a principal: {e}"))?;
    if principal == Principal::anonymous() {
        return Err(format!(
            "--controller {text}: the anonymous principal cannot upload; \
             name your identity's principal (dfx identity get-principal)"
        ));
    }
    Ok(principal)
}

/// Fails with one clear line when `port` (given with `flag`) is taken on
/// 127.0.0.1, before minutes of setup would end in "address in use".
/// Port 0 means any free port and is always fine.
pub fn check_port_free(flag: &str, port: u16) -> Result<(), String> {
    if port == 0 {
        return Ok(());
    }
    match std::net::TcpListener::bind(("127.0.0.1", port)) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Err(format!(
            "port {port} is taken on 127.0.0.1 (another preview?): stop it, choose another \
             {flag}, or leave {flag} out for a free port"
        )),
        Err(e) => Err(format!("{flag} {port}: {e}")),
    }
}

/// Moves `host` into a replica endpoint on 127.0.0.1:`port` (0: a free
/// port) after making each of `controllers` a controller of its canister;
/// the endpoint and the canister id, for [`start_gateway`].
pub fn serve_on_replica(
    mut host: Host,
    port: u16,
    controllers: &[Principal],
) -> Result<(Replica, Principal), String> {
    for controller in controllers {
        host.add_controller(*controller);
    }
    let replica = Replica::start_on(&format!("127.0.0.1:{port}"))
        .map_err(|e| format!("starting the replica endpoint on 127.0.0.1:{port}: {e}"))?;
    let canister_id = replica.add_canister(host);
    Ok((replica, canister_id))
}

/// Today's gateway on 127.0.0.1:`port` (0: a free port) in front of
/// `replica`, serving `canister_id`; one line per request goes to `log`.
pub fn start_gateway(
    replica: &Replica,
    canister_id: Principal,
    port: u16,
    log: RequestLog,
) -> Result<LocalGateway, String> {
    // Loopback only: the preview is for this machine, not the network.
    LocalGateway::start(
        &replica.url(),
        canister_id,
        &format!("127.0.0.1:{port}"),
        log,
    )
    .map_err(|e| format!("starting the gateway on 127.0.0.1:{port}: {e}"))
}

pub fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_port_is_named_with_its_flag() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let error = check_port_free("--port", port).unwrap_err();
        assert!(error.contains(&format!("port {port} is taken")), "{error}");
        assert!(error.contains("--port"), "{error}");
        drop(taken);
        assert_eq!(check_port_free("--port", 0), Ok(()));
    }

    #[test]
    fn controllers_must_be_principals_and_never_anonymous() {
        let text = "igwim-avl5g-jebpg-7ahby-dsvhu-vmbhx-gd4up-vngnn-sajww-nei5e-bqe";
        assert_eq!(parse_controller(text).unwrap().to_text(), text);
        let anonymous = parse_controller("2vxsx-fae").unwrap_err();
        assert!(anonymous.contains("anonymous"), "{anonymous}");
        assert!(parse_controller("not-a-principal").is_err());
    }
}
