#!/usr/bin/env bash
# Test bed: a real S3-compatible server (versitygw, posix backend, path-style) on 127.0.0.1.
#   scripts/s3.sh fetch              build versitygw with Go (cached in .cache/bin)
#   scripts/s3.sh start <dir>        start on a free port (the same port again on restart);
#                                    prints the endpoint URL, also written to <dir>/endpoint
#   scripts/s3.sh start-tls <dir>    the same over HTTPS: a test CA and a certificate for
#                                    127.0.0.1 (openssl) in <dir>/tls; the CA is <dir>/tls/ca.pem
#   scripts/s3.sh stop <dir>         SIGTERM, wait, then SIGKILL
# Credentials are test-only: access key "test-access-key", secret "test-secret-key" (S3_ROOT_ACCESS_KEY
# and S3_ROOT_SECRET_KEY replace them, e.g. random ones for a test that greps for the secret).
# The bucket "kafka-archive-test" exists after start. Logs go to <dir>/server.log.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="$ROOT/.cache"
VERSION="${VERSITYGW_VERSION:-v1.8.0}"
BIN="$CACHE/bin/versitygw-$VERSION"
ACCESS_KEY="${S3_ROOT_ACCESS_KEY:-test-access-key}"
SECRET_KEY="${S3_ROOT_SECRET_KEY:-test-secret-key}"
BUCKET=kafka-archive-test

die() { echo "s3.sh: $*" >&2; exit 1; }

fetch() {
  [ -x "$BIN" ] && return 0
  command -v go >/dev/null || die "Go is required to build versitygw"
  echo "s3.sh: building versitygw $VERSION with Go" >&2
  local gobin="$CACHE/gobin-tmp"
  rm -rf "$gobin" && mkdir -p "$CACHE/bin"
  GOBIN="$gobin" GOPATH="$CACHE/go" GOMODCACHE="$CACHE/go/mod" GOFLAGS="-modcacherw -buildvcs=false" \
    go install "github.com/versity/versitygw/cmd/versitygw@$VERSION" ||
    die "go install github.com/versity/versitygw/cmd/versitygw@$VERSION failed"
  mv "$gobin/versitygw" "$BIN"
  # The module sources are only needed to build; the binary is what stays cached.
  chmod -R u+w "$CACHE/go" 2>/dev/null || true
  rm -rf "$gobin" "$CACHE/go"
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

is_running() { [ -f "$1/pid" ] && kill -0 "$(cat "$1/pid")" 2>/dev/null; }

start() {
  local dir=$1 tls=${2:-}
  fetch
  mkdir -p "$dir/data/$BUCKET"
  dir="$(cd "$dir" && pwd)"
  if is_running "$dir"; then cat "$dir/endpoint"; return 0; fi
  local port
  if [ -f "$dir/port" ]; then port=$(cat "$dir/port"); else port=$(free_port); echo "$port" > "$dir/port"; fi
  # With the posix backend a bucket is a directory under the root; creating it up front avoids
  # needing CreateBucket rights in tests.
  local tlsargs=() scheme=http curlargs=()
  if [ -n "$tls" ]; then
    if [ ! -f "$dir/tls/cert.pem" ]; then
      mkdir -p "$dir/tls"
      openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/tls/ca-key.pem" -out "$dir/tls/ca.pem" \
        -days 7 -subj "/CN=kafka-archive test S3 CA" >/dev/null 2>&1
      openssl req -newkey rsa:2048 -nodes -keyout "$dir/tls/key.pem" -out "$dir/tls/req.csr" \
        -subj "/CN=127.0.0.1" >/dev/null 2>&1
      printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$dir/tls/san.ext"
      openssl x509 -req -in "$dir/tls/req.csr" -CA "$dir/tls/ca.pem" -CAkey "$dir/tls/ca-key.pem" \
        -CAcreateserial -days 7 -extfile "$dir/tls/san.ext" -out "$dir/tls/cert.pem" >/dev/null 2>&1
    fi
    tlsargs=(--cert "$dir/tls/cert.pem" --key "$dir/tls/key.pem")
    scheme=https
    curlargs=(--cacert "$dir/tls/ca.pem")
  fi
  ROOT_ACCESS_KEY="$ACCESS_KEY" ROOT_SECRET_KEY="$SECRET_KEY" \
    nohup "$BIN" --port "127.0.0.1:$port" "${tlsargs[@]}" posix "$dir/data" >> "$dir/server.log" 2>&1 &
  echo $! > "$dir/pid"
  local endpoint="$scheme://127.0.0.1:$port"
  for _ in $(seq 1 100); do
    if ! is_running "$dir"; then tail -20 "$dir/server.log" >&2; die "versitygw exited during start"; fi
    if curl -s "${curlargs[@]}" -o /dev/null "$endpoint/"; then
      echo "$endpoint" > "$dir/endpoint"
      echo "$endpoint"
      return 0
    fi
    sleep 0.1
  done
  tail -20 "$dir/server.log" >&2
  die "versitygw did not answer on $endpoint within 10 s"
}

stop() {
  local dir=$1
  is_running "$dir" || return 0
  local pid; pid=$(cat "$dir/pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || { rm -f "$dir/pid"; return 0; }; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$dir/pid"
}

case "${1:-}" in
  fetch) fetch ;;
  start) [ $# -eq 2 ] || die "usage: s3.sh start <dir>"; start "$2" ;;
  start-tls) [ $# -eq 2 ] || die "usage: s3.sh start-tls <dir>"; start "$2" tls ;;
  stop) [ $# -eq 2 ] || die "usage: s3.sh stop <dir>"; stop "$2" ;;
  *) sed -n '2,11p' "$0" >&2; exit 2 ;;
esac
