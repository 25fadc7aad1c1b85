use scenarios::site::{large_body, sample_site, site_file};
use scenarios::{AssetClient, select_backend};

use super::site_client;

pub fn site_uploaded_like_dfx_verifies_on_a_gateway(wasm: &[u8]) {
    let mut client = site_client(wasm);
    client.assert_all_verify(&sample_site());
    // Aliases and the SPA fallback verify too.
    assert_eq!(client.fetch_verified("/").body, sample_site()[0].body);
    assert_eq!(client.fetch_verified("/docs").body, b"<h1>docs</h1>");
    assert_eq!(client.fetch_verified("/about").body, b"<h1>about</h1>");
    assert_eq!(
        client.fetch_verified("/some/app/route").body,
        sample_site()[0].body
    );
}

pub fn ten_mib_file_streams_and_the_joined_body_verifies(wasm: &[u8]) {
    let mut client = AssetClient::install(select_backend(), wasm.to_vec());
    let admin = client.controller();
    let body = large_body(10 * 1024 * 1024);
    let file = site_file("/video.bin", "application/octet-stream", body.clone());
    let report = client
        .upload(admin, &[file], 1_900_000)
        .expect("upload 10 MiB");
    let request = client.gateway_request("/video.bin");
    let (first, instructions) = client.http_request(&request).unwrap();
    assert_eq!(
        first.body.len(),
        1_900_000,
        "the first response carries one chunk"
    );
    assert!(first.streaming_strategy.is_some(), "the rest streams");
    let response = client.fetch_verified("/video.bin");
    assert!(response.body == body, "joined body differs");
    if let Some(instructions) = instructions {
        println!(
            "  measured: upload 10 MiB: chunks {} + commit {} instructions ({:.1} M/MiB); first http_request {} instructions",
            report.chunk_instructions,
            report.commit_instructions,
            (report.chunk_instructions + report.commit_instructions) as f64 / 10.0 / 1e6,
            instructions
        );
    }
}

pub fn raw_domains_are_refused_and_other_hosts_served(wasm: &[u8]) {
    let mut client = site_client(wasm);
    let id = client.backend.canister_id().to_text();
    for suffix in [
        "raw.icp0.io",
        "raw.ic0.app",
        "raw.icp.net",
        "raw.icp-api.io",
        "raw.internetcomputer.org",
        "raw.localhost",
        "raw.new-gateway.example",
    ] {
        for host in [
            format!("{id}.{suffix}"),
            format!("{}.{}:443", id.to_uppercase(), suffix),
            format!("{id}.{suffix}."),
        ] {
            let request =
                asset_testkit::GatewayRequest::get("/index.html").with_header("Host", &host);
            let (response, _) = client.http_request(&request).unwrap();
            assert_eq!(response.status_code, 403, "{host}");
            assert!(response.streaming_strategy.is_none());
            let body = String::from_utf8(response.body.into_vec()).unwrap();
            assert!(
                body.contains("raw domain") && !body.contains("<h1>"),
                "{host}: {body}"
            );
        }
    }
    for host in [
        format!("{id}.icp0.io"),
        format!("{id}.localhost:4943"),
        format!("{id}.icp.net"),
        "example.org".into(),
        "localhost:8080".into(),
    ] {
        let request = asset_testkit::GatewayRequest::get("/app.css").with_header("Host", &host);
        let response = client.fetch(&request).unwrap();
        assert_eq!(response.body, b"body { color: teal }", "{host}");
        client
            .verify(&request, &response)
            .unwrap_or_else(|e| panic!("{host}: {e}"));
    }
}

/// A body whose hashing does not fit one message's instructions still
/// commits, whole and at once: `commit_batch` hashes until a message has
/// spent its share, continues in a new message through a call to itself,
/// and commits in the last. On the host the update limit is lowered to
/// 15 B, which 110 MiB (about 18 B instructions of hashing) does not fit;
/// elsewhere the IC's own limit stays and the file may fit one message.
pub fn a_body_too_large_to_hash_in_one_message_commits_over_several(wasm: &[u8]) {
    let mut client = AssetClient::install(select_backend(), wasm.to_vec());
    let admin = client.controller();
    let limit = 15_000_000_000;
    let lowered = client
        .backend
        .set_instruction_limits(scenarios::backend::InstructionLimits {
            update: limit,
            ..Default::default()
        });
    let body = large_body(110 * 1024 * 1024);
    let file = site_file("/film.bin", "application/octet-stream", body.clone());
    let report = client
        .upload(admin, &[file], 1_900_000)
        .expect("the commit continues across messages and succeeds");
    let continued = client.take_continuations();
    if lowered {
        assert!(
            continued >= 1,
            "the hashing went on in another message ({continued} continuations logged)"
        );
        assert!(
            report.commit_instructions > limit,
            "the commit as a whole spent more than one message may ({} instructions)",
            report.commit_instructions
        );
    }
    let (joined, answers) = client.fetch_ranges_v2("/film.bin");
    assert!(
        joined == body,
        "the body read back through 206 answers differs"
    );
    assert_eq!(answers, body.len().div_ceil(1_900_000));
    assert!(
        client.fetch_verified("/film.bin").body == body,
        "v1 streaming"
    );
    println!(
        "  measured: commit of 110 MiB: {} instructions, {continued} continuations",
        report.commit_instructions
    );
}
