//! The preview's gateway (today's: ic-http-gateway) over real HTTP on
//! 127.0.0.1: every asset arrives byte for byte and verified under v2,
//! chunked files included; a body a byzantine replica altered is refused
//! with 503; a raw domain gets the canister's 403.

mod common;

use std::io::Read;

use asset_tools::preview::site_files;
use asset_tools::site::{BIG_FILE_KEY, big_file, sample_dir};
use common::{RunningGateway, http_get};

fn sample(path: &str) -> Vec<u8> {
    std::fs::read(sample_dir().join(path)).unwrap()
}

#[test]
fn serves_the_sample_site_verified_and_refuses_a_tampered_body() {
    let files = site_files(None).expect("sample site");
    let gateway = RunningGateway::start(files, Some("/app.js"));
    assert!(gateway.report.uploaded.contains(&BIG_FILE_KEY.to_string()));

    for (path, expected) in [
        ("/", sample("index.html")),
        ("/style.css", sample("style.css")),
        ("/logo.png", sample("logo.png")),
        ("/docs/", sample("docs/index.html")),
        ("/docs", sample("docs/index.html")),
        // Single-page-app routing: unknown paths get /index.html, certified.
        ("/some/client/route", sample("index.html")),
        (BIG_FILE_KEY, big_file().body),
    ] {
        let reply = gateway.get(path);
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
        assert!(
            reply.body == expected,
            "{path}: body differs ({} bytes)",
            reply.body.len()
        );
        assert!(
            reply.header("ic-certificate").is_some(),
            "{path}: no certificate header"
        );
    }

    // The tampered path: the canister answered 200, the replica altered
    // the body, the gateway refuses.
    let refused = gateway.get("/app.js");
    assert_eq!(refused.status, 503);
    assert!(
        refused.text().contains("failed verification"),
        "{}",
        refused.text()
    );

    // A raw domain is not verified by the gateway; the canister refuses it.
    let raw_host = format!("{}.raw.icp0.io", gateway.canister_id);
    let raw = http_get(gateway.port, "/", &[("Host", &raw_host)]);
    assert_eq!(raw.status, 403, "{}", raw.text());
    assert!(
        !raw.body.windows(9).any(|w| w == b"<!doctype"),
        "no asset bytes"
    );

    let log = gateway.log_lines();
    let line = |prefix: &str| {
        log.iter()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no log line for {prefix:?} in {log:#?}"))
            .clone()
    };
    assert!(line("GET /style.css -> 200").ends_with("(verified v2)"));
    // Three stored chunks, each a certified 206, one 200 for the browser.
    assert!(line(&format!("GET {BIG_FILE_KEY} -> 200")).ends_with("(verified v2)"));
    assert!(line("GET /app.js -> 503").contains("(NOT verified: "));
    assert!(line("GET / -> 403").ends_with("(raw: not verified)"));
}

#[test]
fn gzip_bodies_verify_and_decompress_to_the_file() {
    let files = site_files(Some(&sample_dir())).expect("sample site");
    let gateway = RunningGateway::start(files, None);
    let reply = http_get(gateway.port, "/style.css", &[("Accept-Encoding", "gzip")]);
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-encoding"), Some("gzip"));
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(reply.body.as_slice())
        .read_to_end(&mut plain)
        .expect("a gzip body");
    assert_eq!(plain, sample("style.css"));
    // Without the generated file, its path falls back to /index.html.
    assert_eq!(gateway.get(BIG_FILE_KEY).body, sample("index.html"));
}
