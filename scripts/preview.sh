#!/usr/bin/env bash
# Serves a site from the canister running in-process, through today's HTTP
# gateway (ic-http-gateway 0.4.3: certification v2, 503 for whatever does not
# verify, ranges as certified 206 chunks), on 127.0.0.1 only.
#
#   scripts/preview.sh                 # assets/ plus a generated 5 MiB file
#   scripts/preview.sh ./dist --port 8080
#   scripts/preview.sh ./dist --controller "$(dfx identity get-principal)"
#
# It also prints `Replica: http://127.0.0.1:<port>  canister <id>`, a local
# replica endpoint over the same canister for icx-asset --replica and
# @dfinity/agent; the --controller principals may upload through it.
# Builds the wasm first, so the preview always runs the current canister.
# Ctrl-C stops it. `--tamper PATH` is a demonstration/test flag: the replica
# endpoint, acting as a byzantine node, corrupts PATH's body in its replies,
# and the gateway must refuse it (503).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build.sh
exec cargo run --locked --quiet -p asset-tools --bin preview -- "$@"
