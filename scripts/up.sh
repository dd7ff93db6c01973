#!/usr/bin/env bash
# Starts the local stack under .run/ (logs/, pids/, data/, config/); stop it with scripts/down.sh.
#
# Usage: scripts/up.sh [--help]
#
#   target Prometheus   :${TARGET_PROMETHEUS_PORT:-9090}  synthetic history backfilled (scripts/history.sh,
#                       HISTORY_DAYS/HISTORY_BULK), scraping itself and node-exporter
#                       TARGET_ENGINE=victoria-metrics: VictoriaMetrics instead (Debian's package,
#                       the history imported through /api/v1/import/prometheus, scraping the same;
#                       ETL_QUERY_OFFSET defaults to 30s there, its -search.latencyOffset)
#   node-exporter       :${NODE_EXPORTER_PORT:-9100}
#   internal Prometheus :${INTERNAL_PROMETHEUS_PORT:-9098}  scraping the services' admin ports 8008-8011
#   Kafka (Tansu)       :${KAFKA_PORT:-9092}  memory storage: topics vanish on restart
#   MongoDB (SecantusDB):${MONGO_PORT:-27017}  data in .run/data/secantusd
#   services            etl, storage, retrieval, sla-manager: each one whose binary the workspace
#                       defines is built (cargo build --release --bins; SERVICES_PROFILE=dev
#                       builds and runs the debug binaries the tests already built) and started
#                       with the variables of DESIGN.md pointing at the above; SERVICES_FEATURES
#                       adds cargo features to that build.
#
# First it installs what is missing (scripts/deps.sh; SKIP_DEPS=1 skips it). Last, when no SLA
# set is stored yet, it stores sla_set.json adapted to this stack (five node-exporter series,
# each taking the label set it has in the target Prometheus: deploy/tools/adapt_sla_set.py;
# SKIP_SLA_SET=1 skips it), and prints the URLs to open and three curl lines to try.
# Everything listens on 127.0.0.1 (BIND_ADDRESS for the services). Idempotent: parts already
# running (by their pid files) are left alone. RUN_DIR overrides .run/.
# Writes .run/test.env: the TEST_* variables of scripts/test.sh pointing at this stack, so that
# `source .run/test.env && cargo test -p etl` runs tests against it.
# The Debian packages' own prometheus/node-exporter services, if running, hold 9090/9100:
# stop them (`service prometheus stop; service prometheus-node-exporter stop`) or set the ports.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ ${1:-} == -h || ${1:-} == --help ]]; then usage_from_header "$0"; exit 0; fi
(($# == 0)) || die "unexpected arguments: $* (see --help)"

cd "$ROOT_DIR" # the services read .env from here; exported variables win over it
if [[ ${SKIP_DEPS:-} != 1 ]]; then "$ROOT_DIR/scripts/deps.sh"; fi
RUN_DIR=${RUN_DIR:-$ROOT_DIR/.run}
TARGET_PROMETHEUS_PORT=${TARGET_PROMETHEUS_PORT:-9090}
NODE_EXPORTER_PORT=${NODE_EXPORTER_PORT:-9100}
INTERNAL_PROMETHEUS_PORT=${INTERNAL_PROMETHEUS_PORT:-9098}
KAFKA_PORT=${KAFKA_PORT:-9092}
MONGO_PORT=${MONGO_PORT:-27017}
mkdir -p "$RUN_DIR/logs" "$RUN_DIR/pids" "$RUN_DIR/data" "$RUN_DIR/config"

# require_port NAME PORT: the port must be free unless NAME (ours) already runs.
require_port() {
    local name=$1 port=$2
    if [[ -f $RUN_DIR/pids/$name.pid ]] && kill -0 "$(<"$RUN_DIR/pids/$name.pid")" 2>/dev/null; then
        return 0
    fi
    ! port_in_use "$port" || die "$name: port $port is taken by another process (see --help)"
}
require_port target-prometheus "$TARGET_PROMETHEUS_PORT"
require_port node-exporter "$NODE_EXPORTER_PORT"
require_port internal-prometheus "$INTERNAL_PROMETHEUS_PORT"
require_port tansu "$KAFKA_PORT"
require_port secantusd "$MONGO_PORT"

# ---- target Prometheus with history ---------------------------------------------------
target_data="$RUN_DIR/data/target-prometheus"
start_node_exporter "$RUN_DIR" node-exporter "$NODE_EXPORTER_PORT"
write_target_prometheus_config "$RUN_DIR/config/target-prometheus.yml" 15s \
    "$TARGET_PROMETHEUS_PORT" "$NODE_EXPORTER_PORT"
case ${TARGET_ENGINE:-prometheus} in
    prometheus)
        if [[ ! -f $target_data/synthetic-manifest.json ]]; then
            "$ROOT_DIR/scripts/history.sh" --data-dir "$target_data" \
                --days "${HISTORY_DAYS:-3}" --bulk "${HISTORY_BULK:-0}" --force
        fi
        start_prometheus "$RUN_DIR" target-prometheus "$TARGET_PROMETHEUS_PORT" \
            "$RUN_DIR/config/target-prometheus.yml" "$target_data"
        ;;
    victoria-metrics)
        # VictoriaMetrics makes a sample searchable up to -search.latencyOffset (30s) after it
        # is scraped: the etl evaluates that far back, or a window can miss its newest sample.
        export ETL_QUERY_OFFSET=${ETL_QUERY_OFFSET:-30s}
        # Imported into the running server: it must be up first.
        start_victoria_metrics "$RUN_DIR" target-prometheus "$TARGET_PROMETHEUS_PORT" "$target_data" \
            "$RUN_DIR/config/target-prometheus.yml"
        if [[ ! -f $target_data/synthetic-manifest.json ]]; then
            "$ROOT_DIR/scripts/history.sh" --data-dir "$target_data" --import-url \
                "http://127.0.0.1:$TARGET_PROMETHEUS_PORT" --days "${HISTORY_DAYS:-3}" --bulk "${HISTORY_BULK:-0}"
        fi
        ;;
    *) die "TARGET_ENGINE=$TARGET_ENGINE: prometheus or victoria-metrics" ;;
esac

# ---- internal Prometheus over the services' admin ports -----------------------------------
cat >"$RUN_DIR/config/internal-prometheus.yml" <<YAML
global:
  scrape_interval: 15s
scrape_configs:
  - job_name: internal-prometheus
    static_configs:
      - targets: ["127.0.0.1:$INTERNAL_PROMETHEUS_PORT"]
  - job_name: etl
    static_configs:
      - targets: ["127.0.0.1:${ETL_ADMIN_PORT:-8008}"]
  - job_name: storage
    static_configs:
      - targets: ["127.0.0.1:${STORAGE_ADMIN_PORT:-8009}"]
  - job_name: retrieval
    static_configs:
      - targets: ["127.0.0.1:${RETRIEVAL_ADMIN_PORT:-8010}"]
  - job_name: sla-manager
    static_configs:
      - targets: ["127.0.0.1:${SLA_MANAGER_ADMIN_PORT:-8011}"]
YAML
start_prometheus "$RUN_DIR" internal-prometheus "$INTERNAL_PROMETHEUS_PORT" \
    "$RUN_DIR/config/internal-prometheus.yml" "$RUN_DIR/data/internal-prometheus"

# ---- Kafka and MongoDB ---------------------------------------------------------------------
start_tansu "$RUN_DIR" tansu "$KAFKA_PORT"
start_secantusd "$RUN_DIR" secantusd "$MONGO_PORT" "$RUN_DIR/data/secantusd"

# ---- the same variables as scripts/test.sh, to run tests against this stack -----------------
cat >"$RUN_DIR/test.env" <<ENV
export TEST_PROMETHEUS_URL=http://127.0.0.1:$TARGET_PROMETHEUS_PORT
export TEST_KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT
export TEST_MONGO_URI=mongodb://127.0.0.1:$MONGO_PORT
export TEST_SYNTHETIC_MANIFEST=$target_data/synthetic-manifest.json
export TANSU_BIN=$(tansu_bin)
export SECANTUSD_BIN=$(secantusd_bin)
export PROMETHEUS_BIN=$(command -v prometheus)
export PROMTOOL_BIN=$(command -v promtool)
export TEST_RUN_DIR=$RUN_DIR
ENV

# ---- services --------------------------------------------------------------------------------
export PROMETHEUS_URL="http://127.0.0.1:$TARGET_PROMETHEUS_PORT"
export KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT"
export MONGO_URI="mongodb://127.0.0.1:$MONGO_PORT"
export SLA_MANAGER_GRPC="${SLA_MANAGER_GRPC:-http://127.0.0.1:${SLA_GRPC_PORT:-50052}}"
export BIND_ADDRESS="${BIND_ADDRESS:-127.0.0.1}"
# The sla-manager's series pages read retrieval.
export RETRIEVAL_URL="${RETRIEVAL_URL:-http://127.0.0.1:${RETRIEVAL_PORT:-5000}}"
SERVICES=(sla-manager storage retrieval etl) # sla-manager first: etl asks it for the SLA set
declare -A API=([retrieval]="REST http://127.0.0.1:${RETRIEVAL_PORT:-5000}"
    [sla-manager]="REST http://127.0.0.1:${SLA_MANAGER_PORT:-5001}, gRPC 127.0.0.1:${SLA_GRPC_PORT:-50052}")
declare -A ADMIN_PORT=([etl]=${ETL_ADMIN_PORT:-8008} [storage]=${STORAGE_ADMIN_PORT:-8009}
    [retrieval]=${RETRIEVAL_ADMIN_PORT:-8010} [sla-manager]=${SLA_MANAGER_ADMIN_PORT:-8011})

# The binary targets the workspace defines (empty when its manifests do not load).
workspace_bins=$(cargo metadata --format-version 1 --no-deps 2>"$RUN_DIR/logs/cargo-metadata.log" |
    python3 -c 'import json,sys; m=json.load(sys.stdin); print(" ".join(t["name"] for p in m["packages"] for t in p["targets"] if "bin" in t["kind"]))') ||
    log "cargo metadata failed (see $RUN_DIR/logs/cargo-metadata.log): no service started"
present=()
for svc in "${SERVICES[@]}"; do
    if [[ " $workspace_bins " == *" $svc "* ]]; then present+=("$svc"); else log "$svc: no binary in the workspace yet, skipped"; fi
done
if ((${#present[@]})); then
    profile=${SERVICES_PROFILE:-release}
    log "building services ($profile): ${present[*]}"
    # SERVICES_FEATURES: extra cargo features (reliability/stack.sh: the fault switches).
    cargo build --profile "$profile" --bins ${SERVICES_FEATURES:+--features "$SERVICES_FEATURES"} ||
        die "building the services failed; the rest of the stack is up (scripts/down.sh stops it)"
fi
[[ ${profile:-release} == dev ]] && profile_dir=debug || profile_dir=${profile:-release}
for svc in "${present[@]}"; do
    start_bg "$RUN_DIR" "$svc" "$CARGO_TARGET_DIR/$profile_dir/$svc"
    wait_for_http "$svc" "http://127.0.0.1:${ADMIN_PORT[$svc]}/healthz" 60 "$RUN_DIR"
done

# ---- an SLA set that fits this stack -----------------------------------------------------------
sla_url="http://127.0.0.1:${SLA_MANAGER_PORT:-5001}"
if [[ ${SKIP_SLA_SET:-} != 1 && " ${present[*]} " == *" sla-manager "* ]]; then
    load_sla_set "$sla_url" "$PROMETHEUS_URL" "$RUN_DIR"
fi

# ---- where things are --------------------------------------------------------------------------
cat >&2 <<TXT

local stack up (run dir $RUN_DIR, stop with scripts/down.sh):
  target Prometheus    $PROMETHEUS_URL   (history: $target_data/synthetic-manifest.json)
  node-exporter        http://127.0.0.1:$NODE_EXPORTER_PORT/metrics
  internal Prometheus  http://127.0.0.1:$INTERNAL_PROMETHEUS_PORT
  Kafka (Tansu)        $KAFKA_BROKERS
  MongoDB (SecantusDB) $MONGO_URI
  test variables       source $RUN_DIR/test.env
TXT
for svc in "${present[@]}"; do
    printf '  %-20s %sadmin http://127.0.0.1:%s (log %s)\n' "$svc" "${API[$svc]:+${API[$svc]}, }" \
        "${ADMIN_PORT[$svc]}" "$RUN_DIR/logs/$svc.log" >&2
done
if [[ " ${present[*]} " == *" sla-manager "* ]]; then
    cat >&2 <<TXT

Open $sla_url/ in a browser (every SLA, its chart and forecast; the page reloads every minute).
Try:
  curl -fsS $sla_url/status
  curl -fsS $sla_url/violations
  curl -fsS $sla_url/future-violations
The forecast appears after the etl's first fast cycle (${ETL_FAST_LOOP_SECS:-120} s).
TXT
fi
