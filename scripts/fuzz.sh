#!/usr/bin/env bash
# Runs every fuzz target (fuzz/, cargo fuzz + libFuzzer) for SECONDS each (default 15),
# starting from the committed seed corpora in fuzz/corpus/<target>; new inputs go to
# target/fuzz-corpus/<target> (never into the repository), crashes to
# fuzz/artifacts/<target>/. Exit 1 on the first crash, hang (10 s) or out-of-memory
# (2 GiB). Installs cargo-fuzz if missing. libFuzzer needs nightly flags: stable Rust is
# told to allow them (RUSTC_BOOTSTRAP=1), as cargo fuzz does on stable toolchains.
#   scripts/fuzz.sh            # 15 s per target (scripts/test runs 10 s per target)
#   scripts/fuzz.sh 900        # 15 minutes per target
#   scripts/fuzz.sh 60 verify  # one target
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-15}
shift || true
export RUSTC_BOOTSTRAP=1
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "scripts/fuzz.sh: installing cargo-fuzz" >&2
  cargo install cargo-fuzz --version 0.13.2 --locked
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cd fuzz && cargo fuzz list)
(cd fuzz && cargo fuzz build -O)
for t in "${targets[@]}"; do
  scratch=target/fuzz-corpus/$t
  mkdir -p "$scratch"
  echo "scripts/fuzz.sh: $t for ${seconds}s" >&2
  (cd fuzz && cargo fuzz run -O "$t" "../$scratch" "corpus/$t" -- \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
      2>"../target/fuzz-$t.log") || { tail -40 "target/fuzz-$t.log" >&2; echo "scripts/fuzz.sh: $t FAILED" >&2; exit 1; }
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|cov: " "target/fuzz-$t.log" | tail -3 | tr '\n' ' ' >&2
  echo >&2
done
