#!/usr/bin/env bash
# Apache Kafka 3.9.1, single node, KRaft mode, on 127.0.0.1:9092 (controller on 9093).
#   ci/kafka.sh up|down|status
# CI can reach Maven Central but not the Apache download mirrors, so instead of the
# binary tarball we resolve the broker's runtime classpath from Maven Central
# (ci/kafka/pom.xml) and run the main classes with plain `java`, the way
# bin/kafka-server-start.sh would. There are no bin/*.sh scripts in this layout.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NAME=kafka
DIR="$STATE_DIR/kafka"
LIBS="$DIR/libs"
DATA="$DIR/data"
LOGS="$DIR/logs"
PIDFILE="$DIR/kafka.pid"
OUT="$LOGS/stdout.log"          # JVM crashes, GC errors: anything not through log4j
SERVER_LOG="$LOGS/server.log"   # log4j output (ci/kafka/log4j.properties)
PROPS="$DIR/server.properties"  # rendered from ci/kafka/server.properties
# A fixed cluster id (a base64url UUID, the format StorageTool wants): the data dir is
# formatted once and reused across restarts (data survives `down`/`up`).
CLUSTER_ID="8pZO-SgqSvevjPcGZGYkoQ"
START_TIMEOUT=120

# Broker JVM: modest heap, and on a 2-core box neither a parallel collector nor C2
# pays for itself in short test runs: SerialGC and C1-only start faster and leave the
# cores to the tests. QUARTILE_CI_KAFKA_JAVA_OPTS replaces these when set.
JAVA_OPTS_DEFAULT="-Xms256m -Xmx768m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true"
# The admin tools are short-lived: smallest, fastest-starting JVM.
TOOL_JAVA_OPTS="-Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto -Dlog4j.configuration=file:$CI_SCRIPTS/kafka/tools-log4j.properties"

kafka_fetch() {
  if [ -f "$LIBS/.complete" ]; then return 0; fi
  log "kafka: resolving the broker classpath from Maven Central into $LIBS"
  rm -rf "$LIBS"
  mkdir -p "$LIBS"
  mvn_locked -f "$CI_SCRIPTS/kafka/pom.xml" \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$LIBS"
  ls "$LIBS"/kafka_2.13-*.jar >/dev/null 2>&1 || die "kafka: maven produced no kafka_2.13 jar in $LIBS"
  # Marker written last, so an interrupted download is redone rather than half-used.
  touch "$LIBS/.complete"
}

kafka_tool() {
  # shellcheck disable=SC2086
  java $TOOL_JAVA_OPTS -cp "$LIBS/*" "$@"
}

# Real readiness: the port accepts connections AND a metadata round trip works.
# kafka.admin.BrokerApiVersionsCommand (in the core jar) bootstraps through a Metadata
# request, then asks each broker it learned about for its ApiVersions; the broker is
# listed as "(id: 1 ...)" only when both answered.
# Surprise: kafka.tools.ClusterTool is also in the core jar but is only a deprecation
# shim forwarding to org.apache.kafka.tools.ClusterTool in kafka-tools, which
# kafka_2.13 does not depend on (ClassNotFoundException), so it cannot be the probe.
kafka_probe() {
  port_open "$KAFKA_PORT" || return 1
  local out
  # shellcheck disable=SC2086
  out="$(timeout 30 java $TOOL_JAVA_OPTS -cp "$LIBS/*" kafka.admin.BrokerApiVersionsCommand \
    --bootstrap-server "127.0.0.1:$KAFKA_PORT" 2>/dev/null)" || return 1
  [[ "$out" == *"(id: 1 "*"Metadata("* ]]
}

# During startup, skip the JVM-spawning probe until the broker says it started
# (3.9 logs "[KafkaRaftServer nodeId=1] Kafka Server started").
kafka_startup_probe() {
  grep -q 'Kafka Server started' "$SERVER_LOG" 2>/dev/null && kafka_probe
}

kafka_running() { is_ours "$PIDFILE" "$KAFKA_PORT" && kafka_probe; }

kafka_up() {
  if kafka_running; then
    log "kafka: already up (pid $(read_pid "$PIDFILE"))"
    return 0
  fi
  # Our process alive but not answering (under the lock, so nobody else is starting
  # it): it is wedged. Restart it.
  kafka_stop
  ensure_port_free "$KAFKA_PORT" kafka
  ensure_port_free "$KAFKA_CONTROLLER_PORT" kafka
  kafka_fetch
  mkdir -p "$DATA" "$LOGS"
  sed "s#@DATA_DIR@#$DATA#g" "$CI_SCRIPTS/kafka/server.properties" >"$PROPS"
  if [ ! -f "$DATA/meta.properties" ]; then
    log "kafka: formatting KRaft storage in $DATA (cluster id $CLUSTER_ID)"
    kafka_tool kafka.tools.StorageTool format -t "$CLUSTER_ID" -c "$PROPS" --ignore-formatted >&2 ||
      die "kafka: storage format failed"
  fi
  : >"$SERVER_LOG"
  log "kafka: starting broker (log: $SERVER_LOG)"
  # shellcheck disable=SC2086
  launch_daemon "$PIDFILE" "$OUT" \
    java ${QUARTILE_CI_KAFKA_JAVA_OPTS:-$JAVA_OPTS_DEFAULT} \
    -Dkafka.logs.dir="$LOGS" \
    -Dlog4j.configuration="file:$CI_SCRIPTS/kafka/log4j.properties" \
    -cp "$LIBS/*" kafka.Kafka "$PROPS"
  wait_ready kafka "$START_TIMEOUT" kafka_startup_probe "$(read_pid "$PIDFILE")" "$OUT" "$SERVER_LOG"
}

kafka_stop() {
  local pid
  pid="$(read_pid "$PIDFILE")"
  if ! pid_alive "$pid"; then
    # No pid file (state dir wiped or moved) but a broker from this setup still
    # listening: find it by port, and only if it is recognisably a Kafka broker.
    pid="$(listener_pid "$KAFKA_PORT")"
    if [ -n "$pid" ] && ! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka'; then
      pid=""
    fi
  fi
  # A KRaft broker's controlled shutdown normally takes a few seconds. Prefer it to a
  # SIGKILL: after a kill, the restarted broker is refused (DUPLICATE_BROKER_REGISTRATION)
  # until the dead one's session expires (broker.session.timeout.ms, 9 s), so the next
  # `up` takes ~15 s instead of ~3 s.
  [ -n "$pid" ] && stop_pid "$pid" 60 kafka
  rm -f "$PIDFILE"
}

case "${1:-}" in
  up) with_service_lock kafka kafka_up ;;
  down) with_service_lock kafka kafka_stop ;;
  status) if kafka_running; then echo "kafka up"; else echo "kafka down"; fi ;;
  *) die "usage: $0 up|down|status" ;;
esac
