#!/usr/bin/env bash
# Test bed: a real single-node Apache Kafka broker (KRaft, broker+controller) on 127.0.0.1.
#   scripts/kafka.sh fetch <version>          download jars from Maven Central (cached in .cache/)
#   scripts/kafka.sh start <version> <dir>    format + start (reuses <dir>'s config on restart);
#                                             prints host:port, also written to <dir>/bootstrap
#   scripts/kafka.sh stop <dir>               SIGTERM, wait, then SIGKILL
#   scripts/kafka.sh kill <dir>               kill -9 (fault tests)
# The broker logs to <dir>/server.log; data lives in <dir>/data.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="$ROOT/.cache"

die() { echo "kafka.sh: $*" >&2; exit 1; }

fetch() {
  local v=$1 dir="$CACHE/kafka/$1"
  [ -f "$dir/.complete" ] && return 0
  command -v mvn >/dev/null || die "Maven (mvn) is required to fetch Kafka jars"
  command -v java >/dev/null || die "Java 17 is required to run Kafka"
  mkdir -p "$dir"
  local logging=""
  case "$v" in
    3.*) ;; # kafka_2.13 3.x brings slf4j-reload4j + reload4j
    *) logging="<dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>2.24.3</version></dependency>" ;;
  esac
  cat > "$dir/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>kafka-archive.testbed</groupId><artifactId>kafka-$v</artifactId><version>1</version>
<dependencies>
<dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$v</version></dependency>
<dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$v</version></dependency>
$logging
</dependencies></project>
POM
  echo "kafka.sh: fetching Apache Kafka $v from Maven Central" >&2
  rm -rf "$dir/libs"
  (cd "$dir" && mvn -q -B -Dmaven.repo.local="$CACHE/m2" dependency:copy-dependencies -DoutputDirectory=libs >&2) ||
    die "Maven could not fetch org.apache.kafka:kafka_2.13:$v"
  touch "$dir/.complete"
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

is_running() { [ -f "$1/pid" ] && kill -0 "$(cat "$1/pid")" 2>/dev/null; }

java_opts() {
  local v=$1 dir=$2
  case "$v" in
    3.*)
      cat > "$dir/log4j.properties" <<'L4J'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
L4J
      echo "-Dlog4j.configuration=file:$dir/log4j.properties" ;;
    *)
      cat > "$dir/log4j2.properties" <<'L4J'
rootLogger.level=INFO
rootLogger.appenderRef.stdout.ref=STDOUT
appender.stdout.type=Console
appender.stdout.name=STDOUT
appender.stdout.layout.type=PatternLayout
appender.stdout.layout.pattern=[%d] %p %m (%c)%n
L4J
      echo "-Dlog4j2.configurationFile=$dir/log4j2.properties" ;;
  esac
}

start() {
  local v=$1 dir=$2
  fetch "$v"
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  if is_running "$dir"; then cat "$dir/bootstrap"; return 0; fi
  local cp="$CACHE/kafka/$v/libs/*"
  if [ ! -f "$dir/server.properties" ]; then
    local port cport
    port=$(free_port); cport=$(free_port)
    while [ "$cport" = "$port" ]; do cport=$(free_port); done
    cat > "$dir/server.properties" <<PROPS
node.id=1
process.roles=broker,controller
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
controller.quorum.voters=1@127.0.0.1:$cport
log.dirs=$dir/data
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
delete.topic.enable=true
log.cleaner.backoff.ms=1000
log.retention.check.interval.ms=5000
# Tests and the demo produce records with historic timestamps (an archive's normal input); with
# time-based retention on, the broker would delete them within seconds of being written.
log.retention.ms=-1
message.max.bytes=4194304
replica.fetch.max.bytes=4194304
PROPS
    echo "127.0.0.1:$port" > "$dir/bootstrap"
    java -Xmx256m -cp "$cp" kafka.tools.StorageTool format -t "$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)" \
      -c "$dir/server.properties" --ignore-formatted > "$dir/format.log" 2>&1 || { cat "$dir/format.log" >&2; die "storage format failed"; }
  fi
  local opts
  opts=$(java_opts "$v" "$dir")
  # shellcheck disable=SC2086
  nohup java -Xms256m -Xmx768m -XX:+UseG1GC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true $opts \
    -cp "$cp" kafka.Kafka "$dir/server.properties" >> "$dir/server.log" 2>&1 &
  echo $! > "$dir/pid"
  port=$(sed 's/.*://' "$dir/bootstrap")
  local deadline=$((SECONDS + 90))
  until grep -q "Kafka Server started\|\[KafkaRaftServer nodeId=1\] Kafka Server started" "$dir/server.log" 2>/dev/null &&
        (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    if ! is_running "$dir"; then tail -n 40 "$dir/server.log" >&2; die "broker exited during start"; fi
    if [ $SECONDS -ge $deadline ]; then tail -n 40 "$dir/server.log" >&2; die "broker did not start within 90 s"; fi
    sleep 0.3
  done
  cat "$dir/bootstrap"
}

stop() {
  local dir=$1 sig=${2:-TERM}
  [ -f "$dir/pid" ] || return 0
  local pid; pid=$(cat "$dir/pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill "-$sig" "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null; do
      if [ $SECONDS -ge $deadline ]; then kill -9 "$pid" 2>/dev/null || true; fi
      sleep 0.2
    done
  fi
  rm -f "$dir/pid"
}

cmd=${1:-}; shift || true
case "$cmd" in
  fetch) [ $# -eq 1 ] || die "usage: kafka.sh fetch <version>"; fetch "$1" ;;
  start) [ $# -eq 2 ] || die "usage: kafka.sh start <version> <dir>"; start "$1" "$2" ;;
  stop) [ $# -eq 1 ] || die "usage: kafka.sh stop <dir>"; stop "$1" TERM ;;
  kill) [ $# -eq 1 ] || die "usage: kafka.sh kill <dir>"; stop "$1" KILL ;;
  *) die "usage: kafka.sh fetch|start|stop|kill ..." ;;
esac
