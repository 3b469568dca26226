#!/usr/bin/env bash
# Redis 7 (Debian's redis-server) on 127.0.0.1:6379 with AOF persistence.
#   ci/redis.sh up|down|status
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NAME=redis
DIR="$STATE_DIR/redis"
DATA="$DIR/data"
PIDFILE="$DIR/redis.pid"
OUT="$DIR/redis.log"
START_TIMEOUT=30

redis_install() {
  if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then return 0; fi
  apt_install redis-server redis-tools
  stop_distro_service redis-server
}

# Real readiness: PING answered with PONG. (Right after a restart Redis answers
# "-LOADING" while it replays the AOF; that is not PONG, so we keep waiting.)
redis_probe() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]; }

redis_running() { is_ours "$PIDFILE" "$REDIS_PORT" && redis_probe; }

redis_up() {
  redis_install
  if redis_running; then
    log "redis: already up (pid $(read_pid "$PIDFILE"))"
    return 0
  fi
  redis_stop
  ensure_port_free "$REDIS_PORT" redis-server
  mkdir -p "$DATA"
  log "redis: starting (data: $DATA, log: $OUT)"
  # --pidfile points at a file of its own: launch_daemon's pid file is written by the
  # launcher before exec, Redis would otherwise rewrite (and on exit delete) ours.
  launch_daemon "$PIDFILE" "$OUT" \
    redis-server "$CI_SCRIPTS/redis/redis.conf" \
    --port "$REDIS_PORT" --dir "$DATA" --logfile "" --pidfile "$DIR/redis-server.pid"
  wait_ready redis "$START_TIMEOUT" redis_probe "$(read_pid "$PIDFILE")" "$OUT"
}

redis_stop() {
  local pid
  pid="$(read_pid "$PIDFILE")"
  if ! pid_alive "$pid"; then
    pid="$(listener_pid "$REDIS_PORT")"
    # Only a redis-server whose data dir is ours: never the distro's instance.
    if [ -n "$pid" ] && ! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "redis-server"; then
      pid=""
    fi
    if [ -n "$pid" ] && [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" != "$DATA" ]; then
      pid=""
    fi
  fi
  # SIGTERM makes Redis fsync the AOF (and write an RDB, given `save`) before exiting.
  [ -n "$pid" ] && stop_pid "$pid" 30 redis
  rm -f "$PIDFILE"
}

case "${1:-}" in
  up) with_service_lock redis redis_up ;;
  down) with_service_lock redis redis_stop ;;
  status) if redis_running; then echo "redis up"; else echo "redis down"; fi ;;
  *) die "usage: $0 up|down|status" ;;
esac
