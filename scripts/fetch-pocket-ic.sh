#!/usr/bin/env bash
# Fetches the PocketIC server the scenarios run on (needs internet: the
# binary comes from DFINITY's GitHub releases), checks it against a pinned
# SHA-256, and prints the POCKET_IC_BIN to export. Then scripts/test.sh runs
# the same scenarios on PocketIC instead of the in-process host.
#
# Server 16.0.0 is the oldest the pocket-ic 16.1 crate accepts
# (MIN_SERVER_VERSION); the digests are of the release archives.
set -euo pipefail
cd "$(dirname "$0")/.."

version="16.0.0"
case "$(uname -s)/$(uname -m)" in
  Linux/x86_64)  asset="pocket-ic-x86_64-linux.gz";  digest="268ba79ec7fe9a563a575adf4983c69627093cce2711d142e476cdc7ad04249e" ;;
  Darwin/x86_64) asset="pocket-ic-x86_64-darwin.gz"; digest="9710b9c4ac4eaa7eb10bddaa2aba80560a59362610f1bcd8c6e23be82a39c327" ;;
  Darwin/arm64)  asset="pocket-ic-arm64-darwin.gz";  digest="41cf77e24effc381e21f5e07e908ed078783646e6de05ed52fd6973221f07e64" ;;
  *) echo "no pinned PocketIC $version build for $(uname -s)/$(uname -m)" >&2; exit 1 ;;
esac

dir="target/pocket-ic-$version"
bin="$dir/pocket-ic"
if [ ! -x "$bin" ]; then
  mkdir -p "$dir"
  url="https://github.com/dfinity/pocketic/releases/download/$version/$asset"
  echo "Downloading $url" >&2
  curl --fail --location --silent --show-error --output "$dir/$asset" "$url"
  actual=$(python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$dir/$asset")
  if [ "$actual" != "$digest" ]; then
    echo "SHA-256 mismatch for $asset: expected $digest, got $actual" >&2
    rm -f "$dir/$asset"
    exit 1
  fi
  gzip -dc "$dir/$asset" > "$bin.partial"
  chmod +x "$bin.partial"
  mv "$bin.partial" "$bin"
  rm -f "$dir/$asset"
fi
"$bin" --version >&2
echo "export POCKET_IC_BIN=$(pwd)/$bin"
