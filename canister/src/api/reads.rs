//! Queries: HTTP serving, streaming, and the asset listing reads.

use super::{read, with_server};
use crate::http::QueryContext;
use crate::types::*;

/// Read and written by `wire` (a page view's cost is mostly candid's
/// otherwise); `http_request_interface` gives the candid interface its type.
#[ic_cdk::query(
    hidden = true,
    decode_with = "super::wire::decode_request",
    encode_with = "super::wire::encode_response"
)]
fn http_request(request: HttpRequest) -> HttpResponse {
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
    #[cfg(feature = "phases")]
    ic_cdk::api::debug_print(crate::phases::report());
    response
}

#[candid::candid_method(query, rename = "http_request")]
#[allow(dead_code, unused_variables)]
fn http_request_interface(request: HttpRequest) -> HttpResponse {
    unreachable!("only describes http_request for export_candid")
}

/// Written by `wire` (candid's serializer cost twice as much for a
/// 1.9 MB chunk); `http_request_streaming_callback_interface` gives the
/// candid interface its type.
#[ic_cdk::query(hidden = true, encode_with = "super::wire::encode_chunk")]
fn http_request_streaming_callback(
    token: StreamingCallbackToken,
) -> Option<StreamingCallbackHttpResponse> {
    read(|server| server.http_request_streaming_callback(&token))
}

#[candid::candid_method(query, rename = "http_request_streaming_callback")]
#[allow(dead_code, unused_variables)]
fn http_request_streaming_callback_interface(
    token: StreamingCallbackToken,
) -> Option<StreamingCallbackHttpResponse> {
    unreachable!("only describes http_request_streaming_callback for export_candid")
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
