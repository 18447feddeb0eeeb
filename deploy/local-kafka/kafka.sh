#!/usr/bin/env bash
# A real single-node Apache Kafka (KRaft, combined broker+controller) on
# loopback, from Maven Central jars: no Docker, no tarball downloads.
#
#   kafka.sh fetch                 resolve the broker jars (cached in .cache/libs)
#   kafka.sh start DIR [PORT]      format DIR if new, start, wait until it answers
#   kafka.sh stop DIR              stop the broker started in DIR (SIGTERM, then KILL)
#   kafka.sh status DIR            exit 0 when the broker in DIR is running
#   kafka.sh with CMD [ARGS...]    start on free ports in a fresh temp dir, run CMD with
#                                  KAFKA_BOOTSTRAP set, stop the broker when CMD ends
#
# When KAFKA_BOOTSTRAP is already set, `with` runs CMD against that broker and
# starts nothing. PORT defaults to a free port; the controller takes another.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${NEWSWIRE_KAFKA_CACHE:-$HERE/.cache}"
LIBS="$CACHE/libs"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"

log() { printf '[local-kafka] %s\n' "$*" >&2; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

fetch() {
  local stamp="$LIBS/.complete-$(sha256sum "$HERE/pom.xml" | cut -c1-16)"
  if [[ -f "$stamp" ]]; then return 0; fi
  command -v mvn >/dev/null || { log "mvn not found: install Maven (and Java 17+)"; exit 1; }
  command -v java >/dev/null || { log "java not found: install Java 17+"; exit 1; }
  log "resolving Apache Kafka jars from Maven Central (first run only)..."
  rm -rf "$LIBS"
  mvn -q -B -f "$HERE/pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$LIBS" -DincludeScope=runtime >&2
  touch "$stamp"
  log "$(ls "$LIBS"/*.jar | wc -l) jars in $LIBS"
}

JAVA_OPTS=(-Xms256m "-Xmx${KAFKA_HEAP:-1g}" -XX:+UseG1GC -Djava.awt.headless=true
           "-Dlog4j2.configurationFile=$HERE/log4j2.properties" -cp "$LIBS/*")

java_cmd() { java "${JAVA_OPTS[@]}" "$@"; }

write_config() {
  local dir="$1" port="$2" cport="$3"
  cat > "$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
# Room for newswire's size limit (10 MiB raw values, base64 in dead letters).
message.max.bytes=33554432
socket.request.max.bytes=104857600
EOF
  echo "127.0.0.1:$port" > "$dir/bootstrap"
}

is_running() {
  local dir="$1"
  [[ -f "$dir/pid" ]] && kill -0 "$(cat "$dir/pid")" 2>/dev/null
}

start() {
  local dir="$1" port="${2:-}"
  fetch
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  if is_running "$dir"; then
    log "already running in $dir at $(cat "$dir/bootstrap")"; cat "$dir/bootstrap"; return 0
  fi
  if [[ ! -f "$dir/server.properties" || -n "$port" ]]; then
    [[ -n "$port" ]] || port="$(free_port)"
    local cport; cport="$(free_port)"
    while [[ "$cport" == "$port" ]]; do cport="$(free_port)"; done
    write_config "$dir" "$port" "$cport"
  fi
  if [[ ! -f "$dir/data/meta.properties" ]]; then
    local cluster; cluster="$(java_cmd kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)"
    java_cmd kafka.tools.StorageTool format -t "$cluster" -c "$dir/server.properties" \
      > "$dir/format.log" 2>&1 || { log "format failed:"; cat "$dir/format.log" >&2; exit 1; }
  fi
  local bootstrap; bootstrap="$(cat "$dir/bootstrap")"
  log "starting Apache Kafka ($(ls "$LIBS" | grep -o '^kafka_2.13-[0-9.]*' | sed 's/kafka_2.13-//; s/\.$//')) at $bootstrap, logs in $dir/broker.log"
  nohup java "${JAVA_OPTS[@]}" kafka.Kafka "$dir/server.properties" \
      > "$dir/broker.log" 2>&1 < /dev/null &
  echo $! > "$dir/pid"
  local deadline=$((SECONDS + START_TIMEOUT))
  until grep -q "Kafka Server started" "$dir/broker.log" 2>/dev/null; do
    if ! is_running "$dir"; then
      log "broker exited during start-up; last lines of $dir/broker.log:"; tail -n 30 "$dir/broker.log" >&2; exit 1
    fi
    if (( SECONDS > deadline )); then
      log "broker did not start within ${START_TIMEOUT}s; last lines of $dir/broker.log:"
      tail -n 30 "$dir/broker.log" >&2; stop "$dir"; exit 1
    fi
    sleep 0.3
  done
  log "ready at $bootstrap"
  echo "$bootstrap"
}

stop() {
  local dir="$1"
  if ! is_running "$dir"; then rm -f "$dir/pid"; return 0; fi
  local pid; pid="$(cat "$dir/pid")"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$dir/pid"; log "stopped"; return 0; }
    sleep 0.2
  done
  log "broker did not stop in 30s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$dir/pid"
}

with_kafka() {
  if [[ -n "${KAFKA_BOOTSTRAP:-}" ]]; then
    log "using the configured broker KAFKA_BOOTSTRAP=$KAFKA_BOOTSTRAP"
    exec "$@"
  fi
  local dir; dir="$(mktemp -d "${TMPDIR:-/tmp}/newswire-kafka.XXXXXX")"
  # shellcheck disable=SC2064
  trap "stop '$dir'; rm -rf '$dir'" EXIT
  trap "exit 130" INT TERM
  KAFKA_BOOTSTRAP="$(start "$dir" "${KAFKA_PORT:-}")"
  export KAFKA_BOOTSTRAP
  local rc=0
  "$@" || rc=$?
  return "$rc"
}

cmd="${1:-}"; shift || true
case "$cmd" in
  fetch) fetch ;;
  start) [[ $# -ge 1 ]] || { echo "usage: kafka.sh start DIR [PORT]" >&2; exit 2; }; start "$@" ;;
  stop) [[ $# -ge 1 ]] || { echo "usage: kafka.sh stop DIR" >&2; exit 2; }; stop "$1" ;;
  status) is_running "${1:?usage: kafka.sh status DIR}" ;;
  with) [[ $# -ge 1 ]] || { echo "usage: kafka.sh with CMD [ARGS...]" >&2; exit 2; }; with_kafka "$@" ;;
  *) sed -n '2,15p' "$0" >&2; exit 2 ;;
esac
