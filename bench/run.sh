#!/usr/bin/env bash
# Runs both benchmarks with their default sizes (see bench/RESULTS.md for the last results).
# The archive benchmark needs a Kafka broker: KAFKA_BROKERS=host:port (default 127.0.0.1:43419).
# Extra arguments go to the archive benchmark, e.g. bash bench/run.sh --records 100000
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-env.sh
npx tsx bench/parquet-writers.ts
npx tsx bench/archive-throughput.ts "$@"
