#!/usr/bin/env bash
# Bulk issuance benchmark: a release `bem-issuer` on loopback with a fresh data directory
# (SQLite, WAL, synchronous=FULL), one `POST /micro-credentials/<id>/certificates/bulk` of
# ROWS CSV rows (default 10,000), ELM certificates signed with eddsa-rdfc-2022 on all
# cores and stored durably. Prints the wall time, certificates a second and the issuer's
# peak RSS.
#   scripts/bench-bulk.sh            # 10,000 rows
#   ROWS=1000 scripts/bench-bulk.sh
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${ROWS:-10000}
cargo build --release -q -p bem-issuer
work=$(mktemp -d)
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
port=18091
target/release/bem-issuer serve --data-dir "$work/data" --listen "127.0.0.1:$port" >"$work/log" 2>&1 &
server=$!
for _ in $(seq 50); do [ -f "$work/data/admin-token" ] && curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
token=$(cat "$work/data/admin-token")
python3 - "$rows" > "$work/rows.csv" <<'PY'
import sys
print("name,email,dateOfBirth,grade")
for i in range(int(sys.argv[1])):
    print(f"Learner {i},learner{i}@example.org,1990-04-01,Very good")
PY
start=$(date +%s.%N)
code=$(curl -s -o "$work/answer.json" -w '%{http_code}' -X POST \
  -H "Authorization: Bearer $token" -H 'Content-Type: text/csv; charset=utf-8' \
  --data-binary @"$work/rows.csv" "http://127.0.0.1:$port/micro-credentials/ge-home-care-older-people/certificates/bulk")
end=$(date +%s.%N)
rss=$(grep VmHWM "/proc/$server/status" | awk '{print $2}')
python3 - "$work/answer.json" "$code" "$start" "$end" "$rss" <<'PY'
import json, sys
answer, code, start, end, rss = sys.argv[1:]
body = json.load(open(answer))
secs = float(end) - float(start)
print(f"HTTP {code}: issued {body.get('issued')} failed {body.get('failed')} in {secs:.1f} s "
      f"({body.get('issued', 0) / secs:.0f} certificates/s), issuer peak RSS {int(rss) // 1024} MB")
PY
