//! Install and upgrade. Nothing is serialized: the stores are already in
//! stable memory, and opening them rebuilds the certification tree.

use super::{with_server, write};
use crate::types::AssetCanisterArgs;

#[ic_cdk::init]
fn init(args: Option<AssetCanisterArgs>) {
    let installer = ic_cdk::api::msg_caller();
    write(|server, _, _| server.install(installer, args));
}

#[ic_cdk::post_upgrade]
fn post_upgrade(args: Option<AssetCanisterArgs>) {
    // Opening the stores rebuilds the tree from stored hashes, before any
    // query can be served with it.
    with_server(|_| ());
    write(|server, _, _| server.upgrade(args));
}
