//! The management canister (`aaaaa-aa`): what a deploy script needs to
//! create a canister and install or upgrade its wasm, with the candid
//! types of `ic-management-canister-types`.
//!
//! Answered: `provisional_create_canister_with_cycles`, `create_canister`,
//! `install_code` (install, reinstall, upgrade; the module raw or
//! gzipped), the chunked install of a module too large for one message
//! (`upload_chunk`, `stored_chunks`, `clear_chunk_store`,
//! `install_chunked_code`), `canister_status`, `update_settings`
//! (controllers), `start_canister`, `stop_canister`. Everything else is
//! rejected with the replica's "unknown method" error.

use candid::{CandidType, Decode, Encode, Nat, Principal};
use ic_management_canister_types::{
    CanisterIdRecord, CanisterInstallMode, CanisterSettings, CanisterStatusType, ChunkHash,
    ClearChunkStoreArgs, CreateCanisterArgs, EnvironmentVariable, InstallChunkedCodeArgs,
    InstallCodeArgs, LogVisibility, MemoryMetrics, ProvisionalCreateCanisterWithCyclesArgs,
    QueryStats, SnapshotVisibility, StoredChunksArgs, UpdateSettingsArgs, UploadChunkArgs,
};

use super::canisters::{Outcome, Reject, RejectCode, World, not_found, reject_of};
use super::chunk_store::{ChunkStore, ChunkStoreError};
use crate::{Host, HostError, compile};

#[cfg(test)]
mod tests;

/// The methods [`call`] answers, as the "unknown method" error lists them.
const METHODS: &[&str] = &[
    "provisional_create_canister_with_cycles",
    "create_canister",
    "install_code",
    "upload_chunk",
    "stored_chunks",
    "clear_chunk_store",
    "install_chunked_code",
    "canister_status",
    "update_settings",
    "start_canister",
    "stop_canister",
];

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

/// Runs `method` of the management canister for `caller`, and counts the
/// replies per method.
pub(crate) fn call(world: &mut World, method: &str, arg: &[u8], caller: Principal) -> Outcome {
    let outcome = run(world, method, arg, caller);
    if outcome.is_ok() {
        *world
            .management_replies
            .entry(method.to_string())
            .or_default() += 1;
    }
    outcome
}

fn run(world: &mut World, method: &str, arg: &[u8], caller: Principal) -> Outcome {
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
            install(
                world,
                caller,
                method,
                args.canister_id,
                args.mode,
                &args.wasm_module,
                &args.arg,
            )
        }
        "upload_chunk" => {
            let args = decode!(method, arg, UploadChunkArgs)?;
            controlled(world, args.canister_id, caller, method)?;
            let hash = world
                .chunk_store_mut(args.canister_id)
                .insert(args.chunk)
                .map_err(chunk_store_error)?;
            reply(&ChunkHash {
                hash: hash.to_vec(),
            })
        }
        "stored_chunks" => {
            let args = decode!(method, arg, StoredChunksArgs)?;
            controlled(world, args.canister_id, caller, method)?;
            let hashes: Vec<ChunkHash> = world
                .chunk_store(&args.canister_id)
                .into_iter()
                .flat_map(ChunkStore::hashes)
                .map(|hash| ChunkHash {
                    hash: hash.to_vec(),
                })
                .collect();
            reply(&hashes)
        }
        "clear_chunk_store" => {
            let args = decode!(method, arg, ClearChunkStoreArgs)?;
            controlled(world, args.canister_id, caller, method)?;
            world.chunk_store_mut(args.canister_id).clear();
            reply(&())
        }
        "install_chunked_code" => {
            let args = decode!(method, arg, InstallChunkedCodeArgs)?;
            install_chunked_code(world, caller, args)
        }
        "canister_status" => {
            let args = decode!(method, arg, CanisterIdRecord)?;
            let chunk_store_bytes = world
                .chunk_store(&args.canister_id)
                .map_or(0, ChunkStore::charged_bytes);
            let host = controlled(world, args.canister_id, caller, method)?;
            reply(&status(host, chunk_store_bytes))
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
                "Management canister has no method '{method}' (this local replica answers {})",
                METHODS.join(", ")
            ),
        )),
    }
}

/// The canister id an update to the management canister is about, which
/// the replica checks against the URL's effective canister id.
pub(crate) fn target_canister(method: &str, arg: &[u8]) -> Option<Principal> {
    match method {
        "install_code" => Decode!(arg, InstallCodeArgs).ok().map(|a| a.canister_id),
        "install_chunked_code" => Decode!(arg, InstallChunkedCodeArgs)
            .ok()
            .map(|a| a.target_canister),
        "update_settings" => Decode!(arg, UpdateSettingsArgs).ok().map(|a| a.canister_id),
        "upload_chunk" => Decode!(arg, UploadChunkArgs).ok().map(|a| a.canister_id),
        "canister_status" | "start_canister" | "stop_canister" | "stored_chunks"
        | "clear_chunk_store" => Decode!(arg, CanisterIdRecord).ok().map(|a| a.canister_id),
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

/// Installs, reinstalls or upgrades `canister` with `wasm_module` (raw or
/// gzipped): `install_code`, and `install_chunked_code` once it has put
/// the module together.
fn install(
    world: &mut World,
    caller: Principal,
    method: &str,
    canister: Principal,
    mode: CanisterInstallMode,
    wasm_module: &[u8],
    arg: &[u8],
) -> Outcome {
    let now = world.now();
    let host = controlled(world, canister, caller, method)?;
    let module = compile(wasm_module).map_err(|HostError::InvalidWasm(reason)| {
        Reject::new(
            RejectCode::CanisterError,
            "IC0505",
            format!(
                "Error from Canister {canister}: Canister's Wasm module is not valid: {reason}"
            ),
        )
    })?;
    host.set_time(now);
    let result = match mode {
        CanisterInstallMode::Install => host.install(&module, arg, caller),
        CanisterInstallMode::Upgrade(_) => host.upgrade(&module, arg, caller),
        CanisterInstallMode::Reinstall => {
            // A reinstall starts from empty memory: a fresh host with the
            // same id and controllers.
            let mut fresh = Host::with_canister_id(canister);
            fresh.set_controllers(host.controllers().to_vec());
            fresh.set_time(now);
            let result = fresh.install(&module, arg, caller);
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

/// The replica's order: the caller must control the target and the store
/// canister, the hash must be one, then the chunks are looked up and their
/// concatenation checked against it, and only then is it installed.
fn install_chunked_code(
    world: &mut World,
    caller: Principal,
    args: InstallChunkedCodeArgs,
) -> Outcome {
    let method = "install_chunked_code";
    let target = args.target_canister;
    let store = args.store_canister.unwrap_or(target);
    controlled(world, target, caller, method)?;
    controlled(world, store, caller, method)?;
    if args.wasm_module_hash.len() != 32 {
        return Err(Reject::new(
            RejectCode::CanisterError,
            "IC0504",
            format!("Invalid wasm hash {:?}", args.wasm_module_hash),
        ));
    }
    let empty = ChunkStore::default();
    let wasm_module = world
        .chunk_store(&store)
        .unwrap_or(&empty)
        .assemble(
            args.chunk_hashes_list.iter().map(|c| &c.hash[..]),
            &args.wasm_module_hash,
        )
        .map_err(chunk_store_error)?;
    install(
        world,
        caller,
        method,
        target,
        args.mode,
        &wasm_module,
        &args.arg,
    )
}

fn chunk_store_error(error: ChunkStoreError) -> Reject {
    Reject::new(
        RejectCode::CanisterError,
        "IC0504",
        format!("Error from Wasm chunk store: {error}."),
    )
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

fn status(host: &Host, chunk_store_bytes: u64) -> CanisterStatusResult {
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
            wasm_chunk_store_size: Nat::from(chunk_store_bytes),
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
