//! A real browser against the preview gateway: headless Chromium loads the
//! sample site and dumps the DOM after scripts ran. Skipped (passing) when
//! /usr/bin/chromium is not installed; needs no display and no network.

mod common;

use std::path::Path;
use std::process::Command;

use asset_tools::preview::site_files;
use common::RunningGateway;

const CHROMIUM: &str = "/usr/bin/chromium";

/// The DOM of `url` after up to 5 s of virtual time (scripts, fetches).
fn dump_dom(url: &str) -> String {
    let profile = tempfile::tempdir().expect("a profile directory");
    let output = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(url)
        .output()
        .expect("running chromium");
    let dom = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success() && dom.contains("<html"),
        "chromium failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    dom
}

fn skipped() -> bool {
    if Path::new(CHROMIUM).exists() {
        return false;
    }
    println!("browser test SKIPPED: /usr/bin/chromium not installed (apt-get install chromium)");
    true
}

#[test]
fn the_page_renders_runs_its_script_and_shows_the_certificate() {
    if skipped() {
        return;
    }
    let gateway = RunningGateway::start(site_files(None).unwrap(), None);
    let dom = dump_dom(&gateway.url());
    assert!(dom.contains("Served by a certified canister"), "{dom}");
    assert!(
        dom.contains(r#"data-script-loaded="yes""#),
        "app.js did not run: {dom}"
    );
    assert!(dom.contains("app.js ran"), "{dom}");
    assert!(
        dom.contains("IC-Certificate present"),
        "no certificate seen by the page: {dom}"
    );
    assert!(
        dom.contains("style.css applied"),
        "stylesheet not applied: {dom}"
    );

    let log = gateway.log_lines();
    for path in ["/ ", "/style.css ", "/app.js ", "/logo.svg "] {
        assert!(
            log.iter()
                .any(|l| l.starts_with(&format!("GET {path}200 verified"))),
            "{path}not served verified: {log:#?}"
        );
    }
}

#[test]
fn a_tampered_stylesheet_is_refused_and_the_page_shows_it_missing() {
    if skipped() {
        return;
    }
    let gateway = RunningGateway::start(site_files(None).unwrap(), Some("/style.css"));
    let css = gateway.get("/style.css");
    assert_eq!(css.status, 503);
    assert!(css.text().contains("verification failed"), "{}", css.text());

    let dom = dump_dom(&gateway.url());
    assert!(dom.contains(r#"data-script-loaded="yes""#), "{dom}");
    assert!(
        dom.contains("style.css missing"),
        "the refused stylesheet applied: {dom}"
    );
    assert!(
        gateway
            .log_lines()
            .iter()
            .any(|l| l.starts_with("GET /style.css 503 NOT verified:")),
        "{:#?}",
        gateway.log_lines()
    );
}
