//! Instruction counts per call, ours against DFINITY's asset canister
//! (`ic-certified-assets` 0.3.0) doing the same work in the same run, both
//! executed by the in-process host (wasmtime fuel: one unit per wasm
//! instruction). Prints a table; times nothing.
//!
//! Run with `scripts/bench.sh` (it builds both wasms first, and our wasm a
//! second time with the `phases` feature for the breakdown).

mod huge;
mod scale;

use asset_testkit::GatewayRequest;
use scenarios::AssetClient;
use scenarios::backend::Backend;
use scenarios::site::{large_body, sample_site, site_file};

struct Row {
    what: String,
    ours: u64,
    reference: u64,
}

fn wasm(name: &str) -> Vec<u8> {
    match name {
        "asset_server.wasm" | "asset_server_phases.wasm" => {
            let path = format!("{}/../../target/{name}", env!("CARGO_MANIFEST_DIR"));
            std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}; run scripts/bench.sh"))
        }
        _ => scenarios::fixture_wasm(name.trim_end_matches(".wasm")),
    }
}

fn backend() -> Box<dyn Backend> {
    scenarios::backend::host_backend()
}

/// Runs one workload on a fresh canister and returns its measurements.
fn measure(wasm: Vec<u8>) -> Vec<(String, u64)> {
    let mut rows = Vec::new();
    let mut backend = backend();
    let install = backend
        .install(
            &wasm,
            candid::encode_one(None::<asset_server::types::AssetCanisterArgs>).unwrap(),
        )
        .unwrap();
    rows.push(("install".to_string(), install.unwrap_or_default()));
    let mut client = AssetClient {
        backend,
        wasm: wasm.clone(),
    };
    let admin = client.controller();

    let site = sample_site();
    let report = client.upload(admin, &site, 1_900_000).unwrap();
    rows.push((
        format!(
            "upload sample site ({} files): create_chunk total",
            site.len()
        ),
        report.chunk_instructions,
    ));
    rows.push((
        format!("upload sample site ({} files): commit_batch", site.len()),
        report.commit_instructions,
    ));

    let many: Vec<_> = (0..1000)
        .map(|i| {
            site_file(
                &format!("/many/{i}.txt"),
                "text/plain",
                format!("small file {i}"),
            )
        })
        .collect();
    let report = client.upload(admin, &many, 1_900_000).unwrap();
    rows.push((
        "1,000 small files: create_chunk total".into(),
        report.chunk_instructions,
    ));
    rows.push((
        "1,000 small files: commit_batch".into(),
        report.commit_instructions,
    ));

    let big = site_file(
        "/big.bin",
        "application/octet-stream",
        large_body(10 * 1024 * 1024),
    );
    let report = client.upload(admin, &[big], 1_900_000).unwrap();
    rows.push((
        "10 MiB file: create_chunk, per MiB".into(),
        report.chunk_instructions / 10,
    ));
    rows.push((
        "10 MiB file: commit_batch, per MiB".into(),
        report.commit_instructions / 10,
    ));

    for (label, url) in [
        ("http_request /app.css (20 B)", "/app.css"),
        ("http_request / (alias of /index.html)", "/"),
        ("http_request /logo.png (5 KB)", "/logo.png"),
        (
            "http_request /many/500.txt (among 1,008 assets)",
            "/many/500.txt",
        ),
        ("http_request /big.bin (first 1.9 MB chunk)", "/big.bin"),
        ("http_request unknown path (SPA fallback)", "/no/such/page"),
    ] {
        let request = GatewayRequest::get(url).with_header("host", "x.icp0.io");
        let (_, instructions) = client.http_request(&request).unwrap();
        rows.push((label.into(), instructions.unwrap_or_default()));
    }
    // The same under certification v2, as today's gateway asks.
    let get = |url: &str| GatewayRequest::get(url).with_header("host", "x.icp0.io");
    let (first, _) = client
        .http_request_version(&get("/app.css"), Some(2))
        .unwrap();
    let etag = first
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("etag"))
        .map(|(_, value)| value.clone())
        .unwrap_or_default();
    for (label, request) in [
        ("v2 http_request /app.css (20 B)", get("/app.css")),
        (
            "v2 http_request /many/500.txt (among 1,008 assets)",
            get("/many/500.txt"),
        ),
        (
            "v2 http_request /big.bin (first chunk, 206 under ours)",
            get("/big.bin"),
        ),
        (
            "v2 http_request /big.bin Range: bytes=1900000- (206 chunk)",
            get("/big.bin").with_header("range", "bytes=1900000-"),
        ),
        (
            "v2 http_request /app.css If-None-Match (304 under ours)",
            get("/app.css").with_header("if-none-match", &etag),
        ),
        (
            "v2 http_request unknown path (SPA fallback)",
            get("/no/such/page"),
        ),
    ] {
        let (_, instructions) = client.http_request_version(&request, Some(2)).unwrap();
        rows.push((label.into(), instructions.unwrap_or_default()));
    }
    // A site with a 404 page answers unknown paths with it, status 404 (the
    // reference has no 404 page: it still falls back to /index.html).
    let page = site_file("/404.html", "text/html", "<h1>not found</h1>");
    client.upload(admin, &[page], 1_900_000).unwrap();
    let (_, instructions) = client
        .http_request_version(&get("/no/such/page"), Some(2))
        .unwrap();
    rows.push((
        "v2 http_request unknown path, site with /404.html (404 under ours)".into(),
        instructions.unwrap_or_default(),
    ));

    let request = GatewayRequest::get("/big.bin").with_header("host", "x.icp0.io");
    let (response, _) = client.http_request(&request).unwrap();
    if let Some(asset_server::types::StreamingStrategy::Callback { token, .. }) =
        response.streaming_strategy
    {
        let called = client
            .backend
            .query(
                admin,
                "http_request_streaming_callback",
                candid::encode_one(token).unwrap(),
            )
            .unwrap();
        rows.push((
            "http_request_streaming_callback (1.9 MB chunk)".into(),
            called.instructions.unwrap_or_default(),
        ));
    }

    let upgrade = scale::upgrade_in_place(&mut client);
    rows.push((
        "upgrade with 1,010 assets (10 MiB)".into(),
        upgrade.unwrap_or_default(),
    ));
    rows
}

/// Populates DFINITY's asset canister with `files`, saved in the given
/// form, and upgrades it to ours: the instructions of that upgrade.
fn switch_in_place(files: &[scenarios::site::SiteFile], cbor: bool) -> u64 {
    let mut client = AssetClient::install(backend(), wasm("reference_asset_canister.wasm"));
    let admin = client.controller();
    client.upload(admin, files, 1_900_000).unwrap();
    if cbor {
        client
            .update::<_, ()>(admin, "save_state_as_cbor", ())
            .unwrap();
    }
    let arg = candid::encode_one(None::<asset_server::types::AssetCanisterArgs>).unwrap();
    let ours = wasm("asset_server.wasm");
    client
        .backend
        .upgrade(&ours, arg)
        .unwrap()
        .unwrap_or_default()
}

/// What taking over DFINITY's asset canister costs, per asset and per MiB,
/// and how much one upgrade (300 billion instructions) can import.
fn measure_switch() {
    const LIMIT: f64 = 300e9;
    // SWITCH_MIB=512 for the long run the README reports.
    let mib: usize = std::env::var("SWITCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let small: Vec<_> = (0..2000)
        .map(|i| site_file(&format!("/f/{i}.txt"), "text/plain", format!("file {i}")))
        .collect();
    let big = [site_file(
        "/big.bin",
        "application/octet-stream",
        large_body(mib * 1024 * 1024),
    )];
    println!();
    println!(
        "| switch in place (upgrade from ic-certified-assets 0.3.0) | candid state | CBOR state |"
    );
    println!("| --- | ---: | ---: |");
    let mut per_asset = [0f64; 2];
    let mut per_mib = [0f64; 2];
    for (i, cbor) in [false, true].into_iter().enumerate() {
        per_asset[i] = switch_in_place(&small, cbor) as f64 / small.len() as f64;
        per_mib[i] = switch_in_place(&big, cbor) as f64 / mib as f64;
    }
    println!(
        "| per asset ({} small files) | {} | {} |",
        small.len(),
        group(per_asset[0] as u64),
        group(per_asset[1] as u64)
    );
    println!(
        "| per MiB (one {mib} MiB file) | {} | {} |",
        group(per_mib[0] as u64),
        group(per_mib[1] as u64)
    );
    println!(
        "| assets one upgrade imports (small files) | {} | {} |",
        group((LIMIT / per_asset[0]) as u64),
        group((LIMIT / per_asset[1]) as u64)
    );
    println!(
        "| MiB one upgrade imports (by instructions) | {} | {} |",
        group((LIMIT / per_mib[0]) as u64),
        group((LIMIT / per_mib[1]) as u64)
    );
    println!(
        "(the import also refuses saved states over {} MiB: they would not fit twice on the 4 GiB heap)",
        asset_server::import::MAX_IMPORT_BYTES / (1024 * 1024)
    );
}

fn main() {
    println!("benchmark backend: in-process wasmtime host (instructions = wasmtime fuel)");
    if std::env::args().any(|a| a == "--switch-only") {
        measure_switch();
        return;
    }
    // --long-run [N]: issue 10's scale run (100,000 assets by default).
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--long-run") {
        let total = args
            .get(at + 1)
            .and_then(|n| n.parse().ok())
            .unwrap_or(100_000);
        scale::long_run(wasm("asset_server.wasm"), total);
        return;
    }
    // --huge [FILES]: issue 10's size walls (files of 1 GiB, 5 by default).
    if let Some(at) = args.iter().position(|a| a == "--huge") {
        let files = args.get(at + 1).and_then(|n| n.parse().ok()).unwrap_or(5);
        huge::huge_run(wasm("asset_server.wasm"), files);
        return;
    }
    // --phases-only: just the breakdown (while working on a phase).
    if std::env::args().any(|a| a == "--phases-only") {
        let (_, breakdowns) = scale::measure(wasm("asset_server_phases.wasm"), true);
        print_breakdown(&breakdowns);
        return;
    }
    let scale_only = std::env::args().any(|a| a == "--scale-only");
    if !scale_only {
        let ours = measure(wasm("asset_server.wasm"));
        let reference = measure(wasm("reference_asset_canister.wasm"));
        print_table(ours, reference);
    }
    println!();
    println!("Issue 10's workloads (1 KiB pages committed 1,000 per batch):");
    let (ours, _) = scale::measure(wasm("asset_server.wasm"), false);
    let (reference, _) = scale::measure(wasm("reference_asset_canister.wasm"), false);
    print_table(ours.clone(), reference);
    print_hash_floor(
        &ours,
        scale::hash_floor_per_mib(wasm("asset_server_phases.wasm")),
    );
    let (_, breakdowns) = scale::measure(wasm("asset_server_phases.wasm"), true);
    print_breakdown(&breakdowns);
    if !scale_only {
        measure_switch();
    }
}

fn print_table(ours: Vec<(String, u64)>, reference: Vec<(String, u64)>) {
    let rows: Vec<Row> = ours
        .into_iter()
        .zip(reference)
        .map(|((what, ours), (_, reference))| Row {
            what,
            ours,
            reference,
        })
        .collect();
    println!();
    println!("| call | asset_server | ic-certified-assets 0.3.0 | ours / theirs |");
    println!("| --- | ---: | ---: | ---: |");
    for row in rows {
        let ratio = if row.reference == 0 {
            "-".to_string()
        } else {
            format!("{:.2}", row.ours as f64 / row.reference as f64)
        };
        println!(
            "| {} | {} | {} | {} |",
            row.what,
            group(row.ours),
            group(row.reference),
            ratio
        );
    }
}

/// The upload rows against SHA-256's own cost: a body of one chunk needs
/// one hash of every byte (v1 and v2 certify the same digest), a body of
/// several two (v1 certifies the whole body's digest, v2 each 206 chunk's).
fn print_hash_floor(ours: &[(String, u64)], floor: u64) {
    println!();
    println!(
        "Hashing floor: SHA-256 of 1 MiB already on the heap costs {} instructions in our wasm.",
        group(floor)
    );
    for (what, instructions) in ours.iter().filter(|(w, _)| w.starts_with("upload per MiB")) {
        let passes = if what.contains("one chunk") { 1 } else { 2 };
        println!(
            "- {what}: {} = {:.2}x the floor of the {passes} hash(es) of every byte its certification needs ({:.2}x one)",
            group(*instructions),
            *instructions as f64 / (passes * floor) as f64,
            *instructions as f64 / floor as f64,
        );
    }
}

/// Where each `http_request` of the phases build spends its instructions.
fn print_breakdown(breakdowns: &[scale::Breakdown]) {
    let (updates, queries): (Vec<_>, Vec<_>) = breakdowns.iter().partition(|b| b.phases.is_empty());
    let mut names: Vec<String> = Vec::new();
    for breakdown in &queries {
        for (name, _) in &breakdown.phases {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
    }
    // `reply` last, whatever order the requests logged their phases in.
    names.retain(|n| n != "reply");
    names.push("reply".into());
    println!();
    println!(
        "Per phase of http_request (our wasm built with --features phases; decode = candid \
         decoding of the request, lookup includes the record's decoding, reply = candid \
         encoding of the response):"
    );
    println!();
    println!("| request | {} | total |", names.join(" | "));
    println!("| --- |{} ---: |", " ---: |".repeat(names.len()));
    for breakdown in &queries {
        let cells: Vec<String> = names
            .iter()
            .map(|name| {
                breakdown
                    .phases
                    .iter()
                    .find(|(n, _)| n == name)
                    .map_or("-".to_string(), |(_, count)| group(*count))
            })
            .collect();
        println!(
            "| {} | {} | {} |",
            breakdown.what,
            cells.join(" | "),
            group(breakdown.total)
        );
    }
    println!();
    println!("Where updates spend their instructions (summed over the call):");
    for breakdown in updates {
        let parts: Vec<String> = breakdown
            .totals
            .iter()
            .map(|(name, n)| format!("{} {}", name.replace('_', " "), group(*n)))
            .collect();
        let rest = breakdown
            .total
            .saturating_sub(breakdown.totals.iter().map(|(_, n)| n).sum());
        println!(
            "- {} ({} in all): {}, the rest {}",
            breakdown.what,
            group(breakdown.total),
            parts.join(", "),
            group(rest)
        );
    }
}

fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}
