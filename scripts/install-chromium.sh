#!/usr/bin/env bash
# Installs Debian's Chromium and ChromeDriver for the verifier page's browser test
# (verifier/tests/verifier.rs, module `browser`). Idempotent: does nothing when both are
# already there. Uses apt-get as root, or through sudo when not root.
set -euo pipefail

if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "install-chromium.sh: Chromium is missing and this is not root (no sudo either);" >&2
  echo "install-chromium.sh: run as root: apt-get install chromium chromium-driver" >&2
  exit 1
fi

echo "install-chromium.sh: installing Debian's chromium and chromium-driver"
"${as_root[@]}" apt-get update
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends chromium chromium-driver

if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  echo "install-chromium.sh: apt-get finished but /usr/bin/chromium or /usr/bin/chromedriver is missing" >&2
  exit 1
fi
chromium --version || true
