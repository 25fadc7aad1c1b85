//! The preview's PocketIC mode: the site served by PocketIC's own HTTP
//! gateway. Needs a PocketIC server (`scripts/fetch-pocket-ic.sh`, then
//! `POCKET_IC_BIN`); without one it says SKIPPED and passes. Built with the
//! `pocket-ic` feature, which this crate's tests always have.

#![cfg(feature = "pocket-ic")]

mod common;

use asset_tools::pocket_preview::{pocket_ic_selected, start};
use asset_tools::preview::site_files;
use asset_tools::site::{read_wasm, wasm_path};
use asset_tools::upload::Progress;

#[test]
fn pocket_ic_gateway_serves_the_uploaded_site() {
    if !pocket_ic_selected() {
        println!(
            "PocketIC preview test SKIPPED: POCKET_IC_BIN is not set (run scripts/fetch-pocket-ic.sh)"
        );
        return;
    }
    let files = site_files(None).expect("sample site");
    let preview = start(
        read_wasm(&wasm_path()).expect("wasm"),
        &files,
        0,
        Progress::Off,
    )
    .expect("PocketIC preview");
    let host = format!("{}.localhost", preview.canister_id);
    for path in ["/", "/style.css", "/docs/"] {
        let reply = common::http_get(preview.port, path, &[("Host", &host)]);
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
    }
    let index = std::fs::read(asset_tools::site::sample_dir().join("index.html")).unwrap();
    assert_eq!(
        common::http_get(preview.port, "/", &[("Host", &host)]).body,
        index
    );
}
