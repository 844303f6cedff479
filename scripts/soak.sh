#!/usr/bin/env bash
# Load and soak run of both services (issue "hostile input, crashes and load").
#
#   scripts/soak.sh                 # 10 minutes (SOAK_SECONDS=600), release build
#   SOAK_SECONDS=60 scripts/soak.sh # a short run
#
# For SOAK_SECONDS, at the same time:
# - the verifier gets a mix from wrk (8 connections): genuine eddsa-jcs-2022 and
#   eddsa-rdfc-2022 certificates of the issuer (their status lists fetched from it),
#   tampered ones, and hostile bodies (duplicate keys, a lone surrogate, 200-deep
#   nesting, a poison RDF clique, an undefined term, not JSON, a 1.5 MiB body);
# - the issuer gets single awards (3 clients) and revocations of what was awarded
#   (1 client) from scripts/soak-issuer.py.
# Then it checks: no 5xx anywhere; every award and revocation that was answered is in
# the database and the revoked ones read as revoked in the served status lists; and it
# prints p50/p99 latencies and each server's RSS at start and end (memory flat).
# Needs wrk and python3 (Debian packages wrk, python3).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 2; }
seconds=${SOAK_SECONDS:-600}
cargo build --release -q --locked -p bem-verifier -p bem-issuer
bin=${CARGO_TARGET_DIR:-target}/release
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT

# The issuer (plain HTTP on loopback) and the verifier allowed to fetch from it.
wait_for() { for _ in $(seq 1 100); do grep -q "listening on" "$1" 2>/dev/null && return; sleep 0.1; done; }
"$bin/bem-issuer" serve --data-dir "$work/issuer" --listen 127.0.0.1:0 >"$work/issuer.out" 2>"$work/issuer.err" &
pids+=($!); issuer_pid=$!
wait_for "$work/issuer.out"
issuer=$(sed -n 's/^bem-issuer: listening on //p' "$work/issuer.out")
[ -n "$issuer" ] || { echo "soak: the issuer did not start" >&2; cat "$work"/*.err >&2; exit 1; }
token=$(cat "$work/issuer/admin-token")

# Bodies for the verifier: genuine certificates from the issuer, and their forgeries.
python3 - "$work" "$issuer" "$token" <<'PY'
import json, sys, urllib.request
work, issuer, token = sys.argv[1:4]
def post(path, body):
    req = urllib.request.Request(issuer + path, data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", "Authorization": "Bearer " + token})
    return json.load(urllib.request.urlopen(req))
bodies = []
rdfc = post("/micro-credentials/md-digital-tools-small-business/certificates", {"name": "Olena Kovalenko"})["verifiableCredential"]
small = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
         "credentialSubject": {"id": "did:example:learner", "name": "Amina Haddad"}}
jcs = post("/credentials/issue", {"credential": small, "options": {"cryptosuite": "eddsa-jcs-2022",
    "credentialStatus": [{"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}]}})["verifiableCredential"]
good = [json.dumps({"verifiableCredential": vc}) for vc in (rdfc, jcs)]
# The verifier trusts this issuer, so it fetches the status lists it names.
did = rdfc["issuer"]["id"] if isinstance(rdfc["issuer"], dict) else rdfc["issuer"]
open(f"{work}/trust.toml", "w").write('[[issuer]]\nid = "%s"\nname = "Soak issuer"\n' % did)
forged = []
for vc in (rdfc, jcs):
    bad = json.loads(json.dumps(vc)); bad["credentialSubject"]["name"] = "Mallory"
    forged.append(json.dumps({"verifiableCredential": bad}))
undefined = json.loads(json.dumps(jcs)); undefined["credentialSubject"]["grade"] = "A+"
clique = {"@context": ["https://www.w3.org/ns/credentials/v2", {"p": "https://example.org/p"}],
          "@graph": [{"@id": f"_:b{i}", "p": [{"@id": f"_:b{j}"} for j in range(10) if j != i]} for i in range(10)]}
hostile = [
    '{"verifiableCredential": {"issuer": "a", "issuer": "b"}}',
    '{"verifiableCredential": {"name": "\\ud800"}}',
    '{"verifiableCredential": ' + "[" * 200 + "]" * 200 + "}",
    json.dumps({"verifiableCredential": clique}),
    json.dumps({"verifiableCredential": undefined}),
    "this is not json",
    json.dumps({"verifiableCredential": {"padding": "x" * (1536 * 1024)}}),
]
# Weighted like traffic: mostly genuine scans.
mix = good * 6 + forged * 2 + hostile
lua = ["bodies = {"] + ["  %s," % json.dumps(b) for b in mix] + ["}"]
open(f"{work}/bodies.lua", "w").write("\n".join(lua) + "\n")
PY
RUST_LOG=warn "$bin/bem-verifier" serve --listen 127.0.0.1:0 --trust "$work/trust.toml" --fetch-allow "$issuer/" >"$work/verifier.out" 2>"$work/verifier.err" &
pids+=($!); verifier_pid=$!
wait_for "$work/verifier.out"
verifier=$(sed -n 's/^bem-verifier listening on //p' "$work/verifier.out")
[ -n "$verifier" ] || { echo "soak: the verifier did not start" >&2; cat "$work"/*.err >&2; exit 1; }
echo "soak: issuer $issuer, verifier $verifier, $seconds s"

cat >> "$work/bodies.lua" <<'LUA'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  n = 0; s2 = 0; s4 = 0; s5 = 0
  wrk.method = "POST"; wrk.headers["Content-Type"] = "application/json"
end
function request()
  n = n + 1
  return wrk.format(nil, nil, nil, bodies[(n % #bodies) + 1])
end
function response(status, headers, body)
  if status >= 500 then s5 = s5 + 1 elseif status >= 400 then s4 = s4 + 1 else s2 = s2 + 1 end
end
function done(summary, latency, requests)
  local a, b, c = 0, 0, 0
  for _, t in ipairs(threads) do a = a + t:get("s2"); b = b + t:get("s4"); c = c + t:get("s5") end
  io.write(string.format("verifier: %d requests, 2xx %d, 4xx %d, 5xx %d, p50 %.2f ms, p99 %.2f ms\n",
    summary.requests, a, b, c, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
  io.write(string.format("verifier-5xx=%d\n", c))
end
LUA

rss() { ps -o rss= -p "$1" | tr -d ' '; }
issuer_rss0=$(rss "$issuer_pid"); verifier_rss0=$(rss "$verifier_pid")
python3 scripts/soak-issuer.py "$issuer" "$token" "$seconds" "$work/issuer/issuer.sqlite3" >"$work/issuer-load.txt" 2>&1 &
load_pid=$!
wrk -t2 -c8 -d"${seconds}s" --timeout 10s --latency -s "$work/bodies.lua" "$verifier/credentials/verify" >"$work/wrk.txt" 2>&1 || true
wait "$load_pid" && issuer_ok=1 || issuer_ok=0
issuer_rss1=$(rss "$issuer_pid"); verifier_rss1=$(rss "$verifier_pid")

grep -E "^verifier:" "$work/wrk.txt" || { cat "$work/wrk.txt"; exit 1; }
cat "$work/issuer-load.txt"
echo "RSS issuer: ${issuer_rss0} KiB at start, ${issuer_rss1} KiB at end"
echo "RSS verifier: ${verifier_rss0} KiB at start, ${verifier_rss1} KiB at end"
v5=$(sed -n 's/^verifier-5xx=//p' "$work/wrk.txt")
kill -0 "$issuer_pid" && kill -0 "$verifier_pid" || { echo "soak: a server died" >&2; exit 1; }
[ "${v5:-1}" = 0 ] && [ "$issuer_ok" = 1 ] || { echo "soak: FAILED" >&2; exit 1; }
echo "soak: ok"
