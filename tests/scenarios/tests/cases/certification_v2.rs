//! Certification v2 on the wasm, as today's gateway asks for it: every
//! answer verifies under v2 only, large files are read as certified 206
//! chunks, and errors, 304 and the 404 page are certified too.

use scenarios::site::{large_body, sample_site, site_file, url_of};
use scenarios::{AssetClient, select_backend};

use super::site_client;

pub fn every_answer_of_a_site_verifies_under_v2(wasm: &[u8]) {
    let mut client = site_client(wasm);
    for file in sample_site() {
        let request = client.gateway_request(&url_of(&file.key));
        let response = client.fetch_verified_v2(&request);
        assert_eq!(response.status, 200, "{}", file.key);
        assert!(response.body == file.body, "{}", file.key);
        let header = response.header("ic-certificate").unwrap_or_default();
        assert!(header.contains("version=2"), "{}: {header}", file.key);
    }
    for (url, status) in [
        ("/", 200),
        ("/docs", 200),
        ("/about", 200),
        ("/app/route", 200),
    ] {
        let request = client.gateway_request(url);
        assert_eq!(client.fetch_verified_v2(&request).status, status, "{url}");
    }
    // The same after an upgrade, which rebuilds the tree from the stores.
    let arg = candid::encode_one(None::<()>).expect("encode the upgrade argument");
    client.backend.upgrade(wasm, arg).expect("upgrade");
    for url in ["/", "/app.js", "/no/such/page"] {
        let request = client.gateway_request(url);
        assert_eq!(client.fetch_verified_v2(&request).status, 200, "{url}");
    }
}

pub fn errors_not_modified_and_the_404_page_are_certified(wasm: &[u8]) {
    let mut client = site_client(wasm);
    let post = asset_testkit::GatewayRequest {
        method: "POST".into(),
        ..client.gateway_request("/app.js")
    };
    assert_eq!(client.fetch_verified_v2(&post).status, 405);
    let bad = client.gateway_request("/a%zz");
    assert_eq!(client.fetch_verified_v2(&bad).status, 400);

    let request = client.gateway_request("/app.js");
    let etag = client
        .fetch_verified_v2(&request)
        .header("etag")
        .expect("etag")
        .to_string();
    let conditional = request.with_header("if-none-match", &etag);
    let not_modified = client.fetch_verified_v2(&conditional);
    assert_eq!(not_modified.status, 304);
    assert!(not_modified.body.is_empty());

    let admin = client.controller();
    let page = site_file("/404.html", "text/html", "<h1>not here</h1>");
    client
        .upload(admin, &[page], 1_900_000)
        .expect("upload 404.html");
    let missing = client.gateway_request("/no/such/page");
    let response = client.fetch_verified_v2(&missing);
    assert_eq!(response.status, 404);
    assert_eq!(response.body, b"<h1>not here</h1>");
}

pub fn thirty_mb_are_verified_in_206_chunks_every_byte(wasm: &[u8]) {
    let mut client = AssetClient::install(select_backend(), wasm.to_vec());
    let admin = client.controller();
    let body = large_body(30 * 1000 * 1000);
    let file = site_file("/film.mp4", "video/mp4", body.clone());
    client
        .upload(admin, &[file], 1_900_000)
        .expect("upload 30 MB");
    let (fetched, answers) = client.fetch_ranges_v2("/film.mp4");
    assert!(
        fetched == body,
        "the joined 206 bodies differ from the file"
    );
    assert_eq!(answers, 30_000_000usize.div_ceil(1_900_000));
    // A seek lands on the certified chunk holding the byte asked for.
    let seek = client
        .gateway_request("/film.mp4")
        .with_header("range", "bytes=20000000-");
    let response = client.fetch_verified_v2(&seek);
    assert_eq!(response.status, 206);
    let (start, _, _) = scenarios::client::content_range(&response);
    assert!(start <= 20_000_000 && 20_000_000 < start + response.body.len() as u64);
    // Under v1 the same file still streams through the callback.
    let v1 = client.fetch_verified("/film.mp4");
    assert!(v1.body == body);
}
