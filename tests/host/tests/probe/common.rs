//! Loading the probe canister and calling it with Candid.

use std::path::PathBuf;
use std::sync::OnceLock;

use candid::utils::{ArgumentDecoder, ArgumentEncoder};
use candid::{Principal, decode_args, encode_args};
use wasm_host::{CallError, CompiledModule, Host, compile};

pub const BUILD_HINT: &str =
    "build it with `cargo build -p host-probe --target wasm32-unknown-unknown --release`";

/// The probe module, read and compiled once for the whole test binary.
pub fn probe() -> CompiledModule {
    static MODULE: OnceLock<CompiledModule> = OnceLock::new();
    MODULE
        .get_or_init(|| {
            let path = probe_wasm_path();
            let wasm = std::fs::read(&path).unwrap_or_else(|e| {
                panic!(
                    "cannot read the probe wasm {}: {e}; {BUILD_HINT}",
                    path.display()
                )
            });
            let module = compile(&wasm).expect("the probe compiles");
            eprintln!("probe compiled in {:?}", module.compile_time());
            module
        })
        .clone()
}

pub fn probe_wasm_path() -> PathBuf {
    if let Some(path) = std::env::var_os("HOST_PROBE_WASM") {
        return path.into();
    }
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"));
    target.join("wasm32-unknown-unknown/release/host_probe.wasm")
}

pub fn admin() -> Principal {
    Principal::from_slice(&[0xad; 29])
}

pub fn stranger() -> Principal {
    Principal::from_slice(&[0x5e; 29])
}

/// A host with the probe installed by `admin()`, heap value `value`.
pub fn installed(value: u64) -> Host {
    let mut host = Host::new();
    host.install(&probe(), &encode_args((Some(value),)).unwrap(), admin())
        .expect("the probe installs");
    host
}

pub fn update<A: ArgumentEncoder, R: for<'a> ArgumentDecoder<'a>>(
    host: &mut Host,
    method: &str,
    args: A,
) -> Result<R, CallError> {
    let reply = host.update(method, &encode_args(args).unwrap(), admin())?;
    Ok(decode_args(&reply.bytes).expect("the reply decodes"))
}

pub fn query<A: ArgumentEncoder, R: for<'a> ArgumentDecoder<'a>>(
    host: &mut Host,
    method: &str,
    args: A,
) -> Result<R, CallError> {
    let reply = host.query(method, &encode_args(args).unwrap(), admin())?;
    Ok(decode_args(&reply.bytes).expect("the reply decodes"))
}

pub fn value(host: &mut Host) -> u64 {
    query::<_, (u64,)>(host, "get_value", ()).unwrap().0
}

pub fn stable(host: &mut Host, offset: u64, len: u64) -> Vec<u8> {
    query::<_, (Vec<u8>,)>(host, "stable_get", (offset, len))
        .unwrap()
        .0
}

pub fn stable_pages(host: &mut Host) -> u64 {
    query::<_, (u64,)>(host, "stable_pages", ()).unwrap().0
}

pub fn heap_pages(host: &mut Host) -> u64 {
    query::<_, (u64,)>(host, "heap_pages", ()).unwrap().0
}
