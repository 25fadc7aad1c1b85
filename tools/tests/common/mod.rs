//! Shared by the integration tests: the compiled canister, a gateway on a
//! thread, and a minimal HTTP client (HTTP/1.0, so no chunked framing).

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::thread::JoinHandle;

use asset_tools::gateway::{Gateway, serve};
use asset_tools::preview::{compile, install, upload_to_host};
use asset_tools::site::{read_wasm, wasm_path};
use asset_tools::upload::{LocalFile, Progress, Report};
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

/// A gateway serving on 127.0.0.1 from a thread; stopped on drop.
pub struct RunningGateway {
    pub port: u16,
    pub canister_id: String,
    pub report: Report,
    pub log: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl RunningGateway {
    /// Installs the canister, uploads `files` and serves them.
    pub fn start(files: Vec<LocalFile>, tamper: Option<&str>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding a free port");
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(Vec::new()));
        let (ready_tx, ready_rx) = mpsc::channel();
        let tamper = tamper.map(str::to_string);
        let module = module();
        let (thread_stop, thread_log) = (Arc::clone(&stop), Arc::clone(&log));
        // The host is built on the serving thread, so it never crosses
        // threads.
        let thread = std::thread::spawn(move || {
            let setup = install(&module).and_then(|mut host| {
                let report = upload_to_host(&mut host, &files, Progress::Off)?;
                Ok((host, report))
            });
            let host = match setup {
                Ok((host, report)) => {
                    let _ = ready_tx.send(Ok((host.canister_id().to_text(), report)));
                    host
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            let mut record = |line: &str| {
                println!("{line}");
                thread_log.lock().unwrap().push(line.to_string());
            };
            serve(
                listener,
                Gateway::new(host, tamper),
                thread_stop,
                &mut record,
            )
            .expect("gateway");
        });
        let (canister_id, report) = ready_rx
            .recv()
            .expect("gateway thread")
            .unwrap_or_else(|e| panic!("{e}"));
        Self {
            port,
            canister_id,
            report,
            log,
            stop,
            thread: Some(thread),
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

impl Drop for RunningGateway {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
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
