#!/usr/bin/env bash
# Instruction counts per call: asset_server against DFINITY's asset canister
# (ic-certified-assets 0.3.0) doing the same work, both run by the
# in-process host. Prints a markdown table.
#
# Long runs (issue 10), each printing its own table:
#   --long-run [N]  N pages of 1 KiB (100,000 by default) synced as ic-asset
#                   does, served and verified as they grow, then upgraded
#                   (about 10 minutes);
#   --huge [FILES]  FILES files of 1 GiB (5 by default: 5 GiB in stable
#                   memory), committed over several messages, read back and
#                   verified, then upgraded (about 15 minutes, 7 GB of RAM).
set -euo pipefail
cd "$(dirname "$0")/.."

# Our wasm with instruction counts per phase of http_request (the
# breakdown), then the wasm users get, built last so it is the one in place.
cargo build --locked -p asset_server --target wasm32-unknown-unknown --profile canister --features phases
cp target/wasm32-unknown-unknown/canister/asset_server.wasm target/asset_server_phases.wasm
scripts/build.sh
cargo build --locked -p reference-asset-canister --target wasm32-unknown-unknown --release
cargo run --locked -q -p scenarios --example benchmark -- "$@"
