#!/usr/bin/env bash
# The whole test suite: builds every wasm the tests run (never a stale
# file), then runs the native unit tests, the in-process host's tests and the
# scenarios on the selected backend.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build.sh
if [ -d tests/host/probe ]; then
  cargo build --locked -p host-probe --target wasm32-unknown-unknown --release
fi

cargo test --locked --workspace "$@"
