//! Shared by the integration tests: the compiled canister, the preview as
//! the binary runs it (replica endpoint and today's gateway, on threads),
//! and a minimal HTTP client (HTTP/1.0, so no chunked framing).

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use asset_tools::preview::{compile, install, serve_on_replica, start_gateway, upload_to_host};
use asset_tools::site::{read_wasm, wasm_path};
use asset_tools::upload::{LocalFile, Progress, Report};
use local_gateway::{LocalGateway, RequestLog};
use wasm_host::replica::Replica;
use wasm_host::{CompiledModule, Host};

/// The canister, compiled once per test binary.
pub fn module() -> CompiledModule {
    static MODULE: OnceLock<CompiledModule> = OnceLock::new();
    MODULE
        .get_or_init(|| {
            let wasm = read_wasm(&wasm_path()).unwrap_or_else(|e| panic!("{e}"));
            compile(&wasm).unwrap_or_else(|e| panic!("{e}"))
        })
        .clone()
}

pub fn fresh_host() -> Host {
    install(&module()).unwrap_or_else(|e| panic!("{e}"))
}

/// A copy of `src` in a temporary directory, to change freely.
pub fn copy_dir(src: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    for entry in walkdir::WalkDir::new(src) {
        let entry = entry.expect("walking the sample site");
        let target = dir.path().join(entry.path().strip_prefix(src).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
    dir
}

/// The in-process preview: the canister on a replica endpoint, today's
/// gateway in front of it on 127.0.0.1, its request log kept; stopped on
/// drop.
pub struct RunningGateway {
    pub port: u16,
    pub canister_id: String,
    pub report: Report,
    pub log: Arc<Mutex<Vec<String>>>,
    gateway: LocalGateway,
    pub replica: Replica,
}

impl RunningGateway {
    /// Installs the canister, uploads `files` and serves them; with
    /// `tamper`, the replica alters that path's bodies (a byzantine node).
    pub fn start(files: Vec<LocalFile>, tamper: Option<&str>) -> Self {
        let mut host = fresh_host();
        let report =
            upload_to_host(&mut host, &files, Progress::Off).unwrap_or_else(|e| panic!("{e}"));
        Self::over(host, report, tamper)
    }

    /// Serves the canister on `host` as it is.
    pub fn over(host: Host, report: Report, tamper: Option<&str>) -> Self {
        let (replica, canister_id) =
            serve_on_replica(host, 0, &[]).unwrap_or_else(|e| panic!("{e}"));
        if let Some(path) = tamper {
            replica.tamper_http_body(path);
        }
        let log = Arc::new(Mutex::new(Vec::new()));
        let lines = Arc::clone(&log);
        let record = RequestLog::To(Box::new(move |line| {
            println!("gateway | {line}");
            lines.lock().unwrap().push(line.to_string());
        }));
        let gateway =
            start_gateway(&replica, canister_id, 0, record).unwrap_or_else(|e| panic!("{e}"));
        Self {
            port: gateway.port(),
            canister_id: canister_id.to_text(),
            report,
            log,
            gateway,
            replica,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    pub fn get(&self, path: &str) -> HttpReply {
        http_get(self.port, path, &[])
    }

    pub fn log_lines(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

#[derive(Debug)]
pub struct HttpReply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpReply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// GET over HTTP/1.0 with a `Host` of `127.0.0.1:<port>` unless `headers`
/// gives one.
pub fn http_get(port: u16, path: &str, headers: &[(&str, &str)]) -> HttpReply {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connecting to the gateway");
    let mut request = format!("GET {path} HTTP/1.0\r\n");
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
        request.push_str(&format!("Host: 127.0.0.1:{port}\r\n"));
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("reading the response");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    HttpReply {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}
