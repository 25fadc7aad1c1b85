#!/usr/bin/env bash
# Deploys asset_server with dfx, then syncs a directory to it with the
# ic-agent uploader (tools/src/bin/upload.rs), signed by your current dfx
# identity. Unchanged files are skipped; files gone from DIR are deleted.
#
#   scripts/deploy.sh [--network local|ic|NAME] [DIR]    (default: local, assets/)
#
# Needs dfx, and for local a running replica (`dfx start --background`).
set -euo pipefail
cd "$(dirname "$0")/.."

network=local
dir=assets
while [ $# -gt 0 ]; do
  case "$1" in
    --network) network="${2:?--network needs a name}"; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) dir="$1"; shift ;;
  esac
done

command -v dfx >/dev/null || { echo "error: dfx is not installed (https://internetcomputer.org/docs/building-apps/getting-started/install)" >&2; exit 1; }
[ -d "$dir" ] || { echo "error: $dir is not a directory" >&2; exit 1; }

dfx deploy --network "$network" asset_server
canister=$(dfx canister --network "$network" id asset_server)
if [ "$network" = local ]; then
  port=$(dfx info webserver-port)
  url="http://127.0.0.1:${port}"
  site="http://${canister}.localhost:${port}/"
else
  url="https://icp-api.io"
  site="https://${canister}.icp0.io/"
fi

# The uploader signs with the same key dfx uses; keep it in a private
# temporary file that is removed on exit.
pem=$(mktemp)
trap 'rm -f "$pem"' EXIT
chmod 600 "$pem"
dfx identity export "$(dfx identity whoami)" > "$pem"

cargo run --locked --quiet -p asset-tools --features agent --bin upload -- \
  --url "$url" --canister "$canister" --pem "$pem" "$dir"
echo "Site: $site"
