//! The uploader against the real canister wasm on the in-process host:
//! sync semantics (skip unchanged, upload changed, delete missing), gzip
//! for text only, content types, and that what was uploaded verifies.

mod common;

use asset_server::types::{AssetDetails, ListArguments};
use asset_tools::preview::upload_to_host;
use asset_tools::site::sample_dir;
use asset_tools::transport::{HostCalls, query_typed};
use asset_tools::upload::{Progress, Report, collect};
use candid::Principal;
use common::{RunningGateway, copy_dir, fresh_host};
use wasm_host::Host;

const SAMPLE_KEYS: [&str; 6] = [
    "/app.js",
    "/docs/index.html",
    "/index.html",
    "/logo.png",
    "/logo.svg",
    "/style.css",
];

fn list(host: &mut Host) -> Vec<AssetDetails> {
    let mut calls = HostCalls::new(host, Principal::anonymous());
    query_typed(&mut calls, "list", ListArguments::default())
        .expect("list")
        .0
}

fn sync(host: &mut Host, dir: &std::path::Path) -> Report {
    let files = collect(dir).expect("reading the site");
    upload_to_host(host, &files, Progress::Off).expect("upload")
}

fn encodings_of(assets: &[AssetDetails], key: &str) -> Vec<String> {
    let asset = assets
        .iter()
        .find(|a| a.key == key)
        .unwrap_or_else(|| panic!("{key} is not on the canister"));
    let mut names: Vec<String> = asset
        .encodings
        .iter()
        .map(|e| e.content_encoding.clone())
        .collect();
    names.sort();
    names
}

/// Serves `path` through the preview's gateway and requires it to verify;
/// returns the body.
fn served(host: Host, report: Report, path: &str) -> Vec<u8> {
    let gateway = RunningGateway::over(host, report, None);
    let reply = gateway.get(path);
    assert_eq!(reply.status, 200, "{path}: {}", reply.text());
    let log = gateway.log_lines();
    assert!(
        log.iter()
            .any(|l| l.starts_with(&format!("GET {path} -> 200")) && l.ends_with("(verified v2)")),
        "{path} not verified: {log:#?}"
    );
    reply.body
}

#[test]
fn first_upload_sends_everything_with_types_and_gzip_for_text() {
    let site = copy_dir(&sample_dir());
    let mut host = fresh_host();
    let report = sync(&mut host, site.path());
    assert_eq!(report.uploaded, SAMPLE_KEYS);
    assert!(report.skipped.is_empty() && report.deleted.is_empty());
    assert!(report.bytes > 0);
    assert!(
        report.instructions.is_some_and(|n| n > 0),
        "the host counts instructions"
    );

    let assets = list(&mut host);
    let types: Vec<(&str, &str)> = assets
        .iter()
        .map(|a| (a.key.as_str(), a.content_type.as_str()))
        .collect();
    assert_eq!(
        types,
        [
            ("/app.js", "text/javascript"),
            ("/docs/index.html", "text/html"),
            ("/index.html", "text/html"),
            ("/logo.png", "image/png"),
            ("/logo.svg", "image/svg+xml"),
            ("/style.css", "text/css"),
        ]
    );
    for key in [
        "/app.js",
        "/docs/index.html",
        "/index.html",
        "/logo.svg",
        "/style.css",
    ] {
        assert_eq!(encodings_of(&assets, key), ["gzip", "identity"], "{key}");
    }
    assert_eq!(
        encodings_of(&assets, "/logo.png"),
        ["identity"],
        "no gzip for a PNG"
    );

    let expected = std::fs::read(site.path().join("docs/index.html")).unwrap();
    let body = served(host, report, "/docs/");
    assert_eq!(body, expected);
}

#[test]
fn second_upload_of_the_same_directory_sends_nothing() {
    let site = copy_dir(&sample_dir());
    let mut host = fresh_host();
    sync(&mut host, site.path());
    let before = list(&mut host);
    let again = sync(&mut host, site.path());
    assert!(again.uploaded.is_empty(), "{again:?}");
    assert!(again.deleted.is_empty(), "{again:?}");
    assert_eq!(again.skipped, SAMPLE_KEYS);
    assert_eq!(again.bytes, 0);
    assert_eq!(list(&mut host), before, "nothing on the canister changed");
}

#[test]
fn changing_one_file_uploads_only_that_file() {
    let site = copy_dir(&sample_dir());
    let mut host = fresh_host();
    sync(&mut host, site.path());
    let css = "body { background: papayawhip }\n";
    std::fs::write(site.path().join("style.css"), css).unwrap();
    let report = sync(&mut host, site.path());
    assert_eq!(report.uploaded, ["/style.css"]);
    assert_eq!(report.skipped.len(), SAMPLE_KEYS.len() - 1);
    assert!(report.deleted.is_empty());
    // Too short for gzip to pay off: the old gzip body must be gone, or a
    // browser asking for gzip would get the old stylesheet.
    assert_eq!(encodings_of(&list(&mut host), "/style.css"), ["identity"]);
    let body = served(host, report, "/style.css");
    assert_eq!(body, css.as_bytes());
}

#[test]
fn deleting_a_file_deletes_it_from_the_canister() {
    let site = copy_dir(&sample_dir());
    let mut host = fresh_host();
    sync(&mut host, site.path());
    std::fs::remove_file(site.path().join("logo.svg")).unwrap();
    std::fs::create_dir(site.path().join("new")).unwrap();
    std::fs::write(site.path().join("new/data.json"), "{\"ok\":true}").unwrap();
    let report = sync(&mut host, site.path());
    assert_eq!(report.deleted, ["/logo.svg"]);
    assert_eq!(report.uploaded, ["/new/data.json"]);
    let assets = list(&mut host);
    assert!(assets.iter().all(|a| a.key != "/logo.svg"));
    let json = assets.iter().find(|a| a.key == "/new/data.json").unwrap();
    assert_eq!(json.content_type, "application/json");
}

#[test]
fn hidden_files_are_not_uploaded() {
    let site = copy_dir(&sample_dir());
    std::fs::write(site.path().join(".env"), "SECRET=1").unwrap();
    std::fs::create_dir(site.path().join(".git")).unwrap();
    std::fs::write(site.path().join(".git/HEAD"), "ref").unwrap();
    let files = collect(site.path()).unwrap();
    let keys: Vec<&str> = files.iter().map(|f| f.key.as_str()).collect();
    assert_eq!(keys, SAMPLE_KEYS);
}

#[test]
fn a_missing_directory_is_a_clear_error() {
    let error = collect(std::path::Path::new("/definitely/not/here")).unwrap_err();
    assert!(error.contains("not a directory"), "{error}");
}
