#!/usr/bin/env bash
# Builds the canister wasm (release, wasm32-unknown-unknown), copies it to
# target/asset_server.wasm and prints its size. Fails if it would not install
# in one message (2 MiB).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "Installing the wasm32-unknown-unknown target..."
  rustup target add wasm32-unknown-unknown
fi

cargo build --locked -p asset_server --target wasm32-unknown-unknown --release "$@"
cp target/wasm32-unknown-unknown/release/asset_server.wasm target/asset_server.wasm

size=$(stat -c %s target/asset_server.wasm)
limit=$((2 * 1024 * 1024))
echo "asset_server.wasm: ${size} bytes ($((size / 1024)) KiB) -> target/asset_server.wasm"
if [ "$size" -ge "$limit" ]; then
  echo "error: the wasm is over 2 MiB and would need chunked code upload" >&2
  exit 1
fi
