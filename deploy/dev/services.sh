#!/usr/bin/env bash
# Real test services for hotlineqc, on loopback, as plain processes.
#
#   deploy/dev/services.sh up      install what is missing, start what is not running
#   deploy/dev/services.sh down    stop what this script started
#   deploy/dev/services.sh status  say what runs where
#
# Idempotent: running `up` twice starts nothing twice. Data, logs and
# downloaded jars live under .cache/services (git-ignored).
#
#   ClickHouse  native 127.0.0.1:9000, HTTP 127.0.0.1:8123   (Debian clickhouse-server)
#               native TLS 127.0.0.1:9440 (certificate of a CA made at set-up,
#               .cache/services/clickhouse/tls/ca.pem); users hotlineqc (password
#               in .cache/services/clickhouse/hotlineqc.password) and reader
#               (read-only, password in reader.password)
#   Kafka       127.0.0.1:9092, KRaft controller 127.0.0.1:9193 (Maven Central, Java 17);
#               its jars (.cache/services/kafka/libs) also start the private brokers
#               that outage tests kill and restart
#               SASL_SSL 127.0.0.1:9094: SCRAM-SHA-512 user hotlineqc (password in
#               .cache/services/kafka/hotlineqc.password), TLS certificate of a CA
#               made at set-up (.cache/services/kafka/tls/ca.pem)
#   Prometheus  127.0.0.1:9090, promtool                      (Debian prometheus)
#   Alertmanager 127.0.0.1:9093                                (Debian prometheus-alertmanager)
#   Chromium    headless browser for page tests, no server      (Debian chromium)
#   chdb        in-process ClickHouse 26.x for the modern-schema test (PyPI chdb, in .cache/services/chdb)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STATE=${HOTLINEQC_SERVICES_DIR:-$ROOT/.cache/services}
KAFKA_POM=$ROOT/deploy/dev/kafka/pom.xml
mkdir -p "$STATE"

log() { printf '[services] %s\n' "$*" >&2; }

# Which checkout's state dir runs each service, machine-wide: a checkout
# that finds a service already running (started by another checkout)
# copies its credentials and CA from there, so that its tests can log in.
REGISTRY=${HOTLINEQC_SERVICES_REGISTRY:-$HOME/.cache/hotlineqc-services}
# credentials NAME FILES...: make FILES of service NAME present in this
# state dir: ours when we have them (and we then own it), else copied from
# the checkout that started it.
credentials() {
  local name=$1 f owner; shift
  mkdir -p "$REGISTRY"
  local have=1
  for f in "$@"; do [[ -f $STATE/$name/$f ]] || have=0; done
  if (( have )) && [[ ! -f $REGISTRY/$name ]]; then echo "$STATE" >"$REGISTRY/$name"; return; fi
  owner=$(cat "$REGISTRY/$name" 2>/dev/null || true)
  if [[ -z $owner || $owner == "$STATE" ]]; then
    (( have )) || log "$name runs, but where its credentials are is unknown: its TLS and login tests will fail"
    return
  fi
  for f in "$@"; do
    mkdir -p "$(dirname "$STATE/$name/$f")"
    cp "$owner/$name/$f" "$STATE/$name/$f" 2>/dev/null || log "$name: cannot copy $f from $owner"
  done
}
die() { log "ERROR: $*"; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_for NAME SECONDS CMD...: poll CMD until it succeeds or time runs out.
wait_for() {
  local name=$1 secs=$2; shift 2
  local start=$SECONDS
  until "$@" >/dev/null 2>&1; do
    if (( SECONDS - start >= secs )); then
      die "$name not ready after ${secs}s (logs in $STATE/$name)"
    fi
    sleep 0.5
  done
  log "$name ready in $((SECONDS - start))s"
}

# start_bg NAME CMD...: start CMD detached, its pid in $STATE/NAME/pid.
start_bg() {
  local name=$1; shift
  mkdir -p "$STATE/$name"
  setsid nohup "$@" >"$STATE/$name/stdout.log" 2>"$STATE/$name/stderr.log" </dev/null &
  echo $! >"$STATE/$name/pid"
}

apt_install() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  (( ${#missing[@]} == 0 )) && return 0
  log "installing Debian packages: ${missing[*]}"
  local sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  # The package scripts may try to start system services; no init system
  # runs here, so tell them not to (policy-rc.d exit 101 = "not allowed").
  local policy=""
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
    policy=/usr/sbin/policy-rc.d
  fi
  local ok=0
  $sudo apt-get install -y --no-install-recommends "${missing[@]}" >"$STATE/apt.log" 2>&1 || {
    $sudo apt-get update >>"$STATE/apt.log" 2>&1
    $sudo apt-get install -y --no-install-recommends "${missing[@]}" >>"$STATE/apt.log" 2>&1
  } || ok=$?
  [[ -z $policy ]] || $sudo rm -f "$policy"
  (( ok == 0 )) || die "apt-get install ${missing[*]} failed, see $STATE/apt.log"
}

# ---------------------------------------------------------------- ClickHouse

# service_tls DIR: a CA and a server certificate for 127.0.0.1 and
# localhost signed by it, in DIR/tls, made once.
service_tls() {
  local d=$1/tls
  [[ -f $d/server.crt ]] && return 0
  mkdir -p "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=hotlineqc dev CA" \
    -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$d/san.ext"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 3650 \
    -extfile "$d/san.ext" -out "$d/server.crt" 2>/dev/null
  chmod 644 "$d"/*.pem "$d/server.crt" "$d/server.key"
}

# service_password SERVICE NAME: the password of a test user, made once.
service_password() {
  local f=$STATE/$1/$2.password
  [[ -f $f ]] || (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$f")
  chmod 644 "$f"
  cat "$f"
}

clickhouse_config() {
  local dir=$STATE/clickhouse
  mkdir -p "$dir"/{data,tmp,user_files,format_schemas,log}
  service_tls "$dir"
  [[ -f $dir/tls/dhparam.pem ]] || openssl dhparam -dsaparam -out "$dir/tls/dhparam.pem" 2048 2>/dev/null
  local user_sha reader_sha
  user_sha=$(printf '%s' "$(service_password clickhouse hotlineqc)" | sha256sum | cut -d' ' -f1)
  reader_sha=$(printf '%s' "$(service_password clickhouse reader)" | sha256sum | cut -d' ' -f1)
  # The package's users, and two of the project's: hotlineqc (a password,
  # full access) and reader (a password, read-only).
  sed -e "s#</users>#<hotlineqc><password_sha256_hex>$user_sha</password_sha256_hex><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></hotlineqc><reader><password_sha256_hex>$reader_sha</password_sha256_hex><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>readonly</profile><quota>default</quota></reader></users>#" \
      /etc/clickhouse-server/users.xml >"$dir/users.xml"
  clickhouse_server_xml >"$dir/config.xml"
}

# The server's configuration, from the package's. The listen backlog is
# raised from 64: the test packages running at once open connections in
# bursts, and a full accept queue drops the handshakes (a dial times out).
clickhouse_server_xml() {
  local dir=$STATE/clickhouse
  # Only the first <path> is the data path; a later one is ZooKeeper's DDL queue.
  sed -e "s#<path>/var/lib/clickhouse/</path>#<path>$dir/data/</path>#" \
      -e "s#<!-- <listen_backlog>64</listen_backlog> -->#<listen_backlog>4096</listen_backlog>#" \
      -e "s#<tmp_path>.*</tmp_path>#<tmp_path>$dir/tmp/</tmp_path>#" \
      -e "s#<user_files_path>.*</user_files_path>#<user_files_path>$dir/user_files/</user_files_path>#" \
      -e "s#<format_schema_path>.*</format_schema_path>#<format_schema_path>$dir/format_schemas/</format_schema_path>#" \
      -e "s#<log>.*</log>#<log>$dir/log/server.log</log>#" \
      -e "s#<errorlog>.*</errorlog>#<errorlog>$dir/log/server.err.log</errorlog>#" \
      -e "s#<users_config>.*</users_config>#<users_config>$dir/users.xml</users_config>#" \
      -e "s#<tcp_port>9000</tcp_port>#<tcp_port>9000</tcp_port><tcp_port_secure>9440</tcp_port_secure>#" \
      -e "s#/etc/clickhouse-server/server.crt#$dir/tls/server.crt#" \
      -e "s#/etc/clickhouse-server/server.key#$dir/tls/server.key#" \
      -e "s#/etc/clickhouse-server/dhparam.pem#$dir/tls/dhparam.pem#" \
      /etc/clickhouse-server/config.xml
}

clickhouse_ping() { [[ $(curl -fsS http://127.0.0.1:8123/ping 2>/dev/null) == "Ok." ]]; }

clickhouse_up() {
  if port_open 9000 && port_open 9440; then
    local owner; owner=$(cat "$REGISTRY/clickhouse" 2>/dev/null || true)
    if [[ -n $owner && -f $owner/clickhouse/pid ]] && ! (STATE=$owner; cmp -s <(clickhouse_server_xml) "$STATE/clickhouse/config.xml"); then
      # Started by a checkout with an older version of this script: restart
      # it where it runs (its data, passwords and CA stay).
      log "clickhouse's configuration changed: restarting it in $owner"
      (STATE=$owner; stop_one clickhouse; clickhouse_start) || die "clickhouse did not restart"
    else
      log "clickhouse already listening on 127.0.0.1:9000 and :9440 (TLS)"
    fi
    credentials clickhouse hotlineqc.password reader.password tls/ca.pem
    return
  fi
  if port_open 9000; then
    # Started by an older version of this script, without the TLS port.
    if [[ -f $STATE/clickhouse/pid ]]; then stop_one clickhouse; else
      log "a clickhouse not started here listens on 127.0.0.1:9000 without :9440 (TLS): the TLS tests will fail"; return; fi
  fi
  clickhouse_start
}

clickhouse_start() {
  apt_install clickhouse-server clickhouse-client curl
  clickhouse_config
  local as=()
  # The server refuses nothing as root on 18.16, but run it as the package's
  # own unprivileged user when there is one.
  if [[ $(id -u) -eq 0 ]] && id clickhouse >/dev/null 2>&1; then
    chown -R clickhouse: "$STATE/clickhouse"
    as=(setpriv --reuid=clickhouse --regid=clickhouse --init-groups)
  fi
  start_bg clickhouse "${as[@]}" "$(command -v clickhouse-server || echo /usr/sbin/clickhouse-server)" --config-file="$STATE/clickhouse/config.xml"
  wait_for clickhouse 90 clickhouse_ping
  wait_for clickhouse-tls 30 port_open 9440
  mkdir -p "$REGISTRY" && echo "$STATE" >"$REGISTRY/clickhouse"
  log "started clickhouse $(clickhouse-client --version 2>/dev/null | awk '{sub(/\.$/, "", $NF); print $NF}') on 127.0.0.1:9000 (native), :9440 (native TLS), :8123 (http)"
}

# --------------------------------------------------------------------- Kafka

kafka_java() {
  local jh
  for jh in "${JAVA_HOME:-}" /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/temurin-17-jdk-amd64; do
    [[ -n $jh && -x $jh/bin/java ]] && { echo "$jh/bin/java"; return; }
  done
  command -v java || die "no Java 17 found"
}

kafka_fetch() {
  local libs=$STATE/kafka/libs
  if [[ -f $libs/.complete && $libs/.complete -nt $KAFKA_POM ]]; then return; fi
  log "fetching Kafka jars from Maven Central (pom: deploy/dev/kafka/pom.xml)"
  rm -rf "$libs"; mkdir -p "$libs"
  mvn -q -B -f "$KAFKA_POM" dependency:copy-dependencies \
      -DoutputDirectory="$libs" -DincludeScope=runtime >"$STATE/kafka-mvn.log" 2>&1 \
    || die "mvn failed, see $STATE/kafka-mvn.log"
  touch "$libs/.complete"
}

kafka_config() {
  local dir=$STATE/kafka
  mkdir -p "$dir/data"
  service_tls "$dir"
  if [[ ! -f $dir/tls/server.p12 ]]; then
    openssl pkcs12 -export -in "$dir/tls/server.crt" -inkey "$dir/tls/server.key" -name broker \
      -out "$dir/tls/server.p12" -passout pass:hotlineqc-dev 2>/dev/null
    chmod 644 "$dir/tls/server.p12"
  fi
  service_password kafka hotlineqc >/dev/null
  cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:9193
listeners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9193,SASL_SSL://127.0.0.1:9094
advertised.listeners=PLAINTEXT://127.0.0.1:9092,SASL_SSL://127.0.0.1:9094
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.ssl.keystore.type=PKCS12
listener.name.sasl_ssl.ssl.keystore.location=$dir/tls/server.p12
listener.name.sasl_ssl.ssl.keystore.password=hotlineqc-dev
listener.name.sasl_ssl.ssl.key.password=hotlineqc-dev
log.dirs=$dir/data
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
delete.topic.enable=true
EOF
  cat >"$dir/log4j2.yaml" <<EOF
Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        Pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: WARN
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.server.KafkaRaftServer
        level: INFO
EOF
}

kafka_ready() {
  grep -q "Kafka Server started\|KafkaRaftServer.*started\|Transitioning from RECOVERY to RUNNING" \
    "$STATE/kafka/stdout.log" 2>/dev/null || port_open 9092
}

kafka_up() {
  if port_open 9092 && port_open 9094; then
    log "kafka already listening on 127.0.0.1:9092 and :9094 (SASL_SSL)"
    credentials kafka hotlineqc.password tls/ca.pem
    kafka_fetch # the jars, for the tests' private brokers (testenv.StartLocalKafka)
    return
  fi
  if port_open 9092; then
    # Started by an older version of this script, without SASL_SSL.
    if [[ -f $STATE/kafka/pid ]]; then stop_one kafka; else
      log "a kafka not started here listens on 127.0.0.1:9092 without :9094 (SASL_SSL): the SASL tests will fail"; return; fi
  fi
  kafka_fetch
  kafka_config
  local java cp dir=$STATE/kafka
  java=$(kafka_java)
  cp="$dir/libs/*"
  # SCRAM users are created when the storage is formatted (KRaft): a data
  # directory formatted without them (an older version of this script)
  # is formatted again; it holds only test topics.
  if [[ -f $dir/data/meta.properties && ! -f $dir/data/.scram ]]; then rm -rf "$dir/data"; mkdir -p "$dir/data"; fi
  if [[ ! -f $dir/data/meta.properties ]]; then
    local id
    id=$("$java" -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
    "$java" -cp "$cp" kafka.tools.StorageTool format --standalone -t "$id" \
        -c "$dir/server.properties" \
        --add-scram "SCRAM-SHA-512=[name=hotlineqc,password=$(service_password kafka hotlineqc)]" >"$dir/format.log" 2>&1 \
      || die "kafka storage format failed, see $dir/format.log"
    touch "$dir/data/.scram"
  fi
  start_bg kafka "$java" -Xms256m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true \
      -Dlog4j2.configurationFile="$dir/log4j2.yaml" \
      -cp "$cp" kafka.Kafka "$dir/server.properties"
  wait_for kafka 120 port_open 9092
  wait_for kafka-sasl 60 port_open 9094
  mkdir -p "$REGISTRY" && echo "$STATE" >"$REGISTRY/kafka"
  log "started kafka $(ls "$dir/libs" | sed -n 's/^kafka_2.13-\(.*\)\.jar$/\1/p') on 127.0.0.1:9092, :9094 (SASL_SSL)"
}

# ------------------------------------------------- Prometheus, Alertmanager

prometheus_up() {
  apt_install prometheus prometheus-alertmanager curl
  local dir=$STATE/prometheus
  mkdir -p "$dir/data"
  if port_open 9090; then
    log "prometheus already listening on 127.0.0.1:9090"
  else
    [[ -f $dir/prometheus.yml ]] || cat >"$dir/prometheus.yml" <<EOF
# Minimal configuration for the local test Prometheus. Integration tests
# load their own configuration through the reload endpoint or a new process.
global:
  scrape_interval: 5s
  evaluation_interval: 5s
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ["127.0.0.1:9090"]
EOF
    start_bg prometheus /usr/bin/prometheus --config.file="$dir/prometheus.yml" \
        --storage.tsdb.path="$dir/data" --web.listen-address=127.0.0.1:9090 \
        --web.enable-lifecycle
    wait_for prometheus 60 curl -fsS http://127.0.0.1:9090/-/ready
    log "started prometheus $(/usr/bin/prometheus --version 2>&1 | awk 'NR==1{print $3}') on 127.0.0.1:9090"
  fi
  local am=$STATE/alertmanager
  mkdir -p "$am/data"
  if port_open 9093; then
    log "alertmanager already listening on 127.0.0.1:9093"
  else
    [[ -f $am/alertmanager.yml ]] || cat >"$am/alertmanager.yml" <<EOF
route:
  receiver: "null"
receivers:
  - name: "null"
EOF
    start_bg alertmanager /usr/bin/prometheus-alertmanager --config.file="$am/alertmanager.yml" \
        --storage.path="$am/data" --web.listen-address=127.0.0.1:9093 \
        --cluster.listen-address=
    wait_for alertmanager 60 curl -fsS http://127.0.0.1:9093/-/ready
    log "started alertmanager on 127.0.0.1:9093"
  fi
  command -v promtool >/dev/null || die "promtool missing after install"
}

# ------------------------------------------------------------------ Chromium

# Headless Chromium checks pages the way a person sees them (status page,
# HTML reports). No server: it is only installed.
chromium_up() {
  apt_install chromium fonts-noto-cjk
  log "chromium $(chromium --version 2>/dev/null | awk '{print $2}') installed"
}

# ZooKeeper serves the two-shard ClickHouse cluster test, which starts its
# own private ZooKeeper and ClickHouse servers; only the package is needed.
zookeeper_up() {
  apt_install zookeeper
  log "zookeeper $(dpkg-query -W -f='${Version}' zookeeper) installed"
}

# ---------------------------------------------------------------------- chdb

# chdb is ClickHouse 26.x as a Python module: the modern schema (TTL,
# LowCardinality, codecs) and every query run on it in a test, beside the
# old Debian server. No server: it is only installed, with pip, into
# $STATE/chdb (PYTHONPATH), pinned.
CHDB_VERSION=4.4.0
chdb_up() {
  local dir=$STATE/chdb
  if PYTHONPATH=$dir python3 -c "import chdb, sys; sys.exit(chdb.__version__ != '$CHDB_VERSION')" 2>/dev/null; then
    log "chdb $CHDB_VERSION present"; return 0
  fi
  command -v python3 >/dev/null || apt_install python3 python3-pip
  log "installing chdb $CHDB_VERSION from PyPI"
  rm -rf "$dir"
  python3 -m pip install --quiet --disable-pip-version-check --target "$dir" "chdb==$CHDB_VERSION" >"$STATE/chdb-pip.log" 2>&1 ||
    die "pip install chdb failed, see $STATE/chdb-pip.log"
  log "chdb $(PYTHONPATH=$dir python3 -c 'import chdb; print(chdb.__version__, chdb.query("SELECT version()", "TSV").data().strip())') installed"
}

# ------------------------------------------------------------------- verbs

stop_one() {
  local name=$1 pidf=$STATE/$1/pid
  [[ -f $pidf ]] || return 0
  local pid; pid=$(cat "$pidf")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null || true
    log "stopped $name"
  fi
  rm -f "$pidf"
}

status() {
  local name port
  for spec in clickhouse:9000 kafka:9092 prometheus:9090 alertmanager:9093; do
    name=${spec%%:*}; port=${spec##*:}
    if port_open "$port"; then echo "$name: up on 127.0.0.1:$port"; else echo "$name: down"; fi
  done
}

case ${1:-} in
  up)
    t0=$SECONDS
    # Kafka's jar download and ClickHouse's apt install are independent.
    clickhouse_up
    kafka_up
    prometheus_up
    chromium_up
    zookeeper_up
    chdb_up
    log "all services up in $((SECONDS - t0))s"
    status ;;
  down)
    for s in alertmanager prometheus kafka clickhouse; do stop_one "$s"; done ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
