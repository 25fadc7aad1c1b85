//! Typed asset canister calls over any backend, the way `dfx` and the HTTP
//! gateways make them, with every certified response checked by
//! `ic-response-verification`.

use asset_server::types::*;
use asset_testkit::{GatewayRequest, GatewayResponse, Verifier};
use candid::utils::{ArgumentDecoder, ArgumentEncoder};
use candid::{Nat, Principal};
use serde_bytes::ByteBuf;
use sha2::{Digest, Sha256};

use crate::backend::Backend;
use crate::site::{SiteFile, url_of};

/// The gateway host the scenarios send by default.
pub fn gateway_host(canister_id: Principal) -> String {
    format!("{canister_id}.icp0.io")
}

/// Instructions an upload used, per kind of call.
#[derive(Debug, Default, Clone)]
pub struct UploadReport {
    pub bytes: u64,
    pub chunk_instructions: u64,
    pub commit_instructions: u64,
}

/// What a `sync_new` took: the `create_chunks` calls, and the instructions
/// of each staged `commit_batch`.
#[derive(Debug, Default, Clone)]
pub struct SyncReport {
    pub chunk_calls: usize,
    pub commits: Vec<u64>,
}

pub struct AssetClient {
    pub backend: Box<dyn Backend>,
    pub wasm: Vec<u8>,
}

impl AssetClient {
    /// Installs `wasm` on `backend` with no argument.
    pub fn install(mut backend: Box<dyn Backend>, wasm: Vec<u8>) -> Self {
        backend
            .install(
                &wasm,
                candid::encode_one(None::<AssetCanisterArgs>).unwrap(),
            )
            .expect("install");
        Self { backend, wasm }
    }

    pub fn controller(&self) -> Principal {
        self.backend.controller()
    }

    pub fn update<A: ArgumentEncoder, R: for<'a> ArgumentDecoder<'a>>(
        &mut self,
        caller: Principal,
        method: &str,
        args: A,
    ) -> Result<(R, Option<u64>), String> {
        self.call(true, caller, method, args)
    }

    pub fn query<A: ArgumentEncoder, R: for<'a> ArgumentDecoder<'a>>(
        &mut self,
        caller: Principal,
        method: &str,
        args: A,
    ) -> Result<(R, Option<u64>), String> {
        self.call(false, caller, method, args)
    }

    fn call<A: ArgumentEncoder, R: for<'a> ArgumentDecoder<'a>>(
        &mut self,
        update: bool,
        caller: Principal,
        method: &str,
        args: A,
    ) -> Result<(R, Option<u64>), String> {
        let arg = candid::encode_args(args).map_err(|e| format!("{method} argument: {e}"))?;
        let called = if update {
            self.backend.update(caller, method, arg)?
        } else {
            self.backend.query(caller, method, arg)?
        };
        let decoded =
            candid::decode_args(&called.bytes).map_err(|e| format!("{method} reply: {e}"))?;
        Ok((decoded, called.instructions))
    }

    pub fn list(&mut self) -> Vec<AssetDetails> {
        let ((assets,), _): ((Vec<AssetDetails>,), _) = self
            .query(Principal::anonymous(), "list", (ListArguments::default(),))
            .expect("list");
        assets
    }

    pub fn create_batch(&mut self, caller: Principal) -> Result<Nat, String> {
        let ((response,), _): ((CreateBatchResponse,), _) =
            self.update(caller, "create_batch", (CreateBatchArguments {},))?;
        Ok(response.batch_id)
    }

    pub fn create_chunk(
        &mut self,
        caller: Principal,
        batch_id: &Nat,
        content: &[u8],
    ) -> Result<(Nat, Option<u64>), String> {
        let args = CreateChunkArguments {
            batch_id: batch_id.clone(),
            content: ByteBuf::from(content.to_vec()),
        };
        let ((response,), instructions): ((CreateChunkResponse,), _) =
            self.update(caller, "create_chunk", (args,))?;
        Ok((response.chunk_id, instructions))
    }

    pub fn commit_batch(
        &mut self,
        caller: Principal,
        args: CommitBatchArguments,
    ) -> Result<Option<u64>, String> {
        let ((), instructions) = self.update(caller, "commit_batch", (args,))?;
        Ok(instructions)
    }

    /// Uploads `files` as dfx does: one batch, `create_chunk` per chunk,
    /// then one `commit_batch` with CreateAsset (for new keys) and
    /// SetAssetContent carrying each body's SHA-256.
    pub fn upload(
        &mut self,
        caller: Principal,
        files: &[SiteFile],
        chunk_size: usize,
    ) -> Result<UploadReport, String> {
        let existing: Vec<String> = self.list().into_iter().map(|a| a.key).collect();
        let batch_id = self.create_batch(caller)?;
        let mut report = UploadReport::default();
        let mut operations = Vec::new();
        for file in files {
            let mut chunk_ids = Vec::new();
            for chunk in file.body.chunks(chunk_size) {
                let (id, instructions) = self.create_chunk(caller, &batch_id, chunk)?;
                report.chunk_instructions += instructions.unwrap_or_default();
                chunk_ids.push(id);
            }
            report.bytes += file.body.len() as u64;
            if !existing.contains(&file.key) {
                operations.push(create_asset(file));
            }
            let last_chunk = chunk_ids.is_empty().then(ByteBuf::new);
            operations.push(set_content(file, chunk_ids, last_chunk));
        }
        report.commit_instructions = self
            .commit_batch(
                caller,
                CommitBatchArguments {
                    batch_id,
                    operations,
                },
            )?
            .unwrap_or_default();
        Ok(report)
    }

    /// Uploads `files`, all new keys of at most one chunk each, with the
    /// calls `ic-asset` 0.29 makes for small files: their bodies packed
    /// into `create_chunks` calls of at most 1.9 MB, the last 950 KB of
    /// them carried in the commit itself (`last_chunk`), the operations
    /// committed in stages of 500 under batch 0, then the batch committed
    /// empty (which deletes it). No `list` first: the keys are new.
    pub fn sync_new(
        &mut self,
        caller: Principal,
        files: &[SiteFile],
    ) -> Result<SyncReport, String> {
        const MAX_CALL_BYTES: usize = 1_900_000;
        const INLINE_BYTES: usize = MAX_CALL_BYTES / 2;
        const OPERATIONS_PER_COMMIT: usize = 500;
        let batch_id = self.create_batch(caller)?;
        let mut report = SyncReport::default();
        // The files whose bodies go in the commit: the last ones, up to
        // INLINE_BYTES in all.
        let mut inline_from = files.len();
        let mut inline_bytes = 0;
        while inline_from > 0 && inline_bytes + files[inline_from - 1].body.len() <= INLINE_BYTES {
            inline_from -= 1;
            inline_bytes += files[inline_from].body.len();
        }
        let mut chunk_ids: Vec<Option<Nat>> = vec![None; files.len()];
        let mut start = 0;
        while start < inline_from {
            let mut end = start;
            let mut bytes = 0;
            while end < inline_from && bytes + files[end].body.len() <= MAX_CALL_BYTES {
                bytes += files[end].body.len();
                end += 1;
            }
            if end == start {
                return Err(format!("{} is larger than one call", files[start].key));
            }
            let args = CreateChunksArguments {
                batch_id: batch_id.clone(),
                content: files[start..end]
                    .iter()
                    .map(|file| ByteBuf::from(file.body.clone()))
                    .collect(),
            };
            let ((response,), _): ((CreateChunksResponse,), _) =
                self.update(caller, "create_chunks", (args,))?;
            if response.chunk_ids.len() != end - start {
                return Err("create_chunks returned another number of ids".into());
            }
            for (slot, id) in chunk_ids[start..end].iter_mut().zip(response.chunk_ids) {
                *slot = Some(id);
            }
            report.chunk_calls += 1;
            start = end;
        }
        let mut operations = Vec::new();
        for (file, id) in files.iter().zip(chunk_ids) {
            operations.push(create_asset(file));
            let last_chunk = id.is_none().then(|| ByteBuf::from(file.body.clone()));
            operations.push(set_content(file, id.into_iter().collect(), last_chunk));
        }
        let mut staged = operations.into_iter().peekable();
        while staged.peek().is_some() {
            let stage: Vec<_> = staged.by_ref().take(OPERATIONS_PER_COMMIT).collect();
            let instructions = self.commit_batch(
                caller,
                CommitBatchArguments {
                    batch_id: Nat::from(0u8),
                    operations: stage,
                },
            )?;
            report.commits.push(instructions.unwrap_or_default());
        }
        self.commit_batch(
            caller,
            CommitBatchArguments {
                batch_id,
                operations: Vec::new(),
            },
        )?;
        Ok(report)
    }

    /// How many times a commit went on in another message since the debug
    /// log was last taken (the canister logs each continuation).
    pub fn take_continuations(&mut self) -> usize {
        self.backend
            .take_debug_log()
            .iter()
            .filter(|line| line.contains("continuing in the next message"))
            .count()
    }

    pub fn verifier(&self) -> Verifier {
        Verifier {
            canister_id: self.backend.canister_id().as_slice().to_vec(),
            root_key_der: self.backend.root_key_der(),
        }
    }

    /// One `http_request` query, as a v1 gateway sends it.
    pub fn http_request(
        &mut self,
        request: &GatewayRequest,
    ) -> Result<(HttpResponse, Option<u64>), String> {
        self.http_request_version(request, None)
    }

    /// One `http_request` query asking for `certificate_version`.
    pub fn http_request_version(
        &mut self,
        request: &GatewayRequest,
        certificate_version: Option<u16>,
    ) -> Result<(HttpResponse, Option<u64>), String> {
        let args = HttpRequest {
            method: request.method.clone(),
            url: request.url.clone(),
            headers: request.headers.clone(),
            body: ByteBuf::new(),
            certificate_version,
        };
        let ((response,), instructions): ((HttpResponse,), _) =
            self.query(Principal::anonymous(), "http_request", (args,))?;
        Ok((response, instructions))
    }

    /// The response a gateway assembles: the first body plus every chunk
    /// the streaming callbacks return.
    pub fn fetch(&mut self, request: &GatewayRequest) -> Result<GatewayResponse, String> {
        let (response, _) = self.http_request(request)?;
        let mut body = response.body.into_vec();
        let mut token = response
            .streaming_strategy
            .map(|StreamingStrategy::Callback { token, .. }| token);
        while let Some(next) = token {
            let ((chunk,), _): ((Option<StreamingCallbackHttpResponse>,), _) = self.query(
                Principal::anonymous(),
                "http_request_streaming_callback",
                (next,),
            )?;
            let chunk = chunk.ok_or("streaming callback returned no chunk")?;
            body.extend_from_slice(&chunk.body);
            token = chunk.token;
        }
        Ok(GatewayResponse {
            status: response.status_code,
            headers: response.headers,
            body,
        })
    }

    pub fn verify(
        &self,
        request: &GatewayRequest,
        response: &GatewayResponse,
    ) -> Result<u16, String> {
        self.verifier()
            .verify(request, response, self.backend.time_ns())
    }

    /// One answer to `request` as today's gateway asks for it
    /// (`certificate_version` 2), as the gateway receives it.
    pub fn fetch_v2(&mut self, request: &GatewayRequest) -> Result<GatewayResponse, String> {
        let (response, _) = self.http_request_version(request, Some(2))?;
        assert!(
            response.streaming_strategy.is_none(),
            "{}: v2 answers never stream",
            request.url
        );
        Ok(GatewayResponse {
            status: response.status_code,
            headers: response.headers,
            body: response.body.into_vec(),
        })
    }

    /// `fetch_v2`, required to verify under v2 only.
    pub fn fetch_verified_v2(&mut self, request: &GatewayRequest) -> GatewayResponse {
        let response = self
            .fetch_v2(request)
            .unwrap_or_else(|e| panic!("{}: {e}", request.url));
        self.verifier()
            .verify_min_version(request, &response, self.backend.time_ns(), 2)
            .unwrap_or_else(|e| {
                panic!(
                    "{} {} (status {}) failed v2 verification: {e}",
                    request.method, request.url, response.status
                )
            });
        response
    }

    /// A whole body the way today's gateway reads a large one: the first
    /// answer is a `206`, then `Range: bytes=<next>-` until the end, each
    /// answer verified under v2. Returns the body and the answer count.
    pub fn fetch_ranges_v2(&mut self, url: &str) -> (Vec<u8>, usize) {
        let first = self.fetch_verified_v2(&self.gateway_request(url));
        assert_eq!(first.status, 206, "{url}: a large body starts with 206");
        let (_, _, total) = content_range(&first);
        let mut body = first.body;
        let mut answers = 1;
        while (body.len() as u64) < total {
            let request = self
                .gateway_request(url)
                .with_header("range", &format!("bytes={}-", body.len()));
            let response = self.fetch_verified_v2(&request);
            assert_eq!(response.status, 206, "{url}");
            let (start, end, length) = content_range(&response);
            assert_eq!((start, length), (body.len() as u64, total), "{url}");
            assert_eq!(end + 1 - start, response.body.len() as u64, "{url}");
            body.extend_from_slice(&response.body);
            answers += 1;
        }
        (body, answers)
    }

    pub fn gateway_request(&self, url: &str) -> GatewayRequest {
        GatewayRequest::get(url).with_header("host", &gateway_host(self.backend.canister_id()))
    }

    /// Fetches `url` through a gateway host and requires it to verify.
    pub fn fetch_verified(&mut self, url: &str) -> GatewayResponse {
        let request = self.gateway_request(url);
        let response = self
            .fetch(&request)
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        self.verify(&request, &response).unwrap_or_else(|e| {
            panic!(
                "{url} (status {}) failed verification: {e}",
                response.status
            )
        });
        response
    }

    /// Whether `body` would pass as the response to `url`.
    pub fn verifies_with_body(&mut self, url: &str, body: &[u8]) -> bool {
        let request = self.gateway_request(url);
        let Ok(mut response) = self.fetch(&request) else {
            return false;
        };
        response.body = body.to_vec();
        self.verify(&request, &response).is_ok()
    }

    /// Requires every file to be served with its own body and to verify.
    pub fn assert_all_verify(&mut self, files: &[SiteFile]) {
        for file in files {
            let url = url_of(&file.key);
            let response = self.fetch_verified(&url);
            assert_eq!(response.status, 200, "{url}");
            assert!(
                response.body == file.body,
                "{url}: body differs ({} vs {} bytes)",
                response.body.len(),
                file.body.len()
            );
        }
    }
}

/// `Content-Range: bytes <start>-<end>/<total>` of a `206`.
pub fn content_range(response: &GatewayResponse) -> (u64, u64, u64) {
    let value = response
        .header("content-range")
        .expect("a 206 has a content-range");
    let parse = || -> Option<(u64, u64, u64)> {
        let (range, total) = value.strip_prefix("bytes ")?.split_once('/')?;
        let (start, end) = range.split_once('-')?;
        Some((start.parse().ok()?, end.parse().ok()?, total.parse().ok()?))
    };
    parse().unwrap_or_else(|| panic!("malformed content-range {value}"))
}

/// `CreateAsset` for `file`, with no properties set.
fn create_asset(file: &SiteFile) -> BatchOperationKind {
    BatchOperationKind::CreateAsset(CreateAssetArguments::new(&file.key, &file.content_type))
}

/// `SetAssetContent` of `file`'s body (identity), with its SHA-256.
fn set_content(
    file: &SiteFile,
    chunk_ids: Vec<Nat>,
    last_chunk: Option<ByteBuf>,
) -> BatchOperationKind {
    BatchOperationKind::SetAssetContent(SetAssetContentArguments {
        key: file.key.clone(),
        content_encoding: "identity".into(),
        chunk_ids,
        last_chunk,
        sha256: Some(ByteBuf::from(Sha256::digest(&file.body).to_vec())),
    })
}
