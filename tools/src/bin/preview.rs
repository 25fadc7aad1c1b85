//! `preview [DIR] [--port N] [--replica-port N] [--controller PRINCIPAL]...
//! [--tamper PATH]`: runs the canister in-process, uploads DIR (default: the
//! sample site in `assets/` plus a generated 5 MiB file) and serves it on
//! 127.0.0.1 through today's gateway (ic-http-gateway 0.4.3, certification
//! v2, 503 for what does not verify) in front of a local replica endpoint
//! over the same host, which agents reach too.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use asset_tools::preview::{
    check_port_free, compile, install, parse_controller, serve_on_replica, site_files,
    start_gateway, upload_to_host,
};
use asset_tools::site::{pocket_ic_selected, read_wasm, wasm_path};
use asset_tools::upload::Progress;
use candid::Principal;
use local_gateway::RequestLog;

const USAGE: &str =
    "usage: preview [DIR] [--port N] [--replica-port N] [--controller PRINCIPAL]... [--tamper PATH]

  DIR                     site to serve (default: assets/ plus a generated big/sample.bin)
  --port N                gateway port on 127.0.0.1 (default: a free one)
  --replica-port N        replica endpoint port on 127.0.0.1, for icx-asset --replica
                          and @dfinity/agent (default: a free one)
  --controller PRINCIPAL  make PRINCIPAL a controller of the canister, so it may
                          upload through the replica endpoint (repeatable), e.g.
                          --controller $(dfx identity get-principal)
  --tamper PATH           demonstration/test only: the replica endpoint acts as a byzantine
                          node and flips a byte of PATH's body in every http_request reply,
                          so the gateway must refuse it with 503";

struct Args {
    dir: Option<PathBuf>,
    port: u16,
    replica_port: u16,
    controllers: Vec<Principal>,
    tamper: Option<String>,
}

fn port(flag: &str, value: Option<String>) -> Result<u16, String> {
    let value = value.ok_or_else(|| format!("{flag} needs a number"))?;
    value
        .parse()
        .map_err(|_| format!("{flag} {value:?}: not a port number"))
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        dir: None,
        port: 0,
        replica_port: 0,
        controllers: Vec::new(),
        tamper: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--port" => args.port = port("--port", it.next())?,
            "--replica-port" => args.replica_port = port("--replica-port", it.next())?,
            "--controller" => {
                let text = it
                    .next()
                    .ok_or("--controller needs a principal: $(dfx identity get-principal)")?;
                args.controllers.push(parse_controller(&text)?);
            }
            "--tamper" => {
                let path = it
                    .next()
                    .ok_or("--tamper needs a path such as /style.css")?;
                if !path.starts_with('/') {
                    return Err(format!("--tamper {path:?}: the path must start with /"));
                }
                args.tamper = Some(path);
            }
            "-h" | "--help" => return Err(USAGE.to_string()),
            other if other.starts_with('-') => {
                return Err(format!("unknown option {other}\n{USAGE}"));
            }
            dir if args.dir.is_none() => args.dir = Some(PathBuf::from(dir)),
            extra => return Err(format!("unexpected argument {extra:?}\n{USAGE}")),
        }
    }
    Ok(args)
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    check_port_free("--port", args.port)?;
    check_port_free("--replica-port", args.replica_port)?;
    // Read the site first: a typo in DIR should not wait for the compile.
    let files = site_files(args.dir.as_deref())?;
    if pocket_ic_selected() {
        return run_on_pocket_ic(&args, &files);
    }
    println!("Compiling the canister wasm for the in-process host (a few seconds)...");
    let module = compile(&read_wasm(&wasm_path())?)?;
    let mut host = install(&module)?;
    let bytes: usize = files.iter().map(|file| file.body.len()).sum();
    println!(
        "Uploading {} files ({:.1} MiB) to the canister...",
        files.len(),
        bytes as f64 / (1024.0 * 1024.0)
    );
    let report = upload_to_host(&mut host, &files, Progress::Auto)?;
    println!("Uploaded: {report}");

    // One host behind both doors: the gateway reads what agents upload.
    let (replica, canister_id) = serve_on_replica(host, args.replica_port, &args.controllers)?;
    if let Some(path) = &args.tamper {
        replica.tamper_http_body(path);
        println!("Tampering with {path} in the replica (demonstration): expect 503 for it");
    }
    let log = RequestLog::To(Box::new(|line| println!("{line}")));
    let gateway = start_gateway(&replica, canister_id, args.port, log)?;
    let port = gateway.port();
    println!("Preview: http://127.0.0.1:{port}/  (Ctrl-C to stop)");
    println!("Replica: {}  canister {canister_id}", replica.url());
    if args.controllers.is_empty() {
        println!("  To upload through it, restart with --controller $(dfx identity get-principal)");
    } else {
        let names: Vec<String> = args.controllers.iter().map(|p| p.to_text()).collect();
        println!("  Controllers, who may upload: {}", names.join(", "));
        println!(
            "  icx-asset --replica {} --pem identity.pem sync {canister_id} ./dist",
            replica.url()
        );
    }

    let stop = Arc::new(AtomicBool::new(false));
    let on_signal = Arc::clone(&stop);
    ctrlc::set_handler(move || on_signal.store(true, Ordering::SeqCst))
        .map_err(|e| format!("installing the Ctrl-C handler: {e}"))?;
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    drop(gateway);
    println!("Preview stopped.");
    Ok(())
}

/// With `POCKET_IC_BIN` set: the canister on PocketIC, served by
/// PocketIC's own HTTP gateway, which verifies as the IC's gateways do.
#[cfg(feature = "pocket-ic")]
fn run_on_pocket_ic(args: &Args, files: &[asset_tools::upload::LocalFile]) -> Result<(), String> {
    if args.tamper.is_some() {
        return Err(
            "--tamper works only with our in-process replica endpoint; unset POCKET_IC_BIN".into(),
        );
    }
    if args.replica_port != 0 || !args.controllers.is_empty() {
        return Err(
            "--replica-port and --controller work only with our in-process replica endpoint; \
             unset POCKET_IC_BIN"
                .into(),
        );
    }
    let mut preview = asset_tools::pocket_preview::start(
        read_wasm(&wasm_path())?,
        files,
        args.port,
        Progress::Auto,
    )?;
    println!("Uploaded: {}", preview.report);
    println!(
        "Preview: {}  (PocketIC's HTTP gateway; Ctrl-C to stop)",
        preview.url()
    );
    println!("Also at: {}", preview.localhost_url());
    let stop = Arc::new(AtomicBool::new(false));
    let on_signal = Arc::clone(&stop);
    ctrlc::set_handler(move || on_signal.store(true, Ordering::SeqCst))
        .map_err(|e| format!("installing the Ctrl-C handler: {e}"))?;
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    preview.pic.stop_live();
    println!("Preview stopped.");
    Ok(())
}

/// Built without the PocketIC client (the default, to build quickly): say
/// how to get it rather than silently ignore `POCKET_IC_BIN`.
#[cfg(not(feature = "pocket-ic"))]
fn run_on_pocket_ic(_: &Args, _: &[asset_tools::upload::LocalFile]) -> Result<(), String> {
    Err(
        "POCKET_IC_BIN is set, but this preview was built without PocketIC: \
         run scripts/preview.sh (it adds --features pocket-ic then), or unset POCKET_IC_BIN"
            .into(),
    )
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("preview: {e}");
            ExitCode::FAILURE
        }
    }
}
