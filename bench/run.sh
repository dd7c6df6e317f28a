#!/usr/bin/env bash
# Runs both benchmarks with their default sizes (see bench/RESULTS.md for the last results).
# The archive benchmark needs a Kafka broker: KAFKA_BROKERS=host:port (default 127.0.0.1:43419).
# Extra arguments go to the archive benchmark, e.g. bash bench/run.sh --records 100000
# Optional:
#   KAFKA_BACKUP_BIN=/path/to/kafka-backup   the archive benchmark also runs osodevops/kafka-backup
#                                            (backup, then restore) as a peer; skipped otherwise
#   BENCH_CLIENTS=1                          first run the Kafka client comparison
#                                            (bench/kafka-clients.ts; installs the candidate
#                                            clients into .cache/bench-clients when missing);
#                                            BENCH_CLIENTS_ARGS="--records 200000" passes flags
#   BENCH_RESTORE=1                          afterwards run the restore benchmark
#                                            (bench/restore-throughput.ts: produce, archive with
#                                            kafka-archive run, then time kafka-archive restore
#                                            against bare producers, kcat -P, ProducerPerformance
#                                            and kafka-backup's restore when KAFKA_BACKUP_BIN is
#                                            set); BENCH_RESTORE_ARGS="--records 300000"
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-env.sh
if [ "${BENCH_CLIENTS:-0}" = 1 ]; then
  # shellcheck disable=SC2086
  npx tsx bench/kafka-clients.ts ${BENCH_CLIENTS_ARGS:-}
fi
npx tsx bench/parquet-writers.ts
npx tsx bench/archive-throughput.ts "$@"
if [ "${BENCH_RESTORE:-0}" = 1 ]; then
  # shellcheck disable=SC2086
  npx tsx bench/restore-throughput.ts ${BENCH_RESTORE_ARGS:-}
fi
