//! The management canister (`aaaaa-aa`): what a deploy script needs to
//! create a canister and install or upgrade its wasm, with the candid
//! types of `ic-management-canister-types`.
//!
//! Answered: `provisional_create_canister_with_cycles`, `create_canister`,
//! `install_code` (install, reinstall, upgrade), `canister_status`,
//! `update_settings` (controllers), `start_canister`, `stop_canister`.
//! Everything else is rejected with the replica's "unknown method" error.

use candid::{CandidType, Decode, Encode, Nat, Principal};
use ic_management_canister_types::{
    CanisterIdRecord, CanisterInstallMode, CanisterSettings, CanisterStatusType,
    CreateCanisterArgs, EnvironmentVariable, InstallCodeArgs, LogVisibility, MemoryMetrics,
    ProvisionalCreateCanisterWithCyclesArgs, QueryStats, SnapshotVisibility, UpdateSettingsArgs,
};

use super::canisters::{Outcome, Reject, RejectCode, World, not_found, reject_of};
use crate::{Host, compile};

macro_rules! decode {
    ($method:expr, $arg:expr, $ty:ty) => {
        Decode!($arg, $ty).map_err(|e| {
            Reject::new(
                RejectCode::CanisterError,
                "IC0408",
                format!(
                    "Error decoding candid for the management canister method {}: {e}",
                    $method
                ),
            )
        })
    };
}

/// Runs `method` of the management canister for `caller`.
pub(crate) fn call(world: &mut World, method: &str, arg: &[u8], caller: Principal) -> Outcome {
    match method {
        "provisional_create_canister_with_cycles" => {
            let args = decode!(method, arg, ProvisionalCreateCanisterWithCyclesArgs)?;
            create(world, caller, args.settings, args.specified_id)
        }
        "create_canister" => {
            let args = decode!(method, arg, CreateCanisterArgs)?;
            create(world, caller, args.settings, None)
        }
        "install_code" => {
            let args = decode!(method, arg, InstallCodeArgs)?;
            install_code(world, caller, args)
        }
        "canister_status" => {
            let args = decode!(method, arg, CanisterIdRecord)?;
            let host = controlled(world, args.canister_id, caller, method)?;
            reply(&status(host))
        }
        "update_settings" => {
            let args = decode!(method, arg, UpdateSettingsArgs)?;
            controlled(world, args.canister_id, caller, method)?;
            if let Some(controllers) = args.settings.controllers {
                let host = world
                    .host_mut(&args.canister_id)
                    .expect("checked by controlled()");
                host.set_controllers(controllers);
            }
            reply(&())
        }
        "start_canister" | "stop_canister" => {
            let args = decode!(method, arg, CanisterIdRecord)?;
            controlled(world, args.canister_id, caller, method)?;
            reply(&())
        }
        _ => Err(Reject::new(
            RejectCode::DestinationInvalid,
            "IC0407",
            format!(
                "Management canister has no method '{method}' (this local replica answers create_canister, install_code, canister_status, update_settings)"
            ),
        )),
    }
}

/// The canister id an update to the management canister is about, which
/// the replica checks against the URL's effective canister id.
pub(crate) fn target_canister(method: &str, arg: &[u8]) -> Option<Principal> {
    match method {
        "install_code" => Decode!(arg, InstallCodeArgs).ok().map(|a| a.canister_id),
        "update_settings" => Decode!(arg, UpdateSettingsArgs).ok().map(|a| a.canister_id),
        "canister_status" | "start_canister" | "stop_canister" => {
            Decode!(arg, CanisterIdRecord).ok().map(|a| a.canister_id)
        }
        _ => None,
    }
}

fn reply<T: CandidType>(value: &T) -> Outcome {
    Ok(Encode!(value).expect("management replies encode"))
}

fn create(
    world: &mut World,
    caller: Principal,
    settings: Option<CanisterSettings>,
    specified_id: Option<Principal>,
) -> Outcome {
    let id = match specified_id {
        Some(id) if world.contains(&id) => {
            return Err(Reject::new(
                RejectCode::DestinationInvalid,
                "IC0205",
                format!("Canister {id} is already installed."),
            ));
        }
        Some(id) => id,
        None => world.new_canister_id(),
    };
    let mut host = Host::with_canister_id(id);
    match settings.and_then(|s| s.controllers) {
        Some(controllers) => host.set_controllers(controllers),
        None => host.add_controller(caller),
    }
    world.add(host);
    reply(&CanisterIdRecord { canister_id: id })
}

/// The host of `canister` if `caller` controls it.
fn controlled<'w>(
    world: &'w mut World,
    canister: Principal,
    caller: Principal,
    method: &str,
) -> Result<&'w mut Host, Reject> {
    let host = world
        .host_mut(&canister)
        .ok_or_else(|| not_found(canister))?;
    if !host.controllers().contains(&caller) {
        return Err(Reject::new(
            RejectCode::CanisterError,
            "IC0512",
            format!("Only controllers of canister {canister} can call ic00 method {method}"),
        ));
    }
    Ok(host)
}

fn install_code(world: &mut World, caller: Principal, args: InstallCodeArgs) -> Outcome {
    let canister = args.canister_id;
    let now = world.now();
    let host = controlled(world, canister, caller, "install_code")?;
    let wasm = gunzip(&args.wasm_module).map_err(|e| invalid_wasm(canister, &e))?;
    let module = compile(&wasm).map_err(|e| invalid_wasm(canister, &e.to_string()))?;
    host.set_time(now);
    let result = match args.mode {
        CanisterInstallMode::Install => host.install(&module, &args.arg, caller),
        CanisterInstallMode::Upgrade(_) => host.upgrade(&module, &args.arg, caller),
        CanisterInstallMode::Reinstall => {
            // A reinstall starts from empty memory: a fresh host with the
            // same id and controllers.
            let mut fresh = Host::with_canister_id(canister);
            fresh.set_controllers(host.controllers().to_vec());
            fresh.set_time(now);
            let result = fresh.install(&module, &args.arg, caller);
            if result.is_ok() {
                *host = fresh;
            }
            result
        }
    };
    result
        .map(|_| Encode!(&()).expect("() encodes"))
        .map_err(|e| reject_of(canister, &e))
}

fn invalid_wasm(canister: Principal, reason: &str) -> Reject {
    Reject::new(
        RejectCode::CanisterError,
        "IC0505",
        format!("Error from Canister {canister}: Canister's Wasm module is not valid: {reason}"),
    )
}

/// dfx may send the module gzipped.
fn gunzip(module: &[u8]) -> Result<Vec<u8>, String> {
    if !module.starts_with(&[0x1f, 0x8b]) {
        return Ok(module.to_vec());
    }
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(module), &mut out)
        .map_err(|e| format!("the gzipped module does not decompress: {e}"))?;
    Ok(out)
}

/// `canister_status`'s reply as a replica sends it today: the record of
/// `ic-management-canister-types` 0.8 with the settings it lacks,
/// `status_visibility` and `minimum_incoming_canister_call_cycles`.
/// icp-cli 1.5 refuses a reply without them ("failed to decode call
/// response"); older agents skip the fields they do not know.
#[derive(CandidType)]
struct CanisterStatusResult {
    status: CanisterStatusType,
    ready_for_migration: bool,
    version: u64,
    settings: DefiniteCanisterSettings,
    module_hash: Option<Vec<u8>>,
    memory_size: Nat,
    memory_metrics: MemoryMetrics,
    cycles: Nat,
    reserved_cycles: Nat,
    idle_cycles_burned_per_day: Nat,
    query_stats: QueryStats,
}

#[derive(CandidType)]
struct DefiniteCanisterSettings {
    controllers: Vec<Principal>,
    compute_allocation: Nat,
    memory_allocation: Nat,
    freezing_threshold: Nat,
    reserved_cycles_limit: Nat,
    log_visibility: LogVisibility,
    log_memory_limit: Nat,
    snapshot_visibility: SnapshotVisibility,
    /// Same shape as the other visibilities.
    status_visibility: SnapshotVisibility,
    minimum_incoming_canister_call_cycles: Nat,
    wasm_memory_limit: Nat,
    wasm_memory_threshold: Nat,
    environment_variables: Vec<EnvironmentVariable>,
}

fn status(host: &Host) -> CanisterStatusResult {
    let zero = || Nat::from(0u8);
    CanisterStatusResult {
        status: CanisterStatusType::Running,
        ready_for_migration: false,
        version: host.canister_version(),
        settings: DefiniteCanisterSettings {
            controllers: host.controllers().to_vec(),
            compute_allocation: zero(),
            memory_allocation: zero(),
            freezing_threshold: Nat::from(2_592_000u64),
            reserved_cycles_limit: Nat::from(5_000_000_000_000u64),
            log_visibility: LogVisibility::Controllers,
            log_memory_limit: zero(),
            snapshot_visibility: SnapshotVisibility::Controllers,
            status_visibility: SnapshotVisibility::Controllers,
            minimum_incoming_canister_call_cycles: zero(),
            wasm_memory_limit: Nat::from(3u64 << 30),
            wasm_memory_threshold: zero(),
            environment_variables: Vec::new(),
        },
        module_hash: host.module_hash().map(|h| h.to_vec()),
        memory_size: zero(),
        memory_metrics: MemoryMetrics {
            wasm_memory_size: zero(),
            stable_memory_size: zero(),
            global_memory_size: zero(),
            wasm_binary_size: zero(),
            custom_sections_size: zero(),
            canister_history_size: zero(),
            wasm_chunk_store_size: zero(),
            snapshots_size: zero(),
            log_memory_store_size: zero(),
        },
        cycles: Nat::from(100_000_000_000_000u64),
        reserved_cycles: zero(),
        idle_cycles_burned_per_day: zero(),
        query_stats: QueryStats {
            num_calls_total: zero(),
            num_instructions_total: zero(),
            request_payload_bytes_total: zero(),
            response_payload_bytes_total: zero(),
        },
    }
}
