//! Model-based random testing of the core: random sequences of uploads (in
//! one or many chunks, several encodings), deletes, clears, property
//! changes, unpermitted writes and upgrades, checked after every step
//! against a plain in-memory model of the site. After each step: `list`
//! agrees with the model; every stored body is served and verifies under v2
//! (each encoding, large bodies through their 206 chunks) and v1; the
//! fallback is what the model says; an overwritten body no longer verifies.
//!
//! `MODEL_CASES` (default 48) sequences of up to `MODEL_STEPS` (default 24)
//! steps; a failure prints the seed and the shortest failing sequence.

mod support;

use std::collections::BTreeMap;

use asset_server::access::Caller;
use asset_server::types::*;
use asset_testkit::{GatewayRequest, GatewayResponse};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use support::*;

const KEYS: &[&str] = &[
    "/index.html",
    "/a.html",
    "/d/index.html",
    "/x.js",
    "/404.html",
    "/big.bin",
    "/s p.txt",
];
const ENCODINGS: &[&str] = &["identity", "gzip", "br"];

#[derive(Clone, Debug)]
enum Op {
    /// Upload these (key, encoding, body) in one batch with this chunk size.
    Upload(Vec<(usize, usize, Body)>, usize),
    Delete(usize),
    Unset(usize, usize),
    Clear,
    Properties {
        key: usize,
        max_age: Option<Option<u64>>,
        aliased: Option<Option<bool>>,
    },
    /// A caller without permissions tries to upload: refused, no change.
    Unpermitted(usize),
    Upgrade,
}

#[derive(Clone, Debug)]
struct Body {
    len: usize,
    seed: u8,
}

impl Body {
    fn bytes(&self) -> Vec<u8> {
        (0..self.len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(self.seed))
            .collect()
    }
}

fn body() -> impl Strategy<Value = Body> {
    (
        prop_oneof![3 => 0usize..200, 1 => 900usize..4000],
        any::<u8>(),
    )
        .prop_map(|(len, seed)| Body { len, seed })
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0..KEYS.len();
    let encoding = 0..ENCODINGS.len();
    prop_oneof![
        6 => (
            prop::collection::vec((key.clone(), encoding.clone(), body()), 1..4),
            prop::sample::select(vec![1000usize, 1_900_000]),
        )
            .prop_map(|(files, chunk)| Op::Upload(files, chunk)),
        1 => key.clone().prop_map(Op::Delete),
        1 => (key.clone(), encoding).prop_map(|(k, e)| Op::Unset(k, e)),
        1 => Just(Op::Clear),
        2 => (
            key.clone(),
            prop::option::of(prop::option::of(0u64..1000)),
            prop::option::of(prop::option::of(any::<bool>())),
        )
            .prop_map(|(key, max_age, aliased)| Op::Properties { key, max_age, aliased }),
        1 => key.prop_map(Op::Unpermitted),
        1 => Just(Op::Upgrade),
    ]
}

#[derive(Clone, Debug, Default)]
struct Asset {
    /// Each encoding's body and how many chunks it was uploaded in.
    encodings: BTreeMap<String, (Vec<u8>, usize)>,
    max_age: Option<u64>,
    aliased: bool,
}

#[derive(Default)]
struct Model {
    assets: BTreeMap<String, Asset>,
    /// Bodies a path served once and no longer serves.
    stale: Vec<(String, String, Vec<u8>)>,
}

impl Model {
    fn retire(&mut self, key: &str) {
        if let Some(asset) = self.assets.get(key) {
            for (encoding, (bytes, _)) in &asset.encodings {
                self.stale
                    .push((key.into(), encoding.clone(), bytes.clone()));
            }
        }
    }
}

fn apply(h: &mut Harness, model: &mut Model, op: &Op) -> Result<(), TestCaseError> {
    match op {
        Op::Upload(files, chunk) => {
            // One batch; the last write of a (key, encoding) wins, and a
            // key is created with the defaults when it is new.
            let mut batch = Vec::new();
            let mut next = model.assets.clone();
            for (k, e, body) in files {
                let (key, encoding) = (KEYS[*k], ENCODINGS[*e]);
                if batch
                    .iter()
                    .any(|(bk, be, _): &(&str, &str, Vec<u8>)| *bk == key && *be == encoding)
                {
                    continue;
                }
                // A gzip body is real gzip: v1 verifiers decompress it.
                let bytes = match encoding {
                    "gzip" => gzip(&body.bytes()),
                    _ => body.bytes(),
                };
                batch.push((key, encoding, bytes));
            }
            for (key, encoding, bytes) in &batch {
                let asset = next.entry(key.to_string()).or_insert_with(|| Asset {
                    aliased: true,
                    ..Asset::default()
                });
                let chunks = bytes.len().div_ceil(*chunk).max(1);
                let entry = (bytes.clone(), chunks);
                if let Some((old, _)) = asset.encodings.insert(encoding.to_string(), entry) {
                    model
                        .stale
                        .push((key.to_string(), encoding.to_string(), old));
                }
            }
            let files: Vec<File> = batch
                .iter()
                .map(|(key, _, bytes)| file(key, "application/octet-stream", bytes.clone()))
                .collect();
            let bodies: Vec<(&File, &str)> = files
                .iter()
                .zip(&batch)
                .map(|(f, (_, e, _))| (f, *e))
                .collect();
            let admin = h.admin();
            h.upload_encoded(admin, &bodies, *chunk)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            model.assets = next;
        }
        Op::Delete(k) => {
            let key = KEYS[*k];
            let result = h.apply(BatchOperationKind::DeleteAsset(DeleteAssetArguments {
                key: key.into(),
            }));
            prop_assert!(result.is_ok(), "delete {}: {:?}", key, result);
            model.retire(key);
            model.assets.remove(key);
        }
        Op::Unset(k, e) => {
            let (key, encoding) = (KEYS[*k], ENCODINGS[*e]);
            let result = h.apply(BatchOperationKind::UnsetAssetContent(
                UnsetAssetContentArguments {
                    key: key.into(),
                    content_encoding: encoding.into(),
                },
            ));
            match model.assets.get_mut(key) {
                Some(asset) => {
                    prop_assert!(result.is_ok(), "unset {} {}: {:?}", key, encoding, result);
                    if let Some((old, _)) = asset.encodings.remove(encoding) {
                        model.stale.push((key.into(), encoding.into(), old));
                    }
                }
                None => prop_assert!(result.is_err(), "unset on a missing asset"),
            }
        }
        Op::Clear => {
            let result = h.apply(BatchOperationKind::Clear(ClearArguments {}));
            prop_assert!(result.is_ok());
            let keys: Vec<String> = model.assets.keys().cloned().collect();
            for key in keys {
                model.retire(&key);
            }
            model.assets.clear();
        }
        Op::Properties {
            key,
            max_age,
            aliased,
        } => {
            let key = KEYS[*key];
            let result = h.apply(BatchOperationKind::SetAssetProperties(
                SetAssetPropertiesArguments {
                    max_age: *max_age,
                    is_aliased: *aliased,
                    ..properties(key)
                },
            ));
            match model.assets.get_mut(key) {
                Some(asset) => {
                    prop_assert!(result.is_ok(), "properties {}: {:?}", key, result);
                    if let Some(max_age) = max_age {
                        asset.max_age = *max_age;
                    }
                    if let Some(aliased) = aliased {
                        asset.aliased = aliased.unwrap_or(true);
                    }
                }
                None => prop_assert!(result.is_err(), "properties on a missing asset"),
            }
        }
        Op::Unpermitted(k) => {
            let before = h.server.certified_root();
            let stranger = Caller::user(principal(99));
            let f = file(KEYS[*k], "text/plain", "intruder");
            let result = h.upload_as(stranger, &[f], 1000, "identity");
            prop_assert!(result.is_err(), "an unpermitted upload succeeded");
            prop_assert_eq!(h.server.certified_root(), before);
        }
        Op::Upgrade => h.upgrade(),
    }
    Ok(())
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn url(key: &str) -> String {
    key.replace(' ', "%20")
}

fn get(url: &str) -> GatewayRequest {
    GatewayRequest::get(url).with_header("host", GATEWAY_HOST)
}

/// The whole body of a v2 answer: a 200, or a 206 followed by ranges.
fn read_v2(h: &Harness, request: GatewayRequest) -> Result<GatewayResponse, TestCaseError> {
    let first = h.fetch_v2(&request);
    let checked = h.verify_v2(&request, &first);
    prop_assert!(checked.is_ok(), "{}: {:?}", request.url, checked);
    if first.status != 206 {
        return Ok(first);
    }
    let total: usize = first
        .header("content-range")
        .and_then(|v| v.rsplit('/').next())
        .and_then(|t| t.parse().ok())
        .expect("206 has a content-range");
    let mut whole = first.clone();
    while whole.body.len() < total {
        let next = request
            .clone()
            .with_header("range", &format!("bytes={}-", whole.body.len()));
        let part = h.fetch_v2(&next);
        let checked = h.verify_v2(&next, &part);
        prop_assert!(checked.is_ok(), "{} range: {:?}", request.url, checked);
        prop_assert!(!part.body.is_empty());
        whole.body.extend_from_slice(&part.body);
    }
    whole.status = 200;
    Ok(whole)
}

fn check(h: &Harness, model: &Model) -> Result<(), TestCaseError> {
    let listed: Vec<String> = h.server.list().into_iter().map(|a| a.key).collect();
    let modeled: Vec<String> = model.assets.keys().cloned().collect();
    prop_assert_eq!(listed, modeled);
    for (key, asset) in &model.assets {
        for (encoding, (bytes, _)) in &asset.encodings {
            let request = get(&url(key)).with_header("accept-encoding", encoding);
            let response = read_v2(h, request)?;
            prop_assert_eq!(response.status, 200, "{} {}", key, encoding);
            prop_assert!(
                &response.body == bytes,
                "{} {}: body differs",
                key,
                encoding
            );
            let served = response.header("content-encoding").unwrap_or("identity");
            prop_assert_eq!(served, encoding.as_str());
            let cache = response.header("cache-control").map(str::to_string);
            prop_assert_eq!(cache, asset.max_age.map(|m| format!("max-age={m}")));
        }
        if !asset.encodings.is_empty() {
            let v1 = h.fetch(&get(&url(key)));
            let checked = h.verify(&get(&url(key)), &v1);
            prop_assert!(checked.is_ok(), "v1 {}: {:?}", key, checked);
            if let Some((identity, _)) = asset.encodings.get("identity") {
                prop_assert!(&v1.body == identity, "v1 {}: body differs", key);
            }
        }
    }
    // Aliases: `/a` answers `/a.html` while it is aliased and has a body.
    let a = model
        .assets
        .get("/a.html")
        .filter(|a| !a.encodings.is_empty());
    let alias = h.fetch_v2(&get("/a"));
    prop_assert!(h.verify_v2(&get("/a"), &alias).is_ok());
    if let Some(asset) = a.filter(|a| a.aliased && a.encodings.contains_key("identity")) {
        let response = read_v2(h, get("/a").with_header("accept-encoding", "identity"))?;
        prop_assert!(response.body == asset.encodings["identity"].0, "/a alias");
    }
    // The fallback for a path no asset answers.
    let missing = read_v2(h, get("/no/such/path"))?;
    let has_body = |key: &str| {
        model
            .assets
            .get(key)
            .is_some_and(|a| !a.encodings.is_empty())
    };
    // The 404 page is used when one of its bodies is in one chunk.
    let page_404 = model
        .assets
        .get("/404.html")
        .is_some_and(|a| a.encodings.values().any(|(_, chunks)| *chunks <= 1));
    if page_404 {
        prop_assert_eq!(missing.status, 404);
    } else if has_body("/index.html") {
        prop_assert_eq!(missing.status, 200);
    } else {
        prop_assert_eq!(missing.status, 404);
    }
    // An old body served with today's certificate fails.
    if let Some((key, encoding, old)) = model.stale.last() {
        // Unless the same bytes are still served at that path (in any
        // encoding), they must not verify there.
        let still_served = model
            .assets
            .get(key)
            .is_some_and(|a| a.encodings.values().any(|(bytes, _)| bytes == old));
        if !still_served {
            let request = get(&url(key)).with_header("accept-encoding", encoding);
            let mut response = h.fetch_v2(&request);
            if response.status == 200 {
                response.body = old.clone();
                prop_assert!(
                    h.verify_v2(&request, &response).is_err(),
                    "an old body of {} {} still verifies",
                    key,
                    encoding
                );
            }
        }
    }
    Ok(())
}

#[test]
fn random_sequences_keep_the_canister_and_the_model_in_agreement() {
    let env = |name: &str, default: u32| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (cases, steps) = (env("MODEL_CASES", 48), env("MODEL_STEPS", 24) as usize);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let operations = std::cell::Cell::new(0usize);
    let result = runner.run(&prop::collection::vec(op(), 1..=steps), |ops| {
        let mut h = Harness::new();
        let mut model = Model::default();
        for op in &ops {
            apply(&mut h, &mut model, op)?;
            operations.set(operations.get() + 1);
            check(&h, &model)?;
        }
        Ok(())
    });
    println!(
        "model-based: {cases} sequences, {} operations, each checked",
        operations.get()
    );
    if let Err(error) = result {
        panic!("{error}");
    }
}
