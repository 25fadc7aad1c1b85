//! `preview [DIR] [--port N] [--tamper PATH]`: runs the canister in-process,
//! uploads DIR (default: the sample site in `assets/` plus a generated
//! 5 MiB file) and serves it on 127.0.0.1 through a verifying gateway.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use asset_tools::gateway::{Gateway, serve};
use asset_tools::pocket_preview;
use asset_tools::preview::{compile, install, site_files, upload_to_host};
use asset_tools::site::{read_wasm, wasm_path};
use asset_tools::upload::Progress;

const USAGE: &str = "usage: preview [DIR] [--port N] [--tamper PATH]

  DIR            site to serve (default: assets/ plus a generated big/sample.bin)
  --port N       port on 127.0.0.1 (default: a free one)
  --tamper PATH  demonstration/test only: flip a byte of PATH's body after the
                 canister answers, so the gateway must refuse it with 503";

struct Args {
    dir: Option<PathBuf>,
    port: u16,
    tamper: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        dir: None,
        port: 0,
        tamper: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--port" => {
                let value = it.next().ok_or("--port needs a number")?;
                args.port = value
                    .parse()
                    .map_err(|_| format!("--port {value:?}: not a port number"))?;
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
    // Read the site first: a typo in DIR should not wait for the compile.
    let files = site_files(args.dir.as_deref())?;
    if pocket_preview::pocket_ic_selected() {
        return run_on_pocket_ic(&args, &files);
    }
    let module = compile(&read_wasm(&wasm_path())?)?;
    let mut host = install(&module)?;
    let report = upload_to_host(&mut host, &files, Progress::Auto)?;
    println!("Uploaded: {report}");

    // Loopback only: the preview is for this machine, not the network.
    let listener = TcpListener::bind(("127.0.0.1", args.port))
        .map_err(|e| format!("binding 127.0.0.1:{}: {e}", args.port))?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    if let Some(path) = &args.tamper {
        println!("Tampering with {path} (demonstration): expect 503 for it");
    }
    println!("Preview: http://127.0.0.1:{port}/  (Ctrl-C to stop)");

    let stop = Arc::new(AtomicBool::new(false));
    let on_signal = Arc::clone(&stop);
    ctrlc::set_handler(move || on_signal.store(true, Ordering::SeqCst))
        .map_err(|e| format!("installing the Ctrl-C handler: {e}"))?;
    let gateway = Gateway::new(host, args.tamper);
    serve(listener, gateway, stop, &mut |line| println!("{line}"))?;
    println!("Preview stopped.");
    Ok(())
}

/// With `POCKET_IC_BIN` set: the canister on PocketIC, served by
/// PocketIC's own HTTP gateway, which verifies as the IC's gateways do.
fn run_on_pocket_ic(args: &Args, files: &[asset_tools::upload::LocalFile]) -> Result<(), String> {
    if args.tamper.is_some() {
        return Err("--tamper works only with our in-process gateway; unset POCKET_IC_BIN".into());
    }
    let mut preview =
        pocket_preview::start(read_wasm(&wasm_path())?, files, args.port, Progress::Auto)?;
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

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("preview: {e}");
            ExitCode::FAILURE
        }
    }
}
