#!/usr/bin/env bash
# Builds the canister wasm (profile `canister`: release with candid built for
# size, see Cargo.toml; wasm32-unknown-unknown), copies it to
# target/asset_server.wasm, gzips it to target/asset_server.wasm.gz and
# prints both sizes. Fails if the gzipped module would not install in one
# message (2 MiB).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo >/dev/null || {
  echo "error: cargo is not installed: install Rust with rustup (https://rustup.rs), then open a new shell" >&2
  exit 1
}
if command -v rustup >/dev/null; then
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    echo "Installing the wasm32-unknown-unknown target (rustup target add wasm32-unknown-unknown)..."
    rustup target add wasm32-unknown-unknown
  fi
elif [ ! -d "$(rustc --print sysroot)/lib/rustlib/wasm32-unknown-unknown" ]; then
  echo "error: the wasm32-unknown-unknown target is missing and there is no rustup to add it: install Rust with rustup (https://rustup.rs)" >&2
  exit 1
fi

cargo build --locked -p asset_server --target wasm32-unknown-unknown --profile canister "$@"
# The wasm lands in cargo's target directory (CARGO_TARGET_DIR if set); the
# tools and tests read it from target/ in the workspace.
mkdir -p target
cp "${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/canister/asset_server.wasm" target/asset_server.wasm

# dfx installs the gzipped module (dfx.json: "gzip": true), as every
# install path of the IC accepts; that is what must fit one 2 MiB message.
gzip -9 -n -c target/asset_server.wasm > target/asset_server.wasm.gz
size=$(stat -c %s target/asset_server.wasm)
gz_size=$(stat -c %s target/asset_server.wasm.gz)
limit=$((2 * 1024 * 1024))
echo "asset_server.wasm: ${size} bytes ($((size / 1024)) KiB), gzipped ${gz_size} bytes -> target/asset_server.wasm(.gz)"
if [ "$gz_size" -ge "$limit" ]; then
  echo "error: the gzipped wasm is over 2 MiB and would need chunked code upload" >&2
  exit 1
fi
if [ "$size" -ge "$limit" ]; then
  echo "note: the uncompressed wasm is over 2 MiB; install the .wasm.gz (dfx does)"
fi
