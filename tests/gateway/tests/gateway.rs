//! Today's gateway (ic-http-gateway 0.4.3, unmodified) in front of the real
//! wasm on the replica endpoint: what a browser gets for pages, a 30 MB
//! file (every 206 chunk verified by the gateway), ranges, 304, the 404
//! page, 405, 400, raw hosts, an answer that cannot be certified, and
//! bodies a byzantine replica altered.

use std::io::{Read, Write};
use std::net::TcpStream;

use asset_server::types::*;
use candid::{Principal, encode_one};
use local_gateway::{GATEWAY_VERSION, LocalGateway, RequestLog};
use serde_bytes::ByteBuf;
use sha2::{Digest, Sha256};
use wasm_host::Host;
use wasm_host::replica::Replica;

const CHUNK: usize = 1_900_000;

fn wasm() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../target/asset_server.wasm"
    );
    std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}; run scripts/build.sh"))
}

/// The canister on a replica endpoint with `files` uploaded, and a gateway
/// in front of it.
struct Site {
    gateway: LocalGateway,
    canister_id: Principal,
    replica: Replica,
}

fn site(files: &[(&str, &str, Vec<u8>)]) -> Site {
    eprintln!("gateway: {GATEWAY_VERSION}");
    let replica = Replica::start().expect("replica endpoint");
    let controller = Principal::from_slice(&[7; 29]);
    let mut host = Host::with_canister_id(replica.new_canister_id());
    let module = wasm_host::compile(&wasm()).expect("compile");
    let no_args = encode_one(None::<AssetCanisterArgs>).unwrap();
    host.install(&module, &no_args, controller)
        .expect("install");
    upload(&mut host, controller, files);
    let canister_id = replica.add_canister(host);
    let gateway = LocalGateway::start(&replica.url(), canister_id, "127.0.0.1:0", RequestLog::Off)
        .expect("gateway");
    Site {
        gateway,
        canister_id,
        replica,
    }
}

fn call<A: candid::CandidType, R: for<'a> candid::Deserialize<'a> + candid::CandidType>(
    host: &mut Host,
    caller: Principal,
    method: &str,
    arg: A,
) -> R {
    let reply = host
        .update(method, &encode_one(arg).unwrap(), caller)
        .unwrap_or_else(|e| panic!("{method}: {e}"));
    candid::decode_one(&reply.bytes).unwrap()
}

fn upload(host: &mut Host, caller: Principal, files: &[(&str, &str, Vec<u8>)]) {
    let batch: CreateBatchResponse = call(host, caller, "create_batch", CreateBatchArguments {});
    let mut operations = Vec::new();
    for (key, content_type, body) in files {
        let mut chunk_ids = Vec::new();
        for chunk in body.chunks(CHUNK) {
            let created: CreateChunkResponse = call(
                host,
                caller,
                "create_chunk",
                CreateChunkArguments {
                    batch_id: batch.batch_id.clone(),
                    content: ByteBuf::from(chunk.to_vec()),
                },
            );
            chunk_ids.push(created.chunk_id);
        }
        operations.push(BatchOperationKind::CreateAsset(CreateAssetArguments {
            key: key.to_string(),
            content_type: content_type.to_string(),
            max_age: Some(60),
            headers: None,
            enable_aliasing: None,
            allow_raw_access: None,
        }));
        operations.push(BatchOperationKind::SetAssetContent(
            SetAssetContentArguments {
                key: key.to_string(),
                content_encoding: "identity".into(),
                last_chunk: chunk_ids.is_empty().then(ByteBuf::new),
                chunk_ids,
                sha256: Some(ByteBuf::from(Sha256::digest(body).to_vec())),
            },
        ));
    }
    let _: () = call(
        host,
        caller,
        "commit_batch",
        CommitBatchArguments {
            batch_id: batch.batch_id,
            operations,
        },
    );
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Site {
    fn host(&self) -> String {
        format!("{}.localhost", self.canister_id)
    }

    /// One HTTP/1.1 request to the gateway, as a browser sends it.
    fn request(&self, method: &str, path: &str, host: &str, headers: &[(&str, &str)]) -> Answer {
        let mut stream = TcpStream::connect(("127.0.0.1", self.gateway.port())).unwrap();
        let mut head = format!("{method} {path} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("content-length: 0\r\n\r\n");
        stream.write_all(head.as_bytes()).unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap();
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("header end");
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let mut lines = head.lines();
        let status = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
            .collect();
        Answer {
            status,
            headers,
            body: raw[split + 4..].to_vec(),
        }
    }

    fn get(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        self.request("GET", path, &self.host(), headers)
    }
}

fn small_site() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    vec![
        ("/index.html", "text/html", b"<h1>home</h1>".to_vec()),
        ("/app.js", "text/javascript", b"console.log(1)".to_vec()),
        ("/a b.txt", "text/plain", b"space".to_vec()),
    ]
}

fn film(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 253) as u8).collect()
}

#[test]
fn pages_aliases_and_the_fallback_come_through_verified() {
    let site = site(&small_site());
    for (path, body) in [
        ("/", &b"<h1>home</h1>"[..]),
        ("/index.html", b"<h1>home</h1>"),
        ("/app.js", b"console.log(1)"),
        ("/a%20b.txt", b"space"),
        ("/client/route", b"<h1>home</h1>"),
    ] {
        let answer = site.get(path, &[]);
        assert_eq!(
            answer.status,
            200,
            "{path}: {}",
            String::from_utf8_lossy(&answer.body)
        );
        assert_eq!(answer.body, body, "{path}");
    }
    // Under v2 the gateway keeps the certified cache-control (v1 drops it).
    let answer = site.get("/app.js", &[]);
    assert_eq!(answer.header("cache-control"), Some("max-age=60"));
    assert_eq!(answer.header("content-type"), Some("text/javascript"));
}

#[test]
fn thirty_mb_arrive_whole_with_every_206_chunk_verified_and_ranges_work() {
    let body = film(30_000_000);
    let mut files = small_site();
    files.push(("/film.mp4", "video/mp4", body.clone()));
    let site = site(&files);
    let answer = site.get("/film.mp4", &[]);
    assert_eq!(answer.status, 200);
    assert!(
        answer.body == body,
        "the 30 MB body differs ({} bytes)",
        answer.body.len()
    );
    assert_eq!(answer.header("content-length"), Some("30000000"));

    let answer = site.get("/film.mp4", &[("range", "bytes=20000000-")]);
    assert_eq!(answer.status, 206);
    let range = answer
        .header("content-range")
        .expect("content-range")
        .to_string();
    let start: usize = range["bytes ".len()..]
        .split('-')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(start <= 20_000_000, "{range}");
    assert!(
        answer.body == body[start..start + answer.body.len()],
        "{range}"
    );
}

#[test]
fn not_modified_404_page_and_errors_are_what_the_canister_certified() {
    let mut files = small_site();
    files.push(("/404.html", "text/html", b"<h1>lost</h1>".to_vec()));
    let site = site(&files);
    let etag = site.get("/app.js", &[]).header("etag").unwrap().to_string();
    let answer = site.get("/app.js", &[("if-none-match", &etag)]);
    assert_eq!(answer.status, 304);

    let answer = site.get("/no/such/page", &[]);
    assert_eq!(answer.status, 404);
    assert_eq!(answer.body, b"<h1>lost</h1>");

    let answer = site.request("POST", "/app.js", &site.host(), &[]);
    assert_eq!(answer.status, 405);
    let answer = site.get("/a%zz", &[]);
    assert_eq!(answer.status, 400);
}

#[test]
fn what_cannot_be_certified_becomes_503_and_raw_hosts_are_refused() {
    let site = site(&small_site());
    // Escapes that are not UTF-8: the canister's 400 carries no
    // certificate, so the gateway refuses it.
    let answer = site.get("/%ff%fe", &[]);
    assert_eq!(
        answer.status,
        503,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    // On a raw host the gateway verifies nothing; the canister refuses.
    let raw = format!("{}.raw.localhost", site.canister_id);
    let answer = site.request("GET", "/app.js", &raw, &[]);
    assert_eq!(answer.status, 403);
    assert!(!answer.body.windows(14).any(|w| w == b"console.log(1)"));
}

#[test]
fn bodies_a_byzantine_replica_altered_become_503_whole_or_in_ranges() {
    let mut files = small_site();
    files.push(("/film.mp4", "video/mp4", film(5_000_000)));
    let site = site(&files);
    site.replica.tamper_http_body("/film.mp4");
    site.replica.tamper_http_body("/app.js");
    for (path, range) in [
        ("/app.js", None),
        ("/film.mp4", None),
        ("/film.mp4", Some("bytes=2000000-")),
    ] {
        let headers: Vec<(&str, &str)> = range.map(|r| ("range", r)).into_iter().collect();
        let answer = site.get(path, &headers);
        assert_eq!(answer.status, 503, "{path} {range:?}");
        assert!(
            String::from_utf8_lossy(&answer.body).contains("failed verification"),
            "{path} {range:?}: {}",
            String::from_utf8_lossy(&answer.body)
        );
    }
    // Only that path: the rest of the site still verifies.
    assert_eq!(site.get("/index.html", &[]).status, 200);
}
