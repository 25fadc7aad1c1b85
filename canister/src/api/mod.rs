//! The exported candid methods: glue between the system API and the
//! `AssetServer` core. Only this module calls `ic_cdk`. Every method that
//! may change assets goes through `write`, which certifies the new root.

#[cfg(feature = "phases")]
mod bench;
mod governance;
mod hashing;
mod lifecycle;
mod permissions;
mod reads;
mod uploads;
mod wire;

use std::cell::RefCell;

use ic_stable_structures::DefaultMemoryImpl;

use crate::access::Caller;
use crate::error::Result;
use crate::server::AssetServer;

/// The asset canister interface version `dfx` checks before uploading.
const API_VERSION: u16 = 2;

thread_local! {
    static SERVER: RefCell<Option<AssetServer<DefaultMemoryImpl>>> = const { RefCell::new(None) };
}

/// `canister_init` and `canister_post_upgrade` open the server before any
/// other message can run.
fn set_server(server: AssetServer<DefaultMemoryImpl>) {
    SERVER.set(Some(server));
}

fn with_server<T>(f: impl FnOnce(&mut AssetServer<DefaultMemoryImpl>) -> T) -> T {
    SERVER.with_borrow_mut(|server| {
        f(server
            .as_mut()
            .expect("canister_init or canister_post_upgrade opened the server"))
    })
}

fn caller() -> Caller {
    let principal = ic_cdk::api::msg_caller();
    Caller {
        principal,
        is_controller: ic_cdk::api::is_controller(&principal),
    }
}

/// Runs a change as the caller; on success certifies the (possibly new)
/// root, on error traps, which rolls the whole call back.
fn write<T>(f: impl FnOnce(&mut AssetServer<DefaultMemoryImpl>, Caller, u64) -> Result<T>) -> T {
    write_as(caller(), f)
}

/// `write` for a caller read before the message that makes the change (a
/// call continued across messages).
fn write_as<T>(
    caller: Caller,
    f: impl FnOnce(&mut AssetServer<DefaultMemoryImpl>, Caller, u64) -> Result<T>,
) -> T {
    #[cfg(feature = "phases")]
    crate::phases::start(|| ic_cdk::api::performance_counter(0));
    let now = ic_cdk::api::time();
    with_server(|server| match f(server, caller, now) {
        Ok(value) => {
            let root = crate::phases::timed("root_hash", || server.certified_root());
            ic_cdk::api::certified_data_set(root);
            #[cfg(feature = "phases")]
            ic_cdk::api::debug_print(crate::phases::report());
            value
        }
        Err(error) => ic_cdk::trap(error.to_string()),
    })
}

fn read<T>(f: impl FnOnce(&AssetServer<DefaultMemoryImpl>) -> Result<T>) -> T {
    with_server(|server| f(server).unwrap_or_else(|error| ic_cdk::trap(error.to_string())))
}

#[ic_cdk::query]
fn api_version() -> u16 {
    API_VERSION
}

use crate::types::*;
use candid::Principal;
use serde_bytes::ByteBuf;

ic_cdk::export_candid!();

#[cfg(test)]
mod tests {
    use candid_parser::utils::{CandidSource, service_equal};

    /// The `.did` users and tools see must be exactly what the code exports.
    #[test]
    fn candid_file_matches_the_exported_service() {
        let exported = super::__export_service();
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../candid/asset_server.did");
        if std::env::var_os("WRITE_CANDID").is_some() {
            std::fs::write(&path, &exported).unwrap();
        }
        let file = std::fs::read_to_string(&path).expect("candid/asset_server.did exists");
        service_equal(CandidSource::Text(&file), CandidSource::Text(&exported)).unwrap_or_else(
            |e| panic!("candid/asset_server.did differs from the code: {e}\nexported:\n{exported}"),
        );
    }
}
