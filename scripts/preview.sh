#!/usr/bin/env bash
# Serves a site from the canister running in-process, through a local
# gateway that verifies every response, on 127.0.0.1 only.
#
#   scripts/preview.sh                 # assets/ plus a generated 5 MiB file
#   scripts/preview.sh ./dist --port 8080
#   scripts/preview.sh ./dist --controller "$(dfx identity get-principal)"
#
# It also prints `Replica: http://127.0.0.1:<port>  canister <id>`, a local
# replica endpoint over the same canister for icx-asset --replica and
# @dfinity/agent; the --controller principals may upload through it.
# Builds the wasm first, so the preview always runs the current canister.
# Ctrl-C stops it. `--tamper PATH` is a demonstration/test flag: the gateway
# corrupts PATH's body after the canister answers and must refuse it (503).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build.sh
exec cargo run --locked --quiet -p asset-tools --bin preview -- "$@"
