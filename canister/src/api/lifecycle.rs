//! Install and upgrade. Nothing is serialized: the stores are already in
//! stable memory, and opening them rebuilds the certification tree, before
//! any query can be served with it.

use ic_stable_structures::DefaultMemoryImpl;

use super::{set_server, write};
use crate::server::AssetServer;
use crate::types::AssetCanisterArgs;

#[ic_cdk::init]
fn init(args: Option<AssetCanisterArgs>) {
    warm();
    set_server(AssetServer::create(DefaultMemoryImpl::default()));
    let installer = ic_cdk::api::msg_caller();
    write(|server, _, _| server.install(installer, args));
}

/// Refuses (traps, so the IC keeps the previous code and its memory) when
/// stable memory holds anything it cannot read; see `AssetServer::reopen`.
#[ic_cdk::post_upgrade]
fn post_upgrade(args: Option<AssetCanisterArgs>) {
    #[cfg(feature = "phases")]
    crate::phases::start(|| ic_cdk::api::performance_counter(0));
    warm();
    let (server, reopened) = AssetServer::reopen(DefaultMemoryImpl::default())
        .unwrap_or_else(|error| ic_cdk::trap(error.to_string()));
    let origin = server.tree_origin();
    ic_cdk::api::debug_print(format!("asset_server upgrade: {reopened}; {origin}"));
    set_server(server);
    write(|server, _, _| server.upgrade(args));
}

/// Leaves the certification tree with its hashes for `post_upgrade`
/// (which checks it before using it). Never traps: a snapshot that cannot
/// be written is left out, and the next code hashes the tree anew.
#[ic_cdk::pre_upgrade]
fn pre_upgrade() {
    super::with_server(|server| {
        server.save_tree();
    });
}

/// What queries would otherwise compute anew each time: their heap is
/// thrown away, while what install and upgrade leave on it stays.
fn warm() {
    crate::phases::timed("warm", || {
        super::wire::warm();
        crate::certification::warm();
    });
}
