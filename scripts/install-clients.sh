#!/usr/bin/env bash
# Installs the real clients the tests run, pinned, from their registries,
# into target/clients (kept between runs; `cargo clean` removes it). Run by
# scripts/test.sh; the client tests say SKIPPED for a client that is not
# installed. The versions here are the ones tests/clients/src/lib.rs names.
set -euo pipefail
cd "$(dirname "$0")/.."

ICX_ASSET_VERSION=0.29.0
root="target/clients/icx-asset-$ICX_ASSET_VERSION"
if [ ! -x "$root/bin/icx-asset" ]; then
  echo "Installing icx-asset $ICX_ASSET_VERSION from crates.io into $root..."
  cargo install --quiet --locked --version "$ICX_ASSET_VERSION" \
    --root "$root" --target-dir target/clients/build icx-asset
fi
echo "icx-asset: $("$root/bin/icx-asset" --version) at $root/bin/icx-asset"
