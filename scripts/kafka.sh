#!/usr/bin/env bash
# A real single-node Apache Kafka broker (KRaft, broker+controller in one JVM) on 127.0.0.1,
# shared by the integration tests, CI and the benchmarks.
#
#   scripts/kafka.sh up       fetch jars if needed, format on first start, start, wait until it answers
#   scripts/kafka.sh status   exit 0 if the broker answers, else 1
#   scripts/kafka.sh pause    stop the broker cleanly but keep its data (chaos tests)
#   scripts/kafka.sh kill     kill -9 the broker JVM (no clean shutdown), keep its data (chaos
#                             tests: `up` or `resume` then starts it on the same data dir,
#                             recovering its logs as after a crash)
#   scripts/kafka.sh resume   start again on the same data, wait until it answers
#   scripts/kafka.sh down     stop the broker and delete its data dir
#
# `up`, `resume` and `status` print the bootstrap address as the last line of stdout; every other
# message goes to stderr, so `BOOTSTRAP="$(scripts/kafka.sh up)"` works.
#
# Environment: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (KAFKA_PORT+1), KAFKA_DATA_DIR
# (/tmp/scrubber-kafka-$KAFKA_PORT), SCRUBBER_CACHE (~/.cache/scrubber, holds the jars),
# KAFKA_START_TIMEOUT (90 s), KAFKA_STOP_TIMEOUT (30 s), KAFKA_HEAP_OPTS, SCRUBBER_PYTHON
# (interpreter with confluent_kafka used to probe the broker; default .venv/bin/python).
set -euo pipefail

# Pinned: Kafka 4.x needs Java 17 for the broker. The log4j binding matches the log4j-core that
# kafka-server brings, and Kafka 4.1 still logs through the slf4j 1.7 API.
readonly KAFKA_VERSION="4.1.1"
readonly LOG4J_VERSION="2.24.3"
readonly DEPENDENCY_PLUGIN_VERSION="3.8.1"

readonly HOST="127.0.0.1"
readonly KAFKA_PORT="${KAFKA_PORT:-9092}"
[[ "$KAFKA_PORT" =~ ^[0-9]+$ ]] || {
  echo "kafka.sh: error: KAFKA_PORT='${KAFKA_PORT}' is not a port number" >&2
  exit 2
}
readonly CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
readonly BOOTSTRAP="${HOST}:${KAFKA_PORT}"

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly SCRIPT_DIR
readonly REPO_ROOT="${SCRIPT_DIR%/*}"
readonly PYTHON="${SCRUBBER_PYTHON:-${REPO_ROOT}/.venv/bin/python}"

readonly CACHE_DIR="${SCRUBBER_CACHE:-${HOME:?set HOME or SCRUBBER_CACHE}/.cache/scrubber}/kafka-${KAFKA_VERSION}"
readonly LIB_DIR="${CACHE_DIR}/libs"
readonly JARS_READY_MARKER="${CACHE_DIR}/.jars-complete"

readonly DATA_DIR="${KAFKA_DATA_DIR:-/tmp/scrubber-kafka-${KAFKA_PORT}}"
# Written into every data dir we create; `down` deletes only dirs that carry it, so a mistyped
# KAFKA_DATA_DIR can never make this script remove somebody else's files.
readonly OWNER_MARKER="${DATA_DIR}/.scrubber-kafka"
readonly CONFIG_FILE="${DATA_DIR}/server.properties"
readonly LOG4J_FILE="${DATA_DIR}/log4j2.properties"
readonly LOG_DIRS="${DATA_DIR}/kraft-logs"
readonly PID_FILE="${DATA_DIR}/kafka.pid"
readonly LOG_FILE="${DATA_DIR}/kafka.log"
# Outside the data dir so it survives `down`; one per port so two brokers don't block each other.
readonly LOCK_FILE="/tmp/scrubber-kafka-${KAFKA_PORT}.lock"

readonly START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
readonly STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
readonly HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"

log() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() {
  printf 'kafka.sh: error: %s\n' "$*" >&2
  exit 1
}

usage() {
  printf 'usage: %s up|down|status|pause|kill|resume\n' "$0" >&2
  exit 2
}

check_port_numbers() {
  local port
  for port in "$KAFKA_PORT" "$CONTROLLER_PORT"; do
    if ! [[ "$port" =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then
      die "invalid port '${port}': set KAFKA_PORT / KAFKA_CONTROLLER_PORT to a number in 1..65535"
    fi
  done
  [[ "$KAFKA_PORT" != "$CONTROLLER_PORT" ]] ||
    die "KAFKA_PORT and KAFKA_CONTROLLER_PORT are both ${KAFKA_PORT}; give the controller another port"
}

# Serialise concurrent calls (a Makefile target and a test fixture may both run `up`).
take_lock() {
  exec 9>"$LOCK_FILE"
  flock -w 300 9 || die "another kafka.sh holds ${LOCK_FILE} for over 5 minutes; is one stuck?"
}

apt_install() {
  local sudo=()
  ((EUID == 0)) || sudo=(sudo -n)
  log "installing Debian packages: $*"
  if ! "${sudo[@]}" apt-get update -qq >&2 ||
    ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2; then
    die "could not apt-get install $*; install them by hand (as root) and retry"
  fi
}

ensure_java() {
  command -v java >/dev/null || apt_install openjdk-17-jre-headless
  local major
  major="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
  if ! [[ "$major" =~ ^[0-9]+$ ]] || ((major < 17)); then
    die "the Kafka ${KAFKA_VERSION} broker needs Java 17 or newer, found '${major:-none}'; put a JDK 17 first on PATH"
  fi
}

ensure_probe_python() {
  [[ -x "$PYTHON" ]] ||
    die "no Python at ${PYTHON} to probe the broker; create the venv first (make install) or set SCRUBBER_PYTHON"
  "$PYTHON" -c 'import confluent_kafka' 2>/dev/null ||
    die "${PYTHON} cannot import confluent_kafka; install the project's dependencies into it (make install)"
}

write_pom() {
  cat >"${CACHE_DIR}/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by scrubber scripts/kafka.sh: only lists the jars a KRaft broker needs. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.scrubber</groupId>
  <artifactId>kafka-broker-jars</artifactId>
  <version>${KAFKA_VERSION}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>${KAFKA_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>${LOG4J_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-core</artifactId>
      <version>${LOG4J_VERSION}</version>
    </dependency>
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-dependency-plugin</artifactId>
        <version>${DEPENDENCY_PLUGIN_VERSION}</version>
      </plugin>
    </plugins>
  </build>
</project>
EOF
}

# Cache hit = the marker exists: no Maven call at all.
ensure_jars() {
  [[ -f "$JARS_READY_MARKER" ]] && return 0
  command -v mvn >/dev/null || apt_install maven
  mkdir -p "$CACHE_DIR"
  write_pom
  log "fetching Kafka ${KAFKA_VERSION} jars from Maven Central into ${LIB_DIR} (first run only)"
  local staging="${LIB_DIR}.partial"
  rm -rf "$staging"
  if ! mvn -B -q -f "${CACHE_DIR}/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$staging" >"${CACHE_DIR}/mvn.log" 2>&1; then
    tail -n 30 "${CACHE_DIR}/mvn.log" >&2
    die "Maven could not fetch the Kafka jars (log: ${CACHE_DIR}/mvn.log); check that Maven Central is reachable and ~/.m2/settings.xml has no broken mirror"
  fi
  compgen -G "${staging}/kafka_2.13-${KAFKA_VERSION}.jar" >/dev/null ||
    die "Maven finished but kafka_2.13-${KAFKA_VERSION}.jar is missing from ${staging}"
  rm -rf "$LIB_DIR"
  mv "$staging" "$LIB_DIR"
  touch "$JARS_READY_MARKER"
}

# True while our broker process lives; a zombie or a reused pid does not count. Right after
# launch_broker the pid may still be the forked subshell (or `setsid`) that is about to exec the
# JVM: a process that is still our own child counts as alive then, or a slow exec under load
# would read as "exited during start-up".
broker_process_alive() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid state cmdline parent
  pid="$(<"$PID_FILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  state="$(awk '{print $3}' "/proc/${pid}/stat" 2>/dev/null)" || return 1
  [[ -n "$state" && "$state" != "Z" ]] || return 1
  cmdline="$(tr '\0' ' ' <"/proc/${pid}/cmdline" 2>/dev/null)" || return 1
  [[ "$cmdline" == *"kafka.Kafka ${CONFIG_FILE}"* ]] && return 0
  parent="$(awk '/^PPid:/ {print $2}' "/proc/${pid}/status" 2>/dev/null)" || return 1
  [[ "$parent" == "$$" ]]
}

# The broker "answers" when a real client gets cluster metadata that lists a broker. The port test
# first: against a closed port the client would keep retrying until its own timeout.
broker_answers() {
  port_in_use "$KAFKA_PORT" || return 1
  timeout 20 "$PYTHON" - "$BOOTSTRAP" >/dev/null 2>&1 <<'EOF'
import sys

from confluent_kafka.admin import AdminClient

admin = AdminClient({"bootstrap.servers": sys.argv[1], "socket.timeout.ms": 3000, "log_level": 0})
metadata = admin.list_topics(timeout=5)
sys.exit(0 if metadata.brokers else 1)
EOF
}

port_in_use() {
  (exec 3<>"/dev/tcp/${HOST}/$1") 2>/dev/null
}

write_config() {
  cat >"$CONFIG_FILE" <<EOF
# Written by scrubber scripts/kafka.sh: a throwaway single-node broker for tests and benchmarks.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@${HOST}:${CONTROLLER_PORT}
listeners=PLAINTEXT://${HOST}:${KAFKA_PORT},CONTROLLER://${HOST}:${CONTROLLER_PORT}
advertised.listeners=PLAINTEXT://${HOST}:${KAFKA_PORT}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${LOG_DIRS}

# One node: every internal topic must live with a single replica, or transactions, consumer
# groups and share groups never become available.
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1

# Tests create topics on the fly and must not wait 3 s for the first consumer group rebalance.
auto.create.topics.enable=true
delete.topic.enable=true
group.initial.rebalance.delay.ms=0

# Two cores on CI: keep thread pools small.
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
EOF
  cat >"$LOG4J_FILE" <<'EOF'
# Broker logs go to stdout, which kafka.sh appends to kafka.log in the data dir.
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.stdout.ref = STDOUT
logger.requests.name = kafka.request.logger
logger.requests.level = warn
logger.statechange.name = state.change.logger
logger.statechange.level = warn
EOF
}

java_classpath() {
  printf '%s/*' "$LIB_DIR"
}

format_storage_once() {
  [[ -f "${LOG_DIRS}/meta.properties" ]] && return 0
  local cluster_id
  cluster_id="$(java -cp "$(java_classpath)" kafka.tools.StorageTool random-uuid 2>>"$LOG_FILE")" ||
    die "the storage tool could not make a cluster id; see ${LOG_FILE}"
  log "formatting ${LOG_DIRS} (cluster id ${cluster_id})"
  java -Dlog4j2.configurationFile="$LOG4J_FILE" -cp "$(java_classpath)" kafka.tools.StorageTool \
    format --cluster-id "$cluster_id" --config "$CONFIG_FILE" >>"$LOG_FILE" 2>&1 || {
    tail -n 20 "$LOG_FILE" >&2
    die "formatting the KRaft log dir failed; run 'scripts/kafka.sh down' to start from scratch"
  }
}

ensure_ports_free() {
  local port
  for port in "$KAFKA_PORT" "$CONTROLLER_PORT"; do
    ! port_in_use "$port" ||
      die "port ${port} on ${HOST} is taken by a process this script did not start; stop it or choose free ports with KAFKA_PORT (and KAFKA_CONTROLLER_PORT)"
  done
}

launch_broker() {
  local -a heap_opts
  read -r -a heap_opts <<<"$HEAP_OPTS"
  log "starting Kafka ${KAFKA_VERSION} on ${BOOTSTRAP} (controller ${HOST}:${CONTROLLER_PORT}, log ${LOG_FILE})"
  # setsid: the broker must outlive this shell and ignore Ctrl-C sent to the caller's terminal.
  # No fork happens (a background job is no group leader), so $! is the JVM's own pid. 9>&-: the
  # JVM must not inherit the lock, or every later call would wait on it.
  setsid java "${heap_opts[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$LOG4J_FILE" -Dkafka.logs.dir="$DATA_DIR" \
    -cp "$(java_classpath)" kafka.Kafka "$CONFIG_FILE" </dev/null >>"$LOG_FILE" 2>&1 9>&- &
  echo "$!" >"$PID_FILE"
}

wait_until_ready() {
  local deadline=$((SECONDS + START_TIMEOUT))
  until broker_answers; do
    if ! broker_process_alive; then
      tail -n 40 "$LOG_FILE" >&2
      die "the broker exited during start-up (log above, full log ${LOG_FILE}); fix the cause, or run 'scripts/kafka.sh down' and 'up' again for a clean data dir"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 40 "$LOG_FILE" >&2
      die "the broker did not answer on ${BOOTSTRAP} within ${START_TIMEOUT} s (log above, full log ${LOG_FILE}); raise KAFKA_START_TIMEOUT on a slow machine or run 'scripts/kafka.sh down' and retry"
    fi
    sleep 1
  done
}

# Start on an existing or new data dir; shared by `up` and `resume`.
start_broker() {
  local started=$SECONDS
  ensure_ports_free
  ensure_java
  ensure_jars
  mkdir -p "$DATA_DIR"
  touch "$OWNER_MARKER"
  rm -f "$PID_FILE"
  write_config
  format_storage_once
  launch_broker
  wait_until_ready
  log "broker ready on ${BOOTSTRAP} after $((SECONDS - started)) s"
}

stop_broker() {
  if ! broker_process_alive; then
    rm -f "$PID_FILE"
    return 0
  fi
  local pid deadline
  pid="$(<"$PID_FILE")"
  log "stopping broker pid ${pid}"
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + STOP_TIMEOUT))
  while broker_process_alive && ((SECONDS < deadline)); do
    sleep 0.5
  done
  if broker_process_alive; then
    log "broker ignored SIGTERM for ${STOP_TIMEOUT} s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while broker_process_alive; do sleep 0.2; done
  fi
  rm -f "$PID_FILE"
}

cmd_up() {
  take_lock
  ensure_probe_python
  if broker_process_alive; then
    log "already running (pid $(<"$PID_FILE")); waiting until it answers"
    wait_until_ready
  else
    start_broker
  fi
  echo "$BOOTSTRAP"
}

cmd_resume() {
  take_lock
  ensure_probe_python
  [[ -f "${LOG_DIRS}/meta.properties" ]] ||
    die "no paused broker data in ${DATA_DIR}; use 'scripts/kafka.sh up' to start a new one"
  if broker_process_alive; then
    log "not paused: already running (pid $(<"$PID_FILE"))"
    wait_until_ready
  else
    start_broker
  fi
  echo "$BOOTSTRAP"
}

cmd_pause() {
  take_lock
  stop_broker
  log "paused; data kept in ${DATA_DIR} ('scripts/kafka.sh resume' starts it again)"
}

# SIGKILL, as a crashed node: no controlled shutdown, no final flush or snapshot.
cmd_kill() {
  take_lock
  if ! broker_process_alive; then
    rm -f "$PID_FILE"
    log "not running; nothing to kill"
    return 0
  fi
  local pid
  pid="$(<"$PID_FILE")"
  log "kill -9 broker pid ${pid}"
  kill -KILL "$pid" 2>/dev/null || true
  while broker_process_alive; do sleep 0.1; done
  rm -f "$PID_FILE"
  log "killed; data kept in ${DATA_DIR} ('scripts/kafka.sh up' starts it again on it)"
}

cmd_down() {
  take_lock
  stop_broker
  if [[ -d "$DATA_DIR" ]]; then
    [[ -f "$OWNER_MARKER" ]] ||
      die "${DATA_DIR} was not created by kafka.sh (no ${OWNER_MARKER##*/} marker); not deleting it, remove it by hand"
    rm -rf -- "$DATA_DIR"
  fi
  log "down; removed ${DATA_DIR}"
}

cmd_status() {
  ensure_probe_python
  if broker_answers; then
    log "running: answers on ${BOOTSTRAP}"
    echo "$BOOTSTRAP"
    return 0
  fi
  log "not answering on ${BOOTSTRAP} (start it with 'scripts/kafka.sh up' or 'make services-up')"
  return 1
}

main() {
  (($# == 1)) || usage
  check_port_numbers
  case "$1" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    pause | stop) cmd_pause ;;
    kill) cmd_kill ;;
    resume | start) cmd_resume ;;
    *) usage ;;
  esac
}

main "$@"
