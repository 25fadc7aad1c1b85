#!/usr/bin/env bash
# Installs the real clients the tests run, pinned, from their registries:
# icx-asset into target/clients (kept between runs; `cargo clean` removes
# it), the npm packages into tests/clients/node/node_modules (gitignored).
# Run by scripts/test.sh; the icx-asset test says SKIPPED if icx-asset is
# not installed, the Node test only if there is no node. The versions here
# are the ones tests/clients/src/lib.rs names.
set -euo pipefail
cd "$(dirname "$0")/.."

ICX_ASSET_VERSION=0.29.0
root="target/clients/icx-asset-$ICX_ASSET_VERSION"
if [ ! -x "$root/bin/icx-asset" ]; then
  echo "Installing icx-asset $ICX_ASSET_VERSION from crates.io into $root (first run: a few minutes)..."
  # Unoptimised: the tests sync small sites with it, and its dependency
  # tree (ic-agent, TLS with a C build) compiles in 3.4 CPU-minutes this
  # way against 7.8 optimised, on a path where nothing else builds.
  CARGO_PROFILE_RELEASE_OPT_LEVEL=0 CARGO_PROFILE_RELEASE_DEBUG=false \
    cargo install --quiet --locked --version "$ICX_ASSET_VERSION" \
    --root "$root" --target-dir target/clients/build icx-asset
fi
echo "icx-asset: $("$root/bin/icx-asset" --version) at $root/bin/icx-asset"

# @dfinity/assets, @dfinity/agent and icp-cli (@icp-sdk/icp-cli-linux-x64)
# from npm, exactly as tests/clients/node/package-lock.json pins them, into
# tests/clients/node/node_modules (reinstalled when the lock changes).
# Without node the Node test says SKIPPED; with node, a failed install fails
# here, and so does scripts/test.sh.
node_dir=tests/clients/node
if command -v node >/dev/null; then
  lock_hash=$(sha256sum "$node_dir/package-lock.json" | cut -d' ' -f1)
  stamp="$node_dir/node_modules/.installed-from-lock"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$lock_hash" ]; then
    echo "Installing the npm clients with npm ci into $node_dir/node_modules..."
    (cd "$node_dir" && npm ci --no-audit --no-fund)
    echo "$lock_hash" >"$stamp"
  fi
  version() { node -p "require('./$node_dir/node_modules/$1/package.json').version"; }
  echo "@dfinity/assets $(version @dfinity/assets), @dfinity/agent $(version @dfinity/agent) on node $(node --version) in $node_dir/node_modules"
  echo "icp-cli: $("$node_dir/node_modules/@icp-sdk/icp-cli-linux-x64/bin/icp" --version) in $node_dir/node_modules"
else
  echo "@dfinity/assets and icp-cli: SKIPPED (no node; install Node.js 20+ with npm)"
fi
