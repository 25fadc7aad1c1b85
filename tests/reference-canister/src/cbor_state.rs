//! The CBOR state dfx's frontend canister saves since 2025: `serde_cbor`
//! of ic-certified-assets' `StableStateV2`, written from offset 0 with a
//! `StableWriter`. 0.3.0's `StableState` keeps its fields private, so it is
//! read back through its candid form (`V1` types below, the fields 0.3.0
//! declares) and re-shaped into `V2`, whose fields, order and types are
//! those of `StableStateV2` and the types it holds.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use candid::{CandidType, Deserialize, Int, Nat, Principal};
use ic_certified_assets::StableState;
use serde::Serialize;
use serde_bytes::ByteBuf;

#[derive(CandidType, Deserialize)]
struct StateV1 {
    authorized: Vec<Principal>,
    permissions: Option<PermissionsV2>,
    stable_assets: HashMap<String, AssetV1>,
    next_batch_id: Option<Nat>,
    configuration: Option<ConfigurationV2>,
}

#[derive(CandidType, Deserialize)]
struct AssetV1 {
    content_type: String,
    encodings: HashMap<String, EncodingV1>,
    max_age: Option<u64>,
    headers: Option<HashMap<String, String>>,
    is_aliased: Option<bool>,
    allow_raw_access: Option<bool>,
}

#[derive(CandidType, Deserialize)]
struct EncodingV1 {
    modified: Int,
    content_chunks: Vec<ByteBuf>,
    total_length: usize,
    certified: bool,
    sha256: [u8; 32],
    certificate_expression: Option<CertificateExpression>,
    response_hashes: Option<HashMap<u16, [u8; 32]>>,
}

#[derive(Serialize)]
struct StateV2 {
    authorized: Vec<Principal>,
    permissions: Option<PermissionsV2>,
    stable_assets: HashMap<String, AssetV2>,
    next_batch_id: Option<u64>,
    configuration: Option<ConfigurationV2>,
    last_state_update_timestamp: Option<u64>,
}

#[derive(CandidType, Deserialize, Serialize)]
struct PermissionsV2 {
    commit: BTreeSet<Principal>,
    prepare: BTreeSet<Principal>,
    manage_permissions: BTreeSet<Principal>,
}

#[derive(CandidType, Deserialize, Serialize)]
struct ConfigurationV2 {
    max_batches: Option<u64>,
    max_chunks: Option<u64>,
    max_bytes: Option<u64>,
}

#[derive(Serialize)]
struct AssetV2 {
    content_type: String,
    encodings: HashMap<String, EncodingV2>,
    max_age: Option<u64>,
    headers: Option<BTreeMap<String, String>>,
    is_aliased: Option<bool>,
    allow_raw_access: Option<bool>,
}

#[derive(Serialize)]
struct EncodingV2 {
    modified: u64,
    content_chunks: Vec<ByteBuf>,
    total_length: usize,
    certified: bool,
    sha256: [u8; 32],
    certificate_expression: Option<CertificateExpression>,
    response_hashes: Option<HashMap<u16, [u8; 32]>>,
}

#[derive(CandidType, Deserialize, Serialize)]
struct CertificateExpression {
    expression: String,
    expression_hash: [u8; 32],
}

pub fn save(state: StableState) {
    let bytes = candid::encode_one(&state).expect("encode the state");
    let v1: StateV1 = candid::decode_one(&bytes).expect("decode the state");
    let v2 = StateV2 {
        authorized: v1.authorized,
        permissions: v1.permissions,
        stable_assets: v1
            .stable_assets
            .into_iter()
            .map(|(key, asset)| (key, asset_v2(asset)))
            .collect(),
        next_batch_id: v1
            .next_batch_id
            .map(|id| u64::try_from(id.0).expect("batch id")),
        configuration: v1.configuration,
        last_state_update_timestamp: Some(ic_cdk::api::time()),
    };
    let mut writer = ic_cdk::stable::StableWriter::default();
    serde_cbor::to_writer(&mut writer, &v2).expect("save the CBOR state");
}

fn asset_v2(asset: AssetV1) -> AssetV2 {
    AssetV2 {
        content_type: asset.content_type,
        encodings: asset
            .encodings
            .into_iter()
            .map(|(name, e)| {
                let encoding = EncodingV2 {
                    modified: u64::try_from(e.modified.0).expect("modified"),
                    content_chunks: e.content_chunks,
                    total_length: e.total_length,
                    certified: e.certified,
                    sha256: e.sha256,
                    certificate_expression: e.certificate_expression,
                    response_hashes: e.response_hashes,
                };
                (name, encoding)
            })
            .collect(),
        max_age: asset.max_age,
        headers: asset.headers.map(|h| h.into_iter().collect()),
        is_aliased: asset.is_aliased,
        allow_raw_access: asset.allow_raw_access,
    }
}
