#!/usr/bin/env bash
# HTTP load run of the verifier against its peer, in the same run: 8 concurrent clients
# (wrk, 2 threads) POST one signed ~1.1 KB credential to /credentials/verify for
# LOAD_SECONDS (15) per server and cryptosuite, on loopback only:
#   - bem-verifier serve (release build), both cores;
#   - Digital Bazaar's libraries behind the same route (interop/vc-api-peer.mjs), as one
#     Node.js process and as PEER_WORKERS=2 processes (node:cluster, both cores).
# Prints req/s, p50, p99, non-2xx answers, our server's RSS before and after, and the
# ratios. Needs wrk (Debian package `wrk`) and Node.js 20 with interop/'s npm packages.
#   scripts/load-verifier.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 2; }
command -v node >/dev/null || { echo "node is missing (Node.js 20)" >&2; exit 2; }
[ -d interop/node_modules ] || npm ci --prefix interop --no-audit --no-fund
seconds=${LOAD_SECONDS:-15}
cargo build --release -q -p bem-verifier -p bem-issuer
bin=${CARGO_TARGET_DIR:-target}/release
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
cat > "$work/unsigned.json" <<'JSON'
{"@context":["https://www.w3.org/ns/credentials/v2"],"id":"urn:uuid:5c8e2f0a-61c4-4bd9-9f38-2f4d1c6a7b90","type":["VerifiableCredential"],"name":"Digital skills for small businesses","description":"Awarded on completion of a 3 ECTS micro-credential in digital tools for micro and small enterprises: business e-mail, website, e-invoicing, cyber-hygiene, online marketplaces.","validFrom":"2026-01-15T09:00:00Z","validUntil":"2031-01-15T09:00:00Z","credentialSubject":{"id":"did:example:learner-4711","name":"Olena Kovalenko","description":"Assessed by a practical project; EQF level 4; 75 hours."}}
JSON
"$bin/bem-issuer" keygen --data-dir "$work/issuer" >/dev/null

# Starts a server in the background; sets $url to the base URL its first line names.
start() {
  local name=$1; shift
  "$@" >"$work/$name.out" 2>"$work/$name.err" &
  pids+=($!)
  for _ in $(seq 1 100); do grep -q "listening on" "$work/$name.out" 2>/dev/null && break; sleep 0.1; done
  url=$(grep -o 'http://[0-9.:]*' "$work/$name.out" | head -1 || true)
  [ -n "$url" ] || { echo "$name did not start" >&2; cat "$work/$name.err" >&2; exit 1; }
}
start verifier env RUST_LOG=warn "$bin/bem-verifier" serve --listen 127.0.0.1:0
ours=$url; server=${pids[-1]}
start peer1 node interop/vc-api-peer.mjs 0
peer1=$url
start peer2 env PEER_WORKERS=2 node interop/vc-api-peer.mjs 0
peer2=$url

# Runs wrk against $1; prints its figures and leaves req/s in $rate.
load() {
  local out
  out=$(wrk -t2 -c8 -d"${seconds}s" --latency -s "$work/post.lua" "$1/credentials/verify")
  echo "$out" | grep -E "Requests/sec|  50%|  99%|Non-2xx" | sed 's/^/    /'
  rate=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
}

echo "RSS of bem-verifier at start: $(ps -o rss= -p "$server") KiB"
for suite in eddsa-rdfc-2022 eddsa-jcs-2022; do
  "$bin/bem-issuer" sign --data-dir "$work/issuer" --cryptosuite "$suite" "$work/unsigned.json" > "$work/signed.json"
  python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
body = json.dumps({"verifiableCredential": json.load(open(f"{work}/signed.json"))})
open(f"{work}/body.json", "w").write(body)
open(f"{work}/post.lua", "w").write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = ' + json.dumps(body) + "\n")
PY
  # Every server must verify it before it is loaded.
  for url in "$ours" "$peer1" "$peer2"; do
    curl -sf -X POST -H 'Content-Type: application/json' --data-binary @"$work/body.json" "$url/credentials/verify" >/dev/null \
      || { echo "$url does not verify the $suite credential" >&2; exit 1; }
  done
  echo "== $suite, $(wc -c < "$work/signed.json") bytes signed"
  echo "  bem-verifier"; load "$ours"; r_ours=$rate
  echo "  Digital Bazaar peer, 1 process"; load "$peer1"; r_peer1=$rate
  echo "  Digital Bazaar peer, 2 processes"; load "$peer2"; r_peer2=$rate
  python3 -c "print(f'  ratio: {$r_ours/$r_peer1:.1f}x one peer process, {$r_ours/$r_peer2:.1f}x two')"
done
echo "RSS of bem-verifier at end: $(ps -o rss= -p "$server") KiB"
