//! Every response the server certifies goes through the official verifier
//! against a BLS-signed certificate over the server's certified data.

mod support;

use std::io::Write;

use asset_server::types::*;
use asset_testkit::GatewayRequest;
use serde_bytes::ByteBuf;
use support::*;

const CHUNK: usize = 1_900_000;

fn site_harness() -> Harness {
    let mut h = Harness::new();
    h.upload(&sample_site(), CHUNK);
    h
}

#[test]
fn every_file_of_an_uploaded_site_verifies() {
    let h = site_harness();
    for f in sample_site() {
        let url: String = f.key.replace(' ', "%20").replace('\u{e9}', "%C3%A9");
        let response = h.get_verified(&url);
        assert_eq!(response.status, 200, "{url}");
        assert_eq!(response.body, f.body, "{url}");
        assert_eq!(response.header("content-type"), Some(f.content_type));
        assert_eq!(
            response.header("etag"),
            Some(format!("\"{}\"", hex::encode(sha256(&f.body))).as_str())
        );
    }
}

#[test]
fn aliases_serve_and_verify_their_html_file() {
    let h = site_harness();
    for (url, key) in [
        ("/", "/index.html"),
        ("/docs/", "/docs/index.html"),
        ("/docs", "/docs/index.html"),
        ("/about", "/about.html"),
    ] {
        let expected = sample_site()
            .into_iter()
            .find(|f| f.key == key)
            .unwrap()
            .body;
        assert_eq!(h.get_verified(url).body, expected, "{url} serves {key}");
    }
}

#[test]
fn an_asset_stored_under_an_alias_path_wins_over_the_alias() {
    let mut h = site_harness();
    h.upload(&[file("/about", "text/plain", "the real /about")], CHUNK);
    assert_eq!(h.get_verified("/about").body, b"the real /about");
    assert_eq!(h.get_verified("/about.html").body, b"<h1>about</h1>");
}

#[test]
fn unknown_paths_fall_back_to_index_html_and_verify() {
    let h = site_harness();
    let response = h.get_verified("/app/route/42?tab=2");
    assert_eq!(response.status, 200);
    assert_eq!(response.body, b"<!doctype html><h1>home</h1>");
}

#[test]
fn without_index_html_an_unknown_path_is_a_404_that_v1_cannot_certify() {
    let mut h = Harness::new();
    h.upload(&[file("/only.txt", "text/plain", "x")], CHUNK);
    let request = GatewayRequest::get("/nothing").with_header("host", GATEWAY_HOST);
    let response = h.fetch(&request);
    assert_eq!(response.status, 404);
    assert!(String::from_utf8_lossy(&response.body).contains("/nothing"));
    assert!(
        h.verify(&request, &response).is_err(),
        "v1 certifies no 404 bodies"
    );
}

#[test]
fn query_strings_and_percent_escapes_are_decoded_for_lookup() {
    let h = site_harness();
    assert_eq!(
        h.get_verified("/a%20b.txt?download=1").body,
        b"space in name"
    );
    assert_eq!(h.get_verified("/caf%C3%A9.txt").body, b"accented");
    assert_eq!(
        h.get_verified("/app.js?v=3#frag").body,
        b"console.log('hi')"
    );
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn gzip_is_served_when_accepted_and_verifies_against_the_identity_hash() {
    let mut h = Harness::new();
    let text = "hello gzip ".repeat(200);
    h.upload(&[file("/big.txt", "text/plain", text.clone())], CHUNK);
    let gz = gzip(text.as_bytes());
    let admin = h.admin();
    h.upload_as(
        admin,
        &[File {
            key: "/big.txt",
            content_type: "text/plain",
            body: gz.clone(),
        }],
        CHUNK,
        "gzip",
    )
    .unwrap();

    let request = GatewayRequest::get("/big.txt")
        .with_header("host", GATEWAY_HOST)
        .with_header("accept-encoding", "gzip, deflate, br");
    let response = h.fetch(&request);
    assert_eq!(response.header("content-encoding"), Some("gzip"));
    assert_eq!(response.body, gz);
    h.verify(&request, &response)
        .expect("gzip body verifies after decompression");

    let plain = h.get_verified("/big.txt");
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(plain.body, text.as_bytes());

    let refused = GatewayRequest::get("/big.txt")
        .with_header("host", GATEWAY_HOST)
        .with_header("accept-encoding", "gzip;q=0");
    assert_eq!(h.fetch(&refused).body, text.as_bytes());
}

#[test]
fn a_multi_chunk_body_streams_and_the_joined_body_verifies() {
    let mut h = Harness::new();
    let body: Vec<u8> = (0..10_000u32).flat_map(|i| i.to_le_bytes()).collect();
    h.upload(
        &[file("/data.bin", "application/octet-stream", body.clone())],
        7_000,
    );
    let request = GatewayRequest::get("/data.bin").with_header("host", GATEWAY_HOST);
    let first = h.http_request(&request);
    assert_eq!(
        first.body.len(),
        7_000,
        "the first response carries only chunk 0"
    );
    assert!(first.streaming_strategy.is_some());
    let whole = h.get_verified("/data.bin");
    assert_eq!(whole.body, body);
}

#[test]
fn a_streaming_token_for_a_changed_asset_is_refused() {
    let mut h = Harness::new();
    h.upload(
        &[file("/data.bin", "application/octet-stream", vec![1; 3000])],
        1000,
    );
    let request = GatewayRequest::get("/data.bin").with_header("host", GATEWAY_HOST);
    let Some(StreamingStrategy::Callback { token, .. }) =
        h.http_request(&request).streaming_strategy
    else {
        panic!("streams")
    };
    h.upload(
        &[file("/data.bin", "application/octet-stream", vec![2; 3000])],
        1000,
    );
    let error = h
        .server
        .http_request_streaming_callback(&token)
        .unwrap_err();
    assert!(error.to_string().contains("changed"), "{error}");
}

#[test]
fn overwriting_a_file_certifies_the_new_body_and_not_the_old() {
    let mut h = site_harness();
    let old = b"console.log('hi')".to_vec();
    h.upload(
        &[file("/app.js", "text/javascript", "console.log('v2')")],
        CHUNK,
    );
    assert_eq!(h.get_verified("/app.js").body, b"console.log('v2')");
    assert!(!h.verifies("/app.js", &old), "the old body must not verify");
}

#[test]
fn deleted_files_leave_nothing_stale_that_verifies() {
    let mut h = site_harness();
    h.apply(BatchOperationKind::DeleteAsset(DeleteAssetArguments {
        key: "/app.css".into(),
    }))
    .unwrap();
    assert!(!h.verifies("/app.css", b"body { color: teal }"));
    // The path now falls back to the index page, which verifies as such.
    assert_eq!(
        h.get_verified("/app.css").body,
        b"<!doctype html><h1>home</h1>"
    );
}

#[test]
fn clear_leaves_nothing_that_verifies() {
    let mut h = site_harness();
    h.apply(BatchOperationKind::Clear(ClearArguments {}))
        .unwrap();
    assert!(h.server.list().is_empty());
    assert_eq!(h.server.stored_chunk_count(), 0, "clear frees every chunk");
    for f in sample_site() {
        let request = GatewayRequest::get(f.key).with_header("host", GATEWAY_HOST);
        let response = h.fetch(&request);
        assert_eq!(response.status, 404);
        assert!(!h.verifies(f.key, &f.body), "{} still verifies", f.key);
    }
}

#[test]
fn a_tampered_body_fails_verification() {
    let h = site_harness();
    let mut tampered = b"<!doctype html><h1>home</h1>".to_vec();
    tampered[5] ^= 1;
    assert!(!h.verifies("/index.html", &tampered));
    assert!(h.verifies("/index.html", b"<!doctype html><h1>home</h1>"));
}

#[test]
fn a_certificate_over_another_root_fails_verification() {
    let mut h = site_harness();
    h.certified_data = [9; 32];
    let request = GatewayRequest::get("/index.html").with_header("host", GATEWAY_HOST);
    let response = h.fetch(&request);
    assert!(h.verify(&request, &response).is_err());
}

#[test]
fn head_answers_like_get_with_the_body() {
    let h = site_harness();
    let mut request = GatewayRequest::get("/app.css").with_header("host", GATEWAY_HOST);
    request.method = "HEAD".into();
    let response = h.fetch(&request);
    assert_eq!(response.body, b"body { color: teal }");
    h.verify(&request, &response).unwrap();
}

#[test]
fn a_lowercase_get_is_a_get() {
    // @dfinity/assets' `AssetManager` checks certification with `get`.
    let h = site_harness();
    let mut request = GatewayRequest::get("/app.css").with_header("host", GATEWAY_HOST);
    request.method = "get".into();
    let response = h.fetch(&request);
    assert_eq!(response.status, 200);
    assert_eq!(response.body, b"body { color: teal }");
    h.verify(&request, &response).unwrap();
}

#[test]
fn other_methods_get_405() {
    let h = site_harness();
    let mut request = GatewayRequest::get("/app.css");
    request.method = "POST".into();
    let response = h.fetch(&request);
    assert_eq!(response.status, 405);
    assert_eq!(response.header("allow"), Some("GET, HEAD"));
}

#[test]
fn malformed_urls_get_400_not_a_trap() {
    let h = site_harness();
    for url in ["", "/a%zz", "/%ff", "/bad%2", "no-slash"] {
        let response = h.fetch(&GatewayRequest::get(url).with_header("host", GATEWAY_HOST));
        assert_eq!(response.status, 400, "{url:?}");
        assert!(response.header("ic-certificate").is_none());
    }
}

#[test]
fn max_age_and_custom_headers_are_served() {
    let mut h = site_harness();
    h.apply(BatchOperationKind::SetAssetProperties(
        SetAssetPropertiesArguments {
            max_age: Some(Some(600)),
            headers: Some(Some(vec![("x-frame-options".into(), "DENY".into())])),
            ..properties("/app.js")
        },
    ))
    .unwrap();
    let response = h.get_verified("/app.js");
    assert_eq!(response.header("cache-control"), Some("max-age=600"));
    assert_eq!(response.header("x-frame-options"), Some("DENY"));
    let properties = h.server.get_asset_properties("/app.js").unwrap();
    assert_eq!(properties.max_age, Some(600));
}

#[test]
fn switching_aliasing_off_removes_the_alias_paths() {
    let mut h = site_harness();
    h.apply(BatchOperationKind::SetAssetProperties(
        SetAssetPropertiesArguments {
            is_aliased: Some(Some(false)),
            ..properties("/about.html")
        },
    ))
    .unwrap();
    assert!(h.server.tree().v1.get("/about").is_none());
    // /about now falls back to the index page.
    assert_eq!(
        h.get_verified("/about").body,
        b"<!doctype html><h1>home</h1>"
    );
}

#[test]
fn certified_tree_reconstructs_to_the_certified_root() {
    let h = site_harness();
    let response = h.server.certified_tree(vec![1, 2, 3]);
    let tree: ic_certified_map::HashTree<'_> = serde_cbor::from_slice(&response.tree).unwrap();
    assert_eq!(tree.reconstruct(), h.certified_data);
}

#[test]
fn get_get_chunk_and_list_return_what_was_uploaded() {
    let mut h = Harness::new();
    let body: Vec<u8> = (0..2500u32).map(|i| i as u8).collect();
    h.upload(
        &[file("/x.bin", "application/octet-stream", body.clone())],
        1000,
    );
    let got = h
        .server
        .get(GetArguments {
            key: "/x.bin".into(),
            accept_encodings: vec!["identity".into()],
        })
        .unwrap();
    assert_eq!(got.total_length, nat(2500));
    let mut joined = got.content.into_vec();
    for index in 1..3u64 {
        let chunk = h
            .server
            .get_chunk(GetChunkArguments {
                key: "/x.bin".into(),
                content_encoding: "identity".into(),
                index: nat(index),
                sha256: got.sha256.clone(),
            })
            .unwrap();
        joined.extend_from_slice(&chunk.content);
    }
    assert_eq!(joined, body);
    let listed = h.server.list();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0].encodings[0].sha256,
        Some(ByteBuf::from(sha256(&body).to_vec()))
    );
    assert!(
        h.server
            .get(GetArguments {
                key: "/x.bin".into(),
                accept_encodings: vec!["br".into()]
            })
            .is_err()
    );
}
