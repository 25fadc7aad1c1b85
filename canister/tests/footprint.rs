//! What a site costs in stable memory: 10,000 pages of 1 KiB (10 MB of
//! content, uploaded in batches of 1,000 as dfx would) fit in 20 MB.

mod support;

use ic_stable_structures::Memory;
use support::*;

const PAGES: usize = 10_000;
const LIMIT: u64 = 20_000_000;

#[test]
fn ten_thousand_pages_of_one_kib_fit_in_twenty_mb_of_stable_memory() {
    let mut h = Harness::new();
    let keys: Vec<&'static str> = (0..PAGES)
        .map(|i| &*Box::leak(format!("/pages/{i:05}.html").into_boxed_str()))
        .collect();
    let body = |key: &str| key.repeat(64).into_bytes()[..1024].to_vec();
    for batch in keys.chunks(1_000) {
        let files: Vec<File> = batch
            .iter()
            .map(|key| file(key, "text/html", body(key)))
            .collect();
        h.upload(&files, 1 << 20);
    }
    let bytes = h.memory.size() * 65_536;
    println!("stable memory after {PAGES} pages of 1 KiB: {bytes} bytes");
    assert!(bytes <= LIMIT, "{bytes} bytes of stable memory");
    // Still a working site.
    assert!(h.verifies("/pages/09999.html", &body(keys[9_999])));
    assert_eq!(h.server.list().len(), PAGES);
    assert!(h.server.assets_mirror_matches_stored());
    // Every page's body is small: all of them are on the heap as well.
    let (same, count, bytes) = h.server.chunk_copies_match_stored();
    assert!(same);
    assert_eq!((count, bytes), (PAGES, PAGES * 1024));
    h.upgrade();
    // pre_upgrade's tree snapshot (server/snapshot.rs) takes memory of its own.
    let after = h.memory.size() * 65_536;
    println!("stable memory after the upgrade, with the tree snapshot: {after} bytes");
    assert!(
        after <= 2 * LIMIT,
        "{after} bytes of stable memory after the upgrade"
    );
    assert!(h.verifies("/pages/00000.html", &body(keys[0])));
    // Filled again from stable memory when the stores reopen.
    assert_eq!(
        h.server.chunk_copies_match_stored(),
        (true, PAGES, PAGES * 1024)
    );
}
