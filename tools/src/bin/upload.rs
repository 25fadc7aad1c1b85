//! `upload --url URL --canister ID --pem FILE [DIR]`: syncs DIR (default
//! `assets/`) to a deployed asset canister through `ic-agent`, signed by a
//! dfx identity (`dfx identity export <name> > identity.pem`).

use std::path::PathBuf;
use std::process::ExitCode;

use asset_tools::site::sample_dir;
use asset_tools::transport::AgentCalls;
use asset_tools::upload::{Progress, collect, upload};

const USAGE: &str = "usage: upload --url URL --canister ID --pem FILE [DIR]

  --url URL       replica or boundary node, e.g. http://127.0.0.1:4943
  --canister ID   the asset canister's id
  --pem FILE      identity with Commit permission (dfx identity export NAME)
  DIR             directory to sync (default: assets/)";

fn run() -> Result<(), String> {
    let (mut url, mut canister, mut pem, mut dir) = (None, None, None, None);
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value\n{USAGE}"));
        match arg.as_str() {
            "--url" => url = Some(value("--url")?),
            "--canister" => canister = Some(value("--canister")?),
            "--pem" => pem = Some(PathBuf::from(value("--pem")?)),
            "-h" | "--help" => return Err(USAGE.to_string()),
            other if other.starts_with('-') => {
                return Err(format!("unknown option {other}\n{USAGE}"));
            }
            path if dir.is_none() => dir = Some(PathBuf::from(path)),
            extra => return Err(format!("unexpected argument {extra:?}\n{USAGE}")),
        }
    }
    let url = url.ok_or(format!("--url is required\n{USAGE}"))?;
    let canister = canister.ok_or(format!("--canister is required\n{USAGE}"))?;
    let pem = pem.ok_or(format!("--pem is required\n{USAGE}"))?;
    let dir = dir.unwrap_or_else(sample_dir);

    let files = collect(&dir)?;
    let mut calls = AgentCalls::connect(&url, &canister, &pem)?;
    let report = upload(&mut calls, &files, Progress::Auto)?;
    println!("{}: {report}", dir.display());
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("upload: {e}");
            ExitCode::FAILURE
        }
    }
}
