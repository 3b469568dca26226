#!/usr/bin/env bash
# ClickHouse (Debian bookworm's clickhouse-server 18.16) on 127.0.0.1:8123 (HTTP) and
# 9000 (native).
#   ci/clickhouse.sh up|down|status
#
# Surprises with the 2018 Debian build:
#  - The server is /usr/sbin/clickhouse-server, a small binary linked against
#    libclickhouse.so (not upstream's single `clickhouse` multi-tool), and /usr/sbin is
#    not on every user's PATH, so we look in both places.
#  - It runs as root without complaint as long as root owns the data dir (we create it),
#    and takes just --config-file: no `--` overrides needed.
#  - It predates many settings current clients send: for example an HTTP query with
#    insert_deduplication_token=... fails with "Unknown setting" (HTTP 404). Only the
#    HTTP transport is smoke-tested against it; docker-compose.yml runs a current one.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NAME=clickhouse
DIR="$STATE_DIR/clickhouse"
PIDFILE="$DIR/clickhouse.pid"
OUT="$DIR/logs/stdout.log"
SERVER_LOG="$DIR/logs/clickhouse-server.log"
ERR_LOG="$DIR/logs/clickhouse-server.err.log"
CONF="$DIR/etc/config.xml"
START_TIMEOUT=60

clickhouse_bin() {
  local b
  for b in "$(command -v clickhouse-server || true)" /usr/sbin/clickhouse-server /usr/bin/clickhouse-server; do
    if [ -n "$b" ] && [ -x "$b" ]; then echo "$b"; return 0; fi
  done
  return 1
}

clickhouse_install() {
  clickhouse_bin >/dev/null && return 0
  apt_install clickhouse-server clickhouse-client
  stop_distro_service clickhouse-server
  clickhouse_bin >/dev/null || die "clickhouse: clickhouse-server not found after apt-get install"
}

# Real readiness: a query over HTTP returns its result.
clickhouse_probe() { [ "$(curl -sf -m 5 'http://127.0.0.1:8123/?query=SELECT%201' 2>/dev/null)" = "1" ]; }

clickhouse_running() { is_ours "$PIDFILE" "$CLICKHOUSE_HTTP_PORT" && clickhouse_probe; }

clickhouse_up() {
  clickhouse_install
  ensure_curl
  if clickhouse_running; then
    log "clickhouse: already up (pid $(read_pid "$PIDFILE"))"
    return 0
  fi
  clickhouse_stop
  ensure_port_free "$CLICKHOUSE_HTTP_PORT" clickhouse-server
  ensure_port_free "$CLICKHOUSE_TCP_PORT" clickhouse-server
  ensure_port_free "$CLICKHOUSE_INTERSERVER_PORT" clickhouse-server
  mkdir -p "$DIR"/{etc,data,tmp,user_files,format_schemas,logs}
  sed -e "s#@DIR@#$DIR#g" -e "s#@USERS@#$DIR/etc/users.xml#g" "$CI_SCRIPTS/clickhouse/config.xml" >"$CONF"
  cp "$CI_SCRIPTS/clickhouse/users.xml" "$DIR/etc/users.xml"
  log "clickhouse: starting (log: $SERVER_LOG)"
  # Run from $DIR: the server writes status files relative to paths in its config,
  # but a cwd outside the repo keeps stray files out of the work tree.
  (cd "$DIR" && launch_daemon "$PIDFILE" "$OUT" "$(clickhouse_bin)" --config-file="$CONF")
  wait_ready clickhouse "$START_TIMEOUT" clickhouse_probe "$(read_pid "$PIDFILE")" "$OUT" "$ERR_LOG" "$SERVER_LOG"
}

clickhouse_stop() {
  local pid
  pid="$(read_pid "$PIDFILE")"
  if ! pid_alive "$pid"; then
    pid="$(listener_pid "$CLICKHOUSE_HTTP_PORT")"
    # Only a server started with our config, never the distro's instance.
    if [ -n "$pid" ] && ! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--config-file=$CONF"; then
      pid=""
    fi
  fi
  # SIGTERM: ClickHouse waits for running queries, then exits.
  [ -n "$pid" ] && stop_pid "$pid" 30 clickhouse
  rm -f "$PIDFILE"
}

case "${1:-}" in
  up) with_service_lock clickhouse clickhouse_up ;;
  down) with_service_lock clickhouse clickhouse_stop ;;
  status) if clickhouse_running; then echo "clickhouse up"; else echo "clickhouse down"; fi ;;
  *) die "usage: $0 up|down|status" ;;
esac
