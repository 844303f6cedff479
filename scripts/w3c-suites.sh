#!/usr/bin/env bash
# Runs the public W3C test suites against bem-issuer and bem-verifier over HTTPS on
# loopback and prints one line per suite.
#
#   scripts/w3c-suites.sh SUITES_DIR [SUITE...]
#
# SUITES_DIR holds checkouts of
#   vc-data-model-2.0-test-suite, vc-di-eddsa-test-suite, vc-bitstring-status-list-test-suite
# and, where github.com is out of reach of npm, also of the two packages the suites take
# from GitHub: vc-test-suite-implementations (w3c) and data-integrity-test-suite-assertion
# (w3c-ccg); their `github:` dependencies are then pointed at those checkouts.
# SUITE names one of the three to run only it (default: all three).
#
# The checkouts are not changed: each suite is copied to target/w3c-suites/, gets its
# npm packages there (Node.js and npm from the machine) and a `localConfig.cjs` that
# points it at our servers. A test CA and a certificate for `localhost` are made with
# openssl and given to Node through NODE_EXTRA_CA_CERTS. The issuer runs with
# BEM_CONFORMANCE_CONTEXTS=1 and the verifier with --conformance (the suites use the
# W3C examples context and inline contexts); the verifier may fetch from the issuer's
# loopback origin (--fetch-allow). Reports: target/w3c-suites/<suite>/reports/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

usage() { echo "usage: scripts/w3c-suites.sh SUITES_DIR [vc-data-model-2.0-test-suite|vc-di-eddsa-test-suite|vc-bitstring-status-list-test-suite]..." >&2; exit 2; }
[ $# -ge 1 ] || usage
suites_dir=$(cd "$1" && pwd) || usage
shift
all=(vc-data-model-2.0-test-suite vc-di-eddsa-test-suite vc-bitstring-status-list-test-suite)
selected=("$@")
[ ${#selected[@]} -gt 0 ] || selected=("${all[@]}")
for s in "${selected[@]}"; do
  [ -f "$suites_dir/$s/package.json" ] || { echo "w3c-suites: no checkout of $s in $suites_dir" >&2; exit 2; }
done
for tool in node npm openssl curl; do
  command -v "$tool" >/dev/null || { echo "w3c-suites: $tool is missing" >&2; exit 2; }
done

issuer_port=${BEM_SUITE_ISSUER_PORT:-40443}
verifier_port=${BEM_SUITE_VERIFIER_PORT:-40444}
work=$root/target/w3c-suites
mkdir -p "$work"

echo "w3c-suites: building bem-issuer and bem-verifier" >&2
cargo build -q --locked -p bem-issuer -p bem-verifier
bin=${CARGO_TARGET_DIR:-$root/target}/debug

# --- TLS: a test CA and a certificate for localhost ------------------------------------
tls=$work/tls
if [ ! -f "$tls/localhost.pem" ]; then
  mkdir -p "$tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj "/CN=BEM W3C suites test CA" -keyout "$tls/ca.key" -out "$tls/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
    -keyout "$tls/localhost.key" -out "$tls/localhost.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' > "$tls/ext.cnf"
  openssl x509 -req -in "$tls/localhost.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial \
    -days 30 -extfile "$tls/ext.cnf" -out "$tls/localhost.pem" 2>/dev/null
  openssl pkcs8 -topk8 -nocrypt -in "$tls/localhost.key" -out "$tls/localhost.pk8" 2>/dev/null
  chmod 600 "$tls"/*.key "$tls/localhost.pk8"
fi
export NODE_EXTRA_CA_CERTS=$tls/ca.pem

# --- the servers -------------------------------------------------------------------------
rm -rf "$work/issuer-data"
issuer_url="https://localhost:$issuer_port"
verifier_url="https://localhost:$verifier_port"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
BEM_CONFORMANCE_CONTEXTS=1 "$bin/bem-issuer" serve --data-dir "$work/issuer-data" \
  --listen "127.0.0.1:$issuer_port" --public-url "$issuer_url" \
  --tls-cert "$tls/localhost.pem" --tls-key "$tls/localhost.pk8" >"$work/issuer.log" 2>&1 &
pids+=($!)
"$bin/bem-verifier" serve --listen "127.0.0.1:$verifier_port" --conformance \
  --fetch-allow "$issuer_url/" --fetch-ca "$tls/ca.pem" \
  --tls-cert "$tls/localhost.pem" --tls-key "$tls/localhost.pk8" >"$work/verifier.log" 2>&1 &
pids+=($!)
for url in "$issuer_url/healthz" "$verifier_url/healthz"; do
  for _ in $(seq 1 100); do
    curl -fsS --cacert "$tls/ca.pem" "$url" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -fsS --cacert "$tls/ca.pem" "$url" >/dev/null || { echo "w3c-suites: $url does not answer; see $work/*.log" >&2; exit 1; }
done
for p in "${pids[@]}"; do
  kill -0 "$p" 2>/dev/null || { echo "w3c-suites: a server did not start (port in use?); see $work/*.log" >&2; exit 1; }
done
issuer_did=$(curl -fsS --cacert "$tls/ca.pem" "$issuer_url/did.json" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).id))')
token=$(cat "$work/issuer-data/admin-token")
echo "w3c-suites: issuer $issuer_did at $issuer_url, verifier at $verifier_url" >&2

# --- the suites ----------------------------------------------------------------------------
# localConfig.cjs for one suite: our endpoints under the tags the suite selects by.
local_config() {
  ISSUER_DID=$issuer_did ISSUER_URL=$issuer_url VERIFIER_URL=$verifier_url TOKEN=$token SUITE=$1 node -e '
const {ISSUER_DID: id, ISSUER_URL: iss, VERIFIER_URL: ver, TOKEN: token, SUITE: suite} = process.env;
const headers = {Authorization: `Bearer ${token}`};
const issuer = (tags, options) => ({id, endpoint: `${iss}/credentials/issue`, headers, tags, options});
const verifier = (tags, path) => ({id: "bem-verifier", endpoint: `${ver}${path}`, tags});
let implementation;
if(suite === "vc-data-model-2.0-test-suite") {
  implementation = {
    issuers: [issuer(["vc2.0"])],
    verifiers: [verifier(["vc2.0"], "/credentials/verify")],
    vpVerifiers: [verifier(["vc2.0"], "/presentations/verify")]
  };
} else if(suite === "vc-di-eddsa-test-suite") {
  const rdfc = {...issuer(["eddsa-rdfc-2022"], {cryptosuite: "eddsa-rdfc-2022"}), supports: {vc: ["1.1", "2.0"]}};
  const jcs = {...issuer(["eddsa-jcs-2022"], {cryptosuite: "eddsa-jcs-2022"}), supports: {vc: ["1.1", "2.0"]}};
  implementation = {
    issuers: [rdfc, jcs],
    verifiers: [
      {...verifier(["eddsa-rdfc-2022"], "/credentials/verify"), supports: {vc: ["1.1", "2.0"]}},
      {...verifier(["eddsa-jcs-2022"], "/credentials/verify"), supports: {vc: ["1.1", "2.0"]}}
    ]
  };
} else {
  // A revocation entry, then a message entry (statusSize 2, statusMessage, statusReference).
  const status = {credentialStatus: [
    {type: "BitstringStatusListEntry", statusPurpose: "revocation"},
    {type: "BitstringStatusListEntry", statusPurpose: "message"}
  ]};
  implementation = {
    issuers: [issuer(["BitstringStatusList"], status)],
    verifiers: [verifier(["BitstringStatusList"], "/credentials/verify")],
    vpVerifiers: [verifier(["BitstringStatusList"], "/presentations/verify")],
    setStatusLists: [{id, endpoint: `${iss}/credentials/status`, headers, tags: ["BitstringStatusList"]}]
  };
}
const config = {
  settings: {enableInteropTests: false, testAllImplementations: false},
  implementations: [{name: "BEM Credentials", implementation: "bem-issuer and bem-verifier", ...implementation}]
};
console.log("module.exports = " + JSON.stringify(config, null, 2) + ";");
'
}

# Copies a suite and installs its packages, GitHub dependencies from sibling checkouts.
prepare() {
  local suite=$1 dest=$work/$1
  mkdir -p "$dest"
  (cd "$suites_dir/$suite" && tar --exclude=./node_modules --exclude=./.git --exclude=./reports -cf - .) | (cd "$dest" && tar -xf -)
  (cd "$dest" && SUITES_DIR=$suites_dir node -e '
const fs = require("fs"), path = require("path");
const pkg = JSON.parse(fs.readFileSync("package.json", "utf8"));
for(const field of ["dependencies", "devDependencies"]) {
  for(const [name, spec] of Object.entries(pkg[field] || {})) {
    const m = /^github:[^/]+\/([^#]+)/.exec(spec);
    const local = m && path.join(process.env.SUITES_DIR, m[1]);
    if(m && fs.existsSync(path.join(local, "package.json"))) pkg[field][name] = "file:" + local;
  }
}
fs.writeFileSync("package.json", JSON.stringify(pkg, null, 2));
')
  if [ ! -d "$dest/node_modules/mocha" ]; then
    echo "w3c-suites: npm install in $dest" >&2
    (cd "$dest" && npm install --install-links --no-audit --no-fund --loglevel=error >"$dest/npm-install.log" 2>&1) \
      || { echo "w3c-suites: npm install failed for $suite; see $dest/npm-install.log" >&2; exit 1; }
  fi
  local_config "$suite" > "$dest/localConfig.cjs"
}

status=0
lines=()
for suite in "${selected[@]}"; do
  prepare "$suite"
  dest=$work/$suite
  echo "w3c-suites: running $suite" >&2
  (cd "$dest" && npx mocha tests/ --reporter json --timeout 15000 --preserve-symlinks >"$dest/results.json" 2>"$dest/mocha.log") || true
  line=$(node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const s = r.stats;
const total = s.passes + s.failures;
console.log(`${process.argv[2]}: ${s.passes}/${total} passed, ${s.failures} failed, ${s.pending} skipped`);
' "$dest/results.json" "$suite" 2>/dev/null) || line="$suite: no results (see $dest/mocha.log)"
  lines+=("$line")
  case $line in *" 0 failed, 0 skipped") ;; *) status=1 ;; esac
done
printf '%s\n' "${lines[@]}"
exit $status
