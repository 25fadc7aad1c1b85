//! Requests through raw domains are refused: nothing a gateway did not
//! verify is served. Every other host is served and verifies.

mod support;

use asset_testkit::GatewayRequest;
use support::*;

const ID: &str = "lxzze-o7777-77777-aaaaa-cai";

/// Every gateway base domain in use (PROTOCOL.md), and one a gateway
/// might add tomorrow: the rule must not depend on a list.
const BASE_DOMAINS: [&str; 7] = [
    "icp0.io",
    "ic0.app",
    "icp.net",
    "icp-api.io",
    "internetcomputer.org",
    "localhost",
    "new-gateway.example",
];

fn raw_hosts() -> Vec<String> {
    let mut hosts = Vec::new();
    for base in BASE_DOMAINS {
        let suffix = format!("raw.{base}");
        hosts.push(format!("{ID}.{suffix}"));
        hosts.push(format!("{ID}.{suffix}:4943"));
        hosts.push(format!("{ID}.{suffix}."));
        hosts.push(format!("{}.{}", ID.to_uppercase(), suffix.to_uppercase()));
        hosts.push(format!(" {ID}.{suffix}.:443 "));
    }
    hosts.push(format!("{ID}.Raw.Icp0.Io"));
    hosts.push(format!("{ID}.RAW.localhost:8080"));
    hosts.push(format!("{ID}.raw.ICP.NET.:443"));
    // The raw shape under a custom domain is refused too.
    hosts.push("my.raw.icp0.io.evil.com".to_string());
    hosts
}

#[test]
fn raw_domain_hosts_are_refused_with_no_asset_bytes() {
    let h = {
        let mut h = Harness::new();
        h.upload(&sample_site(), 1_900_000);
        h
    };
    let hosts = raw_hosts();
    assert!(hosts.len() >= 38);
    let index = b"<!doctype html><h1>home</h1>";
    for host in &hosts {
        for url in ["/", "/index.html", "/logo.png", "/no/such/page"] {
            let response = h.http_request(&GatewayRequest::get(url).with_header("Host", host));
            assert_eq!(response.status_code, 403, "{host} {url}");
            assert!(response.streaming_strategy.is_none());
            assert!(
                !response
                    .headers
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case("ic-certificate"))
            );
            let body = String::from_utf8(response.body.into_vec()).unwrap();
            assert!(!body.contains("<h1>"), "{host}: no asset bytes");
            assert!(body.contains("raw domain"), "{host}: says why: {body}");
            let normalized = host.trim().to_ascii_lowercase();
            let (_, rest) = normalized.split_once(".raw.").unwrap();
            let base = rest.split(':').next().unwrap().trim_end_matches('.');
            assert!(
                body.contains(&format!(".{base}/")),
                "{host}: names the certified domain: {body}"
            );
            assert_ne!(body.as_bytes(), index);
        }
    }
}

#[test]
fn the_refusal_names_the_certified_domain() {
    let h = Harness::new();
    let response =
        h.http_request(&GatewayRequest::get("/").with_header("host", &format!("{ID}.raw.icp0.io")));
    let body = String::from_utf8(response.body.into_vec()).unwrap();
    assert!(body.contains(&format!("https://{ID}.icp0.io/")), "{body}");
}

#[test]
fn gateway_custom_local_and_hostless_requests_are_served_and_verify() {
    let mut h = Harness::new();
    h.upload(&sample_site(), 1_900_000);
    let hosts = [
        Some(format!("{ID}.icp0.io")),
        Some(format!("{ID}.ic0.app")),
        Some(format!("{ID}.localhost:4943")),
        Some("localhost".to_string()),
        Some("127.0.0.1:8000".to_string()),
        Some("[::1]:8000".to_string()),
        Some("example.com".to_string()),
        Some("raw.example.com".to_string()),
        Some("rawdata.example.com".to_string()),
        Some(format!("{ID}.icp.net")),
        Some(format!("{ID}.rawicp0.io")),
        Some("icp0.io".to_string()),
        None,
    ];
    for host in hosts {
        let mut request = GatewayRequest::get("/app.css");
        if let Some(host) = &host {
            request = request.with_header("host", host);
        }
        let response = h.fetch(&request);
        assert_eq!(response.status, 200, "{host:?}");
        assert_eq!(response.body, b"body { color: teal }");
        h.verify(&request, &response)
            .unwrap_or_else(|e| panic!("{host:?}: {e}"));
    }
}
