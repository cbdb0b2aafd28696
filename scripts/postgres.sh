#!/usr/bin/env bash
# A throwaway PostgreSQL server on 127.0.0.1 (Debian's package) for the token-vault tests, CI and
# benchmarks.
#
#   scripts/postgres.sh up       install if needed, initdb on first start, start, wait until it answers
#   scripts/postgres.sh status   exit 0 if the server accepts the DSN, else 1
#   scripts/postgres.sh pause    stop the server but keep its data (chaos tests)
#   scripts/postgres.sh resume   start again on the same data
#   scripts/postgres.sh down     stop the server and delete its data dir
#
# `up`, `resume` and `status` print the DSN as the last line of stdout; every other message goes
# to stderr, so `DSN="$(scripts/postgres.sh up)"` works.
#
# Environment: PG_PORT (55432), PG_DATA_DIR (/tmp/scrubber-pg-$PG_PORT), PG_BIN (directory with
# initdb/pg_ctl; default the newest /usr/lib/postgresql/*/bin), PG_START_TIMEOUT (60 s).
set -euo pipefail

readonly HOST="127.0.0.1"
readonly PG_PORT="${PG_PORT:-55432}"
if ! [[ "$PG_PORT" =~ ^[0-9]+$ ]] || ((PG_PORT < 1 || PG_PORT > 65535)); then
  echo "postgres.sh: error: PG_PORT='${PG_PORT}' is not a port number (1..65535)" >&2
  exit 2
fi
readonly DB_NAME="scrubber"
readonly DB_USER="scrubber"
readonly DB_PASSWORD="scrubber"
readonly DSN="postgresql://${DB_USER}:${DB_PASSWORD}@${HOST}:${PG_PORT}/${DB_NAME}"
readonly ADMIN_USER="postgres"

readonly DATA_DIR="${PG_DATA_DIR:-/tmp/scrubber-pg-${PG_PORT}}"
# Written into every data dir we create; `down` deletes only dirs that carry it.
readonly OWNER_MARKER="${DATA_DIR}/.scrubber-postgres"
readonly CLUSTER_DIR="${DATA_DIR}/pgdata"
readonly LOG_FILE="${DATA_DIR}/postgres.log"
# The Unix socket lives in the data dir, so no root-owned /var/run/postgresql is needed.
readonly SOCKET_DIR="$DATA_DIR"
readonly LOCK_FILE="/tmp/scrubber-pg-${PG_PORT}.lock"
readonly START_TIMEOUT="${PG_START_TIMEOUT:-60}"

log() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() {
  printf 'postgres.sh: error: %s\n' "$*" >&2
  exit 1
}

usage() {
  printf 'usage: %s up|down|status|pause|resume\n' "$0" >&2
  exit 2
}

# Serialise concurrent calls (a Makefile target and a test fixture may both run `up`).
take_lock() {
  exec 9>"$LOCK_FILE"
  flock -w 300 9 || die "another postgres.sh holds ${LOCK_FILE} for over 5 minutes; is one stuck?"
}

newest_debian_bin_dir() {
  local -a dirs=()
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [[ -x "${dir}/initdb" ]] && dirs+=("$dir")
  done
  ((${#dirs[@]} > 0)) || return 1
  printf '%s\n' "${dirs[@]}" | sort -V | tail -n 1
}

install_postgres() {
  ((EUID == 0)) ||
    die "PostgreSQL is not installed and this is not root; run: sudo apt-get install -y postgresql"
  # Debian's package would also create and start a 'main' cluster on port 5432; tests never use
  # it, so ask postgresql-common (through its drop-in directory) not to create one.
  mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/scrubber-no-main.conf
  log "installing Debian's postgresql package (first run only)"
  if ! apt-get update -qq >&2 ||
    ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2; then
    die "apt-get install postgresql failed; check the Debian mirror in /etc/apt/sources.list* and retry"
  fi
}

find_pg_bin() {
  if [[ -n "${PG_BIN:-}" ]]; then
    [[ -x "${PG_BIN}/initdb" ]] || die "PG_BIN=${PG_BIN} has no initdb; point it at a PostgreSQL bin directory"
    printf '%s\n' "$PG_BIN"
    return 0
  fi
  local found
  if found="$(newest_debian_bin_dir)"; then
    printf '%s\n' "$found"
  elif found="$(command -v initdb)"; then
    dirname "$(readlink -f "$found")"
  else
    return 1
  fi
}

resolve_pg_bin() {
  if ! PG_BIN_DIR="$(find_pg_bin)"; then
    install_postgres
    PG_BIN_DIR="$(find_pg_bin)" || die "initdb still not found after installing postgresql; set PG_BIN"
  fi
  readonly PG_BIN_DIR
}

# PostgreSQL refuses to run as root: as root we act through the package's 'postgres' user (made
# here if some other install left none); anyone else runs the server as themselves.
resolve_service_user() {
  if ((EUID != 0)); then
    SERVICE_USER="$(id -un)"
  else
    SERVICE_USER="postgres"
    if ! id -u "$SERVICE_USER" >/dev/null 2>&1; then
      log "creating system user ${SERVICE_USER} to own the server"
      useradd --system --user-group --no-create-home --shell /usr/sbin/nologin "$SERVICE_USER" ||
        die "could not create user ${SERVICE_USER}; create an unprivileged user by hand and retry"
    fi
  fi
  readonly SERVICE_USER
}

# Runs a PostgreSQL tool as the service user, from / so it never trips over an unreadable cwd,
# without the lock fd (a server inheriting it would block every later call).
as_service_user() {
  local tool="$1"
  shift
  if ((EUID == 0)); then
    (cd / && runuser -u "$SERVICE_USER" -- "${PG_BIN_DIR}/${tool}" "$@" 9>&-)
  else
    (cd / && "${PG_BIN_DIR}/${tool}" "$@" 9>&-)
  fi
}

server_running() {
  [[ -f "${CLUSTER_DIR}/PG_VERSION" ]] && as_service_user pg_ctl status -D "$CLUSTER_DIR" >/dev/null 2>&1
}

# Answers = a real login over TCP with the DSN's password, not just an open port.
server_answers() {
  PGCONNECT_TIMEOUT=5 "${PG_BIN_DIR}/psql" "$DSN" -Atqc 'select 1' 2>/dev/null | grep -qx 1
}

port_in_use() {
  (exec 3<>"/dev/tcp/${HOST}/$1") 2>/dev/null
}

init_cluster_once() {
  [[ -f "${CLUSTER_DIR}/PG_VERSION" ]] && return 0
  log "initdb ${CLUSTER_DIR} as user ${SERVICE_USER}"
  if ! as_service_user initdb --pgdata="$CLUSTER_DIR" --username="$ADMIN_USER" --encoding=UTF8 \
    --locale=C --auth-local=trust --auth-host=scram-sha-256 >>"$LOG_FILE" 2>&1; then
    tail -n 20 "$LOG_FILE" >&2
    die "initdb failed (log above); run 'scripts/postgres.sh down' to start from scratch"
  fi
  # A test database: speed over crash safety.
  cat >>"${CLUSTER_DIR}/postgresql.conf" <<'EOF'

# Added by scrubber scripts/postgres.sh: a throwaway test server.
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
}

start_server() {
  ! port_in_use "$PG_PORT" ||
    die "port ${PG_PORT} on ${HOST} is taken by a server this script did not start; stop it or pick another (PG_PORT=55433)"
  log "starting PostgreSQL from ${PG_BIN_DIR} on ${HOST}:${PG_PORT} (log ${LOG_FILE})"
  # Address, port and socket go on the command line so a data dir follows PG_PORT if it changes.
  if ! as_service_user pg_ctl start --pgdata="$CLUSTER_DIR" --log="$LOG_FILE" --wait \
    --timeout="$START_TIMEOUT" \
    -o "-c listen_addresses=${HOST} -c port=${PG_PORT} -c unix_socket_directories=${SOCKET_DIR}" \
    >&2; then
    tail -n 30 "$LOG_FILE" >&2
    die "PostgreSQL did not start (log above, full log ${LOG_FILE}); run 'scripts/postgres.sh down' and retry"
  fi
}

admin_sql() {
  as_service_user psql --host="$SOCKET_DIR" --port="$PG_PORT" --username="$ADMIN_USER" \
    --dbname=postgres --no-psqlrc --quiet --tuples-only --no-align -v ON_ERROR_STOP=1 -c "$1"
}

ensure_role_and_database() {
  admin_sql "DO \$\$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${DB_USER}') THEN
        CREATE ROLE ${DB_USER} LOGIN CREATEDB PASSWORD '${DB_PASSWORD}';
      END IF;
    END \$\$;" >&2 || die "could not create role ${DB_USER}; see ${LOG_FILE}"
  if [[ "$(admin_sql "SELECT 1 FROM pg_database WHERE datname = '${DB_NAME}'")" != "1" ]]; then
    admin_sql "CREATE DATABASE ${DB_NAME} OWNER ${DB_USER}" >&2 ||
      die "could not create database ${DB_NAME}; see ${LOG_FILE}"
  fi
}

wait_until_ready() {
  local deadline=$((SECONDS + START_TIMEOUT))
  until server_answers; do
    if ((SECONDS >= deadline)); then
      tail -n 30 "$LOG_FILE" >&2
      die "PostgreSQL runs but does not accept ${DSN} within ${START_TIMEOUT} s (log above); run 'scripts/postgres.sh down' and 'up' again"
    fi
    sleep 0.5
  done
}

prepare() {
  resolve_pg_bin
  resolve_service_user
}

# Start on an existing or new data dir; shared by `up` and `resume`.
bring_up() {
  local started=$SECONDS
  if server_running; then
    log "already running (${CLUSTER_DIR})"
  else
    mkdir -p "$DATA_DIR"
    touch "$OWNER_MARKER" "$LOG_FILE"
    # The server appends to the log file itself, so the service user must own it.
    chown "$SERVICE_USER": "$DATA_DIR" "$OWNER_MARKER" "$LOG_FILE"
    chmod 700 "$DATA_DIR"
    init_cluster_once
    start_server
  fi
  ensure_role_and_database
  wait_until_ready
  log "ready on ${HOST}:${PG_PORT} after $((SECONDS - started)) s"
  echo "$DSN"
}

stop_server() {
  server_running || return 0
  log "stopping PostgreSQL (${CLUSTER_DIR})"
  as_service_user pg_ctl stop --pgdata="$CLUSTER_DIR" --mode=fast --wait --timeout=30 >&2 && return 0
  local pid
  pid="$(head -n 1 "${CLUSTER_DIR}/postmaster.pid" 2>/dev/null || true)"
  if [[ "$pid" =~ ^[0-9]+$ ]]; then
    log "fast shutdown timed out; sending SIGKILL to postmaster ${pid}"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 1
  fi
}

cmd_up() {
  take_lock
  prepare
  bring_up
}

cmd_resume() {
  take_lock
  prepare
  [[ -f "${CLUSTER_DIR}/PG_VERSION" ]] ||
    die "no paused server data in ${DATA_DIR}; use 'scripts/postgres.sh up' to start a new one"
  bring_up
}

# Without binaries no server of ours can be running: stopping must not install anything.
prepare_to_stop() {
  PG_BIN_DIR="$(find_pg_bin)" || return 1
  readonly PG_BIN_DIR
  resolve_service_user
}

cmd_pause() {
  take_lock
  if prepare_to_stop; then stop_server; fi
  log "paused; data kept in ${DATA_DIR} ('scripts/postgres.sh resume' starts it again)"
}

cmd_down() {
  take_lock
  if prepare_to_stop; then stop_server; fi
  if [[ -d "$DATA_DIR" ]]; then
    [[ -f "$OWNER_MARKER" ]] ||
      die "${DATA_DIR} was not created by postgres.sh (no ${OWNER_MARKER##*/} marker); not deleting it, remove it by hand"
    rm -rf -- "$DATA_DIR"
  fi
  log "down; removed ${DATA_DIR}"
}

cmd_status() {
  if PG_BIN_DIR="$(find_pg_bin)" && server_answers; then
    log "running: accepts ${DSN}"
    echo "$DSN"
    return 0
  fi
  log "not answering on ${HOST}:${PG_PORT} (start it with 'scripts/postgres.sh up' or 'make services-up')"
  return 1
}

main() {
  (($# == 1)) || usage
  case "$1" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    pause | stop) cmd_pause ;;
    resume | start) cmd_resume ;;
    *) usage ;;
  esac
}

main "$@"
