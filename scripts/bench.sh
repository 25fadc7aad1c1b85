#!/usr/bin/env bash
# Instruction counts per call: asset_server against DFINITY's asset canister
# (ic-certified-assets 0.3.0) doing the same work, both run by the
# in-process host. Prints a markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build.sh
cargo build --locked -p reference-asset-canister --target wasm32-unknown-unknown --release
cargo run --locked -q -p scenarios --example benchmark
