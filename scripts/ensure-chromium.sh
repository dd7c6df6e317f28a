#!/usr/bin/env bash
# Headless Chromium for the HTML report test (test infrastructure only: the test opens the
# `disk report --html` page and checks the screenshot shows its charts). Installs the distro
# package when it is missing and we are root with apt-get; otherwise says why it is absent and
# exits 0 (the test then skips with a printed reason).
set -uo pipefail
find_chromium() {
  for c in chromium chromium-browser google-chrome-stable google-chrome; do
    if command -v "$c" >/dev/null 2>&1; then command -v "$c"; return 0; fi
  done
  return 1
}
if bin=$(find_chromium); then
  echo "[test] chromium: $bin ($("$bin" --version 2>/dev/null | head -n 1))"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "[test] chromium not installed and not root: cannot apt-get install it; the HTML report screenshot test will be skipped"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "[test] chromium not installed and apt-get is unavailable; the HTML report screenshot test will be skipped"
  exit 0
fi
echo "[test] installing chromium with apt-get (quietly)"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq --no-install-recommends chromium >/tmp/ensure-chromium.log 2>&1; then
  # A stale package index is the usual cause; refresh once and retry.
  apt-get update -qq >>/tmp/ensure-chromium.log 2>&1 || true
  if ! apt-get install -y -qq --no-install-recommends chromium >>/tmp/ensure-chromium.log 2>&1; then
    echo "[test] apt-get install chromium failed (see /tmp/ensure-chromium.log); the HTML report screenshot test will be skipped"
    tail -n 5 /tmp/ensure-chromium.log
    exit 0
  fi
fi
if bin=$(find_chromium); then
  echo "[test] chromium: $bin ($("$bin" --version 2>/dev/null | head -n 1))"
else
  echo "[test] chromium package installed but no chromium binary on PATH; the HTML report screenshot test will be skipped"
fi
exit 0
