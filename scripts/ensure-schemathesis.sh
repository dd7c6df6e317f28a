#!/usr/bin/env bash
# A Python virtualenv with schemathesis under .cache/ (test infrastructure only: it fuzzes the
# running HTTP API with the OpenAPI document it serves; see scripts/fuzz-api.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.cache/schemathesis
VERSION=4.32.5
if [ ! -x "$VENV/bin/st" ] || ! "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('schemathesis') != '$VERSION')" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --cache-dir .cache/pip "schemathesis==$VERSION"
fi
echo "[test] schemathesis $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("schemathesis"))')"
