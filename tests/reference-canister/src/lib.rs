//! DFINITY's asset canister, built from the published `ic-certified-assets`
//! crate as dfx's frontend canister wires it: state on the heap, saved to
//! stable memory in `pre_upgrade`. The benchmark compares against it and
//! the switch-in-place scenarios upgrade it to ours.
//!
//! It saves in either form dfx's frontend canister has used: candid
//! `stable_save((StableState,))`, as built on ic-certified-assets 0.3.0
//! (the default), or, after `save_state_as_cbor`, the CBOR `StableStateV2`
//! that the frontend canister writes since ic-certified-assets moved to
//! CBOR (no published crate has that version, so `cbor_state` rebuilds its
//! shape field by field).

mod cbor_state;

use std::cell::Cell;

use ic_certified_assets::StableState;
use ic_certified_assets::types::AssetCanisterArgs;

thread_local! {
    static SAVE_AS_CBOR: Cell<bool> = const { Cell::new(false) };
}

#[ic_cdk::init]
fn init(args: Option<AssetCanisterArgs>) {
    ic_certified_assets::init(args);
}

#[ic_cdk::pre_upgrade]
fn pre_upgrade() {
    let state = ic_certified_assets::pre_upgrade();
    if SAVE_AS_CBOR.get() {
        cbor_state::save(state);
    } else {
        ic_cdk::storage::stable_save((state,)).expect("save the asset state");
    }
}

#[ic_cdk::post_upgrade]
fn post_upgrade(args: Option<AssetCanisterArgs>) {
    let (state,): (StableState,) =
        ic_cdk::storage::stable_restore().expect("restore the asset state");
    ic_certified_assets::post_upgrade(state, args);
}

/// Makes the next `pre_upgrade` save the CBOR form (test fixture control;
/// controllers only).
#[ic_cdk::update]
fn save_state_as_cbor() {
    if !ic_cdk::api::is_controller(&ic_cdk::api::msg_caller()) {
        ic_cdk::trap("only a controller may choose the saved form");
    }
    SAVE_AS_CBOR.set(true);
}

ic_certified_assets::export_canister_methods!();
