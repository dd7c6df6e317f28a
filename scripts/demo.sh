#!/usr/bin/env bash
# The quick-start demo: a local Kafka 4.1.1 (KRaft), sample alert and monitoring streams, the
# archiver run until every record is archived, then what was archived per partition.
# Everything it downloads or writes stays under .cache/ (the archive: .cache/demo/hot).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-env.sh  # the pinned Node.js 24 runtime, fetched once into .cache/
DEMO="$PWD/.cache/demo"
VERSION="${KAFKA_VERSION:-4.1.1}"

echo "[demo] installing dependencies and building"
bash scripts/ensure-deps.sh >/dev/null
npm run --silent build

[ -d "$DEMO/kafka" ] && bash scripts/kafka.sh stop "$DEMO/kafka" >/dev/null 2>&1 || true
rm -rf "$DEMO" && mkdir -p "$DEMO"
echo "[demo] starting Kafka $VERSION (first run downloads the jars from Maven Central)"
BROKERS=$(bash scripts/kafka.sh start "$VERSION" "$DEMO/kafka" | tail -n 1)
ARCHIVER_PID=""
cleanup() {
  if [ -n "$ARCHIVER_PID" ]; then kill "$ARCHIVER_PID" 2>/dev/null && wait "$ARCHIVER_PID" || true; fi
  bash scripts/kafka.sh stop "$DEMO/kafka" >/dev/null 2>&1 || true
}
trap cleanup EXIT
echo "[demo] Kafka is up at $BROKERS"

export KAFKA_ARCHIVE_KAFKA__BROKERS="$BROKERS"
export KAFKA_ARCHIVE_ARCHIVER__HOT_DIR="$DEMO/hot"
export KAFKA_ARCHIVE_CATALOG__DIR="$DEMO/catalog"
export KAFKA_ARCHIVE_STORAGE__LOCAL__DIR="$DEMO/cold"  # the embedded object store (cold tier)
export KAFKA_ARCHIVE_TIERING__INTERVAL_MS=2s
export KAFKA_ARCHIVE_DISK__RESERVE__COUNT=0  # no ballast files in the demo's .cache
export KAFKA_ARCHIVE_TIERING__EVICT_HOT=false  # keep hot copies so DuckDB can read .cache/demo/hot below
export KAFKA_ARCHIVE_ARCHIVER__GROUP_ID=demo-archiver
export KAFKA_ARCHIVE_ARCHIVER__FLUSH_INTERVAL_MS=3s
export KAFKA_ARCHIVE_ARCHIVER__METADATA_REFRESH_MS=2s
export KAFKA_ARCHIVE_ARCHIVER__ROTATION__MAX_RECORDS=2500
export KAFKA_ARCHIVE_LOG__LEVEL=warn
export KAFKA_ARCHIVE_SERVER__PORT=0  # HTTP API and /metrics on any free port (logged)
PATTERN='ztf_alerts|cluster1\..*'

npx tsx scripts/demo-produce.ts > "$DEMO/produced.json"
echo "[demo] produced: $(cat "$DEMO/produced.json")"

echo "[demo] running: kafka-archive run --topic-pattern '$PATTERN'"
node bin/kafka-archive.js run --topic-pattern "$PATTERN" 2> "$DEMO/archiver.log" &
ARCHIVER_PID=$!

expected=$(node -e 'const p=require(process.argv[1]);console.log(Object.values(p).reduce((a,b)=>a+b,0))' "$DEMO/produced.json")
deadline=$((SECONDS + 180))
while :; do
  # (offsets exits non-zero until the first segment is sealed: nothing archived yet)
  archived=$( (node bin/kafka-archive.js offsets "$PATTERN" --json 2>/dev/null || true) |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log(JSON.parse(s).reduce((a,r)=>a+r.records,0))}catch{console.log(0)}})')
  printf '\r[demo] archived %s / %s records' "$archived" "$expected"
  [ "$archived" -ge "$expected" ] && break
  if [ $SECONDS -ge $deadline ]; then echo; echo "[demo] timed out; archiver log:"; tail -n 30 "$DEMO/archiver.log"; exit 1; fi
  sleep 1
done
echo
# Tiering: every sealed segment is uploaded to the embedded object store and verified.
deadline=$((SECONDS + 60))
until node bin/kafka-archive.js offsets "$PATTERN" --json 2>/dev/null |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.exit(JSON.parse(s).every(r=>r.tiers.includes("cold"))?0:1))'; do
  [ $SECONDS -ge $deadline ] && { echo "[demo] tiering did not finish; see $DEMO/archiver.log"; break; }
  sleep 1
done
echo "[demo] every segment is also in the cold tier (embedded object store: $DEMO/cold)"
kill -TERM "$ARCHIVER_PID"; wait "$ARCHIVER_PID" || true; ARCHIVER_PID=""

echo "[demo] kafka-archive offsets '$PATTERN'"
node bin/kafka-archive.js offsets "$PATTERN"
echo
echo "[demo] the same archive read in place by DuckDB (read_parquet, hive partitioning):"
node scripts/demo-duckdb.mjs "$DEMO/hot"
echo "[demo] archive: $DEMO/hot"
