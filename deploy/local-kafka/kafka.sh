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
#
# KAFKA_SASL_USERS='name:password[,name:password...]' (read when DIR is new) adds
# a SASL_SSL listener on another free port beside the PLAINTEXT one: SCRAM-SHA-256
# and SCRAM-SHA-512 users created at format time, TLS from a throwaway CA made
# with openssl in DIR/tls. Its host:port is in DIR/bootstrap.sasl_ssl, the CA that
# clients must trust is DIR/tls/ca.pem. Names and passwords must not contain , : = [ ]
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

# A throwaway CA and a broker certificate for 127.0.0.1/localhost in a PKCS12
# keystore. Valid 30 days: for dev and test brokers only.
make_tls() {
  local tls="$1" pass="$2"
  command -v openssl >/dev/null || { log "openssl not found: the SASL_SSL listener needs it"; exit 1; }
  mkdir -p "$tls"
  (
    cd "$tls"
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -keyout ca.key -out ca.pem \
      -subj "/CN=newswire local-kafka CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    openssl req -newkey rsa:2048 -nodes -keyout broker.key -out broker.csr -subj "/CN=localhost"
    printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "extendedKeyUsage=serverAuth" \
      "keyUsage=critical,digitalSignature,keyEncipherment" > broker.ext
    openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
      -extfile broker.ext -out broker.pem
    openssl pkcs12 -export -in broker.pem -inkey broker.key -certfile ca.pem -name broker \
      -out broker.p12 -passout "pass:$pass"
  ) > "$tls/openssl.log" 2>&1 || { log "making TLS material failed:"; cat "$tls/openssl.log" >&2; exit 1; }
}

# --add-scram arguments for kafka-storage format, one per line: each user under
# both SCRAM mechanisms.
scram_args() {
  local users="$1" pair mech
  local -a entries
  IFS=',' read -ra entries <<< "$users"
  for pair in "${entries[@]}"; do
    [[ "$pair" == ?*:?* ]] || { log "KAFKA_SASL_USERS: '$pair' is not name:password"; exit 2; }
    for mech in SCRAM-SHA-256 SCRAM-SHA-512; do
      printf '%s\n' --add-scram "$mech=[name=${pair%%:*},password=${pair#*:}]"
    done
  done
}

write_config() {
  local dir="$1" port="$2" cport="$3" sport="${4:-}"
  local listeners="PLAINTEXT://127.0.0.1:$port" protocols="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
  if [[ -n "$sport" ]]; then
    listeners="$listeners,SASL_SSL://127.0.0.1:$sport"
    protocols="$protocols,SASL_SSL:SASL_SSL"
  fi
  cat > "$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=$listeners,CONTROLLER://127.0.0.1:$cport
advertised.listeners=$listeners
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=$protocols
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
  rm -f "$dir/bootstrap.sasl_ssl"
  if [[ -n "$sport" ]]; then
    local pass; pass="$(openssl rand -hex 16)"
    rm -rf "$dir/tls"
    make_tls "$dir/tls" "$pass"
    local jaas="org.apache.kafka.common.security.scram.ScramLoginModule required;"
    cat >> "$dir/server.properties" <<EOF
sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=$jaas
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=$jaas
ssl.keystore.type=PKCS12
ssl.keystore.location=$dir/tls/broker.p12
ssl.keystore.password=$pass
ssl.key.password=$pass
EOF
    echo "127.0.0.1:$sport" > "$dir/bootstrap.sasl_ssl"
  fi
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
    local sport=""
    if [[ -n "${KAFKA_SASL_USERS:-}" ]]; then
      sport="$(free_port)"
      while [[ "$sport" == "$port" || "$sport" == "$cport" ]]; do sport="$(free_port)"; done
    fi
    write_config "$dir" "$port" "$cport" "$sport"
  fi
  if [[ ! -f "$dir/data/meta.properties" ]]; then
    local cluster; cluster="$(java_cmd kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)"
    local -a scram=()
    if [[ -f "$dir/bootstrap.sasl_ssl" ]]; then
      local args; args="$(scram_args "${KAFKA_SASL_USERS:?set KAFKA_SASL_USERS to name:password}")"
      mapfile -t scram <<< "$args"
    fi
    java_cmd kafka.tools.StorageTool format -t "$cluster" -c "$dir/server.properties" \
      "${scram[@]}" > "$dir/format.log" 2>&1 \
      || { log "format failed:"; cat "$dir/format.log" >&2; exit 1; }
  fi
  local bootstrap; bootstrap="$(cat "$dir/bootstrap")"
  if [[ -f "$dir/bootstrap.sasl_ssl" ]]; then
    log "SASL_SSL listener (SCRAM-SHA-256/512) at $(cat "$dir/bootstrap.sasl_ssl"), CA $dir/tls/ca.pem"
  fi
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
  *) sed -n '2,21p' "$0" >&2; exit 2 ;;
esac
