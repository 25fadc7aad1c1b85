//! `http_request` with arbitrary methods, URLs, hosts and headers, under
//! v1 and v2: it never traps, and every answer either verifies or is a
//! short 4xx; a raw host never gets asset bytes. `FUZZ_HTTP_CASES` sets
//! the number of requests (default 2,000); a failure prints the seed and
//! the smallest request that shows it.

mod support;

use asset_testkit::{GatewayRequest, GatewayResponse};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use support::*;

/// Every body contains this, so a leak of asset bytes is visible.
const MARK: &str = "ASSET-BYTES";

fn fuzz_site() -> Harness {
    let mut h = Harness::new();
    let big: Vec<u8> = MARK.bytes().cycle().take(5_000).collect();
    h.upload(
        &[
            file("/index.html", "text/html", format!("<p>{MARK} home</p>")),
            file("/a b/c.js", "text/javascript", format!("//{MARK}")),
            file("/caf\u{e9}.txt", "text/plain", format!("{MARK} caf\u{e9}")),
            file(
                "/docs/index.html",
                "text/html",
                format!("<p>{MARK} docs</p>"),
            ),
        ],
        1_900_000,
    );
    h.upload(&[file("/big.bin", "application/octet-stream", big)], 1_000);
    let admin = h.admin();
    h.upload_as(
        admin,
        &[file("/index.html", "text/html", format!("{MARK} br"))],
        1_900_000,
        "br",
    )
    .unwrap();
    h
}

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just("GET".to_string()),
        1 => Just("HEAD".to_string()),
        1 => prop::sample::select(vec!["POST", "PUT", "DELETE", "OPTIONS", "PATCH"])
            .prop_map(str::to_string),
        1 => "[A-Za-z]{1,10}",
    ]
}

fn url() -> impl Strategy<Value = String> {
    let known = prop::sample::select(vec![
        "/",
        "/index.html",
        "/index",
        "/a%20b/c.js",
        "/caf%C3%A9.txt",
        "/docs",
        "/docs/",
        "/big.bin",
        "/missing",
        "/docs/missing.png",
    ])
    .prop_map(str::to_string);
    let pieces = prop::collection::vec(
        prop::sample::select(vec![
            "/",
            "a",
            "..",
            ".",
            "//",
            "%",
            "%2",
            "%zz",
            "%20",
            "%C3%A9",
            "%ff",
            "?",
            "#",
            "+",
            "index.html",
            "\u{e9}",
            "\u{1F600}",
            ";",
            "&x=1",
        ]),
        0..12,
    )
    .prop_map(|parts| format!("/{}", parts.concat()));
    prop_oneof![
        3 => known.clone(),
        3 => pieces,
        1 => (known, "[?#][ -~]{0,20}").prop_map(|(k, q)| format!("{k}{q}")),
        1 => ".{0,300}",
        1 => Just(format!("/{}", "a/".repeat(2000))),
    ]
}

fn host() -> impl Strategy<Value = Option<String>> {
    let id = "lxzze-o7777-77777-aaaaa-cai";
    let raw = prop::sample::select(vec![
        "icp0.io",
        "ic0.app",
        "icp.net",
        "icp-api.io",
        "internetcomputer.org",
        "localhost",
    ])
    .prop_flat_map(move |base| {
        prop::sample::select(vec![
            format!("{id}.raw.{base}"),
            format!("{id}.RAW.{}", base.to_uppercase()),
            format!("{id}.raw.{base}:4943"),
            format!("{id}.raw.{base}."),
        ])
    });
    prop_oneof![
        1 => Just(None),
        3 => Just(Some(GATEWAY_HOST.to_string())),
        3 => raw.prop_map(Some),
        1 => "[a-z0-9.:-]{0,40}".prop_map(Some),
    ]
}

fn header_value(choices: Vec<&'static str>) -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        2 => Just(None),
        3 => prop::sample::select(choices).prop_map(|v| Some(v.to_string())),
        1 => "[ -~]{0,40}".prop_map(Some),
    ]
}

#[derive(Debug, Clone)]
struct Fuzzed {
    method: String,
    url: String,
    host: Option<String>,
    accept_encoding: Option<String>,
    range: Option<String>,
    if_none_match: Option<String>,
    certificate_version: Option<u16>,
}

fn fuzzed() -> impl Strategy<Value = Fuzzed> {
    (
        method(),
        url(),
        host(),
        header_value(vec![
            "gzip, deflate, br",
            "br;q=0",
            "identity",
            "*",
            "gzip;q=0.5, br",
        ]),
        header_value(vec![
            "bytes=0-",
            "bytes=1000-",
            "bytes=-10",
            "bytes=4999-",
            "bytes=5000-",
            "bytes=9-3",
            "bytes=0-1,5-9",
        ]),
        header_value(vec!["*", "\"0\"", "W/\"x\""]),
        prop_oneof![
            Just(None),
            Just(Some(1)),
            Just(Some(2)),
            any::<u16>().prop_map(Some)
        ],
    )
        .prop_map(
            |(method, url, host, accept_encoding, range, if_none_match, certificate_version)| {
                Fuzzed {
                    method,
                    url,
                    host,
                    accept_encoding,
                    range,
                    if_none_match,
                    certificate_version,
                }
            },
        )
}

fn is_raw(host: &str) -> bool {
    let name = host
        .split(':')
        .next()
        .unwrap_or_default()
        .trim_end_matches('.');
    name.split('.')
        .nth(1)
        .is_some_and(|label| label.eq_ignore_ascii_case("raw"))
}

fn check(h: &Harness, fuzzed: &Fuzzed) -> Result<(), TestCaseError> {
    let mut request = GatewayRequest {
        method: fuzzed.method.clone(),
        url: fuzzed.url.clone(),
        headers: Vec::new(),
    };
    for (name, value) in [
        ("host", &fuzzed.host),
        ("accept-encoding", &fuzzed.accept_encoding),
        ("range", &fuzzed.range),
        ("if-none-match", &fuzzed.if_none_match),
    ] {
        if let Some(value) = value {
            request = request.with_header(name, value);
        }
    }
    let v2 = fuzzed.certificate_version.unwrap_or(1) >= 2;
    let answer = h.http_request_version(&request, fuzzed.certificate_version);
    let status = answer.status_code;
    if fuzzed.host.as_deref().is_some_and(is_raw) {
        prop_assert_eq!(status, 403);
        let body = String::from_utf8_lossy(&answer.body).into_owned();
        prop_assert!(!body.contains(MARK), "asset bytes on a raw host: {}", body);
        prop_assert!(answer.streaming_strategy.is_none());
        return Ok(());
    }
    // What a gateway assembles: under v1 the streamed chunks joined.
    let response = if answer.streaming_strategy.is_some() {
        h.fetch(&request)
    } else {
        GatewayResponse {
            status,
            headers: answer.headers,
            body: answer.body.into_vec(),
        }
    };
    // A URL that is not a valid URI never comes through a gateway (the
    // browser escapes it, the gateway's request type refuses it): any
    // answer will do, as long as nothing trapped.
    if fuzzed.url.parse::<http::Uri>().is_err() {
        return Ok(());
    }
    let min_version = if v2 { 2 } else { 1 };
    let verified = h
        .verifier()
        .verify_min_version(&request, &response, h.now, min_version);
    match verified {
        Ok(_) => {}
        Err(error) => {
            prop_assert!(
                (400..500).contains(&status) && response.body.len() < 300,
                "status {} with {} bytes does not verify: {}",
                status,
                response.body.len(),
                error
            );
            if v2 {
                // Under v2 only answers no verifier could read go uncertified.
                prop_assert!(
                    matches!(status, 400 | 416) || !fuzzed.url.starts_with('/'),
                    "v2 status {} uncertified: {}",
                    status,
                    error
                );
            }
        }
    }
    Ok(())
}

#[test]
fn http_request_never_traps_and_every_answer_verifies_or_is_a_short_4xx() {
    let h = fuzz_site();
    let cases = std::env::var("FUZZ_HTTP_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&fuzzed(), |fuzzed| check(&h, &fuzzed));
    println!("fuzz http_request: {cases} requests");
    if let Err(error) = result {
        panic!("{error}");
    }
}

/// Requests the fuzzer found interesting, kept as regressions.
#[test]
fn found_cases_stay_fixed() {
    let h = fuzz_site();
    let get = |url: &str, certificate_version| Fuzzed {
        method: "GET".into(),
        url: url.into(),
        host: Some(GATEWAY_HOST.into()),
        accept_encoding: None,
        range: None,
        if_none_match: None,
        certificate_version,
    };
    let cases = [
        Fuzzed {
            range: Some("bytes=4999-".into()),
            ..get("/big.bin", Some(2))
        },
        // The verifier reads `///` as `/` (empty segments dropped): v2 must
        // answer it as `/`, not with the fallback.
        get("///", Some(2)),
        get("/docs//", Some(2)),
        get("//index.html", Some(2)),
        // Not a URI at all: no gateway sends it; it must not trap.
        get("/?>", None),
    ];
    for case in cases {
        check(&h, &case).unwrap_or_else(|e| panic!("{case:?}: {e}"));
    }
}
