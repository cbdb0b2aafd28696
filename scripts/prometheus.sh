#!/usr/bin/env bash
# A throwaway Prometheus server (Debian's `prometheus`) on 127.0.0.1 that scrapes one Scrubber
# metrics endpoint, for the dashboard test (tests/integration/test_dashboard_queries.py) and for
# looking at a local `scrubber run` by hand.
#
#   scripts/prometheus.sh up METRICS_PORT [RULE_FILE...]
#                                       write a scrape config for 127.0.0.1:METRICS_PORT (and load
#                                       the rule files), start on a free port, wait until ready
#   scripts/prometheus.sh status METRICS_PORT   exit 0 if that server answers /-/ready, else 1
#   scripts/prometheus.sh down METRICS_PORT     stop it and delete its data dir
#
# One server per scraped port: its data dir is /tmp/scrubber-prometheus-METRICS_PORT. `up` and
# `status` print the server's base URL (http://127.0.0.1:PORT) as the last line of stdout; every
# other message goes to stderr, so `URL="$(scripts/prometheus.sh up 9464)"` works.
#
# The series get the labels a ServiceMonitor of the chart would give: job, namespace, pod
# (PROM_JOB=scrubber, PROM_NAMESPACE=default, PROM_POD=scrubber-0), so the dashboard's
# $namespace/$job variables and the alerts' default selector find them.
#
# Environment: PROM_PORT (default: a free port), PROM_SCRAPE_INTERVAL (1s; also the rule
# evaluation interval), PROM_DATA_DIR, PROMETHEUS (the binary; default `prometheus` on PATH),
# PROM_START_TIMEOUT (30 s).
set -euo pipefail

readonly HOST="127.0.0.1"
readonly SCRAPE_INTERVAL="${PROM_SCRAPE_INTERVAL:-1s}"
readonly JOB="${PROM_JOB:-scrubber}"
readonly NAMESPACE="${PROM_NAMESPACE:-default}"
readonly POD="${PROM_POD:-scrubber-0}"
readonly PROMETHEUS="${PROMETHEUS:-prometheus}"
readonly START_TIMEOUT="${PROM_START_TIMEOUT:-30}"
readonly STOP_TIMEOUT=15

log() { printf 'prometheus.sh: %s\n' "$*" >&2; }
die() {
  printf 'prometheus.sh: error: %s\n' "$*" >&2
  exit 1
}

usage() {
  printf 'usage: %s up METRICS_PORT [RULE_FILE...] | status METRICS_PORT | down METRICS_PORT\n' "$0" >&2
  exit 2
}

is_port() { [[ "$1" =~ ^[0-9]+$ ]] && (($1 >= 1 && $1 <= 65535)); }

# Paths of the server that scrapes METRICS_PORT (set by `paths`).
paths() {
  is_port "$1" || die "METRICS_PORT '${1}' is not a port number (1..65535)"
  TARGET_PORT="$1"
  DATA_DIR="${PROM_DATA_DIR:-/tmp/scrubber-prometheus-${TARGET_PORT}}"
  OWNER_MARKER="${DATA_DIR}/.scrubber-prometheus"
  CONFIG_FILE="${DATA_DIR}/prometheus.yml"
  PID_FILE="${DATA_DIR}/prometheus.pid"
  URL_FILE="${DATA_DIR}/url"
  LOG_FILE="${DATA_DIR}/prometheus.log"
  readonly TARGET_PORT DATA_DIR OWNER_MARKER CONFIG_FILE PID_FILE URL_FILE LOG_FILE
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

server_alive() {
  [[ -f "$PID_FILE" ]] && kill -0 "$(<"$PID_FILE")" 2>/dev/null
}

server_ready() {
  [[ -f "$URL_FILE" ]] && curl -sf --max-time 2 "$(<"$URL_FILE")/-/ready" >/dev/null
}

write_config() {
  local rule
  {
    printf 'global:\n  scrape_interval: %s\n  scrape_timeout: %s\n  evaluation_interval: %s\n' \
      "$SCRAPE_INTERVAL" "$SCRAPE_INTERVAL" "$SCRAPE_INTERVAL"
    if (($# > 0)); then
      printf 'rule_files:\n'
      for rule in "$@"; do
        [[ -f "$rule" ]] || die "rule file ${rule} does not exist"
        printf '  - %s\n' "$(readlink -f "$rule")"
      done
    fi
    printf 'scrape_configs:\n  - job_name: %s\n    static_configs:\n' "$JOB"
    printf '      - targets: ["%s:%s"]\n' "$HOST" "$TARGET_PORT"
    printf '        labels: {namespace: %s, pod: %s}\n' "$NAMESPACE" "$POD"
  } >"$CONFIG_FILE"
}

cmd_up() {
  command -v "$PROMETHEUS" >/dev/null ||
    die "no ${PROMETHEUS} on PATH; install Debian's package: apt-get install -y prometheus"
  if server_alive && server_ready; then
    log "already running (pid $(<"$PID_FILE")) for 127.0.0.1:${TARGET_PORT}"
    cat "$URL_FILE"
    return 0
  fi
  server_alive && die "a server for port ${TARGET_PORT} runs but is not ready; run '$0 down ${TARGET_PORT}'"
  local port="${PROM_PORT:-$(free_port)}" url
  is_port "$port" || die "PROM_PORT '${port}' is not a port number"
  url="http://${HOST}:${port}"
  mkdir -p "$DATA_DIR"
  touch "$OWNER_MARKER"
  write_config "$@"
  echo "$url" >"$URL_FILE"
  log "starting Prometheus on ${url}, scraping ${HOST}:${TARGET_PORT} every ${SCRAPE_INTERVAL} (log ${LOG_FILE})"
  # setsid: the server must outlive this shell and ignore a Ctrl-C sent to the caller.
  setsid "$PROMETHEUS" --config.file="$CONFIG_FILE" --storage.tsdb.path="${DATA_DIR}/data" \
    --storage.tsdb.retention.time=2h --web.listen-address="${HOST}:${port}" \
    </dev/null >>"$LOG_FILE" 2>&1 &
  echo "$!" >"$PID_FILE"
  local deadline=$((SECONDS + START_TIMEOUT))
  until server_ready; do
    if ! server_alive; then
      tail -n 20 "$LOG_FILE" >&2
      die "Prometheus exited during start-up (log above); the port may be taken: set PROM_PORT"
    fi
    ((SECONDS < deadline)) || {
      tail -n 20 "$LOG_FILE" >&2
      die "Prometheus not ready on ${url} within ${START_TIMEOUT} s (log above)"
    }
    sleep 0.2
  done
  echo "$url"
}

stop_server() {
  server_alive || return 0
  local pid deadline
  pid="$(<"$PID_FILE")"
  log "stopping Prometheus pid ${pid}"
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    log "Prometheus ignored SIGTERM for ${STOP_TIMEOUT} s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$PID_FILE"
}

cmd_down() {
  stop_server
  if [[ -d "$DATA_DIR" ]]; then
    [[ -f "$OWNER_MARKER" ]] ||
      die "${DATA_DIR} was not created by prometheus.sh (no ${OWNER_MARKER##*/} marker); not deleting it"
    rm -rf -- "$DATA_DIR"
  fi
  log "down; removed ${DATA_DIR}"
}

cmd_status() {
  if server_alive && server_ready; then
    log "running: $(<"$URL_FILE") scrapes ${HOST}:${TARGET_PORT}"
    cat "$URL_FILE"
    return 0
  fi
  log "no Prometheus answers for ${HOST}:${TARGET_PORT} (start one with '$0 up ${TARGET_PORT}')"
  return 1
}

main() {
  (($# >= 2)) || usage
  local command="$1"
  paths "$2"
  shift 2
  case "$command" in
    up) cmd_up "$@" ;;
    down) (($# == 0)) || usage; cmd_down ;;
    status) (($# == 0)) || usage; cmd_status ;;
    *) usage ;;
  esac
}

main "$@"
