#!/usr/bin/env bash
# HTTP load run of the verifier: 8 concurrent clients POST one signed ~1.1 KB credential to
# /credentials/verify for 15 s per cryptosuite, on loopback only. Prints req/s, p50, p99
# and the server's RSS before and after. Needs `wrk` (Debian package `wrk`).
#   scripts/load-verifier.sh            # release build, port 18081
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 2; }
cargo build --release -q -p bem-verifier -p bem-issuer
work=$(mktemp -d)
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
cat > "$work/unsigned.json" <<'JSON'
{"@context":["https://www.w3.org/ns/credentials/v2"],"id":"urn:uuid:5c8e2f0a-61c4-4bd9-9f38-2f4d1c6a7b90","type":["VerifiableCredential"],"name":"Digital skills for small businesses","description":"Awarded on completion of a 3 ECTS micro-credential in digital tools for micro and small enterprises: business e-mail, website, e-invoicing, cyber-hygiene, online marketplaces.","validFrom":"2026-01-15T09:00:00Z","validUntil":"2031-01-15T09:00:00Z","credentialSubject":{"id":"did:example:learner-4711","name":"Olena Kovalenko","description":"Assessed by a practical project; EQF level 4; 75 hours."}}
JSON
target/release/bem-issuer keygen --data-dir "$work/issuer" >/dev/null
port=18081
target/release/bem-verifier serve --listen "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server=$!
sleep 1
for suite in eddsa-jcs-2022 eddsa-rdfc-2022; do
  target/release/bem-issuer sign --data-dir "$work/issuer" --cryptosuite "$suite" "$work/unsigned.json" > "$work/signed.json"
  python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
body = json.dumps({"verifiableCredential": json.load(open(f"{work}/signed.json"))})
open(f"{work}/post.lua", "w").write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = ' + json.dumps(body) + "\n")
PY
  before=$(ps -o rss= -p "$server")
  echo "== $suite (RSS before: ${before} KiB)"
  wrk -t2 -c8 -d15s --latency -s "$work/post.lua" "http://127.0.0.1:$port/credentials/verify" \
    | grep -E "Requests/sec|  50%|  99%|Non-2xx"
  echo "RSS after: $(ps -o rss= -p "$server") KiB"
done
