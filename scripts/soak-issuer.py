#!/usr/bin/env python3
"""The issuer's half of scripts/soak.sh: concurrent awards and revocations for a while,
then the check that nothing answered was lost.

    soak-issuer.py ISSUER_URL ADMIN_TOKEN SECONDS DATABASE

Three clients award certificates one after the other; one client revokes certificates
already awarded. Every answer is recorded. At the end: no 5xx; every answered award is
served at its link; every answered revocation is 1 in the database and in the served,
signed status list. Prints counts and p50/p99 latencies; exit 1 on any failure.
"""
import base64, gzip, json, sqlite3, sys, threading, time, urllib.error, urllib.request

issuer, token, seconds, database = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
MC = "md-digital-tools-small-business"
lock = threading.Lock()
awards, revocations, latencies, statuses = [], [], [], {}
deadline = time.time() + seconds


def call(method, path, body=None, admin=True):
    headers = {"Content-Type": "application/json"}
    if admin:
        headers["Authorization"] = "Bearer " + token
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(issuer + path, data=data, method=method, headers=headers)
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, payload = response.status, response.read()
    except urllib.error.HTTPError as e:
        status, payload = e.code, e.read()
    with lock:
        latencies.append(time.perf_counter() - start)
        statuses[status] = statuses.get(status, 0) + 1
    return status, payload


def awarder(n):
    i = 0
    while time.time() < deadline:
        i += 1
        status, payload = call("POST", f"/micro-credentials/{MC}/certificates", {"name": f"Soak {n}-{i}"})
        if status == 201:
            answer = json.loads(payload)
            with lock:
                awards.append((answer["verifiableCredential"], answer["links"]["credential"]))


def revoker():
    done = 0
    while time.time() < deadline:
        with lock:
            target = awards[done][0] if done < len(awards) // 2 else None
        if target is None:
            time.sleep(0.01)
            continue
        done += 1
        status, _ = call("POST", "/credentials/status", {
            "credentialId": target["id"],
            "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
            "status": True})
        if status == 200:
            with lock:
                revocations.append(target)


threads = [threading.Thread(target=awarder, args=(n,)) for n in range(3)] + [threading.Thread(target=revoker)]
for t in threads:
    t.start()
for t in threads:
    t.join()

failures = []
if any(s >= 500 for s in statuses):
    failures.append(f"5xx answers: {statuses}")
for vc, link in awards:
    status, payload = call("GET", link.replace(issuer, ""), admin=False)
    if status != 200 or json.loads(payload).get("id") != vc["id"]:
        failures.append(f"answered award {vc['id']} not served ({status})")
db = sqlite3.connect(database)
lists = {}
for vc in revocations:
    entries = vc["credentialStatus"]
    entries = entries if isinstance(entries, list) else [entries]  # one object on an ELM certificate
    entry = next(e for e in entries if e["statusPurpose"] == "revocation")
    (bit,) = db.execute(
        "SELECT e.status FROM status_entries e JOIN credentials c ON c.token = e.credential "
        "JOIN status_lists l ON l.id = e.list_id WHERE c.credential_id = ? AND l.purpose = 'revocation'",
        (vc["id"],)).fetchone()
    if bit != 1:
        failures.append(f"answered revocation of {vc['id']} lost in the database")
    url = entry["statusListCredential"]
    if url not in lists:
        status, payload = call("GET", url.replace(issuer, ""), admin=False)
        encoded = json.loads(payload)["credentialSubject"]["encodedList"]
        lists[url] = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    index = int(entry["statusListIndex"])
    if not lists[url][index // 8] & (0x80 >> (index % 8)):
        failures.append(f"answered revocation of {vc['id']} not in the served list")

latencies.sort()
pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else 0
print(f"issuer: {len(awards)} awards and {len(revocations)} revocations answered, answers {dict(sorted(statuses.items()))}, "
      f"p50 {pick(0.5):.1f} ms, p99 {pick(0.99):.1f} ms")
for f in failures[:20]:
    print("issuer: FAILED:", f)
sys.exit(1 if failures else 0)
