//! DFINITY's asset canister, built from the published `ic-certified-assets`
//! crate as dfx's frontend canister wires it: state on the heap, saved to
//! stable memory in `pre_upgrade`. Only the benchmark uses it.

use ic_certified_assets::StableState;
use ic_certified_assets::types::AssetCanisterArgs;

#[ic_cdk::init]
fn init(args: Option<AssetCanisterArgs>) {
    ic_certified_assets::init(args);
}

#[ic_cdk::pre_upgrade]
fn pre_upgrade() {
    ic_cdk::storage::stable_save((ic_certified_assets::pre_upgrade(),))
        .expect("save the asset state");
}

#[ic_cdk::post_upgrade]
fn post_upgrade(args: Option<AssetCanisterArgs>) {
    let (state,): (StableState,) =
        ic_cdk::storage::stable_restore().expect("restore the asset state");
    ic_certified_assets::post_upgrade(state, args);
}

ic_certified_assets::export_canister_methods!();
