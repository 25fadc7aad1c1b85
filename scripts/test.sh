#!/usr/bin/env bash
# The whole test suite: builds every wasm the tests run (never a stale
# file), then runs the native unit tests, the in-process host's tests and the
# scenarios on the selected backend.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build.sh
# The other canisters the tests run: the host's probe, and DFINITY's asset
# canister (ic-certified-assets 0.3.0) that the switch-in-place scenarios
# upgrade to ours.
cargo build --locked -p host-probe -p reference-asset-canister \
  --target wasm32-unknown-unknown --release

# The real clients tests/clients runs besides the crates in the lock
# (pinned, installed once into target/clients).
scripts/install-clients.sh

# Say up front what the optional parts will run on; cargo hides the
# output of tests that pass, including their SKIPPED lines.
if [ -x /usr/bin/chromium ]; then
  echo "browser test: runs with $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
else
  echo "browser test: SKIPPED (no /usr/bin/chromium; apt-get install chromium)"
fi
if [ -n "${POCKET_IC_BIN:-}" ]; then
  echo "scenarios and PocketIC preview test: PocketIC at $POCKET_IC_BIN"
else
  echo "scenarios: in-process host; PocketIC preview test: SKIPPED (POCKET_IC_BIN not set)"
fi

cargo test --locked --workspace "$@"
