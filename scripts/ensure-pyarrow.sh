#!/usr/bin/env bash
# A Python virtualenv with pyarrow under .cache/ (test infrastructure only: tests check that
# pyarrow, an independent Parquet reader, opens the archive's segments).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.cache/pyenv
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import pyarrow' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --cache-dir .cache/pip 'pyarrow==26.0.1'
fi
"$VENV/bin/python" -c 'import pyarrow; print("[test] pyarrow", pyarrow.__version__)'
