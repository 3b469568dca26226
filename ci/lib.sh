# shellcheck shell=bash
# Shared helpers for the ci/<service>.sh scripts: paths, logging, process control,
# readiness waits and package installs. Sourced, never run.
#
# Rules every service script follows, and why:
#  - stdout is reserved for ci/services' export lines (callers do
#    `eval "$(ci/services up)"`), so everything here logs to stderr.
#  - Servers are started with setsid and ALL of stdin/stdout/stderr redirected to
#    files. A server that inherits the caller's stdout pipe keeps `$(ci/services up)`
#    waiting forever; one that stays in the caller's process group dies with it.
#  - "Is it up?" is answered by a real protocol probe, never by a pid file alone, and
#    the process answering on the port must be the one we started (a distro service
#    on the same port would otherwise be silently used with the wrong config).

set -euo pipefail

CI_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$CI_SCRIPTS/.." && pwd)"
# All runtime state (downloads, data, logs, pid files) lives here; git-ignored.
STATE_DIR="${QUARTILE_CI_DIR:-$REPO_ROOT/.ci-services}"
mkdir -p "$STATE_DIR"
STATE_DIR="$(cd "$STATE_DIR" && pwd)"

# Fixed ports: they are part of the contract printed by `ci/services up`.
KAFKA_PORT=9092
KAFKA_CONTROLLER_PORT=9093
REGISTRY_PORT=8081
# Quarkus opens a second "management" listener (health, metrics) on 0.0.0.0:9000 by
# default, which collides with ClickHouse's native TCP port. Moved and bound to loopback.
REGISTRY_MANAGEMENT_PORT=8082
REDIS_PORT=6379
CLICKHOUSE_HTTP_PORT=8123
CLICKHOUSE_TCP_PORT=9000
CLICKHOUSE_INTERSERVER_PORT=9009

ALL_SERVICES=(kafka registry redis clickhouse)

log() { printf '[ci/services %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Prints the last lines of the given log files to stderr, so a CI failure shows why.
show_log_tail() {
  local f
  for f in "$@"; do
    [ -s "$f" ] || continue
    printf '%s\n' "----- last 60 lines of $f -----" >&2
    tail -n 60 "$f" >&2
    printf '%s\n' "----- end of $f -----" >&2
  done
}

# --- process helpers -------------------------------------------------------------

read_pid() { [ -s "$1" ] && tr -dc '0-9' <"$1" || true; }

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# Pid of the process listening on 127.0.0.1:PORT (empty when nothing listens, or when
# `ss` cannot tell). Used to check that the listener is the server we started.
listener_pid() {
  command -v ss >/dev/null 2>&1 || return 0
  ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n1 | cut -d= -f2 || true
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Starts "$@" as a detached daemon: own session, no inherited fds, pid recorded by the
# process itself right before exec (so the pid is the server's, not a wrapper's).
# Usage: launch_daemon PIDFILE OUTFILE CMD...
launch_daemon() {
  local pidfile="$1" out="$2"
  shift 2
  rm -f "$pidfile"
  mkdir -p "$(dirname "$out")"
  printf '===== %s starting: %s\n' "$(date '+%F %T')" "$*" >>"$out"
  # fd 9 is the per-service lock (see with_service_lock); closing it here matters: a
  # daemon that inherited it would hold the lock for as long as it runs.
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" </dev/null >>"$out" 2>&1 9>&- &
  local i
  for i in $(seq 1 50); do
    [ -s "$pidfile" ] && return 0
    sleep 0.1
  done
  die "could not launch: $*"
}

# Stops PID: SIGTERM (graceful: Kafka and Redis flush, ClickHouse finishes queries),
# then SIGKILL after GRACE seconds.
stop_pid() {
  local pid="$1" grace="$2" name="$3" i
  pid_alive "$pid" || return 0
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 $((grace * 10))); do
    pid_alive "$pid" || return 0
    sleep 0.1
  done
  log "$name did not stop within ${grace}s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do
    pid_alive "$pid" || return 0
    sleep 0.1
  done
  die "$name (pid $pid) survived SIGKILL"
}

# Is the process that answers on PORT the one in PIDFILE? When `ss` cannot name the
# listener we fall back to trusting a live pid file.
is_ours() {
  local pidfile="$1" port="$2" pid lpid
  pid="$(read_pid "$pidfile")"
  pid_alive "$pid" || return 1
  lpid="$(listener_pid "$port")"
  [ -z "$lpid" ] || [ "$lpid" = "$pid" ]
}

# Fails when something we did not start holds PORT, naming it.
ensure_port_free() {
  local port="$1" name="$2" lpid
  if port_open "$port"; then
    lpid="$(listener_pid "$port")"
    local what="unknown process"
    [ -n "$lpid" ] && what="pid $lpid: $(tr '\0' ' ' <"/proc/$lpid/cmdline" 2>/dev/null | cut -c1-200)"
    die "port $port, needed by $name, is already taken by $what. Stop it, or stop the distro service (e.g. 'service $name stop')."
  fi
}

# Waits up to TIMEOUT seconds for PROBE_FN to succeed while PID stays alive.
# On failure shows the log tails and returns 1.
wait_ready() {
  local name="$1" timeout="$2" probe="$3" pid="$4"
  shift 4
  local start=$SECONDS
  while (( SECONDS - start < timeout )); do
    if "$probe"; then
      log "$name ready after $((SECONDS - start))s"
      return 0
    fi
    if ! pid_alive "$pid"; then
      log "ERROR: $name exited during startup"
      show_log_tail "$@"
      return 1
    fi
    sleep 0.5
  done
  log "ERROR: $name not ready after ${timeout}s"
  show_log_tail "$@"
  return 1
}

# Serializes up/down of one service across concurrent callers (two test processes
# running `ci/services up` at once must not both start a broker).
# Usage: with_service_lock NAME CMD...
with_service_lock() {
  local name="$1"
  shift
  exec 9>"$STATE_DIR/.$name.lock"
  flock -w 600 9 || die "timed out waiting for the $name lock"
  "$@"
  local rc=$?
  exec 9>&-
  return $rc
}

# --- installs --------------------------------------------------------------------

apt_install() {
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  log "installing Debian packages: $*"
  export DEBIAN_FRONTEND=noninteractive
  # Serialized: two services installing at once would fight over the dpkg lock.
  (
    flock -w 900 8
    $sudo apt-get install -y -q --no-install-recommends "$@" >&2 ||
      { $sudo apt-get update -q >&2 && $sudo apt-get install -y -q --no-install-recommends "$@" >&2; }
  ) 8>"$STATE_DIR/.apt.lock"
}

# On a machine with an init system, installing redis-server or clickhouse-server starts
# the distro's own instance on our port (with its own data dir and no AOF). We only
# ever want ours, so stop and disable theirs right after installing it.
stop_distro_service() {
  local unit="$1"
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$unit" 2>/dev/null; then
    systemctl disable --now "$unit" >&2 2>&1 || true
  elif command -v service >/dev/null 2>&1; then
    service "$unit" stop >/dev/null 2>&1 || true
  fi
}

ensure_curl() { command -v curl >/dev/null 2>&1 || apt_install curl ca-certificates; }

ensure_java_and_maven() {
  command -v java >/dev/null 2>&1 || apt_install openjdk-17-jre-headless
  command -v mvn >/dev/null 2>&1 || apt_install maven
}

# Runs Maven with a machine-wide lock: Maven 3.8 does not lock ~/.m2, and two
# concurrent resolutions (Kafka's and Apicurio's) can corrupt a shared download.
mvn_locked() {
  ensure_java_and_maven
  (
    flock -w 900 8
    # From the state dir, so nothing Maven writes relative to its cwd lands in the repo.
    # Debian's Maven 3.8 emits ANSI resets even with -B -q and style.color=never: strip
    # them so CI logs stay readable (pipefail keeps mvn's exit status).
    cd "$STATE_DIR" && mvn -B -q -Dstyle.color=never "$@" 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >&2
  ) 8>"$STATE_DIR/.maven.lock"
}

# Java major version of the given java binary (e.g. 17).
java_major() {
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p' | head -n1
}
