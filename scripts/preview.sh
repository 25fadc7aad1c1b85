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
#
# The first run compiles the canister and the preview (wasmtime, the gateway
# and its TLS stack): minutes, with cargo's progress shown; later runs take
# seconds. With POCKET_IC_BIN set it builds the PocketIC mode too (feature
# `pocket-ic`), which the default preview leaves out.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*"; }
fail() {
  printf 'preview: %s\n' "$*" >&2
  exit 1
}

# What a newcomer can lack, each said in one line before anything compiles.
command -v cargo >/dev/null ||
  fail "cargo is not installed: install Rust with rustup (https://rustup.rs), then open a new shell"
command -v cc >/dev/null || command -v gcc >/dev/null || command -v clang >/dev/null ||
  fail "no C compiler (cc): Rust links with it and some crates build C code; on Debian/Ubuntu: apt-get install build-essential"

# Read the arguments the binary takes only to check DIR and --port early:
# a typo or a taken port should not wait for a build of minutes.
dir=""
port=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --port) port="${args[i + 1]:-}"; i=$((i + 1)) ;;
    --replica-port | --controller | --tamper) i=$((i + 1)) ;;
    -h | --help) ;;
    -*) ;;
    *) [ -z "$dir" ] && dir="${args[i]}" ;;
  esac
done
if [ -n "$dir" ] && [ ! -d "$dir" ]; then
  fail "$dir: no such directory (give the directory of your site, e.g. ./dist; without one the preview serves assets/)"
fi
if [[ "$port" =~ ^[0-9]+$ ]] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  fail "port $port is taken on 127.0.0.1 (another preview?): stop it, choose another --port, or leave --port out for a free one"
fi

features=()
if [ -n "${POCKET_IC_BIN:-}" ]; then
  features=(--features pocket-ic)
fi
target_dir="${CARGO_TARGET_DIR:-target}"

if [ ! -e "$target_dir/wasm32-unknown-unknown/canister/asset_server.wasm" ]; then
  say "Building the canister wasm (release; first run: about 1.5 minutes on 2 cores)"
else
  say "Building the canister wasm (release)"
fi
scripts/build.sh

if [ ! -e "$target_dir/debug/preview" ]; then
  say "Building the preview: the in-process host (wasmtime) and today's gateway (ic-http-gateway, with its TLS stack)"
  say "  first run only: about 6.5 minutes on 2 cores (measured); later runs: seconds"
else
  say "Building the preview (only what changed)"
fi
cargo build --locked -p asset-tools --bin preview "${features[@]}"

say "Starting the preview: canister in-process, site uploaded, gateway on 127.0.0.1"
exec cargo run --locked --quiet -p asset-tools --bin preview "${features[@]}" -- "$@"
