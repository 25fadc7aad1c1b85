//! Reliability on the real wasm, beyond examples:
//!
//! - an upgrade from the wasms users run (released builds, kept as gzipped
//!   fixtures, as Internet Identity tests upgrades from its previous
//!   release) keeps every asset, encoding, property, permission and batch
//!   in flight, and never restores a tree another build saved;
//! - arbitrary bytes as the argument of every method in the `.did` are
//!   refused without changing anything (or, where they decode as the
//!   method's candid type, are a legal call);
//! - a trap injected at a random instruction count into every state-changing
//!   method, and into an upgrade, changes nothing, and the same call with
//!   the whole budget then succeeds.
//!
//! The random scenarios print their seed; `FUZZ_ARGS_SEED` (with
//! `FUZZ_ARGS_CASES`) and `TRAP_SEED` (with `TRAP_TRIES`) rerun one.

use std::io::{Read, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};

use asset_server::types::*;
use asset_testkit::GatewayResponse;
use candid::utils::ArgumentEncoder;
use candid::{CandidType, Nat, Principal};
use scenarios::backend::{InstructionLimits, principal};
use scenarios::site::{SiteFile, large_body, sample_site, site_file, url_of};
use scenarios::{AssetClient, select_backend};
use serde_bytes::ByteBuf;
use sha2::{Digest, Sha256};

use super::{site_client, site_client_at};

/// The commits the release fixtures were built from, oldest first: each
/// is an upgrade path users may take (`fixtures/README.md`).
const RELEASES: &[&str] = &["6167cce", "8d9914b"];
const CHUNK: usize = 1_900_000;

const PREPARER: u8 = 7;
const COMMITTER: u8 = 8;
const MANAGER: u8 = 9;
const REVOKED: u8 = 10;
const AUTHORIZED: u8 = 11;

// ---------------------------------------------------------------------------
// Shared helpers

/// A released wasm, gunzipped (`fixtures/README.md` says how it was built).
fn release_wasm(release: &str) -> Vec<u8> {
    let path = format!(
        "{}/fixtures/asset_server-{release}.wasm.gz",
        env!("CARGO_MANIFEST_DIR")
    );
    let gzipped = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let mut wasm = Vec::new();
    flate2::read::GzDecoder::new(&gzipped[..])
        .read_to_end(&mut wasm)
        .unwrap_or_else(|e| panic!("{path} is not gzip: {e}"));
    wasm
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(body).unwrap();
    encoder.finish().unwrap()
}

fn sha(body: &[u8]) -> Option<ByteBuf> {
    Some(ByteBuf::from(Sha256::digest(body).to_vec()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn encode<A: ArgumentEncoder>(args: A) -> Vec<u8> {
    candid::encode_args(args).expect("encode")
}

fn upgrade_arg() -> Vec<u8> {
    encode((Some(AssetCanisterArgs::Upgrade(UpgradeArgs {
        set_permissions: None,
    })),))
}

/// One typed update that must succeed.
fn must<A: CandidType>(client: &mut AssetClient, caller: Principal, method: &str, arg: A) {
    client
        .update::<_, ()>(caller, method, (arg,))
        .unwrap_or_else(|e| panic!("{method}: {e}"));
}

fn create(key: &str, content_type: &str) -> CreateAssetArguments {
    CreateAssetArguments::new(key, content_type)
}

fn set_content(key: &str, encoding: &str, chunk_ids: Vec<Nat>, body: &[u8]) -> BatchOperationKind {
    BatchOperationKind::SetAssetContent(SetAssetContentArguments {
        key: key.into(),
        content_encoding: encoding.into(),
        chunk_ids,
        last_chunk: None,
        sha256: sha(body),
    })
}

/// A small deterministic generator (SplitMix64), so a printed seed reruns
/// the exact case without another dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// The seed in `var`, or a fresh one from the clock.
fn seed(var: &str) -> u64 {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => value
            .parse()
            .unwrap_or_else(|_| panic!("{var}={value} is not a u64")),
        _ => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    }
}

fn env_count(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn raw_query(client: &mut AssetClient, method: &str, arg: Vec<u8>) -> Vec<u8> {
    client
        .backend
        .query(Principal::anonymous(), method, arg)
        .unwrap_or_else(|e| panic!("{method}: {e}"))
        .bytes
}

fn raw_update(client: &mut AssetClient, caller: Principal, method: &str, arg: Vec<u8>) -> Vec<u8> {
    client
        .backend
        .update(caller, method, arg)
        .unwrap_or_else(|e| panic!("{method}: {e}"))
        .bytes
}

/// Everything a caller can read, as the raw reply bytes (the same wasm
/// must answer byte for byte the same), plus the certified data where the
/// backend exposes it. Bodies are kept as hashes of their replies.
#[derive(Debug, PartialEq)]
struct RawState {
    certified_data: Option<Vec<u8>>,
    tree: Vec<u8>,
    list: Vec<u8>,
    contents: Vec<(String, String, String)>,
    properties: Vec<Vec<u8>>,
    permitted: Vec<Vec<u8>>,
    authorized: Vec<u8>,
    configuration: Vec<u8>,
}

impl RawState {
    /// Which parts differ, for a failure message.
    fn differences(&self, other: &RawState) -> String {
        let mut parts = Vec::new();
        let mut check = |name: &str, same: bool| {
            if !same {
                parts.push(name.to_string());
            }
        };
        check(
            "certified data",
            self.certified_data == other.certified_data,
        );
        check("certified tree", self.tree == other.tree);
        check("list", self.list == other.list);
        check("contents", self.contents == other.contents);
        check("properties", self.properties == other.properties);
        check("permissions", self.permitted == other.permitted);
        check("authorized", self.authorized == other.authorized);
        check("configuration", self.configuration == other.configuration);
        parts.join(", ")
    }
}

fn certified_tree(client: &mut AssetClient) -> Vec<u8> {
    let bytes = raw_query(
        client,
        "certified_tree",
        encode((CertifiedTreeArguments {},)),
    );
    let (response,): (CertifiedTreeResponse,) =
        candid::decode_args(&bytes).expect("certified_tree");
    response.tree.into_vec()
}

fn raw_state(client: &mut AssetClient) -> RawState {
    let admin = client.controller();
    let list = raw_query(client, "list", encode((ListArguments::default(),)));
    let (assets,): (Vec<AssetDetails>,) = candid::decode_args(&list).expect("list");
    let mut contents = Vec::new();
    let mut properties = Vec::new();
    for asset in &assets {
        properties.push(raw_query(
            client,
            "get_asset_properties",
            encode((asset.key.clone(),)),
        ));
        for encoding in &asset.encodings {
            let mut hasher = Sha256::new();
            let get = raw_query(
                client,
                "get",
                encode((GetArguments {
                    key: asset.key.clone(),
                    accept_encodings: vec![encoding.content_encoding.clone()],
                },)),
            );
            hasher.update(&get);
            let (first,): (EncodedAsset,) = candid::decode_args(&get).expect("get");
            let total = u64::try_from(first.total_length.0.clone()).unwrap();
            let part = first.content.len().max(1) as u64;
            for index in 1..total.div_ceil(part) {
                hasher.update(raw_query(
                    client,
                    "get_chunk",
                    encode((GetChunkArguments {
                        key: asset.key.clone(),
                        content_encoding: encoding.content_encoding.clone(),
                        index: Nat::from(index),
                        sha256: first.sha256.clone(),
                    },)),
                ));
            }
            contents.push((
                asset.key.clone(),
                encoding.content_encoding.clone(),
                hex(&hasher.finalize()),
            ));
        }
    }
    let permitted = Permission::ALL
        .iter()
        .map(|&permission| {
            raw_update(
                client,
                admin,
                "list_permitted",
                encode((ListPermitted { permission },)),
            )
        })
        .collect();
    RawState {
        certified_data: client.backend.certified_data(),
        tree: certified_tree(client),
        list,
        contents,
        properties,
        permitted,
        authorized: raw_update(client, admin, "list_authorized", encode(())),
        configuration: raw_update(client, admin, "get_configuration", encode(())),
    }
}

/// `url` with `accept-encoding: encoding`, verified under v1 (streaming
/// followed) and under v2 (as 206 ranges when the body is large). v2 must
/// serve `body` in that encoding; v1 too for gzip and deflate (what a v1
/// gateway can decode to check against the certified identity hash), and
/// `identity` otherwise.
fn assert_serves(
    client: &mut AssetClient,
    url: &str,
    encoding: &str,
    body: &[u8],
    identity: &[u8],
) {
    let request = client
        .gateway_request(url)
        .with_header("accept-encoding", encoding);
    let response = client
        .fetch(&request)
        .unwrap_or_else(|e| panic!("{url} ({encoding}): {e}"));
    client.verify(&request, &response).unwrap_or_else(|e| {
        panic!(
            "{url} ({encoding}, status {}) failed v1 verification: {e}",
            response.status
        )
    });
    if ["identity", "gzip", "deflate"].contains(&encoding) {
        assert_body(url, encoding, &response, body);
    } else {
        assert_body(url, "identity", &response, identity);
    }

    let first = client.fetch_verified_v2(&request);
    if first.status == 206 {
        assert_eq!(
            encoding, "identity",
            "{url}: only identity bodies here are large"
        );
        let (whole, answers) = client.fetch_ranges_v2(url);
        assert!(answers > 1, "{url}");
        assert!(
            whole == body,
            "{url}: v2 ranges joined differ from the body"
        );
    } else {
        assert_body(url, encoding, &first, body);
    }
}

fn assert_body(url: &str, encoding: &str, response: &GatewayResponse, body: &[u8]) {
    assert_eq!(response.status, 200, "{url} ({encoding})");
    let served = response.header("content-encoding").unwrap_or("identity");
    assert_eq!(served, encoding, "{url}: served encoding");
    assert!(
        response.body == body,
        "{url} ({encoding}): body differs ({} vs {} bytes)",
        response.body.len(),
        body.len()
    );
}

/// Whether `body` would pass as the v2 answer to `url` (as a gateway
/// asking for certification v2 sees it).
fn verifies_v2_with_body(client: &mut AssetClient, url: &str, body: &[u8]) -> bool {
    let request = client.gateway_request(url);
    let Ok((response, _)) = client.http_request_version(&request, Some(2)) else {
        return false;
    };
    let response = GatewayResponse {
        status: response.status_code,
        headers: response.headers,
        body: body.to_vec(),
    };
    client
        .verifier()
        .verify_min_version(&request, &response, client.backend.time_ns(), 2)
        .is_ok()
}

/// The CBOR a hash tree is sent as, read only as far as hash trees need.
enum Cbor {
    Uint(u64),
    Bytes(Vec<u8>),
    Array(Vec<Cbor>),
}

fn read_cbor(bytes: &[u8], at: &mut usize) -> Cbor {
    let head = bytes[*at];
    *at += 1;
    let (major, info) = (head >> 5, head & 0x1f);
    let mut argument = |info: u8| -> u64 {
        let size = match info {
            0..=23 => return info as u64,
            24 => 1,
            25 => 2,
            26 => 4,
            27 => 8,
            _ => panic!("unsupported CBOR length {info}"),
        };
        let value = bytes[*at..*at + size]
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | *b as u64);
        *at += size;
        value
    };
    let value = argument(info);
    match major {
        0 => Cbor::Uint(value),
        2 | 3 => {
            let data = bytes[*at..*at + value as usize].to_vec();
            *at += value as usize;
            Cbor::Bytes(data)
        }
        4 => Cbor::Array((0..value).map(|_| read_cbor(bytes, at)).collect()),
        6 => read_cbor(bytes, at), // the self-describe tag
        _ => panic!("unexpected CBOR major type {major}"),
    }
}

fn domain_hash(domain: &str, parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update([domain.len() as u8]);
    hasher.update(domain.as_bytes());
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// The root hash of a hash tree, collecting its leaves by label path.
fn tree_root(
    node: &Cbor,
    path: &mut Vec<Vec<u8>>,
    leaves: &mut Vec<(Vec<Vec<u8>>, Vec<u8>)>,
) -> [u8; 32] {
    let Cbor::Array(items) = node else {
        panic!("a hash tree node is an array")
    };
    let bytes = |i: usize| match &items[i] {
        Cbor::Bytes(b) => b.clone(),
        _ => panic!("expected bytes"),
    };
    match items[0] {
        Cbor::Uint(0) => domain_hash("ic-hashtree-empty", &[]),
        Cbor::Uint(1) => {
            let left = tree_root(&items[1], path, leaves);
            let right = tree_root(&items[2], path, leaves);
            domain_hash("ic-hashtree-fork", &[&left, &right])
        }
        Cbor::Uint(2) => {
            let label = bytes(1);
            path.push(label.clone());
            let sub = tree_root(&items[2], path, leaves);
            path.pop();
            domain_hash("ic-hashtree-labeled", &[&label, &sub])
        }
        Cbor::Uint(3) => {
            let value = bytes(1);
            leaves.push((path.clone(), value.clone()));
            domain_hash("ic-hashtree-leaf", &[&value])
        }
        Cbor::Uint(4) => bytes(1).try_into().expect("a pruned hash has 32 bytes"),
        _ => panic!("unknown hash tree node"),
    }
}

/// `certified_tree` read: the root it reconstructs to, and the v1 leaves
/// (path, SHA-256 of the identity body) sorted. The v2 branch is pruned
/// there, so only its hash is known.
struct CertifiedView {
    root: [u8; 32],
    v1_root: [u8; 32],
    v2_root: [u8; 32],
    v1_leaves: Vec<(Vec<Vec<u8>>, Vec<u8>)>,
}

fn certified_view(client: &mut AssetClient) -> CertifiedView {
    let tree = certified_tree(client);
    let top = read_cbor(&tree, &mut 0);
    let Cbor::Array(items) = &top else {
        panic!("the certified tree is a fork")
    };
    let mut v1_leaves = Vec::new();
    let v1_root = tree_root(&items[1], &mut Vec::new(), &mut v1_leaves);
    let v2_root = tree_root(&items[2], &mut Vec::new(), &mut Vec::new());
    v1_leaves.sort();
    CertifiedView {
        root: tree_root(&top, &mut Vec::new(), &mut Vec::new()),
        v1_root,
        v2_root,
        v1_leaves,
    }
}

// ---------------------------------------------------------------------------
// 1. Upgrade from the released wasm

/// One stored file in every encoding it has, as the model of what was
/// uploaded.
struct Stored {
    key: String,
    content_type: String,
    encodings: Vec<(String, Vec<u8>)>,
}

fn stored(file: &SiteFile) -> Stored {
    Stored {
        key: file.key.clone(),
        content_type: file.content_type.clone(),
        encodings: vec![("identity".into(), file.body.clone())],
    }
}

/// What the upgrade must carry: the uploaded site and what is in flight.
struct Populated {
    site: Vec<Stored>,
    /// (url, body) that must never verify: overwritten and deleted bodies.
    stale: Vec<(String, Vec<u8>)>,
    /// (url, key) of aliases and what they serve.
    aliases: Vec<(String, String)>,
    /// A batch of the Commit holder with chunks, not committed, and the
    /// body they start.
    in_flight: (Nat, Vec<Nat>, Vec<u8>),
    /// A proposed batch of the Prepare holder, its evidence partly computed.
    proposed: Nat,
}

fn page_body() -> Vec<u8> {
    "<!doctype html><title>page</title><p>compressible text</p>"
        .repeat(200)
        .into_bytes()
}

/// Uploads, as several principals and through every write path, what an
/// upgrade must keep. Deterministic: two canisters populated by it are
/// in the same state.
fn populate(client: &mut AssetClient) -> Populated {
    let admin = client.controller();
    let mut files = sample_site();
    client
        .upload(admin, &files, CHUNK)
        .expect("upload the sample site");
    let mut site: Vec<Stored> = files.iter().map(stored).collect();
    let mut stale = Vec::new();

    // A multi-chunk body, several encodings, custom headers and properties.
    let big = large_body(4_500_000);
    let page = page_body();
    let page_gzip = gzip(&page);
    let page_br: Vec<u8> = page_gzip.iter().rev().copied().collect();
    let custom = "<h1>custom headers</h1>".repeat(30).into_bytes();
    let custom_gzip = gzip(&custom);
    let batch = client.create_batch(admin).unwrap();
    let mut chunk = |body: &[u8]| -> Vec<Nat> {
        body.chunks(CHUNK)
            .map(|part| client.create_chunk(admin, &batch, part).unwrap().0)
            .collect()
    };
    let big_chunks = chunk(&big);
    assert_eq!(big_chunks.len(), 3, "a body of three chunks");
    let page_chunks = chunk(&page);
    let page_gzip_chunks = chunk(&page_gzip);
    let page_br_chunks = chunk(&page_br);
    let custom_chunks = chunk(&custom);
    let custom_gzip_chunks = chunk(&custom_gzip);
    let deflate_chunks = chunk(b"deflate body, unset before the upgrade");
    let mut custom_asset = create("/custom.html", "text/html");
    custom_asset.max_age = Some(600);
    custom_asset.headers = Some(vec![
        ("x-frame-options".into(), "DENY".into()),
        (
            "content-security-policy".into(),
            "default-src 'self'".into(),
        ),
    ]);
    custom_asset.enable_aliasing = Some(false);
    custom_asset.allow_raw_access = Some(false);
    let operations = vec![
        BatchOperationKind::CreateAsset(create("/big.bin", "application/octet-stream")),
        set_content("/big.bin", "identity", big_chunks, &big),
        BatchOperationKind::CreateAsset(create("/guide/page.html", "text/html")),
        set_content("/guide/page.html", "identity", page_chunks, &page),
        set_content("/guide/page.html", "gzip", page_gzip_chunks, &page_gzip),
        set_content("/guide/page.html", "br", page_br_chunks, &page_br),
        set_content(
            "/guide/page.html",
            "deflate",
            deflate_chunks,
            b"deflate body, unset before the upgrade",
        ),
        BatchOperationKind::CreateAsset(custom_asset),
        set_content("/custom.html", "identity", custom_chunks, &custom),
        set_content("/custom.html", "gzip", custom_gzip_chunks, &custom_gzip),
        BatchOperationKind::UnsetAssetContent(UnsetAssetContentArguments {
            key: "/guide/page.html".into(),
            content_encoding: "deflate".into(),
        }),
        BatchOperationKind::SetAssetProperties(SetAssetPropertiesArguments {
            key: "/app.css".into(),
            max_age: Some(Some(31_536_000)),
            headers: Some(Some(vec![("x-served-by".into(), "reliability".into())])),
            allow_raw_access: None,
            is_aliased: None,
        }),
    ];
    client
        .commit_batch(
            admin,
            CommitBatchArguments {
                batch_id: batch,
                operations,
            },
        )
        .expect("commit encodings and properties");
    site.push(Stored {
        key: "/big.bin".into(),
        content_type: "application/octet-stream".into(),
        encodings: vec![("identity".into(), big)],
    });
    site.push(Stored {
        key: "/guide/page.html".into(),
        content_type: "text/html".into(),
        encodings: vec![
            ("identity".into(), page),
            ("gzip".into(), page_gzip),
            ("br".into(), page_br),
        ],
    });
    site.push(Stored {
        key: "/custom.html".into(),
        content_type: "text/html".into(),
        encodings: vec![("identity".into(), custom), ("gzip".into(), custom_gzip)],
    });

    // The single-call paths.
    let stored_json = br#"{"stored":"in one call"}"#.to_vec();
    must(
        client,
        admin,
        "store",
        StoreArguments {
            key: "/data/stored.json".into(),
            content_type: "application/json".into(),
            content_encoding: "identity".into(),
            content: ByteBuf::from(stored_json.clone()),
            sha256: sha(&stored_json),
        },
    );
    site.push(stored(&site_file(
        "/data/stored.json",
        "application/json",
        stored_json,
    )));
    let mut direct = create("/direct.txt", "text/plain");
    direct.max_age = Some(60);
    must(client, admin, "create_asset", direct);
    must(
        client,
        admin,
        "set_asset_content",
        SetAssetContentArguments {
            key: "/direct.txt".into(),
            content_encoding: "identity".into(),
            chunk_ids: vec![],
            last_chunk: Some(ByteBuf::from(b"set directly".to_vec())),
            sha256: None,
        },
    );
    site.push(stored(&site_file(
        "/direct.txt",
        "text/plain",
        "set directly",
    )));
    must(
        client,
        admin,
        "set_asset_properties",
        SetAssetPropertiesArguments {
            key: "/direct.txt".into(),
            max_age: Some(Some(120)),
            headers: Some(Some(vec![("x-direct".into(), "yes".into())])),
            allow_raw_access: Some(Some(false)),
            is_aliased: None,
        },
    );

    // An overwrite and a delete: their old bodies must never verify again.
    let old_js = files[2].body.clone();
    let new_js = site_file("/app.js", "text/javascript", "window.version = 2");
    client
        .upload(admin, std::slice::from_ref(&new_js), CHUNK)
        .unwrap();
    stale.push(("/app.js".to_string(), old_js));
    files[2] = new_js;
    site[2] = stored(&files[2]);
    must(
        client,
        admin,
        "delete_asset",
        DeleteAssetArguments {
            key: "/a b.txt".into(),
        },
    );
    stale.push((url_of("/a b.txt"), b"space in name".to_vec()));
    site.retain(|s| s.key != "/a b.txt");

    // Enough assets and chunks that the stable maps hold many nodes: a
    // layout change must carry all of them, not a root node's worth. And a
    // body in 40 chunks.
    let batch = client.create_batch(admin).unwrap();
    let mut operations = Vec::new();
    for i in 0..300 {
        let key = format!("/many/{i:03}.txt");
        let body = format!("asset {i} of many {}", "x".repeat(i % 97)).into_bytes();
        let mut asset = create(&key, "text/plain");
        if i % 10 == 0 {
            asset.headers = Some(vec![("x-index".into(), i.to_string())]);
            asset.max_age = Some(i as u64);
        }
        operations.push(BatchOperationKind::CreateAsset(asset));
        operations.push(BatchOperationKind::SetAssetContent(
            SetAssetContentArguments {
                key: key.clone(),
                content_encoding: "identity".into(),
                chunk_ids: vec![],
                last_chunk: Some(ByteBuf::from(body.clone())),
                sha256: sha(&body),
            },
        ));
        site.push(stored(&site_file(&key, "text/plain", body)));
    }
    let chunked: Vec<u8> = large_body(40 * 40_000).iter().map(|b| b ^ 0xa5).collect();
    let chunk_ids = chunked
        .chunks(40_000)
        .map(|part| client.create_chunk(admin, &batch, part).unwrap().0)
        .collect();
    operations.push(BatchOperationKind::CreateAsset(create(
        "/chunked.bin",
        "application/octet-stream",
    )));
    operations.push(set_content("/chunked.bin", "identity", chunk_ids, &chunked));
    client
        .commit_batch(
            admin,
            CommitBatchArguments {
                batch_id: batch,
                operations,
            },
        )
        .expect("commit 300 assets and a body in 40 chunks");
    site.push(stored(&site_file(
        "/chunked.bin",
        "application/octet-stream",
        chunked,
    )));

    // Permissions for others, one revoked, one authorized the old way.
    for (who, permission) in [
        (PREPARER, Permission::Prepare),
        (COMMITTER, Permission::Commit),
        (MANAGER, Permission::ManagePermissions),
        (REVOKED, Permission::Commit),
    ] {
        must(
            client,
            admin,
            "grant_permission",
            GrantPermission {
                to_principal: principal(who),
                permission,
            },
        );
    }
    must(
        client,
        principal(MANAGER),
        "revoke_permission",
        RevokePermission {
            of_principal: principal(REVOKED),
            permission: Permission::Commit,
        },
    );
    must(client, admin, "authorize", principal(AUTHORIZED));
    must(
        client,
        admin,
        "configure",
        ConfigureArguments {
            max_batches: Some(Some(100)),
            max_chunks: Some(Some(10_000)),
            max_bytes: None,
        },
    );

    // In flight: the Commit holder's batch with two chunks of a body...
    let committer = principal(COMMITTER);
    let late = large_body(4_200_000)
        .into_iter()
        .map(|b| b ^ 0x5a)
        .collect::<Vec<u8>>();
    let late_batch = client.create_batch(committer).unwrap();
    let mut late_chunks = Vec::new();
    for part in late.chunks(CHUNK).take(2) {
        late_chunks.push(client.create_chunk(committer, &late_batch, part).unwrap().0);
    }
    // ... and the Prepare holder's proposal, its evidence one step along.
    let preparer = principal(PREPARER);
    let proposed = client.create_batch(preparer).unwrap();
    let proposed_body = b"committed by proposal after the upgrade".to_vec();
    let (proposed_chunk, _) = client
        .create_chunk(preparer, &proposed, &proposed_body)
        .unwrap();
    must(
        client,
        preparer,
        "propose_commit_batch",
        CommitBatchArguments {
            batch_id: proposed.clone(),
            operations: vec![
                BatchOperationKind::CreateAsset(create("/proposed.txt", "text/plain")),
                set_content(
                    "/proposed.txt",
                    "identity",
                    vec![proposed_chunk],
                    &proposed_body,
                ),
            ],
        },
    );
    let ((_,), _): ((Option<ByteBuf>,), _) = client
        .update(
            preparer,
            "compute_evidence",
            (ComputeEvidenceArguments {
                batch_id: proposed.clone(),
                max_iterations: Some(1),
            },),
        )
        .expect("compute_evidence");

    Populated {
        site,
        stale,
        aliases: vec![
            ("/".into(), "/index.html".into()),
            ("/about".into(), "/about.html".into()),
            ("/docs".into(), "/docs/index.html".into()),
            ("/docs/".into(), "/docs/index.html".into()),
            ("/guide/page".into(), "/guide/page.html".into()),
        ],
        in_flight: (late_batch, late_chunks, late),
        proposed,
    }
}

/// What a user of the canister can read, decoded (the replies of two
/// versions may differ in bytes, not in meaning).
#[derive(Debug, PartialEq)]
struct Observed {
    assets: Vec<AssetDetails>,
    properties: Vec<(String, AssetProperties)>,
    bodies: Vec<(String, String, String, String, Option<ByteBuf>)>,
    permitted: Vec<Vec<Principal>>,
    authorized: Vec<Principal>,
    configuration: ConfigurationResponse,
    api_version: u16,
}

fn observe(client: &mut AssetClient) -> Observed {
    let admin = client.controller();
    let mut assets = client.list();
    assets.sort_by(|a, b| a.key.cmp(&b.key));
    for asset in &mut assets {
        asset
            .encodings
            .sort_by(|a, b| a.content_encoding.cmp(&b.content_encoding));
    }
    let mut properties = Vec::new();
    let mut bodies = Vec::new();
    for asset in &assets {
        let ((props,), _): ((AssetProperties,), _) = client
            .query(
                Principal::anonymous(),
                "get_asset_properties",
                (asset.key.clone(),),
            )
            .expect("get_asset_properties");
        properties.push((asset.key.clone(), props));
        for encoding in &asset.encodings {
            let body = read_body(client, &asset.key, &encoding.content_encoding);
            bodies.push((
                asset.key.clone(),
                encoding.content_encoding.clone(),
                body.0,
                hex(&Sha256::digest(&body.1)),
                body.2,
            ));
        }
    }
    let permitted = Permission::ALL
        .iter()
        .map(|&permission| {
            let ((mut list,), _): ((Vec<Principal>,), _) = client
                .update(admin, "list_permitted", (ListPermitted { permission },))
                .expect("list_permitted");
            list.sort();
            list
        })
        .collect();
    let ((mut authorized,), _): ((Vec<Principal>,), _) = client
        .update(admin, "list_authorized", ())
        .expect("list_authorized");
    authorized.sort();
    let ((configuration,), _): ((ConfigurationResponse,), _) = client
        .update(admin, "get_configuration", ())
        .expect("get_configuration");
    let ((api_version,), _): ((u16,), _) = client
        .query(Principal::anonymous(), "api_version", ())
        .expect("api_version");
    Observed {
        assets,
        properties,
        bodies,
        permitted,
        authorized,
        configuration,
        api_version,
    }
}

/// An encoding's content type, whole content (`get` then `get_chunk`) and
/// the `sha256` `get` reports.
fn read_body(
    client: &mut AssetClient,
    key: &str,
    encoding: &str,
) -> (String, Vec<u8>, Option<ByteBuf>) {
    let ((first,), _): ((EncodedAsset,), _) = client
        .query(
            Principal::anonymous(),
            "get",
            (GetArguments {
                key: key.into(),
                accept_encodings: vec![encoding.into()],
            },),
        )
        .unwrap_or_else(|e| panic!("get {key} {encoding}: {e}"));
    assert_eq!(first.content_encoding, encoding, "get {key}");
    let total = usize::try_from(first.total_length.0.clone()).unwrap();
    let mut body = first.content.into_vec();
    let mut index = 1u64;
    while body.len() < total {
        let ((chunk,), _): ((GetChunkResponse,), _) = client
            .query(
                Principal::anonymous(),
                "get_chunk",
                (GetChunkArguments {
                    key: key.into(),
                    content_encoding: encoding.into(),
                    index: Nat::from(index),
                    sha256: first.sha256.clone(),
                },),
            )
            .unwrap_or_else(|e| panic!("get_chunk {key} {encoding} {index}: {e}"));
        assert!(!chunk.content.is_empty(), "get_chunk {key} {index}: empty");
        body.extend_from_slice(&chunk.content);
        index += 1;
    }
    assert_eq!(body.len(), total, "{key} {encoding}: total_length");
    (first.content_type, body, first.sha256)
}

/// `list` and `get` say exactly what was uploaded, and every body, alias
/// and encoding is served and verifies under v1 and v2; no stale body does.
fn assert_site(client: &mut AssetClient, populated: &Populated, observed: &Observed, when: &str) {
    let listed: Vec<&str> = observed.assets.iter().map(|a| a.key.as_str()).collect();
    let mut expected: Vec<&str> = populated.site.iter().map(|s| s.key.as_str()).collect();
    expected.sort();
    assert_eq!(listed, expected, "{when}: the listed keys");
    for file in &populated.site {
        let asset = observed.assets.iter().find(|a| a.key == file.key).unwrap();
        assert_eq!(
            asset.content_type, file.content_type,
            "{when}: {}",
            file.key
        );
        let mut encodings: Vec<(String, Option<ByteBuf>, Nat)> = file
            .encodings
            .iter()
            .map(|(e, body)| (e.clone(), sha(body), Nat::from(body.len())))
            .collect();
        encodings.sort_by(|a, b| a.0.cmp(&b.0));
        let listed: Vec<(String, Option<ByteBuf>, Nat)> = asset
            .encodings
            .iter()
            .map(|e| {
                (
                    e.content_encoding.clone(),
                    e.sha256.clone(),
                    e.length.clone(),
                )
            })
            .collect();
        assert_eq!(
            listed, encodings,
            "{when}: {} encodings, hashes, lengths",
            file.key
        );
        for (encoding, body) in &file.encodings {
            let (content_type, got, hash) = read_body(client, &file.key, encoding);
            assert_eq!(content_type, file.content_type, "{when}: get {}", file.key);
            assert!(
                got == *body,
                "{when}: get {} {encoding}: content differs",
                file.key
            );
            assert_eq!(
                hash,
                sha(body),
                "{when}: get {} {encoding}: sha256",
                file.key
            );
            assert_serves(
                client,
                &url_of(&file.key),
                encoding,
                body,
                &file.encodings[0].1,
            );
        }
    }
    for (url, key) in &populated.aliases {
        let file = populated.site.iter().find(|s| s.key == *key).unwrap();
        let identity = &file.encodings[0].1;
        assert_serves(client, url, "identity", identity, identity);
    }
    for (url, body) in &populated.stale {
        assert!(
            !client.verifies_with_body(url, body),
            "{when}: the old body of {url} verifies"
        );
        assert!(
            !verifies_v2_with_body(client, url, body),
            "{when}: the old body of {url} verifies under v2"
        );
    }
    // Properties are served, not only stored.
    let custom = client.fetch_verified("/custom.html");
    assert_eq!(custom.header("x-frame-options"), Some("DENY"), "{when}");
    assert_eq!(
        custom.header("cache-control"),
        Some("max-age=600"),
        "{when}"
    );
    assert_eq!(
        client.fetch_verified("/direct.txt").header("x-direct"),
        Some("yes"),
        "{when}"
    );
    assert!(
        !client.verifies_with_body(
            "/custom",
            &populated
                .site
                .iter()
                .find(|s| s.key == "/custom.html")
                .unwrap()
                .encodings[0]
                .1
        ),
        "{when}: aliasing stays off where it was turned off"
    );
}

pub fn an_upgrade_from_the_released_wasm_keeps_assets_permissions_and_batches(wasm: &[u8]) {
    for release in RELEASES {
        println!("  from the release at {release}:");
        upgrade_from_release(wasm, release);
    }
}

fn upgrade_from_release(wasm: &[u8], release_name: &str) {
    let release = release_wasm(release_name);
    let mut client = AssetClient::install(select_backend(), release.clone());
    let populated = populate(&mut client);
    let before = observe(&mut client);
    assert_site(
        &mut client,
        &populated,
        &before,
        &format!("on {release_name}"),
    );
    let certified_before = client.backend.certified_data();
    let view_before = certified_view(&mut client);
    if let Some(data) = &certified_before {
        assert_eq!(
            *data, view_before.root,
            "certified_tree reconstructs to the certified data"
        );
    }

    // An upgrade that runs out of instructions part way is refused, and the
    // release keeps serving everything (a twin canister in the same state
    // tells how many instructions the upgrade takes).
    if can_limit_instructions("an upgrade over its budget") {
        let mut twin = AssetClient::install(select_backend(), release.clone());
        populate(&mut twin);
        let needed = twin
            .backend
            .upgrade(wasm, upgrade_arg())
            .expect("the twin upgrades")
            .expect("the host counts instructions");
        let mut rng = Rng(seed("TRAP_SEED"));
        let limit = 1 + rng.below(needed - 1);
        client.backend.set_instruction_limits(InstructionLimits {
            install: limit,
            ..InstructionLimits::default()
        });
        let error = client
            .backend
            .upgrade(wasm, upgrade_arg())
            .expect_err("an upgrade over its budget must fail");
        println!(
            "  upgrade {release_name} -> current takes {needed} instructions; with {limit}: {error}"
        );
        client
            .backend
            .set_instruction_limits(InstructionLimits::default());
        assert_eq!(
            observe(&mut client),
            before,
            "a refused upgrade changes nothing"
        );
        assert_eq!(client.backend.certified_data(), certified_before);
        assert_site(&mut client, &populated, &before, "after a refused upgrade");
    }

    client.backend.take_debug_log();
    let instructions = client
        .backend
        .upgrade(wasm, upgrade_arg())
        .unwrap_or_else(|e| panic!("upgrade {release_name} -> current: {e}"));
    // A release hashes its tree in another fork shape: whatever it saved,
    // the tree is built from the records, never restored.
    let log = client.backend.take_debug_log();
    if let Some(line) = log.iter().find(|l| l.contains("certification tree")) {
        println!("  {}", line.trim_start_matches("[canister] "));
        assert!(
            line.contains("built from the records"),
            "a tree saved by {release_name} must not be restored: {line}"
        );
        // And it is refused for that reason, not by luck of its bytes.
        assert!(
            !line.contains("snapshot was not used") || line.contains("certifies differently"),
            "a tree saved by {release_name} is refused as another build's: {line}"
        );
    }
    client.wasm = wasm.to_vec();
    if let Some(instructions) = instructions {
        println!(
            "  measured: upgrade {release_name} -> current with {} assets: {instructions} instructions",
            populated.site.len()
        );
    }
    let after = observe(&mut client);
    assert_eq!(
        after, before,
        "list, get, properties, permissions and limits survive"
    );
    assert_site(&mut client, &populated, &after, "after the upgrade");
    // The certified v1 paths and hashes are exactly those before: nothing
    // was dropped from, or added to, that tree. (Its root may still differ:
    // the tree's shape follows the order of inserts and deletes, and an
    // upgrade rebuilds it from the stored records.)
    let view_after = certified_view(&mut client);
    if let Some(data) = client.backend.certified_data() {
        assert_eq!(
            data, view_after.root,
            "certified_tree reconstructs to the certified data"
        );
    }
    assert_eq!(
        view_after.v1_leaves, view_before.v1_leaves,
        "the certified v1 paths and hashes"
    );
    if view_after.root != view_before.root {
        println!(
            "  note: the certified root changed across the upgrade (v1 branch {}, v2 branch {}), with the same v1 leaves",
            if view_after.v1_root == view_before.v1_root {
                "same"
            } else {
                "changed"
            },
            if view_after.v2_root == view_before.v2_root {
                "same"
            } else {
                "changed"
            },
        );
    }

    // The batch in flight: its owner adds the last chunk and commits it.
    let committer = principal(COMMITTER);
    let (batch, mut chunks, late) = populated.in_flight.clone();
    let (last, _) = client
        .create_chunk(committer, &batch, &late[2 * CHUNK..])
        .expect("the batch in flight takes more chunks after the upgrade");
    assert!(!chunks.contains(&last), "chunk id {last} handed out twice");
    chunks.push(last);
    let refused = client.commit_batch(
        principal(PREPARER),
        CommitBatchArguments {
            batch_id: batch.clone(),
            operations: vec![],
        },
    );
    assert!(
        refused.is_err(),
        "a Prepare holder cannot commit after the upgrade"
    );
    client
        .commit_batch(
            committer,
            CommitBatchArguments {
                batch_id: batch.clone(),
                operations: vec![
                    BatchOperationKind::CreateAsset(create(
                        "/late.bin",
                        "application/octet-stream",
                    )),
                    set_content("/late.bin", "identity", chunks, &late),
                ],
            },
        )
        .expect("the owner commits the batch started before the upgrade");
    assert_serves(&mut client, "/late.bin", "identity", &late, &late);

    // The proposal: its evidence finishes, a wrong one is refused, the
    // right one commits.
    let preparer = principal(PREPARER);
    let evidence = loop {
        let ((evidence,), _): ((Option<ByteBuf>,), _) = client
            .update(
                preparer,
                "compute_evidence",
                (ComputeEvidenceArguments {
                    batch_id: populated.proposed.clone(),
                    max_iterations: Some(1),
                },),
            )
            .expect("compute_evidence after the upgrade");
        if let Some(evidence) = evidence {
            break evidence;
        }
    };
    let mut wrong = evidence.clone().into_vec();
    wrong[0] ^= 1;
    let commit = |evidence: Vec<u8>| CommitProposedBatchArguments {
        batch_id: populated.proposed.clone(),
        evidence: ByteBuf::from(evidence),
    };
    assert!(
        client
            .update::<_, ()>(committer, "commit_proposed_batch", (commit(wrong),))
            .is_err(),
        "a wrong evidence is refused"
    );
    must(
        &mut client,
        committer,
        "commit_proposed_batch",
        commit(evidence.into_vec()),
    );
    let proposed_body = b"committed by proposal after the upgrade";
    assert_serves(
        &mut client,
        "/proposed.txt",
        "identity",
        proposed_body,
        proposed_body,
    );

    // Permissions work, not only list: the manager still manages, the
    // revoked principal still cannot commit, batch ids are not reused.
    must(
        &mut client,
        principal(MANAGER),
        "grant_permission",
        GrantPermission {
            to_principal: principal(12),
            permission: Permission::Prepare,
        },
    );
    assert!(
        client
            .upload(
                principal(REVOKED),
                &[site_file("/x.txt", "text/plain", "x")],
                CHUNK
            )
            .is_err()
    );
    let fresh = client.create_batch(client.controller()).unwrap();
    assert!(
        fresh > batch && fresh > populated.proposed,
        "batch id {fresh} reused"
    );

    // Upgrading the current wasm again keeps it all; going back to the
    // release either works or is refused, and the site serves either way.
    let mut model = populated;
    model.site.push(stored(&site_file(
        "/late.bin",
        "application/octet-stream",
        late,
    )));
    model.site.push(stored(&site_file(
        "/proposed.txt",
        "text/plain",
        "committed by proposal after the upgrade",
    )));
    let settled = observe(&mut client);
    client
        .backend
        .upgrade(wasm, upgrade_arg())
        .expect("current -> current");
    assert_eq!(
        observe(&mut client),
        settled,
        "a second upgrade keeps everything"
    );
    // Both releases read layout version 1; ours writes 2 (large chunks in
    // pages), which they could not read: they must refuse it, not start
    // on a site they would half serve.
    let refused = client
        .backend
        .upgrade(&release, upgrade_arg())
        .expect_err("a downgrade to a release that cannot read layout version 2 is refused");
    println!(
        "  downgrade current -> {release_name}: refused: {}",
        refused.lines().next().unwrap_or("")
    );
    assert!(
        refused.contains("layout version 2, written by a newer release"),
        "{refused}"
    );
    assert_eq!(observe(&mut client), settled, "after the downgrade attempt");
    assert_site(&mut client, &model, &settled, "after the downgrade attempt");
}

// ---------------------------------------------------------------------------
// 2. Arbitrary bytes as the argument of every method

/// The methods of `candid/asset_server.did`: (name, whether a query).
fn did_methods() -> Vec<(String, bool)> {
    let path = format!(
        "{}/../../candid/asset_server.did",
        env!("CARGO_MANIFEST_DIR")
    );
    let did = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let text: String = did
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let service = &text[text.find("service :").expect("a service")..];
    let body = &service[service.find("-> {").expect("the service's methods") + 4..];
    let mut methods = Vec::new();
    let (mut depth, mut entry) = (0i32, String::new());
    for ch in body.chars() {
        match ch {
            '(' | '{' => depth += 1,
            ')' => depth -= 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ';' if depth == 0 => {
                let (name, signature) = entry.split_once(':').expect("name : signature");
                let query = signature.trim().ends_with("query");
                methods.push((name.trim().to_string(), query));
                entry.clear();
                continue;
            }
            _ => {}
        }
        entry.push(ch);
    }
    methods
}

/// A method's well-typed sample argument and a check that bytes decode as
/// its declared argument types (what the canister's decoder would accept).
struct Method {
    sample: Vec<u8>,
    decodes: fn(&[u8]) -> bool,
}

/// The decoder configuration `ic_cdk`'s `#[update]` and `#[query]` decode
/// arguments with (ic-cdk-macros 0.18: a skipping quota of 10,000 and no
/// decoding quota), so the native check accepts what the canister accepts.
fn canister_decoder() -> candid::DecoderConfig {
    let mut config = candid::DecoderConfig::new();
    config.set_skipping_quota(10_000);
    config
}

macro_rules! method {
    ($args:ty, $sample:expr) => {
        Method {
            sample: encode($sample),
            decodes: |bytes| {
                candid::utils::decode_args_with_config::<$args>(bytes, &canister_decoder()).is_ok()
            },
        }
    };
}

fn batch_operations() -> Vec<BatchOperationKind> {
    vec![
        BatchOperationKind::CreateAsset(create("/fuzz.txt", "text/plain")),
        BatchOperationKind::SetAssetContent(SetAssetContentArguments {
            key: "/fuzz.txt".into(),
            content_encoding: "identity".into(),
            chunk_ids: vec![Nat::from(1u8)],
            last_chunk: Some(ByteBuf::from(b"fuzz".to_vec())),
            sha256: sha(b"fuzz"),
        }),
        BatchOperationKind::DeleteAsset(DeleteAssetArguments {
            key: "/probe.txt".into(),
        }),
        BatchOperationKind::Clear(ClearArguments {}),
    ]
}

fn typed_method(name: &str) -> Method {
    let key = || "/probe.txt".to_string();
    let token = || StreamingCallbackToken {
        key: key(),
        content_encoding: "identity".into(),
        index: Nat::from(1u8),
        sha256: sha(b"x"),
    };
    let grant = || GrantPermission {
        to_principal: principal(42),
        permission: Permission::Commit,
    };
    let revoke = || RevokePermission {
        of_principal: principal(1),
        permission: Permission::ManagePermissions,
    };
    let configure = || ConfigureArguments {
        max_batches: Some(Some(0)),
        max_chunks: Some(None),
        max_bytes: None,
    };
    let proposed = || CommitProposedBatchArguments {
        batch_id: Nat::from(1u8),
        evidence: ByteBuf::from(vec![7; 32]),
    };
    match name {
        "api_version"
        | "list_authorized"
        | "take_ownership"
        | "get_configuration"
        | "validate_take_ownership" => Method {
            // ic-cdk 0.18 does not read the argument of a method without
            // parameters, so any bytes are a legal call there.
            sample: encode(()),
            decodes: |_| true,
        },
        "get" => method!(
            (GetArguments,),
            (GetArguments {
                key: key(),
                accept_encodings: vec!["identity".into(), "gzip".into()]
            },)
        ),
        "get_chunk" => method!(
            (GetChunkArguments,),
            (GetChunkArguments {
                key: key(),
                content_encoding: "identity".into(),
                index: Nat::from(0u8),
                sha256: None
            },)
        ),
        "list" => method!(
            (ListArguments,),
            (ListArguments {
                start: Some(Nat::from(1u8)),
                length: Some(Nat::from(2u8))
            },)
        ),
        "certified_tree" => method!((CertifiedTreeArguments,), (CertifiedTreeArguments {},)),
        "create_batch" => method!((CreateBatchArguments,), (CreateBatchArguments {},)),
        "create_chunk" => method!(
            (CreateChunkArguments,),
            (CreateChunkArguments {
                batch_id: Nat::from(1u8),
                content: ByteBuf::from(b"chunk".to_vec())
            },)
        ),
        "create_chunks" => method!(
            (CreateChunksArguments,),
            (CreateChunksArguments {
                batch_id: Nat::from(1u8),
                content: vec![ByteBuf::from(b"a".to_vec()), ByteBuf::new()]
            },)
        ),
        "commit_batch" | "propose_commit_batch" => method!(
            (CommitBatchArguments,),
            (CommitBatchArguments {
                batch_id: Nat::from(1u8),
                operations: batch_operations()
            },)
        ),
        "delete_batch" => method!(
            (DeleteBatchArguments,),
            (DeleteBatchArguments {
                batch_id: Nat::from(1u8)
            },)
        ),
        "compute_evidence" => method!(
            (ComputeEvidenceArguments,),
            (ComputeEvidenceArguments {
                batch_id: Nat::from(1u8),
                max_iterations: Some(3)
            },)
        ),
        "commit_proposed_batch" | "validate_commit_proposed_batch" => {
            method!((CommitProposedBatchArguments,), (proposed(),))
        }
        "create_asset" => method!(
            (CreateAssetArguments,),
            (CreateAssetArguments {
                key: "/created.txt".into(),
                content_type: "text/plain".into(),
                max_age: Some(5),
                headers: Some(vec![("x-a".into(), "b".into())]),
                enable_aliasing: Some(true),
                allow_raw_access: None
            },)
        ),
        "set_asset_content" => method!(
            (SetAssetContentArguments,),
            (SetAssetContentArguments {
                key: key(),
                content_encoding: "gzip".into(),
                chunk_ids: vec![],
                last_chunk: Some(ByteBuf::from(b"zz".to_vec())),
                sha256: None
            },)
        ),
        "unset_asset_content" => method!(
            (UnsetAssetContentArguments,),
            (UnsetAssetContentArguments {
                key: key(),
                content_encoding: "identity".into()
            },)
        ),
        "delete_asset" => method!(
            (DeleteAssetArguments,),
            (DeleteAssetArguments { key: key() },)
        ),
        "clear" => method!((ClearArguments,), (ClearArguments {},)),
        "store" => method!(
            (StoreArguments,),
            (StoreArguments {
                key: key(),
                content_type: "text/plain".into(),
                content_encoding: "identity".into(),
                content: ByteBuf::from(b"overwritten".to_vec()),
                sha256: None
            },)
        ),
        "http_request" => method!(
            (HttpRequest,),
            (HttpRequest {
                method: "GET".into(),
                url: "/probe.txt".into(),
                headers: vec![("accept-encoding".into(), "gzip".into())],
                body: ByteBuf::new(),
                certificate_version: Some(2)
            },)
        ),
        "http_request_streaming_callback" => method!((StreamingCallbackToken,), (token(),)),
        "authorize" | "deauthorize" => method!((Principal,), (principal(1),)),
        "grant_permission" | "validate_grant_permission" => {
            method!((GrantPermission,), (grant(),))
        }
        "revoke_permission" | "validate_revoke_permission" => {
            method!((RevokePermission,), (revoke(),))
        }
        "list_permitted" => method!(
            (ListPermitted,),
            (ListPermitted {
                permission: Permission::Prepare
            },)
        ),
        "get_asset_properties" => method!((String,), (key(),)),
        "set_asset_properties" => method!(
            (SetAssetPropertiesArguments,),
            (SetAssetPropertiesArguments {
                key: key(),
                max_age: Some(None),
                headers: Some(Some(vec![])),
                allow_raw_access: None,
                is_aliased: Some(Some(false))
            },)
        ),
        "configure" | "validate_configure" => method!((ConfigureArguments,), (configure(),)),
        other => panic!("method {other} of the .did has no sample here: add one"),
    }
}

/// LEB128 of `n`.
fn leb(mut n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

/// One argument of the kind `kind` picks: empty, random, `DIDL` then
/// random, a truncated or mutated well-typed argument, another method's
/// argument, a crafted header (a huge `vec null`, a deep type table), or
/// one close to the 2 MiB ingress limit.
fn fuzz_argument(rng: &mut Rng, own: &[u8], samples: &[Vec<u8>]) -> (&'static str, Vec<u8>) {
    const HUGE: usize = 2 * 1024 * 1024 - 64 * 1024;
    match rng.below(16) {
        0 => ("empty", Vec::new()),
        1 | 2 => {
            let n = rng.below(80) as usize;
            ("random", rng.bytes(n))
        }
        3 | 4 => {
            let mut bytes = b"DIDL".to_vec();
            let n = rng.below(40) as usize;
            bytes.extend(rng.bytes(n));
            ("DIDL+random", bytes)
        }
        5 | 6 => {
            let cut = rng.below(own.len() as u64) as usize;
            ("truncated", own[..cut].to_vec())
        }
        7 | 8 => {
            let mut bytes = own.to_vec();
            for _ in 0..1 + rng.below(3) {
                let at = rng.below(bytes.len() as u64) as usize;
                bytes[at] ^= 1 << rng.below(8);
            }
            ("mutated", bytes)
        }
        9..=11 => {
            let other = &samples[rng.below(samples.len() as u64) as usize];
            ("other method's", other.clone())
        }
        12 => {
            // vec null of 2^k elements: no bytes, but a decoder that loops
            // over them would run out of instructions.
            let mut bytes = b"DIDL\x01\x6d\x7f\x01\x00".to_vec();
            bytes.extend(leb(1 << (20 + rng.below(40))));
            ("vec null bomb", bytes)
        }
        13 => {
            // A type table of nested opt, far deeper than any real type.
            let depth = 1000 + rng.below(20_000);
            let mut bytes = b"DIDL".to_vec();
            bytes.extend(leb(depth));
            for i in 0..depth {
                bytes.push(0x6e); // opt
                bytes.extend(leb(if i + 1 < depth { i + 1 } else { 0 }));
            }
            bytes.extend([1, 0]);
            bytes.extend(std::iter::repeat_n(1u8, depth as usize));
            ("deep type table", bytes)
        }
        14 => {
            let mut bytes = b"DIDL".to_vec();
            bytes.extend(rng.bytes(HUGE));
            ("huge random", bytes)
        }
        _ => {
            let blob = ByteBuf::from(rng.bytes(HUGE));
            ("huge blob", encode((blob,)))
        }
    }
}

/// What the fuzz compares after every call: certified data, the certified
/// tree and the listing, byte for byte.
#[derive(Debug, PartialEq)]
struct Light {
    certified_data: Option<Vec<u8>>,
    tree: Vec<u8>,
    list: Vec<u8>,
    /// `list_permitted` for each permission, `list_authorized` and
    /// `get_configuration`: a refused call must not grant anything either.
    governance: Vec<Vec<u8>>,
}

fn light(client: &mut AssetClient) -> Light {
    let admin = client.controller();
    let mut governance: Vec<Vec<u8>> = Permission::ALL
        .iter()
        .map(|&permission| {
            raw_update(
                client,
                admin,
                "list_permitted",
                encode((ListPermitted { permission },)),
            )
        })
        .collect();
    governance.push(raw_update(client, admin, "list_authorized", encode(())));
    governance.push(raw_update(client, admin, "get_configuration", encode(())));
    Light {
        certified_data: client.backend.certified_data(),
        tree: certified_tree(client),
        list: raw_query(client, "list", encode((ListArguments::default(),))),
        governance,
    }
}

const PROBE: &[u8] = b"uploaded before the fuzz";

/// The probe asset is there and verifies; stores it again if an accepted
/// call removed or changed it.
fn ensure_probe(client: &mut AssetClient) {
    let listed = client.list().iter().any(|a| a.key == "/probe.txt");
    if !listed || !client.verifies_with_body("/probe.txt", PROBE) {
        let admin = client.controller();
        must(
            client,
            admin,
            "store",
            StoreArguments {
                key: "/probe.txt".into(),
                content_type: "text/plain".into(),
                content_encoding: "identity".into(),
                content: ByteBuf::from(PROBE.to_vec()),
                sha256: None,
            },
        );
    }
}

pub fn arbitrary_argument_bytes_change_nothing(wasm: &[u8]) {
    let seed = seed("FUZZ_ARGS_SEED");
    let cases = env_count("FUZZ_ARGS_CASES", 24);
    println!(
        "  fuzz_args seed {seed}, {cases} cases per method and caller (FUZZ_ARGS_SEED={seed} reruns it)"
    );
    let mut rng = Rng(seed);
    let methods = did_methods();
    assert!(
        methods.len() > 30,
        "parsed {} methods from the .did",
        methods.len()
    );
    let typed: Vec<Method> = methods.iter().map(|(name, _)| typed_method(name)).collect();
    let samples: Vec<Vec<u8>> = typed.iter().map(|m| m.sample.clone()).collect();
    for ((name, _), (method, sample)) in methods.iter().zip(typed.iter().zip(&samples)) {
        assert!((method.decodes)(sample), "{name}: its sample must decode");
    }

    let mut client = site_client(wasm);
    let admin = client.controller();
    ensure_probe(&mut client);
    let mut baseline = light(&mut client);
    let (mut calls, mut replied, mut refused) = (0usize, 0usize, 0usize);
    let started = std::time::Instant::now();
    for ((name, query), (method, sample)) in methods.iter().zip(typed.iter().zip(&samples)) {
        for caller in [admin, Principal::anonymous()] {
            for case in 0..cases {
                let (kind, arg) = fuzz_argument(&mut rng, sample, &samples);
                let what = format!(
                    "{name} from {} with {kind} argument ({} bytes, starting {}), case {case} of seed {seed}",
                    if caller == admin {
                        "the controller"
                    } else {
                        "anonymous"
                    },
                    arg.len(),
                    hex(&arg[..arg.len().min(24)])
                );
                let decodes = (method.decodes)(&arg);
                let backend = &mut client.backend;
                let call_started = std::time::Instant::now();
                let result = catch_unwind(AssertUnwindSafe(|| {
                    if *query {
                        backend.query(caller, name, arg)
                    } else {
                        backend.update(caller, name, arg)
                    }
                }))
                .unwrap_or_else(|_| panic!("the backend panicked: {what}"));
                calls += 1;
                if call_started.elapsed().as_secs() >= 2 {
                    println!(
                        "  slow: {:.1}s: {what}",
                        call_started.elapsed().as_secs_f64()
                    );
                }
                match result {
                    Ok(_) if !*query && decodes && caller == admin => {
                        // A legal call that did what it says (clear, take
                        // ownership, a configure...): a new baseline. From
                        // anonymous, who holds no permission, a reply must
                        // leave everything as it was (checked below).
                        replied += 1;
                        ensure_probe(&mut client);
                        baseline = light(&mut client);
                        continue;
                    }
                    Ok(_) if !*query && !decodes => {
                        panic!("accepted an argument its .did type does not decode: {what}")
                    }
                    Ok(_) => replied += 1,
                    Err(error) => {
                        refused += 1;
                        let lower = error.to_lowercase();
                        assert!(
                            !lower.contains("instruction limit")
                                && !lower.contains("no update method")
                                && !lower.contains("no query method"),
                            "not a clean refusal: {error}; {what}"
                        );
                    }
                }
                assert!(
                    light(&mut client) == baseline,
                    "certified data, tree, list or permissions changed: {what}"
                );
                assert!(
                    client.verifies_with_body("/probe.txt", PROBE),
                    "the probe asset no longer verifies: {what}"
                );
            }
        }
    }
    client.assert_all_verify(&[site_file("/probe.txt", "text/plain", PROBE)]);
    println!(
        "  fuzz_args: {calls} calls to {} methods in {:.1}s: {refused} refused, {replied} replied (queries, or updates whose argument decodes), seed {seed}",
        methods.len(),
        started.elapsed().as_secs_f64()
    );
}

// ---------------------------------------------------------------------------
// 3. Traps injected at random instruction counts

/// Two canisters driven in lockstep through the same calls: `probe` runs
/// each call with the whole budget to learn how many instructions it
/// takes; `main` runs it first with budgets below that (it must run out
/// and change nothing), then with the whole budget (it must do exactly
/// what it did on `probe`).
struct Lockstep {
    probe: AssetClient,
    main: AssetClient,
    rng: Rng,
    seed: u64,
    tries: usize,
    traps: usize,
    short_finishes: usize,
    last_limits: Vec<u64>,
    methods: std::collections::BTreeSet<String>,
}

impl Lockstep {
    /// A call finished on a budget short of its count. The host checks
    /// fuel where wasmtime does (function entries, loop headers), so the
    /// straight code after the last check can overrun a budget by a few
    /// thousand instructions, as on the IC; more than that is an error.
    fn finished_short(&mut self, what: &str, needed: u64, limit: u64) {
        let short = needed - limit;
        assert!(
            short <= (needed / 100).max(50_000),
            "{what}: finished {short} instructions short of its count"
        );
        println!("  note: {what}: finished, {short} instructions short of its count");
        self.short_finishes += 1;
    }

    /// The reads `main` makes before a call: one, and one per trap.
    fn mirror_reads(&mut self) {
        for _ in 0..=self.tries {
            raw_state(&mut self.probe);
        }
    }

    fn limits(&mut self, limits: InstructionLimits) {
        assert!(self.main.backend.set_instruction_limits(limits));
    }

    /// A budget below `needed`: uniform, then within the last 10,000
    /// instructions (after the work, around certifying and replying), then
    /// in the second half.
    fn budget_below(&mut self, needed: u64, attempt: usize) -> u64 {
        let below = needed - 1;
        match attempt % 3 {
            1 => below - self.rng.below(below.min(10_000)),
            2 => below / 2 + self.rng.below(below - below / 2),
            _ => 1 + self.rng.below(below),
        }
    }

    fn call<A: ArgumentEncoder>(&mut self, caller: Principal, method: &str, args: A) -> Vec<u8> {
        let arg = encode(args);
        // The probe reads its state as often as `main` will before the
        // call (some reads are update calls, which leave the allocator
        // elsewhere), so both run the call from the same heap: rolled-back
        // traps aside, `main` then takes exactly as many instructions.
        self.mirror_reads();
        let expected = self
            .probe
            .backend
            .update(caller, method, arg.clone())
            .unwrap_or_else(|e| panic!("{method} on the probe: {e}"));
        let needed = expected.instructions.expect("the host counts instructions");
        let before = raw_state(&mut self.main);
        self.last_limits.clear();
        let mut finished = None;
        for attempt in 0..self.tries {
            let limit = self.budget_below(needed, attempt);
            self.last_limits.push(limit);
            self.limits(InstructionLimits {
                update: limit,
                ..InstructionLimits::default()
            });
            let result = self.main.backend.update(caller, method, arg.clone());
            self.limits(InstructionLimits::default());
            let what = format!(
                "{method} with {limit} of its {needed} instructions (TRAP_SEED={})",
                self.seed
            );
            let error = match result {
                Ok(reply) => {
                    self.finished_short(&what, needed, limit);
                    finished = Some(reply);
                    break;
                }
                Err(error) => error,
            };
            assert!(error.contains("instruction limit"), "{what}: {error}");
            assert!(
                raw_state(&mut self.main) == before,
                "{what}: the state changed"
            );
            self.traps += 1;
        }
        let short = finished.is_some();
        let reply = match finished {
            Some(reply) => reply,
            None => {
                assert_serving(&mut self.main);
                let reply = self
                    .main
                    .backend
                    .update(caller, method, arg)
                    .unwrap_or_else(|e| {
                        panic!("{method} with the whole budget after its traps: {e}")
                    });
                // Traps leave nothing behind, not even in the allocator:
                // after them the call costs what it cost on the probe.
                assert_eq!(
                    reply.instructions,
                    Some(needed),
                    "{method}: as many instructions as on the probe after traps at {:?} (TRAP_SEED={})",
                    self.last_limits,
                    self.seed
                );
                reply
            }
        };
        assert_eq!(reply.bytes, expected.bytes, "{method}: the same reply");
        let (main, probe) = (raw_state(&mut self.main), raw_state(&mut self.probe));
        assert!(
            main == probe,
            "{method}: the two canisters differ after the call: {}",
            main.differences(&probe)
        );
        self.methods.insert(method.to_string());
        if short {
            // The reads around the call came in another order than on the
            // probe, so the heaps differ (not in content): an upgrade of
            // both rebuilds them from the same stable memory.
            for client in [&mut self.probe, &mut self.main] {
                let wasm = client.wasm.clone();
                client
                    .backend
                    .upgrade(&wasm, upgrade_arg())
                    .expect("realign");
            }
        }
        reply.bytes
    }

    fn call_one<A: CandidType, R: for<'a> candid::Deserialize<'a> + CandidType>(
        &mut self,
        caller: Principal,
        method: &str,
        arg: A,
    ) -> R {
        let bytes = self.call(caller, method, (arg,));
        let (reply,): (R,) =
            candid::decode_args(&bytes).unwrap_or_else(|e| panic!("{method} reply: {e}"));
        reply
    }

    /// An upgrade with budgets below what it takes (refused, nothing
    /// changed, everything still served and verified), then with the whole
    /// budget.
    fn upgrade(&mut self, wasm: &[u8]) {
        self.mirror_reads();
        let needed = self
            .probe
            .backend
            .upgrade(wasm, upgrade_arg())
            .expect("upgrade the probe")
            .expect("the host counts instructions");
        let before = raw_state(&mut self.main);
        let mut finished = false;
        for attempt in 0..self.tries {
            let limit = self.budget_below(needed, attempt);
            self.limits(InstructionLimits {
                install: limit,
                ..InstructionLimits::default()
            });
            let result = self.main.backend.upgrade(wasm, upgrade_arg());
            self.limits(InstructionLimits::default());
            let what = format!(
                "an upgrade with {limit} of its {needed} instructions (TRAP_SEED={})",
                self.seed
            );
            let error = match result {
                Ok(_) => {
                    self.finished_short(&what, needed, limit);
                    finished = true;
                    break;
                }
                Err(error) => error,
            };
            assert!(error.contains("instruction limit"), "{what}: {error}");
            assert!(
                raw_state(&mut self.main) == before,
                "{what}: the state changed"
            );
            assert_serving(&mut self.main);
            self.traps += 1;
        }
        if !finished {
            self.main
                .backend
                .upgrade(wasm, upgrade_arg())
                .expect("the upgrade with the whole budget");
        }
        assert!(
            raw_state(&mut self.main) == raw_state(&mut self.probe),
            "the two canisters differ after the upgrade"
        );
        self.methods.insert("(upgrade)".into());
    }
}

/// Every listed asset is served with the body `get` returns, verified
/// under v1 and v2, in identity.
fn assert_serving(client: &mut AssetClient) {
    for asset in client.list() {
        if !asset
            .encodings
            .iter()
            .any(|e| e.content_encoding == "identity")
        {
            continue;
        }
        let (_, body, _) = read_body(client, &asset.key, "identity");
        assert_serves(client, &url_of(&asset.key), "identity", &body, &body);
    }
}

/// Whether the selected backend can set instruction limits (the host can,
/// PocketIC cannot); says SKIPPED where it cannot.
fn can_limit_instructions(what: &str) -> bool {
    let mut backend = select_backend();
    let can = backend.set_instruction_limits(InstructionLimits::default());
    if !can {
        println!(
            "  {what}: SKIPPED on PocketIC ({}): it cannot set instruction limits",
            backend.name()
        );
    }
    can
}

pub fn a_trap_at_any_instruction_changes_nothing(wasm: &[u8]) {
    const START: u64 = 1_750_000_000_000_000_000;
    if !can_limit_instructions("injected traps") {
        return;
    }
    let mut probe = site_client_at(wasm, START);
    let seed = seed("TRAP_SEED");
    let tries = env_count("TRAP_TRIES", 2);
    println!("  trap seed {seed}, {tries} traps per call (TRAP_SEED={seed} reruns it)");
    let big = site_file(
        "/big.bin",
        "application/octet-stream",
        large_body(4_000_000),
    );
    let admin = probe.controller();
    probe
        .upload(admin, std::slice::from_ref(&big), CHUNK)
        .unwrap();
    let mut main = site_client_at(wasm, START);
    main.upload(admin, std::slice::from_ref(&big), CHUNK)
        .unwrap();
    let mut run = Lockstep {
        probe,
        main,
        rng: Rng(seed),
        seed,
        tries,
        traps: 0,
        short_finishes: 0,
        last_limits: vec![],
        methods: Default::default(),
    };
    let started = std::time::Instant::now();

    // An upload: batch, chunks, and a commit that adds a two-chunk body,
    // an encoding and properties, and deletes.
    let batch = run
        .call_one::<_, CreateBatchResponse>(admin, "create_batch", CreateBatchArguments {})
        .batch_id;
    let new_body = large_body(2_600_000);
    let index_gzip = gzip(&sample_site()[0].body);
    let first: CreateChunkResponse = run.call_one(
        admin,
        "create_chunk",
        CreateChunkArguments {
            batch_id: batch.clone(),
            content: ByteBuf::from(new_body[..1_500_000].to_vec()),
        },
    );
    let rest: CreateChunksResponse = run.call_one(
        admin,
        "create_chunks",
        CreateChunksArguments {
            batch_id: batch.clone(),
            content: vec![
                ByteBuf::from(new_body[1_500_000..].to_vec()),
                ByteBuf::from(index_gzip.clone()),
            ],
        },
    );
    let operations = vec![
        BatchOperationKind::CreateAsset(create("/new.bin", "application/octet-stream")),
        set_content(
            "/new.bin",
            "identity",
            vec![first.chunk_id, rest.chunk_ids[0].clone()],
            &new_body,
        ),
        set_content(
            "/index.html",
            "gzip",
            vec![rest.chunk_ids[1].clone()],
            &index_gzip,
        ),
        BatchOperationKind::DeleteAsset(DeleteAssetArguments {
            key: "/app.css".into(),
        }),
        BatchOperationKind::SetAssetProperties(SetAssetPropertiesArguments {
            key: "/about.html".into(),
            max_age: Some(Some(60)),
            headers: Some(Some(vec![("x-trap".into(), "none".into())])),
            allow_raw_access: None,
            is_aliased: None,
        }),
    ];
    run.call(
        admin,
        "commit_batch",
        (CommitBatchArguments {
            batch_id: batch,
            operations,
        },),
    );

    // The single-call changes.
    run.call(
        admin,
        "store",
        (StoreArguments {
            key: "/stored.txt".into(),
            content_type: "text/plain".into(),
            content_encoding: "identity".into(),
            content: ByteBuf::from(b"stored in one call".to_vec()),
            sha256: sha(b"stored in one call"),
        },),
    );
    run.call(
        admin,
        "create_asset",
        (create("/direct.html", "text/html"),),
    );
    run.call(
        admin,
        "set_asset_content",
        (SetAssetContentArguments {
            key: "/direct.html".into(),
            content_encoding: "identity".into(),
            chunk_ids: vec![],
            last_chunk: Some(ByteBuf::from(b"<h1>direct</h1>".to_vec())),
            sha256: None,
        },),
    );
    run.call(
        admin,
        "set_asset_properties",
        (SetAssetPropertiesArguments {
            key: "/direct.html".into(),
            max_age: Some(Some(5)),
            headers: None,
            allow_raw_access: None,
            is_aliased: Some(Some(false)),
        },),
    );
    run.call(
        admin,
        "unset_asset_content",
        (UnsetAssetContentArguments {
            key: "/index.html".into(),
            content_encoding: "gzip".into(),
        },),
    );
    run.call(
        admin,
        "delete_asset",
        (DeleteAssetArguments {
            key: "/a b.txt".into(),
        },),
    );

    // Permissions and limits.
    for (who, permission) in [
        (PREPARER, Permission::Prepare),
        (COMMITTER, Permission::Commit),
    ] {
        run.call(
            admin,
            "grant_permission",
            (GrantPermission {
                to_principal: principal(who),
                permission,
            },),
        );
    }
    run.call(
        admin,
        "revoke_permission",
        (RevokePermission {
            of_principal: principal(PREPARER),
            permission: Permission::Prepare,
        },),
    );
    run.call(admin, "authorize", (principal(AUTHORIZED),));
    run.call(admin, "deauthorize", (principal(AUTHORIZED),));
    run.call(
        admin,
        "configure",
        (ConfigureArguments {
            max_batches: Some(Some(50)),
            max_chunks: None,
            max_bytes: Some(Some(100_000_000)),
        },),
    );

    // A deploy by proposal, as the Commit holder.
    let committer = principal(COMMITTER);
    let proposal = run
        .call_one::<_, CreateBatchResponse>(committer, "create_batch", CreateBatchArguments {})
        .batch_id;
    let chunk: CreateChunkResponse = run.call_one(
        committer,
        "create_chunk",
        CreateChunkArguments {
            batch_id: proposal.clone(),
            content: ByteBuf::from(b"proposed".to_vec()),
        },
    );
    run.call(
        committer,
        "propose_commit_batch",
        (CommitBatchArguments {
            batch_id: proposal.clone(),
            operations: vec![
                BatchOperationKind::CreateAsset(create("/proposed.txt", "text/plain")),
                set_content(
                    "/proposed.txt",
                    "identity",
                    vec![chunk.chunk_id],
                    b"proposed",
                ),
            ],
        },),
    );
    let evidence = loop {
        let evidence: Option<ByteBuf> = run.call_one(
            committer,
            "compute_evidence",
            ComputeEvidenceArguments {
                batch_id: proposal.clone(),
                max_iterations: Some(1),
            },
        );
        if let Some(evidence) = evidence {
            break evidence;
        }
    };
    run.call(
        committer,
        "commit_proposed_batch",
        (CommitProposedBatchArguments {
            batch_id: proposal,
            evidence,
        },),
    );

    // A batch given up.
    let abandoned = run
        .call_one::<_, CreateBatchResponse>(admin, "create_batch", CreateBatchArguments {})
        .batch_id;
    run.call(
        admin,
        "create_chunk",
        (CreateChunkArguments {
            batch_id: abandoned.clone(),
            content: ByteBuf::from(vec![1; 100_000]),
        },),
    );
    run.call(
        admin,
        "delete_batch",
        (DeleteBatchArguments {
            batch_id: abandoned,
        },),
    );

    // A commit of many small assets, long enough for a trap to land deep
    // inside its loop.
    let many = run
        .call_one::<_, CreateBatchResponse>(admin, "create_batch", CreateBatchArguments {})
        .batch_id;
    let mut operations = Vec::new();
    for i in 0..200 {
        let key = format!("/many/{i}.txt");
        operations.push(BatchOperationKind::CreateAsset(create(&key, "text/plain")));
        operations.push(BatchOperationKind::SetAssetContent(
            SetAssetContentArguments {
                key,
                content_encoding: "identity".into(),
                chunk_ids: vec![],
                last_chunk: Some(ByteBuf::from(format!("small {i}").into_bytes())),
                sha256: None,
            },
        ));
    }
    run.call(
        admin,
        "commit_batch",
        (CommitBatchArguments {
            batch_id: many,
            operations,
        },),
    );

    run.upgrade(wasm);
    run.call(admin, "take_ownership", ());
    run.call(admin, "clear", (ClearArguments {},));
    assert!(run.main.list().is_empty());

    println!(
        "  traps: {} injected into {} methods, {} finished on a budget just short, in {:.1}s (TRAP_SEED={seed}): {}",
        run.traps,
        run.methods.len(),
        run.short_finishes,
        started.elapsed().as_secs_f64(),
        run.methods.iter().cloned().collect::<Vec<_>>().join(", ")
    );
}

// ---------------------------------------------------------------------
// 4. Certified data is never set from a query

/// Every query method of the `.did`, with its well-typed sample argument,
/// from the controller and from anonymous: none touches the certified data.
/// The host traps `certified_data_set` outside updates, as the IC does, so
/// a query that tried would fail here with that message; and what the
/// certified data is afterwards is compared byte for byte. (A query's
/// changes are thrown away anyway; this holds the code to the rule.)
pub fn certified_data_is_never_set_from_a_query(wasm: &[u8]) {
    let mut client = site_client(wasm);
    let admin = client.controller();
    ensure_probe(&mut client);
    let before = client.backend.certified_data();
    let queries: Vec<String> = did_methods()
        .into_iter()
        .filter(|(_, query)| *query)
        .map(|(name, _)| name)
        .collect();
    assert!(
        queries.len() >= 8,
        "parsed {} query methods from the .did",
        queries.len()
    );
    let mut replied = 0;
    for name in &queries {
        let sample = typed_method(name).sample;
        for caller in [admin, Principal::anonymous()] {
            let result = client.backend.query(caller, name, sample.clone());
            if let Err(error) = &result {
                assert!(
                    !error.contains("certified_data_set"),
                    "{name} tried to set the certified data: {error}"
                );
            } else {
                replied += 1;
            }
            assert_eq!(
                client.backend.certified_data(),
                before,
                "{name} changed the certified data"
            );
        }
    }
    // Most answer their sample (some refuse it: no such chunk, say).
    assert!(
        replied >= queries.len(),
        "only {replied} of {} query calls replied",
        2 * queries.len()
    );
    // And the site still verifies under the same certificate.
    assert!(client.verifies_with_body("/probe.txt", PROBE));
    println!(
        "  {} query methods, {replied} of {} calls replied, certified data unchanged",
        queries.len(),
        2 * queries.len()
    );
}
