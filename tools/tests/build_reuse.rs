//! What `scripts/preview.sh` compiles, read from `cargo tree`: neither the
//! PocketIC client nor the uploader's ic-agent (features `pocket-ic` and
//! `agent`, off by default) nor ic-cdk, and every crate it shares with the test
//! command resolved with the same features as there, so the two commands
//! share one build of them (tools/Cargo.toml, "Build reuse").

use std::collections::BTreeSet;
use std::process::Command;

use asset_tools::site::workspace_root;

/// `cargo tree` lines `<name> v<version> [(<path>)] <features>`, one per
/// crate and feature set, of the packages and edge kinds given.
fn tree(args: &[&str]) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(workspace_root())
        .args([
            "tree", "--locked", "--prefix", "none", "--format", "{p} {f}",
        ])
        .args(args)
        .output()
        .expect("running cargo tree");
    assert!(
        output.status.success(),
        "cargo tree {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| line.trim_end_matches(" (*)").to_string())
        .collect()
}

/// The preview's build: `cargo build -p asset-tools --bin preview`.
fn preview_tree() -> BTreeSet<String> {
    tree(&["-p", "asset-tools", "--edges", "normal,build"])
}

fn crate_name(line: &str) -> &str {
    line.split(' ').next().unwrap_or_default()
}

#[test]
fn preview_compiles_neither_pocket_ic_nor_the_uploaders_ic_agent_nor_ic_cdk() {
    let preview = preview_tree();
    assert!(
        preview.iter().any(|line| crate_name(line) == "wasmtime"),
        "the tree lacks wasmtime, so it is not the preview's: {preview:?}"
    );
    let unwanted: Vec<&String> = preview
        .iter()
        .filter(|line| {
            crate_name(line) == "pocket-ic"
                // The canister's system API: only its wasm build and its
                // own unit tests use it (canister/Cargo.toml).
                || crate_name(line) == "ic-cdk"
                || line.starts_with("ic-agent v0.49")
                || (crate_name(line) == "asset-tools"
                    && (line.contains("agent") || line.contains("pocket-ic")))
        })
        .collect();
    assert!(
        unwanted.is_empty(),
        "the preview's default build compiles {unwanted:?}"
    );
    // The gateway's own ic-agent line is the one the preview needs.
    assert!(
        preview
            .iter()
            .any(|line| line.starts_with("ic-agent v0.46"))
    );
}

#[test]
fn preview_resolves_every_shared_crate_as_the_test_command_does() {
    // `cargo test --workspace`: every member, dev-dependencies included.
    let tests = tree(&["--workspace"]);
    let differing: Vec<String> = preview_tree()
        .into_iter()
        .filter(|line| crate_name(line) != "asset-tools" && !tests.contains(line))
        .collect();
    assert!(
        differing.is_empty(),
        "the preview resolves these crates with other features than the tests do, so each \
         command would compile them (and everything above them) again; add the tests' \
         features under \"Build reuse\" in tools/Cargo.toml:\n{}",
        differing
            .iter()
            .map(|line| format!("  {line}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
