#!/usr/bin/env bash
# Instruction counts per call: asset_server against DFINITY's asset canister
# (ic-certified-assets 0.3.0) doing the same work, both run by the
# in-process host. Prints a markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."

# Our wasm with instruction counts per phase of http_request (the
# breakdown), then the wasm users get, built last so it is the one in place.
cargo build --locked -p asset_server --target wasm32-unknown-unknown --profile canister --features phases
cp target/wasm32-unknown-unknown/canister/asset_server.wasm target/asset_server_phases.wasm
scripts/build.sh
cargo build --locked -p reference-asset-canister --target wasm32-unknown-unknown --release
cargo run --locked -q -p scenarios --example benchmark -- "$@"
