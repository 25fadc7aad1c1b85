//! Scenario cases, grouped by concern. Each starts from a fresh canister.

mod certification_v2;
mod changes;
mod compat;
mod lifecycle;
mod memory_limits;
mod model;
mod permissions;
mod proposals;
mod reliability;
mod serving;
mod switch;

use scenarios::site::sample_site;
use scenarios::{AssetClient, select_backend};

pub type Scenario = fn(&[u8]);

pub const ALL: &[(&str, Scenario)] = &[
    (
        "site_uploaded_like_dfx_verifies_on_a_gateway",
        serving::site_uploaded_like_dfx_verifies_on_a_gateway,
    ),
    (
        "ten_mib_file_streams_and_the_joined_body_verifies",
        serving::ten_mib_file_streams_and_the_joined_body_verifies,
    ),
    (
        "a_body_too_large_to_hash_in_one_message_commits_over_several",
        serving::a_body_too_large_to_hash_in_one_message_commits_over_several,
    ),
    (
        "raw_domains_are_refused_and_other_hosts_served",
        serving::raw_domains_are_refused_and_other_hosts_served,
    ),
    (
        "anonymous_and_unpermitted_callers_cannot_write",
        permissions::anonymous_and_unpermitted_callers_cannot_write,
    ),
    (
        "permissions_granted_through_the_api_work",
        permissions::permissions_granted_through_the_api_work,
    ),
    (
        "upgrade_keeps_every_asset_its_certificate_and_a_batch_in_flight",
        lifecycle::upgrade_keeps_every_asset_its_certificate_and_a_batch_in_flight,
    ),
    (
        "an_idle_batch_expires_after_five_minutes",
        lifecycle::an_idle_batch_expires_after_five_minutes,
    ),
    (
        "a_call_that_traps_halfway_changes_nothing",
        lifecycle::a_call_that_traps_halfway_changes_nothing,
    ),
    (
        "overwrite_delete_and_clear_leave_nothing_stale",
        changes::overwrite_delete_and_clear_leave_nothing_stale,
    ),
    (
        "every_write_method_certifies_its_change",
        changes::every_write_method_certifies_its_change,
    ),
    (
        "a_thousand_small_assets_commit_in_one_message",
        changes::a_thousand_small_assets_commit_in_one_message,
    ),
    (
        "a_dfinity_asset_canister_switches_in_place_and_every_file_verifies",
        switch::a_dfinity_asset_canister_switches_in_place_and_every_file_verifies,
    ),
    (
        "a_dfinity_canister_saved_as_cbor_switches_in_place",
        switch::a_dfinity_canister_saved_as_cbor_switches_in_place,
    ),
    (
        "unknown_stable_memory_is_refused_and_left_untouched",
        switch::unknown_stable_memory_is_refused_and_left_untouched,
    ),
    (
        "a_downgrade_to_dfinity_asset_canister_fails_and_keeps_the_site",
        switch::a_downgrade_to_dfinity_asset_canister_fails_and_keeps_the_site,
    ),
    (
        "reference_client_types_are_accepted",
        compat::reference_client_types_are_accepted,
    ),
    (
        "a_proposed_batch_has_dfinitys_evidence_and_commits_with_it_only",
        proposals::a_proposed_batch_has_dfinitys_evidence_and_commits_with_it_only,
    ),
    (
        "every_answer_of_a_site_verifies_under_v2",
        certification_v2::every_answer_of_a_site_verifies_under_v2,
    ),
    (
        "errors_not_modified_and_the_404_page_are_certified",
        certification_v2::errors_not_modified_and_the_404_page_are_certified,
    ),
    (
        "thirty_mb_are_verified_in_206_chunks_every_byte",
        certification_v2::thirty_mb_are_verified_in_206_chunks_every_byte,
    ),
    (
        "reliability_an_upgrade_from_the_released_wasm_keeps_assets_permissions_and_batches",
        reliability::an_upgrade_from_the_released_wasm_keeps_assets_permissions_and_batches,
    ),
    (
        "reliability_arbitrary_argument_bytes_change_nothing",
        reliability::arbitrary_argument_bytes_change_nothing,
    ),
    (
        "reliability_a_trap_at_any_instruction_changes_nothing",
        reliability::a_trap_at_any_instruction_changes_nothing,
    ),
    (
        "reliability_model_sequences_on_the_wasm",
        model::model_sequences_on_the_wasm,
    ),
    (
        "reliability_certified_data_is_never_set_from_a_query",
        reliability::certified_data_is_never_set_from_a_query,
    ),
    (
        "reliability_memory_limits_hit_mid_commit_roll_back",
        memory_limits::memory_limits_hit_mid_commit_roll_back,
    ),
];

/// A fresh canister on the selected backend with the sample site uploaded.
pub fn site_client(wasm: &[u8]) -> AssetClient {
    let mut client = AssetClient::install(select_backend(), wasm.to_vec());
    let admin = client.controller();
    client
        .upload(admin, &sample_site(), 1_900_000)
        .expect("upload the sample site");
    client
}

/// The sample site on a fresh canister whose clock reads `time_ns`, so two
/// of them list the same `modified` times.
pub fn site_client_at(wasm: &[u8], time_ns: u64) -> AssetClient {
    let mut backend = select_backend();
    backend.set_time_ns(time_ns);
    let mut client = AssetClient::install(backend, wasm.to_vec());
    let admin = client.controller();
    client
        .upload(admin, &sample_site(), 1_900_000)
        .expect("upload the sample site");
    client
}
