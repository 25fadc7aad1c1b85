//! Certification v2, as today's gateway asks for it (`certificate_version`
//! 2): every answer (assets in each encoding, aliases, the fallback, 404,
//! 400, 405, 206 chunks, 304, HEAD) verifies with `ic-response-verification`
//! at minimum version 2 against a BLS-signed certificate, and a tampered
//! status, header or body does not.

mod support;

use std::io::Write;

use asset_server::types::*;
use asset_testkit::{GatewayRequest, GatewayResponse};
use support::*;

const CHUNK: usize = 1_900_000;

fn get(url: &str) -> GatewayRequest {
    GatewayRequest::get(url).with_header("host", GATEWAY_HOST)
}

fn request(method: &str, url: &str) -> GatewayRequest {
    GatewayRequest {
        method: method.into(),
        ..get(url)
    }
}

fn site_harness() -> Harness {
    let mut h = Harness::new();
    h.upload(&sample_site(), CHUNK);
    h
}

fn is_v2_header(response: &GatewayResponse) -> bool {
    response
        .header("ic-certificate")
        .is_some_and(|v| v.contains("version=2") && v.contains("expr_path=:"))
}

#[test]
fn every_file_of_an_uploaded_site_verifies_under_v2_with_its_headers() {
    let h = site_harness();
    for f in sample_site() {
        let url = f.key.replace(' ', "%20");
        let response = h.get_verified_v2(&get(&url));
        assert_eq!(response.status, 200, "{url}");
        assert_eq!(response.body, f.body, "{url}");
        assert!(is_v2_header(&response), "{url}");
        assert_eq!(response.header("content-type"), Some(f.content_type));
        assert_eq!(
            response.header("etag"),
            Some(format!("\"{}\"", hex(&sha256(&f.body))).as_str())
        );
        assert!(response.header("ic-certificateexpression").is_some());
    }
}

#[test]
fn aliases_verify_under_v2() {
    let h = site_harness();
    for (url, key) in [
        ("/", "/index.html"),
        ("/about", "/about.html"),
        ("/docs/", "/docs/index.html"),
        ("/docs", "/docs/index.html"),
    ] {
        let response = h.get_verified_v2(&get(url));
        let direct = h.get_verified_v2(&get(key));
        assert_eq!(response.status, 200, "{url}");
        assert_eq!(response.body, direct.body, "{url}");
    }
}

#[test]
fn query_strings_do_not_change_what_verifies() {
    let h = site_harness();
    let response = h.get_verified_v2(&get("/app.js?v=3#x"));
    assert_eq!(response.body, b"console.log('hi')");
}

#[test]
fn a_single_page_app_falls_back_to_index_html_certified() {
    let h = site_harness();
    let response = h.get_verified_v2(&get("/some/client/route"));
    assert_eq!(response.status, 200);
    assert_eq!(response.body, b"<!doctype html><h1>home</h1>");
}

#[test]
fn a_site_with_a_404_page_answers_unknown_paths_with_it_and_status_404() {
    let mut h = site_harness();
    h.upload(&[file("/404.html", "text/html", "<h1>lost</h1>")], CHUNK);
    for url in ["/nope", "/deep/er/path.js", "/docs/missing"] {
        let response = h.get_verified_v2(&get(url));
        assert_eq!(response.status, 404, "{url}");
        assert_eq!(response.body, b"<h1>lost</h1>", "{url}");
        assert_eq!(response.header("content-type"), Some("text/html"));
    }
    // Existing pages are unaffected, and the 404 page itself is a 200.
    assert_eq!(h.get_verified_v2(&get("/app.css")).status, 200);
    assert_eq!(h.get_verified_v2(&get("/404.html")).status, 200);
}

#[test]
fn a_site_without_index_or_404_page_gets_a_certified_404() {
    let mut h = Harness::new();
    h.upload(&[file("/app.js", "text/javascript", "1")], CHUNK);
    let response = h.get_verified_v2(&get("/missing.html"));
    assert_eq!(response.status, 404);
    assert!(String::from_utf8_lossy(&response.body).starts_with("404 Not Found"));
    let empty = Harness::new();
    assert_eq!(empty.get_verified_v2(&get("/")).status, 404);
}

#[test]
fn removing_index_html_moves_the_fallback_to_404() {
    let mut h = site_harness();
    assert_eq!(h.get_verified_v2(&get("/route")).status, 200);
    h.apply(BatchOperationKind::DeleteAsset(DeleteAssetArguments {
        key: "/index.html".into(),
    }))
    .unwrap();
    assert_eq!(h.get_verified_v2(&get("/route")).status, 404);
    assert_eq!(h.get_verified_v2(&get("/")).status, 404);
}

#[test]
fn a_lowercase_get_is_a_get() {
    // As under v1: @dfinity/assets' `isCertified` asks with `get`.
    let h = site_harness();
    let response = h.get_verified_v2(&request("get", "/app.js"));
    assert_eq!(response.status, 200);
    assert_eq!(response.body, h.get_verified_v2(&get("/app.js")).body);
}

#[test]
fn other_methods_get_a_certified_405_on_known_and_unknown_paths() {
    let h = site_harness();
    for url in ["/app.js", "/", "/nowhere"] {
        for method in ["POST", "PUT", "DELETE", "OPTIONS"] {
            let response = h.get_verified_v2(&request(method, url));
            assert_eq!(response.status, 405, "{method} {url}");
            assert_eq!(response.header("allow"), Some("GET, HEAD"));
        }
    }
}

#[test]
fn a_malformed_escape_gets_a_certified_400() {
    let h = site_harness();
    for url in ["/a%zz", "/app.js%", "/x%2"] {
        let response = h.get_verified_v2(&get(url));
        assert_eq!(response.status, 400, "{url}");
    }
    // Escapes that are not UTF-8 cannot be read by the verifier either:
    // the 400 is sent, and no certificate could cover it.
    let response = h.fetch_v2(&get("/%ff%fe"));
    assert_eq!(response.status, 400);
    assert!(h.verify_v2(&get("/%ff%fe"), &response).is_err());
}

#[test]
fn head_answers_as_get_does() {
    let h = site_harness();
    let head = h.get_verified_v2(&request("HEAD", "/app.css"));
    let get = h.get_verified_v2(&get("/app.css"));
    assert_eq!((head.status, head.body), (get.status, get.body));
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// `/text.txt` stored as identity, gzip and (pretend) br bodies.
fn encoded_harness() -> (Harness, Vec<u8>, Vec<u8>, Vec<u8>) {
    let mut h = Harness::new();
    let text = "certified text ".repeat(300).into_bytes();
    let gz = gzip(&text);
    let br = b"not really brotli, but a distinct body".to_vec();
    let admin = h.admin();
    h.upload(&[file("/text.txt", "text/plain", text.clone())], CHUNK);
    for (encoding, body) in [("gzip", gz.clone()), ("br", br.clone())] {
        let f = File {
            key: "/text.txt",
            content_type: "text/plain",
            body,
        };
        h.upload_as(admin, &[f], CHUNK, encoding).unwrap();
    }
    (h, text, gz, br)
}

#[test]
fn each_stored_encoding_is_certified_and_negotiated_as_browsers_ask() {
    let (h, text, gz, br) = encoded_harness();
    let cases = [
        ("gzip, deflate, br, zstd", "br", &br),
        ("gzip, deflate, br;q=0.5", "gzip", &gz),
        ("gzip", "gzip", &gz),
        ("identity", "identity", &text),
        ("br;q=0, gzip;q=0", "identity", &text),
    ];
    for (accept, expected, body) in cases {
        let request = get("/text.txt").with_header("accept-encoding", accept);
        let response = h.get_verified_v2(&request);
        let encoding = response.header("content-encoding").unwrap_or("identity");
        assert_eq!(encoding, expected, "{accept}");
        assert_eq!(&response.body, body, "{accept}");
        assert_eq!(response.header("vary"), Some("accept-encoding"));
    }
    let plain = h.get_verified_v2(&get("/text.txt"));
    assert_eq!(plain.body, text, "no Accept-Encoding: identity");
}

#[test]
fn tampered_status_headers_or_body_fail_v2() {
    let (h, _, _, _) = encoded_harness();
    let request = get("/text.txt").with_header("accept-encoding", "gzip");
    let good = h.get_verified_v2(&request);

    let mut body = good.clone();
    body.body[10] ^= 1;
    assert!(h.verify_v2(&request, &body).is_err(), "body");

    let mut status = good.clone();
    status.status = 404;
    assert!(h.verify_v2(&request, &status).is_err(), "status");

    let mut header = good.clone();
    for (name, value) in &mut header.headers {
        if name == "content-type" {
            *value = "text/html".into();
        }
    }
    assert!(h.verify_v2(&request, &header).is_err(), "content-type");

    let mut encoding = good.clone();
    encoding
        .headers
        .retain(|(name, _)| name != "content-encoding");
    assert!(
        h.verify_v2(&request, &encoding).is_err(),
        "content-encoding"
    );

    let mut added = good;
    added.headers.push(("set-cookie".into(), "a=b".into()));
    assert!(h.verify_v2(&request, &added).is_err(), "extra header");
}

#[test]
fn max_age_and_custom_headers_are_certified() {
    let mut h = site_harness();
    h.apply(BatchOperationKind::SetAssetProperties(
        SetAssetPropertiesArguments {
            max_age: Some(Some(600)),
            headers: Some(Some(vec![("X-Frame-Options".into(), "DENY".into())])),
            ..properties("/app.js")
        },
    ))
    .unwrap();
    let request = get("/app.js");
    let response = h.get_verified_v2(&request);
    assert_eq!(response.header("cache-control"), Some("max-age=600"));
    assert_eq!(response.header("x-frame-options"), Some("DENY"));
    let mut stripped = response;
    stripped.headers.retain(|(n, _)| n != "cache-control");
    assert!(h.verify_v2(&request, &stripped).is_err());
}

fn big_body(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

/// What today's gateway does with a `206` to a request without `Range`:
/// verify it, then ask `Range: bytes=<next>-` and verify each answer.
fn fetch_like_the_gateway(h: &Harness, url: &str) -> (Vec<u8>, usize) {
    let first_request = get(url);
    let first = h.get_verified_v2(&first_request);
    assert_eq!(first.status, 206, "{url}");
    let total = content_range(&first).2;
    let mut body = first.body;
    let mut answers = 1;
    while body.len() < total {
        let request = get(url).with_header("range", &format!("bytes={}-", body.len()));
        let response = h.get_verified_v2(&request);
        assert_eq!(response.status, 206);
        let (start, end, length) = content_range(&response);
        assert_eq!((start, length), (body.len(), total));
        assert_eq!(end + 1 - start, response.body.len());
        body.extend_from_slice(&response.body);
        answers += 1;
    }
    (body, answers)
}

fn content_range(response: &GatewayResponse) -> (usize, usize, usize) {
    let value = response.header("content-range").expect("content-range");
    let (range, total) = value
        .strip_prefix("bytes ")
        .unwrap()
        .split_once('/')
        .unwrap();
    let (start, end) = range.split_once('-').unwrap();
    (
        start.parse().unwrap(),
        end.parse().unwrap(),
        total.parse().unwrap(),
    )
}

#[test]
fn a_large_body_is_served_as_certified_206_chunks_every_byte_verified() {
    let mut h = Harness::new();
    let body = big_body(5 * 1000 + 123);
    h.upload(&[file("/video.mp4", "video/mp4", body.clone())], 1000);
    let (fetched, answers) = fetch_like_the_gateway(&h, "/video.mp4");
    assert_eq!(fetched, body);
    assert_eq!(answers, 6);
    // The first chunk says the file takes ranges.
    let first = h.fetch_v2(&get("/video.mp4"));
    assert_eq!(first.header("accept-ranges"), Some("bytes"));
}

#[test]
fn a_range_anywhere_gets_the_certified_chunk_holding_its_first_byte() {
    let mut h = Harness::new();
    let body = big_body(4000);
    h.upload(&[file("/v.webm", "video/webm", body.clone())], 1000);
    for (range, start) in [
        ("bytes=0-", 0),
        ("bytes=2500-", 2000),
        ("bytes=999-1000", 0),
        ("bytes=-10", 3000),
    ] {
        let request = get("/v.webm").with_header("range", range);
        let response = h.get_verified_v2(&request);
        assert_eq!(response.status, 206, "{range}");
        assert_eq!(content_range(&response).0, start, "{range}");
        assert_eq!(response.body, body[start..start + 1000], "{range}");
    }
    let past = h.fetch_v2(&get("/v.webm").with_header("range", "bytes=4000-"));
    assert_eq!(past.status, 416);
    assert_eq!(past.header("content-range"), Some("bytes */4000"));
}

#[test]
fn a_chunk_with_a_forged_content_range_fails() {
    let mut h = Harness::new();
    h.upload(
        &[file("/v.bin", "application/octet-stream", big_body(3000))],
        1000,
    );
    let request = get("/v.bin").with_header("range", "bytes=1000-");
    let mut response = h.get_verified_v2(&request);
    for (name, value) in &mut response.headers {
        if name == "content-range" {
            *value = "bytes 0-999/3000".into();
        }
    }
    assert!(h.verify_v2(&request, &response).is_err());
}

#[test]
fn a_small_file_ignores_range_and_answers_200() {
    let h = site_harness();
    let response = h.get_verified_v2(&get("/app.js").with_header("range", "bytes=2-"));
    assert_eq!(response.status, 200);
    assert_eq!(response.body, b"console.log('hi')");
}

#[test]
fn if_none_match_with_the_current_etag_gets_a_certified_304() {
    let (h, _, gz, _) = encoded_harness();
    let request = get("/text.txt").with_header("accept-encoding", "gzip");
    let etag = h
        .get_verified_v2(&request)
        .header("etag")
        .unwrap()
        .to_string();
    assert_eq!(etag, format!("\"{}\"", hex(&sha256(&gz))));
    for tag in [etag.clone(), format!("W/{etag}"), format!("\"x\", {etag}")] {
        let conditional = request.clone().with_header("if-none-match", &tag);
        let response = h.get_verified_v2(&conditional);
        assert_eq!(response.status, 304, "{tag}");
        assert!(response.body.is_empty());
        assert_eq!(response.header("etag"), Some(etag.as_str()));
    }
    let stale = request.with_header("if-none-match", "\"0000\"");
    assert_eq!(h.get_verified_v2(&stale).status, 200);
}

#[test]
fn an_overwritten_or_deleted_file_leaves_nothing_stale_that_verifies_under_v2() {
    let mut h = site_harness();
    h.upload(
        &[file("/app.js", "text/javascript", "console.log('new')")],
        CHUNK,
    );
    let mut response = h.get_verified_v2(&get("/app.js"));
    assert_eq!(response.body, b"console.log('new')");
    response.body = b"console.log('hi')".to_vec();
    assert!(h.verify_v2(&get("/app.js"), &response).is_err());
    h.apply(BatchOperationKind::DeleteAsset(DeleteAssetArguments {
        key: "/app.css".into(),
    }))
    .unwrap();
    let gone = h.get_verified_v2(&get("/app.css"));
    assert_eq!(gone.body, b"<!doctype html><h1>home</h1>", "falls back");
    let mut stale = gone;
    stale.body = b"body { color: teal }".to_vec();
    assert!(h.verify_v2(&get("/app.css"), &stale).is_err());
}

#[test]
fn after_an_upgrade_every_answer_is_the_same_and_verifies() {
    let (mut h, _, _, _) = encoded_harness();
    h.upload(&sample_site(), CHUNK);
    h.upload(&[file("/404.html", "text/html", "lost")], CHUNK);
    h.upload(
        &[file("/big.bin", "application/octet-stream", big_body(2500))],
        1000,
    );
    h.apply(BatchOperationKind::DeleteAsset(DeleteAssetArguments {
        key: "/about.html".into(),
    }))
    .unwrap();
    h.apply(BatchOperationKind::SetAssetProperties(
        SetAssetPropertiesArguments {
            is_aliased: Some(Some(false)),
            ..properties("/docs/index.html")
        },
    ))
    .unwrap();
    // Tree shapes depend on insertion order, so the roots may differ; what
    // is certified may not: every answer is the same and verifies.
    let v1_paths = |h: &Harness| -> Vec<(Vec<u8>, [u8; 32])> {
        h.server.tree().v1.paths().into_iter().collect()
    };
    let mut requests: Vec<GatewayRequest> = sample_site()
        .iter()
        .map(|f| get(&f.key.replace(' ', "%20")))
        .collect();
    for url in [
        "/",
        "/about",
        "/docs/",
        "/docs",
        "/nowhere",
        "/a%zz",
        "/404.html",
    ] {
        requests.push(get(url));
    }
    requests.push(request("POST", "/app.js"));
    requests.push(get("/text.txt").with_header("accept-encoding", "br"));
    requests.push(get("/big.bin").with_header("range", "bytes=1000-"));
    let answers = |h: &Harness| -> Vec<Answer> {
        requests
            .iter()
            .map(|r| {
                let mut response = h.get_verified_v2(r);
                response.headers.retain(|(n, _)| n != "IC-Certificate");
                (response.status, response.headers, response.body)
            })
            .collect()
    };
    let (paths_before, answers_before) = (v1_paths(&h), answers(&h));
    h.upgrade();
    assert_eq!(v1_paths(&h), paths_before);
    assert_eq!(answers(&h), answers_before);
    let (body, _) = fetch_like_the_gateway(&h, "/big.bin");
    assert_eq!(body, big_body(2500));
}

#[test]
fn v1_requests_still_get_the_v1_header() {
    let h = site_harness();
    let response = h.get_verified("/app.js");
    let header = response.header("ic-certificate").unwrap();
    assert!(!header.contains("version=2"));
    assert!(header.contains("tree=:"));
}

/// Status, headers and body of one answer.
type Answer = (u16, Vec<(String, String)>, Vec<u8>);

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
