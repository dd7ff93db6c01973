#!/usr/bin/env bash
# Runs the workspace tests against real, throwaway dependencies; stops them whatever happens.
#
# Usage: scripts/test.sh [--help] [ARGS...]
#
# 1. scripts/deps.sh; builds the tests once (before the history, so that its end is "now").
# 2. Starts on free 127.0.0.1 ports, in a temporary run dir: a target Prometheus with the
#    synthetic history backfilled (and scraping itself and a node-exporter every 5s), a Tansu
#    broker and a SecantusDB server; and a VictoriaMetrics (Debian's victoria-metrics, the
#    second PromQL engine) with the same history imported through /api/v1/import/prometheus.
# 3. Exports, for the tests:
#      TEST_PROMETHEUS_URL      http://127.0.0.1:PORT of the target Prometheus
#      TEST_VICTORIA_METRICS_URL  http://127.0.0.1:PORT of the VictoriaMetrics (same history)
#      TEST_KAFKA_BROKERS       127.0.0.1:PORT of the broker
#      TEST_MONGO_URI           mongodb://127.0.0.1:PORT
#      TEST_SYNTHETIC_MANIFEST  the history's manifest (synthetic::Manifest::load / from_env)
#      TANSU_BIN, SECANTUSD_BIN, PROMETHEUS_BIN, PROMTOOL_BIN
#                               absolute paths, for tests that start private instances
#      TEST_RUN_DIR             the run dir (logs/ of every process)
# 4. Runs the doc tests (nextest does not run them) and every criterion bench once in test
#    mode (so benches never rot), then `cargo nextest run --workspace ARGS` when nextest is
#    installed, else `cargo test --workspace ARGS`.
# 5. Before the Rust tests, scripts/e2e.sh brings the whole pipeline up on free ports and runs
#    the Postman collection against it (SKIP_E2E=1 skips it; so does picking packages), then
#    again with TARGET_ENGINE=victoria-metrics (the whole pipeline on VictoriaMetrics), then
#    scripts/quickstart-test.sh runs the README's quick start on a fresh clone and checks the web
#    UI in headless Chromium (SKIP_QUICKSTART=1 skips it, SKIP_BROWSER=1 only the browser).
# 6. Last, reliability/mutations.sh: short runs of the reliability scripts, each as it is (must
#    pass) and against its fault switch (must fail), with the services built with the
#    `fault-injection` feature (SKIP_MUTATIONS=1 skips it; so does picking packages).
# Before all that, scripts/validate-deploy.sh checks the deployment files (compose, Kubernetes,
# Prometheus rules, Grafana, Postman) without Docker (SKIP_DEPLOY_CHECKS=1 skips it), and
# `cargo fmt --check`, `cargo clippy --all-targets -D warnings`, `cargo doc` (broken links are errors) and scripts/audit.sh (RustSec
# advisories, offline) check the code (SKIP_LINT=1 skips them).
#
# Environment: TEST_SYNTHETIC_DAYS (3), TEST_SYNTHETIC_BULK (12: one metric name with many series, as sharding narrows), KEEP_TEST_RUN=1 keeps the run
# dir (logs) after the run, TEST_RUNNER=cargo forces cargo test.
# The synthetic series stop at the manifest's `end`: PromQL instant queries see them up to 5
# minutes after it (staleness), range functions as long as the range reaches back to it.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ ${1:-} == -h || ${1:-} == --help ]]; then usage_from_header "$0"; exit 0; fi
cd "$ROOT_DIR"

"$ROOT_DIR/scripts/deps.sh"
if [[ ${SKIP_DEPLOY_CHECKS:-} != 1 ]]; then "$ROOT_DIR/scripts/validate-deploy.sh"; fi

runner=cargo
# The whole workspace, unless the arguments pick packages (`-p storage`): then only those.
scope=(--workspace)
picked=()
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
    case ${args[i]} in
        -p | --package) picked+=(-p "${args[i + 1]:-}") ;;
        -p?* | --package=*) picked+=("${args[i]}") ;;
    esac
done
if ((${#picked[@]})); then scope=("${picked[@]}"); fi
if [[ ${TEST_RUNNER:-} != cargo ]] && cargo nextest --version >/dev/null 2>&1; then runner=nextest; fi

TEST_RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sla-test.XXXXXX")
# What is running, named on the last line of a failed run (CI shows only its end), with the
# free disk space: a cold build of the workspace needs a few GiB under target/.
stage="linting"
cleanup() {
    local rc=$?
    stop_all "$TEST_RUN_DIR"
    if [[ ${KEEP_TEST_RUN:-} == 1 || $rc != 0 ]]; then
        log "run dir kept: $TEST_RUN_DIR"
    else
        rm -rf "$TEST_RUN_DIR"
    fi
    if [[ $rc != 0 ]]; then
        log "tests FAILED (exit $rc) while $stage; $(disk_free "$CARGO_TARGET_DIR")"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
log "disk: $(disk_free "$CARGO_TARGET_DIR")"

if [[ ${SKIP_LINT:-} != 1 ]]; then
    log "lint: rustfmt, clippy and rustdoc (warnings are errors)"
    cargo fmt --all --check
    cargo clippy "${scope[@]}" --all-targets -- -D warnings
    # A broken intra-doc link is a reader sent nowhere.
    RUSTDOCFLAGS="-D warnings" cargo doc "${scope[@]}" --no-deps --quiet
    "$ROOT_DIR/scripts/audit.sh"
fi

log "building the tests ($runner)"
stage="building the tests"
if [[ $runner == nextest ]]; then
    cargo nextest run "${scope[@]}" --no-run "$@"
else
    cargo test "${scope[@]}" --no-run "$@"
fi

stage="starting the dependencies"
# ---- history and target Prometheus ----------------------------------------------------
prom_data="$TEST_RUN_DIR/data/target-prometheus"
"$ROOT_DIR/scripts/history.sh" --data-dir "$prom_data" \
    --days "${TEST_SYNTHETIC_DAYS:-3}" --bulk "${TEST_SYNTHETIC_BULK:-12}"
manifest="$prom_data/synthetic-manifest.json"

node_port=$(free_port)
start_node_exporter "$TEST_RUN_DIR" node-exporter "$node_port"
prom_port=$(free_port)
write_target_prometheus_config "$TEST_RUN_DIR/config/target-prometheus.yml" 5s "$prom_port" "$node_port"
start_prometheus "$TEST_RUN_DIR" target-prometheus "$prom_port" \
    "$TEST_RUN_DIR/config/target-prometheus.yml" "$prom_data"

# The backfill must be served: count the constant series' samples over the whole history.
python3 - "http://127.0.0.1:$prom_port" "$manifest" <<'PY' || die "the target Prometheus does not serve the backfilled history"
import json, sys, urllib.parse, urllib.request
url, manifest = sys.argv[1], json.load(open(sys.argv[2]))
end, days = manifest["config"]["end"], manifest["config"]["days"]
query = urllib.parse.urlencode({"query": f"count_over_time(synthetic_constant[{days}d])", "time": end})
result = json.load(urllib.request.urlopen(f"{url}/api/v1/query?{query}", timeout=30))["data"]["result"]
got = int(float(result[0]["value"][1])) if result else 0
if got != manifest["samples_per_series"]:
    sys.exit(f"count_over_time(synthetic_constant[{days}d]) = {got}, expected {manifest['samples_per_series']}")
PY

# ---- the second PromQL engine, with the same history (the same manifest) ------------------
vm_port=$(free_port)
vm_data="$TEST_RUN_DIR/data/victoria-metrics"
start_victoria_metrics "$TEST_RUN_DIR" victoria-metrics "$vm_port" "$vm_data"
read -r history_end history_days history_bulk < <(python3 -c \
    'import json,sys; c=json.load(open(sys.argv[1]))["config"]; print(c["end"], c["days"], c["bulk"])' "$manifest")
"$ROOT_DIR/scripts/history.sh" --data-dir "$vm_data" --import-url "http://127.0.0.1:$vm_port" \
    --end "$history_end" --days "$history_days" --bulk "$history_bulk"
cmp -s <(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["config"])' "$manifest") \
    <(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["config"])' "$vm_data/synthetic-manifest.json") ||
    die "VictoriaMetrics got another history than the target Prometheus"

# ---- broker and database ---------------------------------------------------------------
kafka_port=$(free_port)
start_tansu "$TEST_RUN_DIR" tansu "$kafka_port"
mongo_port=$(free_port)
start_secantusd "$TEST_RUN_DIR" secantusd "$mongo_port" "$TEST_RUN_DIR/data/secantusd"

export TEST_PROMETHEUS_URL="http://127.0.0.1:$prom_port"
export TEST_VICTORIA_METRICS_URL="http://127.0.0.1:$vm_port"
export TEST_KAFKA_BROKERS="127.0.0.1:$kafka_port"
export TEST_MONGO_URI="mongodb://127.0.0.1:$mongo_port"
export TEST_SYNTHETIC_MANIFEST="$manifest"
TANSU_BIN=$(tansu_bin)
SECANTUSD_BIN=$(secantusd_bin)
PROMETHEUS_BIN=$(command -v prometheus)
PROMTOOL_BIN=$(command -v promtool)
export TANSU_BIN SECANTUSD_BIN PROMETHEUS_BIN PROMTOOL_BIN TEST_RUN_DIR
log "dependencies up: prometheus $TEST_PROMETHEUS_URL, victoria-metrics $TEST_VICTORIA_METRICS_URL, kafka $TEST_KAFKA_BROKERS, mongo $TEST_MONGO_URI"

# ---- tests ---------------------------------------------------------------------------------
if [[ ${SKIP_E2E:-} != 1 && ${#picked[@]} == 0 ]]; then
    log "end to end: the whole stack and the Postman collection (scripts/e2e.sh)"
    stage="running scripts/e2e.sh"
    "$ROOT_DIR/scripts/e2e.sh"
    log "end to end on VictoriaMetrics: the same, the target Prometheus replaced (TARGET_ENGINE=victoria-metrics scripts/e2e.sh)"
    stage="running TARGET_ENGINE=victoria-metrics scripts/e2e.sh"
    TARGET_ENGINE=victoria-metrics "$ROOT_DIR/scripts/e2e.sh"
    if [[ ${SKIP_QUICKSTART:-} != 1 ]]; then
        log "the README's quick start on a fresh clone, and the web UI in a browser (scripts/quickstart-test.sh)"
        stage="running scripts/quickstart-test.sh"
        "$ROOT_DIR/scripts/quickstart-test.sh"
    fi
fi
log "benches once, in test mode"
stage="running the benches in test mode"
cargo test --benches "${scope[@]}"
stage="running the workspace tests ($runner)"
if [[ $runner == nextest ]]; then
    cargo test --doc "${scope[@]}"
    cargo nextest run --no-fail-fast "${scope[@]}" "$@"
else
    cargo test --no-fail-fast "${scope[@]}" "$@"
fi
if [[ ${SKIP_MUTATIONS:-} != 1 && ${#picked[@]} == 0 ]]; then
    log "mutation runs: each reliability script fails against its fault switch (reliability/mutations.sh)"
    stage="running reliability/mutations.sh"
    "$ROOT_DIR/reliability/mutations.sh"
fi
