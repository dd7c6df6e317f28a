#!/usr/bin/env bash
# Test bed: a real single-node Apache Kafka broker (KRaft, broker+controller) on 127.0.0.1.
#   scripts/kafka.sh fetch <version>          download jars from Maven Central (cached in .cache/)
#   scripts/kafka.sh start <version> <dir>    format + start (reuses <dir>'s config on restart);
#                                             prints host:port, also written to <dir>/bootstrap
#   scripts/kafka.sh start-secure <version> <dir>
#                                             the same broker with a SASL_SSL listener too: a CA
#                                             and a broker certificate (openssl) in <dir>/tls,
#                                             users for PLAIN and SCRAM-SHA-256/512 (SCRAM ones
#                                             created at format time with --add-scram), random
#                                             passwords in <dir>/users.env; prints
#                                             "<plaintext host:port> <sasl_ssl host:port>"
#   scripts/kafka.sh stop <dir>               SIGTERM, wait, then SIGKILL
#   scripts/kafka.sh kill <dir>               kill -9 (fault tests)
#   scripts/kafka.sh start-cluster <version> <dir> <n> [logdir1 ... logdirN]
#                                             n KRaft nodes on 127.0.0.1, each broker+controller
#                                             (a 3-voter quorum for n=3: one node can be killed),
#                                             node i in <dir>/node-i, its log.dirs at logdir_i
#                                             (e.g. a tmpfs; default <dir>/node-i/data), its
#                                             metadata log in <dir>/node-i/meta (not on log.dirs,
#                                             so a full log.dir does not stop the quorum). Nodes
#                                             are formatted and started in parallel; returns once
#                                             every node logged "Kafka Server started" (KRaft:
#                                             after it caught up and was unfenced) and listens.
#                                             Prints the bootstrap list (also <dir>/bootstrap);
#                                             <dir>/nodes has "id host:port logdir" per node.
#   scripts/kafka.sh stop-cluster <dir>       SIGTERM every node in parallel, then SIGKILL
#   scripts/kafka.sh kill-broker <dir> <id>   kill -9 node <id>
#   KAFKA_HEAP (default -Xmx384m) sets the heap of cluster nodes.
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

# Test-bed TLS material: a CA, a broker key and certificate for 127.0.0.1/localhost signed by it
# (PKCS12 keystore for the broker), and a second CA that signed nothing (an "untrusted" CA).
make_tls() {
  local dir=$1 pass=$2
  mkdir -p "$dir/tls" && cd "$dir/tls"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca-key.pem -out ca.pem -days 7 \
    -subj "/CN=kafka-archive test CA" >/dev/null 2>&1
  openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca-key.pem -out other-ca.pem -days 7 \
    -subj "/CN=some other CA" >/dev/null 2>&1
  openssl req -newkey rsa:2048 -nodes -keyout broker-key.pem -out broker.csr \
    -subj "/CN=localhost" >/dev/null 2>&1
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > san.ext
  openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 7 \
    -extfile san.ext -out broker.pem >/dev/null 2>&1
  openssl pkcs12 -export -in broker.pem -inkey broker-key.pem -certfile ca.pem -name broker \
    -out broker.p12 -passout "pass:$pass" >/dev/null 2>&1
  cd - >/dev/null
}

start() {
  local v=$1 dir=$2 secure=${3:-}
  fetch "$v"
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  if is_running "$dir"; then cat "$dir/bootstrap"; return 0; fi
  local cp="$CACHE/kafka/$v/libs/*"
  if [ ! -f "$dir/server.properties" ]; then
    local port cport sport="" listeners advertised protocols scram=()
    port=$(free_port); cport=$(free_port)
    while [ "$cport" = "$port" ]; do cport=$(free_port); done
    listeners="PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport"
    advertised="PLAINTEXT://127.0.0.1:$port"
    protocols="PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
    if [ -n "$secure" ]; then
      sport=$(free_port)
      while [ "$sport" = "$port" ] || [ "$sport" = "$cport" ]; do sport=$(free_port); done
      listeners="$listeners,SASL_SSL://127.0.0.1:$sport"
      advertised="$advertised,SASL_SSL://127.0.0.1:$sport"
      protocols="$protocols,SASL_SSL:SASL_SSL"
      local kspass plain s256 s512
      kspass=$(openssl rand -hex 12); plain=$(openssl rand -hex 12)
      s256=$(openssl rand -hex 12); s512=$(openssl rand -hex 12)
      make_tls "$dir" "$kspass"
      cat > "$dir/users.env" <<USERS
PLAIN_USER=archiver-plain
PLAIN_PASSWORD=$plain
SCRAM_SHA_256_USER=archiver-256
SCRAM_SHA_256_PASSWORD=$s256
SCRAM_SHA_512_USER=archiver-512
SCRAM_SHA_512_PASSWORD=$s512
CA_FILE=$dir/tls/ca.pem
OTHER_CA_FILE=$dir/tls/other-ca.pem
USERS
      scram=(--add-scram "SCRAM-SHA-256=[name=archiver-256,password=$s256]"
             --add-scram "SCRAM-SHA-512=[name=archiver-512,password=$s512]")
    fi
    cat > "$dir/server.properties" <<PROPS
node.id=1
process.roles=broker,controller
listeners=$listeners
advertised.listeners=$advertised
listener.security.protocol.map=$protocols
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
    if [ -n "$secure" ]; then
      cat >> "$dir/server.properties" <<PROPS
# SASL_SSL listener (test bed): TLS with a test CA, SASL PLAIN and SCRAM-SHA-256/512
ssl.keystore.type=PKCS12
ssl.keystore.location=$dir/tls/broker.p12
ssl.keystore.password=$kspass
ssl.key.password=$kspass
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_archiver-plain="$plain";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
PROPS
      echo "127.0.0.1:$port 127.0.0.1:$sport" > "$dir/bootstrap"
    else
      echo "127.0.0.1:$port" > "$dir/bootstrap"
    fi
    java -Xmx256m -cp "$cp" kafka.tools.StorageTool format -t "$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)" \
      -c "$dir/server.properties" --ignore-formatted "${scram[@]}" > "$dir/format.log" 2>&1 || { cat "$dir/format.log" >&2; die "storage format failed"; }
  fi
  local opts
  opts=$(java_opts "$v" "$dir")
  # shellcheck disable=SC2086
  nohup java -Xms256m -Xmx768m -XX:+UseG1GC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true $opts \
    -cp "$cp" kafka.Kafka "$dir/server.properties" >> "$dir/server.log" 2>&1 &
  echo $! > "$dir/pid"
  port=$(sed 's/ .*//; s/.*://' "$dir/bootstrap")
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

# n KRaft nodes, each broker+controller, on 127.0.0.1 (see the header).
start_cluster() {
  local v=$1 dir=$2 n=$3; shift 3
  [ "$n" -ge 1 ] 2>/dev/null || die "start-cluster: <n> must be a positive number, got '$n'"
  [ $# -eq 0 ] || [ $# -eq "$n" ] || die "start-cluster: give no log dirs or exactly $n, got $#"
  fetch "$v"
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  local cp="$CACHE/kafka/$v/libs/*" heap=${KAFKA_HEAP:--Xmx384m}
  local i ports=() cports=() logdirs=() used=" "
  for i in $(seq 1 "$n"); do
    logdirs[i]=${1:-$dir/node-$i/data}; [ $# -gt 0 ] && shift
  done
  if [ ! -f "$dir/nodes" ]; then
    local p voters="" bootstrap=""
    for i in $(seq 1 "$n"); do
      for kind in port cport; do
        p=$(free_port); while [[ "$used" == *" $p "* ]]; do p=$(free_port); done
        used="$used$p "
        if [ "$kind" = port ]; then ports[i]=$p; else cports[i]=$p; fi
      done
      voters="$voters${voters:+,}$i@127.0.0.1:${cports[i]}"
      bootstrap="$bootstrap${bootstrap:+,}127.0.0.1:${ports[i]}"
    done
    local rf=$(( n < 3 ? n : 3 ))
    for i in $(seq 1 "$n"); do
      mkdir -p "$dir/node-$i/meta" "${logdirs[i]}"
      cat > "$dir/node-$i/server.properties" <<PROPS
node.id=$i
process.roles=broker,controller
listeners=PLAINTEXT://127.0.0.1:${ports[i]},CONTROLLER://127.0.0.1:${cports[i]}
advertised.listeners=PLAINTEXT://127.0.0.1:${ports[i]}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
controller.quorum.voters=$voters
log.dirs=${logdirs[i]}
metadata.log.dir=$dir/node-$i/meta
num.partitions=1
default.replication.factor=$rf
min.insync.replicas=1
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
delete.topic.enable=true
log.retention.check.interval.ms=5000
log.retention.ms=-1
message.max.bytes=4194304
replica.fetch.max.bytes=4194304
PROPS
      echo "$i 127.0.0.1:${ports[i]} ${logdirs[i]}" >> "$dir/nodes.tmp"
    done
    local uuid pids=()
    # A cluster id as StorageTool random-uuid makes it (base64url of 16 random bytes, not starting
    # with "-"), without starting a JVM for it.
    uuid=$(node -e 'let u;do{u=require("crypto").randomBytes(16).toString("base64url")}while(u[0]==="-");console.log(u)')
    for i in $(seq 1 "$n"); do
      java -Xmx128m -XX:TieredStopAtLevel=1 -cp "$cp" kafka.tools.StorageTool format -t "$uuid" \
        -c "$dir/node-$i/server.properties" --ignore-formatted > "$dir/node-$i/format.log" 2>&1 &
      pids[i]=$!
    done
    for i in $(seq 1 "$n"); do
      wait "${pids[i]}" || { cat "$dir/node-$i/format.log" >&2; die "storage format of node $i failed"; }
    done
    echo "$bootstrap" > "$dir/bootstrap"
    mv "$dir/nodes.tmp" "$dir/nodes"
  fi
  local id addr ld
  while read -r id addr ld; do
    local nd="$dir/node-$id"
    is_running "$nd" && continue
    mkdir -p "$ld"
    local opts; opts=$(java_opts "$v" "$nd")
    # shellcheck disable=SC2086
    nohup java -Xms64m $heap -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=48m \
      -Djava.awt.headless=true $opts -cp "$cp" kafka.Kafka "$nd/server.properties" >> "$nd/server.log" 2>&1 &
    echo $! > "$nd/pid"
  done < "$dir/nodes"
  local deadline=$((SECONDS + 180)) pending
  while :; do
    pending=0
    while read -r id addr ld; do
      local nd="$dir/node-$id"
      if ! is_running "$nd"; then tail -n 40 "$nd/server.log" >&2; die "node $id exited during start"; fi
      if ! grep -q "Kafka Server started" "$nd/server.log" 2>/dev/null ||
         ! (echo > "/dev/tcp/127.0.0.1/${addr##*:}") 2>/dev/null; then pending=$((pending + 1)); fi
    done < "$dir/nodes"
    [ $pending -eq 0 ] && break
    if [ $SECONDS -ge $deadline ]; then
      for nd in "$dir"/node-*; do echo "== $nd" >&2; tail -n 20 "$nd/server.log" >&2; done
      die "$pending of $n nodes did not start within 180 s"
    fi
    sleep 0.2
  done
  cat "$dir/bootstrap"
}

stop_cluster() {
  local dir=$1 nd pids=()
  for nd in "$dir"/node-*; do
    [ -d "$nd" ] || continue
    stop "$nd" TERM & pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || true; done
}

cmd=${1:-}; shift || true
case "$cmd" in
  fetch) [ $# -eq 1 ] || die "usage: kafka.sh fetch <version>"; fetch "$1" ;;
  start) [ $# -eq 2 ] || die "usage: kafka.sh start <version> <dir>"; start "$1" "$2" ;;
  start-secure) [ $# -eq 2 ] || die "usage: kafka.sh start-secure <version> <dir>"; start "$1" "$2" secure ;;
  stop) [ $# -eq 1 ] || die "usage: kafka.sh stop <dir>"; stop "$1" TERM ;;
  kill) [ $# -eq 1 ] || die "usage: kafka.sh kill <dir>"; stop "$1" KILL ;;
  start-cluster) [ $# -ge 3 ] || die "usage: kafka.sh start-cluster <version> <dir> <n> [logdir ...]"; start_cluster "$@" ;;
  stop-cluster) [ $# -eq 1 ] || die "usage: kafka.sh stop-cluster <dir>"; stop_cluster "$1" ;;
  kill-broker) [ $# -eq 2 ] || die "usage: kafka.sh kill-broker <dir> <id>"; [ -d "$1/node-$2" ] || die "no node $2 in $1"; stop "$1/node-$2" KILL ;;
  *) die "usage: kafka.sh fetch|start|start-secure|stop|kill|start-cluster|stop-cluster|kill-broker ..." ;;
esac
