//! Queries: HTTP serving, streaming, and the asset listing reads.

use super::{read, wire, with_server};
use crate::http::QueryContext;
use crate::types::*;

// `http_request` and `http_request_streaming_callback` are exported by
// hand: `wire` reads the request and writes the reply directly (candid's
// generic code cost most of a page view), and the body goes to the system
// as it is, not copied into a reply buffer first (see `wire::Encoded`).
// The `_interface` functions give the candid interface their types.

#[cfg_attr(
    target_family = "wasm",
    unsafe(export_name = "canister_query http_request")
)]
#[cfg_attr(
    not(target_family = "wasm"),
    unsafe(export_name = "canister_query.http_request")
)]
fn http_request() {
    ic_cdk::futures::in_query_executor_context(|| {
        let request = wire::decode_request(ic_cdk::api::msg_arg_data());
        #[cfg(feature = "phases")]
        {
            crate::phases::start(|| ic_cdk::api::performance_counter(0));
            crate::phases::mark("decode");
        }
        let certificate = ic_cdk::api::data_certificate();
        let context = QueryContext {
            canister_id: ic_cdk::api::canister_self(),
            certificate: certificate.as_deref(),
        };
        let response = with_server(|server| server.http_request(&context, &request));
        reply(wire::encode_response(&response));
        #[cfg(feature = "phases")]
        ic_cdk::api::debug_print(crate::phases::report());
    });
}

#[candid::candid_method(query, rename = "http_request")]
#[allow(dead_code, unused_variables)]
fn http_request_interface(request: HttpRequest) -> HttpResponse {
    unreachable!("only describes http_request for export_candid")
}

#[cfg_attr(
    target_family = "wasm",
    unsafe(export_name = "canister_query http_request_streaming_callback")
)]
#[cfg_attr(
    not(target_family = "wasm"),
    unsafe(export_name = "canister_query.http_request_streaming_callback")
)]
fn http_request_streaming_callback() {
    ic_cdk::futures::in_query_executor_context(|| {
        let (token,): (StreamingCallbackToken,) = candid::utils::decode_args_with_config(
            &ic_cdk::api::msg_arg_data(),
            candid::DecoderConfig::new().set_skipping_quota(10_000),
        )
        .unwrap_or_else(|e| ic_cdk::trap(format!("cannot decode the token: {e}")));
        let chunk = read(|server| server.http_request_streaming_callback(&token));
        reply(wire::encode_chunk(&chunk));
    });
}

#[candid::candid_method(query, rename = "http_request_streaming_callback")]
#[allow(dead_code, unused_variables)]
fn http_request_streaming_callback_interface(
    token: StreamingCallbackToken,
) -> Option<StreamingCallbackHttpResponse> {
    unreachable!("only describes http_request_streaming_callback for export_candid")
}

/// Hands `encoded` to the system part by part and replies.
fn reply(encoded: wire::Encoded<'_>) {
    for part in encoded.parts() {
        if !part.is_empty() {
            ic0::msg_reply_data_append(part);
        }
    }
    ic0::msg_reply();
}

#[ic_cdk::query]
fn get(args: GetArguments) -> EncodedAsset {
    read(|server| server.get(args))
}

#[ic_cdk::query]
fn get_chunk(args: GetChunkArguments) -> GetChunkResponse {
    read(|server| server.get_chunk(args))
}

#[ic_cdk::query]
fn list(args: ListArguments) -> Vec<AssetDetails> {
    with_server(|server| args.page(server.list()))
}

#[ic_cdk::query]
fn certified_tree(_: CertifiedTreeArguments) -> CertifiedTreeResponse {
    let certificate = ic_cdk::api::data_certificate().unwrap_or_else(|| {
        ic_cdk::trap("certified_tree must be called as a query: no data certificate")
    });
    with_server(|server| server.certified_tree(certificate))
}

#[ic_cdk::query]
fn get_asset_properties(key: Key) -> AssetProperties {
    read(|server| server.get_asset_properties(&key))
}
