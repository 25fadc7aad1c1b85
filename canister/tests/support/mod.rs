//! A native stand-in for the IC around the `AssetServer` core: it certifies
//! the root after every successful change exactly as `api::write` does,
//! signs certificates with a test subnet key, follows streaming callbacks
//! the way gateways do, and checks responses with the official verifier.

#![allow(dead_code)]

use asset_server::AssetServer;
use asset_server::access::Caller;
use asset_server::error::AssetError;
use asset_server::http::QueryContext;
use asset_server::types::*;
use asset_testkit::{GatewayRequest, GatewayResponse, TestSubnet, Verifier};
use candid::{Nat, Principal};
use ic_stable_structures::VectorMemory;
use serde_bytes::ByteBuf;

pub const GATEWAY_HOST: &str = "lxzze-o7777-77777-aaaaa-cai.icp0.io";

pub struct Harness {
    pub server: AssetServer<VectorMemory>,
    pub memory: VectorMemory,
    pub subnet: TestSubnet,
    pub canister_id: Principal,
    pub controller: Principal,
    /// What `certified_data_set` was last given.
    pub certified_data: [u8; 32],
    pub now: u64,
    /// The last certificate signed, for (certified data, time): signing
    /// is the slow part of a query, and most queries repeat the last one.
    certificate: std::cell::RefCell<Option<SignedFor>>,
}

/// A certificate and the (certified data, time) it was signed for.
type SignedFor = (([u8; 32], u64), Vec<u8>);

pub fn principal(n: u8) -> Principal {
    Principal::from_slice(&[n; 29])
}

/// One file of a site: key, content type, body.
pub struct File {
    pub key: &'static str,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

pub fn file(key: &'static str, content_type: &'static str, body: impl Into<Vec<u8>>) -> File {
    File {
        key,
        content_type,
        body: body.into(),
    }
}

/// A small site with the shapes that matter: root index, nested index,
/// an .html alias, binary data and a name with a space.
pub fn sample_site() -> Vec<File> {
    vec![
        file("/index.html", "text/html", "<!doctype html><h1>home</h1>"),
        file("/app.css", "text/css", "body { color: teal }"),
        file("/app.js", "text/javascript", "console.log('hi')"),
        file(
            "/logo.png",
            "image/png",
            (0..=255u8).cycle().take(3000).collect::<Vec<u8>>(),
        ),
        file("/docs/index.html", "text/html", "<h1>docs</h1>"),
        file("/about.html", "text/html", "<h1>about</h1>"),
        file("/a b.txt", "text/plain", "space in name"),
        file("/caf\u{e9}.txt", "text/plain", "accented"),
    ]
}

impl Harness {
    pub fn new() -> Self {
        let memory = VectorMemory::default();
        let controller = principal(1);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        let mut harness = Self {
            server: AssetServer::create(memory.clone()),
            memory,
            subnet: TestSubnet::default(),
            canister_id: Principal::from_text("lxzze-o7777-77777-aaaaa-cai").unwrap(),
            controller,
            certified_data: [0; 32],
            now,
            certificate: Default::default(),
        };
        harness
            .write(Caller::controller(controller), |s, _, _| {
                s.install(controller, None)
            })
            .unwrap();
        harness
    }

    pub fn admin(&self) -> Caller {
        Caller::controller(self.controller)
    }

    /// Runs a change as `caller`, certifying the root on success, as the
    /// canister's API layer does.
    pub fn write<T>(
        &mut self,
        caller: Caller,
        f: impl FnOnce(&mut AssetServer<VectorMemory>, Caller, u64) -> Result<T, AssetError>,
    ) -> Result<T, AssetError> {
        let result = f(&mut self.server, caller, self.now);
        if result.is_ok() {
            self.certified_data = self.server.certified_root();
        }
        result
    }

    /// Applies one commit operation outside any batch, as the controller.
    pub fn apply(&mut self, operation: BatchOperationKind) -> Result<(), AssetError> {
        let admin = self.admin();
        self.write(admin, |s, c, now| s.apply_operation(c, now, operation))
    }

    /// Simulates an upgrade: `pre_upgrade` saves the tree, the heap is
    /// gone, stable memory stays.
    pub fn upgrade(&mut self) {
        assert!(self.server.save_tree(), "pre_upgrade saves the tree");
        self.server = AssetServer::reopen(self.memory.clone()).unwrap().0;
        let caller = self.admin();
        self.write(caller, |s, _, _| s.upgrade(None)).unwrap();
    }

    /// Uploads files the way dfx does: one batch, chunks of `chunk_size`,
    /// CreateAsset + SetAssetContent per file, one commit.
    pub fn upload(&mut self, files: &[File], chunk_size: usize) {
        self.upload_as(self.admin(), files, chunk_size, "identity")
            .unwrap()
    }

    pub fn upload_as(
        &mut self,
        caller: Caller,
        files: &[File],
        chunk_size: usize,
        encoding: &str,
    ) -> Result<(), AssetError> {
        let bodies: Vec<(&File, &str)> = files.iter().map(|f| (f, encoding)).collect();
        self.upload_encoded(caller, &bodies, chunk_size)
    }

    /// One batch as `caller`: chunks of `chunk_size`, a CreateAsset for each
    /// key not stored yet, a SetAssetContent per (file, encoding), one commit.
    pub fn upload_encoded(
        &mut self,
        caller: Caller,
        bodies: &[(&File, &str)],
        chunk_size: usize,
    ) -> Result<(), AssetError> {
        let batch_id = self
            .write(caller, |s, c, now| s.create_batch(c, now))?
            .batch_id;
        let mut known: Vec<String> = self.server.list().into_iter().map(|a| a.key).collect();
        let mut operations = Vec::new();
        for (f, encoding) in bodies {
            let mut chunk_ids = Vec::new();
            for chunk in f.body.chunks(chunk_size.max(1)) {
                let args = CreateChunkArguments {
                    batch_id: batch_id.clone(),
                    content: ByteBuf::from(chunk.to_vec()),
                };
                chunk_ids.push(
                    self.write(caller, |s, c, now| s.create_chunk(c, now, args))?
                        .chunk_id,
                );
            }
            if !known.iter().any(|k| k == f.key) {
                known.push(f.key.into());
                operations.push(BatchOperationKind::CreateAsset(CreateAssetArguments {
                    key: f.key.into(),
                    content_type: f.content_type.into(),
                    max_age: None,
                    headers: None,
                    enable_aliasing: None,
                    allow_raw_access: None,
                }));
            }
            operations.push(BatchOperationKind::SetAssetContent(
                SetAssetContentArguments {
                    key: f.key.into(),
                    content_encoding: encoding.to_string(),
                    last_chunk: if chunk_ids.is_empty() {
                        Some(ByteBuf::new())
                    } else {
                        None
                    },
                    chunk_ids,
                    sha256: Some(ByteBuf::from(sha256(&f.body).to_vec())),
                },
            ));
        }
        self.write(caller, |s, c, now| {
            s.commit_batch(
                c,
                now,
                CommitBatchArguments {
                    batch_id,
                    operations,
                },
            )
        })
    }

    pub fn verifier(&self) -> Verifier {
        Verifier {
            canister_id: self.canister_id.as_slice().to_vec(),
            root_key_der: self.subnet.root_key_der(),
        }
    }

    /// The raw `http_request` answer, as a query would give it.
    pub fn http_request(&self, request: &GatewayRequest) -> HttpResponse {
        self.http_request_version(request, None)
    }

    /// `http_request` with the `certificate_version` a gateway sends.
    pub fn http_request_version(
        &self,
        request: &GatewayRequest,
        certificate_version: Option<u16>,
    ) -> HttpResponse {
        let certificate = self.certificate();
        let context = QueryContext {
            canister_id: self.canister_id,
            certificate: Some(&certificate),
        };
        let http_request = HttpRequest {
            method: request.method.clone(),
            url: request.url.clone(),
            headers: request.headers.clone(),
            body: ByteBuf::new(),
            certificate_version,
        };
        self.server.http_request(&context, &http_request)
    }

    /// A certificate of the current certified data at the current time.
    pub fn certificate(&self) -> Vec<u8> {
        let key = (self.certified_data, self.now);
        let mut cached = self.certificate.borrow_mut();
        match &*cached {
            Some((signed, certificate)) if *signed == key => certificate.clone(),
            _ => {
                let certificate = self.subnet.certificate(
                    self.canister_id.as_slice(),
                    &self.certified_data,
                    self.now,
                );
                *cached = Some((key, certificate.clone()));
                certificate
            }
        }
    }

    /// One v2 answer as a gateway receives it (no streaming under v2).
    pub fn fetch_v2(&self, request: &GatewayRequest) -> GatewayResponse {
        let response = self.http_request_version(request, Some(2));
        assert!(
            response.streaming_strategy.is_none(),
            "{}: v2 answers never stream",
            request.url
        );
        GatewayResponse {
            status: response.status_code,
            headers: response.headers,
            body: response.body.into_vec(),
        }
    }

    /// Checks `response` as today's gateway does, accepting only v2.
    pub fn verify_v2(
        &self,
        request: &GatewayRequest,
        response: &GatewayResponse,
    ) -> Result<u16, String> {
        self.verifier()
            .verify_min_version(request, response, self.now, 2)
    }

    /// Fetches `request` under v2 and requires it to verify under v2.
    pub fn get_verified_v2(&self, request: &GatewayRequest) -> GatewayResponse {
        let response = self.fetch_v2(request);
        self.verify_v2(request, &response).unwrap_or_else(|e| {
            panic!(
                "{} {} (status {}) failed v2 verification: {e}",
                request.method, request.url, response.status
            )
        });
        response
    }

    /// What a gateway receives: the first response with every streamed
    /// chunk appended.
    pub fn fetch(&self, request: &GatewayRequest) -> GatewayResponse {
        let response = self.http_request(request);
        let mut body = response.body.into_vec();
        let mut token = response
            .streaming_strategy
            .map(|StreamingStrategy::Callback { token, .. }| token);
        while let Some(next) = token {
            let chunk = self
                .server
                .http_request_streaming_callback(&next)
                .expect("callback answers")
                .expect("callback returns a chunk");
            body.extend_from_slice(&chunk.body);
            token = chunk.token;
        }
        GatewayResponse {
            status: response.status_code,
            headers: response.headers,
            body,
        }
    }

    pub fn verify(
        &self,
        request: &GatewayRequest,
        response: &GatewayResponse,
    ) -> Result<u16, String> {
        self.verifier().verify(request, response, self.now)
    }

    /// Fetches `url` through a gateway host and requires it to verify.
    pub fn get_verified(&self, url: &str) -> GatewayResponse {
        let request = GatewayRequest::get(url).with_header("host", GATEWAY_HOST);
        let response = self.fetch(&request);
        self.verify(&request, &response).unwrap_or_else(|e| {
            panic!(
                "{url} (status {}) failed verification: {e}",
                response.status
            )
        });
        response
    }

    pub fn verifies(&self, url: &str, body: &[u8]) -> bool {
        let request = GatewayRequest::get(url).with_header("host", GATEWAY_HOST);
        let mut response = self.fetch(&request);
        response.body = body.to_vec();
        self.verify(&request, &response).is_ok()
    }
}

/// SetAssetProperties for `key` that changes nothing until fields are set.
pub fn properties(key: &str) -> SetAssetPropertiesArguments {
    SetAssetPropertiesArguments {
        key: key.into(),
        max_age: None,
        headers: None,
        allow_raw_access: None,
        is_aliased: None,
    }
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

pub fn nat(n: u64) -> Nat {
    Nat::from(n)
}
