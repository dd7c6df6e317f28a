#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what it needs (npm packages, Kafka jars via
# Maven, versitygw via Go, pyarrow via pip), then lint, type check, unit tests, and the
# integration tests against real Kafka brokers (3.9.1 and 4.1.1) and a real S3 server; the
# Kafka-facing suites once more through @platformatic/kafka.
#   KAFKA_VERSIONS="4.1.1" npm test     # one broker version only
#   KAFKA_BROKERS=host:9092 / S3_ENDPOINT=http://127.0.0.1:7070 use running services instead
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-env.sh  # the pinned Node.js 24 runtime, fetched once into .cache/
ROOT=$PWD
REPORTS="$ROOT/.cache/test-reports"
rm -rf "$REPORTS" && mkdir -p "$REPORTS"

step() { printf '\n=== %s\n' "$*"; }

step "install npm dependencies"
bash scripts/ensure-deps.sh

step "build, lint, type check"
npm run --silent build
npm run --silent lint
npm run --silent typecheck

step "fetch test services (cached under .cache/)"
bash scripts/s3.sh fetch
for v in ${KAFKA_VERSIONS:-3.9.1 4.1.1}; do bash scripts/kafka.sh fetch "$v"; done
bash scripts/ensure-schemathesis.sh  # the API fuzz test needs it (test/integration/server.test.ts)
bash scripts/ensure-pyarrow.sh || echo "[test] pyarrow unavailable: the pyarrow cross-check will be skipped"
bash scripts/ensure-chromium.sh || echo "[test] chromium unavailable: the HTML report screenshot test will be skipped"

status=0
step "unit tests"
npx vitest run --project unit --reporter=default --reporter=json --outputFile.json="$REPORTS/unit.json" || status=1

# The suites that talk to Kafka also run through the second client (kafka.client: platformatic).
KAFKA_SUITES="test/integration/kafka-smoke.test.ts test/integration/kafka-consumer.test.ts
  test/integration/kafka-transactions.test.ts test/integration/archiver.test.ts
  test/integration/archiver-faults.test.ts"
for v in ${KAFKA_VERSIONS:-3.9.1 4.1.1}; do
  step "integration tests on Kafka $v (real broker) and versitygw (real S3)"
  KAFKA_VERSION="$v" npx vitest run --project integration --reporter=default \
    --reporter=json --outputFile.json="$REPORTS/integration-$v.json" || status=1
  step "Kafka integration tests on Kafka $v through @platformatic/kafka (KAFKA_CLIENT=platformatic)"
  # shellcheck disable=SC2086
  KAFKA_CLIENT=platformatic KAFKA_VERSION="$v" npx vitest run --project integration \
    --reporter=default --reporter=json \
    --outputFile.json="$REPORTS/integration-$v-platformatic.json" $KAFKA_SUITES || status=1
done

node scripts/test-summary.mjs "$REPORTS"/*.json || status=1
exit $status
