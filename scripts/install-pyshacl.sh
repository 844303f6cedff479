#!/usr/bin/env bash
# Installs pyshacl (pinned) into target/pyshacl-venv for the issuer's SHACL test
# (issuer/src/shacl_tests.rs, scripts/shacl-validate.py). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=0.30.1
VENV=target/pyshacl-venv
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import pyshacl, sys; sys.exit(pyshacl.__version__ != '$VERSION')" 2>/dev/null; then
  exit 0
fi
echo "scripts/install-pyshacl.sh: installing pyshacl==$VERSION into $VENV"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "pyshacl==$VERSION"
