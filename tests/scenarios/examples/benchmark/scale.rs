//! The workloads of issue 10's table: serving among 1,000 and 10,000 stored
//! assets, a 5 MiB body, upload per MiB, a 1,000-asset commit, the upgrade
//! with 10,000 assets and the memory they take. With the `phases` build of
//! our wasm, also where each `http_request` spends its instructions.

use asset_testkit::GatewayRequest;
use scenarios::AssetClient;
use scenarios::site::{SiteFile, large_body, site_file};

/// Assets per commit, as a sync of many files splits its commits.
const PER_COMMIT: usize = 1_000;

/// 1.8 MiB: under dfx's 1.9 MB chunks, so uploaded in one.
const ONE_CHUNK_BODY: usize = 1_887_436;

const MIB: usize = 1024 * 1024;

fn per_mib(instructions: u64, bytes: usize) -> u64 {
    (instructions as u128 * MIB as u128 / bytes as u128) as u64
}

/// What SHA-256 alone costs per MiB in our wasm: the phases build's
/// `bench_hash_floor` probe hashing 5 MiB already on the heap.
pub fn hash_floor_per_mib(phases_wasm: Vec<u8>) -> u64 {
    let mut client = AssetClient::install(scenarios::backend::host_backend(), phases_wasm);
    let ((spent,), _): ((u64,), _) = client
        .query(
            candid::Principal::anonymous(),
            "bench_hash_floor",
            (5 * MIB as u64,),
        )
        .expect("bench_hash_floor");
    per_mib(spent, 5 * MIB)
}

/// One measured workload: its label and instructions (or bytes).
pub type Measured = Vec<(String, u64)>;

/// A request of the breakdown, and the phases the canister logged for it.
pub struct Breakdown {
    pub what: String,
    pub total: u64,
    /// (phase, instructions), in order; the last is `reply` (candid
    /// encoding and everything after the last mark).
    pub phases: Vec<(String, u64)>,
    /// For updates and upgrades: instructions per part, summed over the
    /// call (`totals` in the canister's log).
    pub totals: Vec<(String, u64)>,
}

fn kib_files(range: std::ops::Range<usize>) -> Vec<SiteFile> {
    range
        .map(|i| {
            let mut body = format!("<p>page {i}</p>\n").into_bytes();
            body.resize(1024, b'.');
            site_file(&format!("/pages/{i:05}.html"), "text/html", body)
        })
        .collect()
}

fn get(url: &str) -> GatewayRequest {
    GatewayRequest::get(url).with_header("host", "x.icp0.io")
}

/// Runs the workloads on a fresh canister of `wasm`. With `phases`, the
/// canister logs a breakdown per `http_request`, returned beside the rows.
pub fn measure(wasm: Vec<u8>, phases: bool) -> (Measured, Vec<Breakdown>) {
    let mut recorder = Recorder {
        rows: Vec::new(),
        breakdowns: Vec::new(),
        phases,
    };
    let mut client = AssetClient::install(scenarios::backend::host_backend(), wasm);
    let admin = client.controller();

    let first = client
        .upload(admin, &kib_files(0..PER_COMMIT), 1_900_000)
        .unwrap();
    recorder.rows.push((
        "commit_batch creating 1,000 assets (1 KiB each)".into(),
        first.commit_instructions,
    ));
    let page = "/pages/00500.html";
    recorder.serve(
        &mut client,
        "http_request 1 KiB asset, 1,000 stored, v1",
        get(page),
        1,
    );
    recorder.serve(
        &mut client,
        "http_request 1 KiB asset, 1,000 stored, v2",
        get(page),
        2,
    );
    for start in (PER_COMMIT..10_000).step_by(PER_COMMIT) {
        if phases {
            client.backend.take_debug_log();
        }
        let report = client
            .upload(admin, &kib_files(start..start + PER_COMMIT), 1_900_000)
            .unwrap();
        if phases && start + PER_COMMIT == 10_000 {
            recorder.logged(
                &mut client,
                "commit_batch creating the 9,001st to 10,000th asset",
                report.commit_instructions,
            );
        }
    }
    recorder.serve(
        &mut client,
        "http_request 1 KiB asset, 10,000 stored, v1",
        get(page),
        1,
    );
    recorder.serve(
        &mut client,
        "http_request 1 KiB asset, 10,000 stored, v2",
        get(page),
        2,
    );
    if let Some((heap, stable)) = client.backend.memory_bytes() {
        recorder
            .rows
            .push(("heap bytes, 10,000 assets of 1 KiB".into(), heap));
        recorder
            .rows
            .push(("stable memory bytes, 10,000 assets of 1 KiB".into(), stable));
    }

    let big = site_file(
        "/big5.bin",
        "application/octet-stream",
        large_body(5 * 1024 * 1024),
    );
    let upload = client.upload(admin, &[big], 1_900_000).unwrap();
    recorder.rows.push((
        "upload per MiB (create_chunk + commit_batch, 5 MiB file)".into(),
        (upload.chunk_instructions + upload.commit_instructions) / 5,
    ));
    // A body of one chunk: v1 and v2 certify the same SHA-256 of it.
    let one_chunk = site_file(
        "/one-chunk.bin",
        "application/octet-stream",
        large_body(ONE_CHUNK_BODY),
    );
    let upload = client.upload(admin, &[one_chunk], 1_900_000).unwrap();
    recorder.rows.push((
        "upload per MiB (create_chunk + commit_batch, 1.8 MiB file in one chunk)".into(),
        per_mib(
            upload.chunk_instructions + upload.commit_instructions,
            ONE_CHUNK_BODY,
        ),
    ));
    recorder.serve(
        &mut client,
        "http_request first chunk of a 5 MiB asset, v1",
        get("/big5.bin"),
        1,
    );
    recorder.serve(
        &mut client,
        "http_request first chunk of a 5 MiB asset, v2",
        get("/big5.bin"),
        2,
    );
    recorder.serve(
        &mut client,
        "http_request 206 chunk of a 5 MiB asset (Range: bytes=1900000-), v2",
        get("/big5.bin").with_header("range", "bytes=1900000-"),
        2,
    );

    let upgrade = upgrade_in_place(&mut client);
    recorder.rows.push((
        "upgrade with 10,001 assets".into(),
        upgrade.unwrap_or_default(),
    ));
    if phases {
        recorder.logged(
            &mut client,
            "upgrade with 10,001 assets",
            upgrade.unwrap_or_default(),
        );
    }
    (recorder.rows, recorder.breakdowns)
}

struct Recorder {
    rows: Measured,
    breakdowns: Vec<Breakdown>,
    phases: bool,
}

impl Recorder {
    /// Serves `request` under certification `version`, recording its
    /// instructions and, with `phases`, the canister's breakdown.
    fn serve(
        &mut self,
        client: &mut AssetClient,
        label: &str,
        request: GatewayRequest,
        version: u16,
    ) {
        let (response, instructions) = client
            .http_request_version(&request, Some(version))
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        assert!(
            (200..300).contains(&response.status_code),
            "{label}: status {}",
            response.status_code
        );
        let total = instructions.unwrap_or_default();
        self.rows.push((label.to_string(), total));
        if self.phases {
            let log = client.backend.take_debug_log();
            let line = log
                .iter()
                .rev()
                .find(|l| l.starts_with("phases"))
                .unwrap_or_else(|| panic!("{label}: the phases build logged no breakdown"));
            self.breakdowns.push(Breakdown {
                what: label.to_string(),
                total,
                phases: deltas(line, total),
                totals: Vec::new(),
            });
        }
    }

    /// Records the last breakdown the canister logged for an update or
    /// upgrade that used `total` instructions.
    fn logged(&mut self, client: &mut AssetClient, label: &str, total: u64) {
        let log = client.backend.take_debug_log();
        let report = log
            .iter()
            .rev()
            .find(|l| l.starts_with("phases"))
            .unwrap_or_else(|| panic!("{label}: the phases build logged no breakdown"));
        let totals = report
            .lines()
            .find_map(|l| l.strip_prefix("totals"))
            .map(|fields| {
                fields
                    .split(' ')
                    .filter(|f| !f.is_empty())
                    .map(|f| {
                        let (name, n) = f.rsplit_once('=').expect("name=count");
                        (name.to_string(), n.parse().expect("a count"))
                    })
                    .collect()
            })
            .unwrap_or_default();
        self.breakdowns.push(Breakdown {
            what: label.to_string(),
            total,
            phases: Vec::new(),
            totals,
        });
    }
}

/// The log line `phases a=N b=M ...` (cumulative counts) as per-phase
/// counts, with `reply` the rest of `total`.
fn deltas(line: &str, total: u64) -> Vec<(String, u64)> {
    let mut phases = Vec::new();
    let mut previous = 0;
    let first = line.lines().next().unwrap_or_default();
    for field in first.split(' ').skip(1) {
        let (name, at) = field.rsplit_once('=').expect("name=count");
        let at: u64 = at.parse().expect("a count");
        phases.push((name.replace('_', " "), at.saturating_sub(previous)));
        previous = at;
    }
    phases.push(("reply".into(), total.saturating_sub(previous)));
    phases
}

/// Issue 10's long run (`scripts/bench.sh --long-run [N]`, default
/// 100,000): `total` pages of 1 KiB, synced `PER_SYNC` at a time with the
/// calls `ic-asset` makes (`AssetClient::sync_new`: packed
/// `create_chunks`, commits of 500 operations); after each sync the cost
/// of its commits and of serving a page (v1, v2), both answers verified,
/// and the memory; then the upgrade, and a page of every 1,000 served and
/// verified after it. Prints rows as it goes.
pub fn long_run(wasm: Vec<u8>, total: usize) {
    const PER_SYNC: usize = 10_000;
    let mut client = AssetClient::install(scenarios::backend::host_backend(), wasm);
    let admin = client.controller();
    let started = std::time::Instant::now();
    println!();
    println!(
        "| assets stored | commit_batch calls of the last sync | largest | mean | http_request v1 | http_request v2 | heap bytes | stable memory bytes | minutes so far |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for start in (0..total).step_by(PER_SYNC) {
        let end = (start + PER_SYNC).min(total);
        let report = client.sync_new(admin, &kib_files(start..end)).unwrap();
        let page = format!("/pages/{:05}.html", end / 2);
        let v1 = verified_cost(&mut client, &page, 1);
        let v2 = verified_cost(&mut client, &page, 2);
        let (heap, stable) = client.backend.memory_bytes().unwrap_or_default();
        let largest = report.commits.iter().max().copied().unwrap_or_default();
        let mean = report.commits.iter().sum::<u64>() / report.commits.len().max(1) as u64;
        println!(
            "| {end} | {} | {largest} | {mean} | {v1} | {v2} | {heap} | {stable} | {:.1} |",
            report.commits.len(),
            started.elapsed().as_secs_f64() / 60.0
        );
    }
    let upgrade = upgrade_in_place(&mut client).unwrap_or_default();
    let log = client.backend.take_debug_log();
    let origin = log
        .iter()
        .find(|l| l.contains("certification tree"))
        .cloned()
        .unwrap_or_default();
    println!("upgrade with {total} assets: {upgrade} instructions ({origin})");
    for i in (0..total).step_by(1_000) {
        let page = format!("/pages/{i:05}.html");
        client.fetch_verified(&page);
        client.fetch_verified_v2(&client.gateway_request(&page));
    }
    let page = format!("/pages/{:05}.html", total / 2);
    let v1 = verified_cost(&mut client, &page, 1);
    let v2 = verified_cost(&mut client, &page, 2);
    println!(
        "after the upgrade: {} pages served and verified under v1 and v2; a page costs {v1} (v1), {v2} (v2); {:.1} minutes in all",
        total / 1_000,
        started.elapsed().as_secs_f64() / 60.0
    );
}

/// Upgrades the canister to its own wasm, without an argument; the
/// instructions it took, where the backend counts them.
pub fn upgrade_in_place(client: &mut AssetClient) -> Option<u64> {
    let wasm = client.wasm.clone();
    client
        .backend
        .upgrade(
            &wasm,
            candid::encode_one(None::<asset_server::types::AssetCanisterArgs>).unwrap(),
        )
        .expect("the upgrade fits")
}

/// The instructions of serving `page` under certification `version`,
/// after checking that the answer verifies.
fn verified_cost(client: &mut AssetClient, page: &str, version: u16) -> u64 {
    let request = client.gateway_request(page);
    let (response, instructions) = client
        .http_request_version(&request, Some(version))
        .unwrap_or_else(|e| panic!("{page}: {e}"));
    assert_eq!(response.status_code, 200, "{page}");
    let response = asset_testkit::GatewayResponse {
        status: response.status_code,
        headers: response.headers,
        body: response.body.into_vec(),
    };
    client
        .verifier()
        .verify_min_version(&request, &response, client.backend.time_ns(), version as u8)
        .unwrap_or_else(|e| panic!("{page} (v{version}): {e}"));
    instructions.unwrap_or_default()
}
