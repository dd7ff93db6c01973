#!/usr/bin/env bash
# End-to-end: the whole local stack on free loopback ports, the SLA set loaded, one cycle of the
# pipeline, then the whole Postman collection with newman, then two more fast cycles and
# pipeline-check (every stored document against PromQL, the generator and the SLA set);
# everything stopped whatever happens.
#
# Usage: scripts/e2e.sh [--help]
#
# Uses scripts/up.sh in a temporary run dir with every port picked free, the debug service
# binaries (SERVICES_PROFILE, default dev: the ones the tests built), one day of synthetic
# history, a fast loop of 20 s and a slow one of 30 s, and a series selector limited to the node-exporter series of
# sla_set.json and the synthetic ones, so one slow cycle of a debug build stays short. Then
# deploy/tools/postman-e2e.sh adapts sla_set.json to this Prometheus, stores it, waits for
# values, metadata and a prediction, and runs newman. KEEP_E2E_RUN=1 keeps the run dir (logs).
# TARGET_ENGINE=victoria-metrics runs it all against VictoriaMetrics instead of the target
# Prometheus (scripts/up.sh): the same history, scrapes, selector and checks.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

no_arguments_but_help "$@"
cd "$ROOT_DIR"

RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sla-e2e.XXXXXX")
export RUN_DIR
# What the run is doing, and the file its output is copied to: on failure, CI shows only the
# end of what was printed, so the services' logs come first and the failing step's output last.
step="bringing the stack up (scripts/up.sh)"
step_output=
cleanup() {
    local rc=$?
    "$ROOT_DIR/scripts/down.sh" >/dev/null 2>&1 || true
    if [[ ${KEEP_E2E_RUN:-} == 1 || $rc != 0 ]]; then
        log "e2e run dir kept: $RUN_DIR"
    fi
    if [[ $rc != 0 ]]; then
        tail -n 20 "$RUN_DIR"/logs/*.log >&2 || true
        if [[ -n $step_output && -s $step_output ]]; then
            printf '\n==> the end of its output (%s) <==\n' "$step_output" >&2
            tail -n 60 "$step_output" >&2
        fi
        log "e2e FAILED (exit $rc) while $step"
    elif [[ ${KEEP_E2E_RUN:-} != 1 ]]; then
        rm -rf "$RUN_DIR"
    fi
    exit "$rc"
}
on_exit cleanup

export_free_ports "${UP_PORT_VARS[@]}"
export SERVICES_PROFILE=${SERVICES_PROFILE:-dev}
export HISTORY_DAYS=1
export ETL_FAST_LOOP_SECS=20
# The slow loop's first cycle can run before Prometheus' first scrape of node-exporter; a
# short period gives the SLA series their metadata soon after, not an hour later.
export ETL_SLOW_LOOP_SECS=30
export ETL_SERIES_SELECTOR='{__name__=~"node_load1|node_load5|node_memory_MemAvailable_bytes|node_procs_running|node_procs_blocked|synthetic_.+"}'
export SLA_MANAGER_GRPC="http://127.0.0.1:$SLA_GRPC_PORT"
# As scripts/up.sh sets it on VictoriaMetrics (its -search.latencyOffset); pipeline-check
# must know it too (the records are dated that far back).
if [[ ${TARGET_ENGINE:-prometheus} == victoria-metrics ]]; then
    export ETL_QUERY_OFFSET=${ETL_QUERY_OFFSET:-30s}
fi

"$ROOT_DIR/scripts/up.sh"

# sla_set.json names node-exporter series: wait for Prometheus' first scrape of them.
step="waiting for the target Prometheus' first scrape of node-exporter"
node_exporter_scraped() {
    curl -fsS "http://127.0.0.1:$TARGET_PROMETHEUS_PORT/api/v1/query" \
        --data-urlencode 'query=count(node_load1{job="node"})' | grep -q '"value"'
}
wait_until 120 "the target Prometheus did not scrape node-exporter" node_exporter_scraped
step="running the Postman collection (deploy/tools/postman-e2e.sh)"
step_output=$RUN_DIR/logs/postman-e2e.out
RETRIEVAL_URL="http://127.0.0.1:$RETRIEVAL_PORT" \
    SLA_MANAGER_URL="http://127.0.0.1:$SLA_MANAGER_PORT" \
    TARGET_PROMETHEUS_URL="http://127.0.0.1:$TARGET_PROMETHEUS_PORT" \
    "$ROOT_DIR/deploy/tools/postman-e2e.sh" 2>&1 | tee "$step_output"
log "e2e: the Postman collection passed against the whole pipeline"

# Two more fast cycles (counted by the etl's exporter), then every document is checked once.
fast_cycles() {
    curl -fsS "http://127.0.0.1:$ETL_ADMIN_PORT/metrics" |
        awk '/^etl_cycle_duration_seconds_count\{loop="fast"\}/ {print $2}'
}
step="waiting for two more fast cycles"
step_output=
fast_cycles_reach() {
    local n
    n=$(fast_cycles)
    ((${n:-0} >= $1))
}
target=$(($(fast_cycles) + 2))
wait_until $((10 * ETL_FAST_LOOP_SECS)) "the etl did not complete two more fast cycles" fast_cycles_reach "$target"
step="checking every stored document (pipeline-check)"
step_output=$RUN_DIR/logs/pipeline-check.out
"$CARGO_TARGET_DIR/debug/pipeline-check" \
    --prometheus-url "http://127.0.0.1:$TARGET_PROMETHEUS_PORT" \
    --mongo-uri "mongodb://127.0.0.1:$MONGO_PORT" --mongo-db "${MONGO_DB:-sla_monitor}" \
    --series-selector "$ETL_SERIES_SELECTOR" \
    --manifest "$RUN_DIR/data/target-prometheus/synthetic-manifest.json" \
    --fast-loop-secs "$ETL_FAST_LOOP_SECS" --slow-loop-secs "$ETL_SLOW_LOOP_SECS" \
    --query-offset "${ETL_QUERY_OFFSET:-0s}" 2>&1 |
    tee "$step_output"
log "e2e: pipeline-check passed"
