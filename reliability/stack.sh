#!/usr/bin/env bash
# Sourced by the reliability scripts (not run): brings the whole local stack up like
# scripts/e2e.sh (temporary run dir, every port free on loopback, debug binaries, one day of
# history, the node-exporter + synthetic selector) and loads the SLA set adapted to this
# Prometheus. Everything is stopped on exit; KEEP_RUN=1 keeps the run dir (logs).
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$ROOT_DIR" || exit 1
# shellcheck disable=SC2034 # used by the scripts that source this file
REL_DIR=$ROOT_DIR/reliability
# Where a script writes its result: reliability/results/, or elsewhere for a short run.
RESULTS_DIR=${RESULTS_DIR:-$REL_DIR/results}
VENV=$ROOT_DIR/.cache/reliability-venv
SCHEMATHESIS_VERSION=${SCHEMATHESIS_VERSION:-4.32.5}
GRPCIO_VERSION=${GRPCIO_VERSION:-1.85.3}
# The cargo features that compile the fault switches into the four services.
FAULT_FEATURES=etl/fault-injection,storage/fault-injection,retrieval/fault-injection,sla-manager/fault-injection
# shellcheck disable=SC2034 # used by the scripts that source this file
# record-audit (crates/pipeline-check), built with the services by scripts/up.sh.
RECORD_AUDIT=$CARGO_TARGET_DIR/debug/record-audit

# ensure_venv: schemathesis and grpcio (pinned) and pymongo in .cache/reliability-venv.
ensure_venv() {
    local shown
    shown=$("$VENV/bin/pip" show schemathesis 2>/dev/null || true)
    if [[ ! -x $VENV/bin/st || $'\n'$shown$'\n' != *$'\nVersion: '"$SCHEMATHESIS_VERSION"$'\n'* ]] ||
        ! "$VENV/bin/python" -c 'import pymongo, grpc' 2>/dev/null; then
        log "pip: installing schemathesis==$SCHEMATHESIS_VERSION, grpcio==$GRPCIO_VERSION and pymongo into $VENV"
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION" "grpcio==$GRPCIO_VERSION" pymongo >&2
    fi
}

# live_shard_leases FIELD...: the FIELDs (space-separated) of each shard lease of the etl that
# has not expired, one lease a line.
live_shard_leases() {
    "${PY:-$(pymongo_python)}" - "$MONGO_URI_LOCAL" "$@" <<'PYEOF'
import sys, datetime, pymongo
leases = pymongo.MongoClient(sys.argv[1], serverSelectionTimeoutMS=2000)["sla_monitor"]["etl_leases"]
now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
for lease in leases.find({"kind": "shard", "expires_at": {"$gt": now}}):
    print(*(lease[field] for field in sys.argv[2:]))
PYEOF
}

# pymongo_python: a python with pymongo: the test venv's (secantusdb brings it), else
# .cache/reliability-venv's (installed by ensure_venv).
pymongo_python() {
    if "$VENV_DIR/bin/python" -c 'import pymongo' 2>/dev/null; then
        echo "$VENV_DIR/bin/python"
    else
        ensure_venv
        echo "$VENV/bin/python"
    fi
}

# stack_cleanup [RC]: stops the stack and exits with RC (default: the last command's status).
# A caller's own EXIT trap passes its status: under `set -e`, `(exit "$rc")` there would end the
# trap before the stack is stopped.
stack_cleanup() {
    local rc=${1:-$?}
    "$ROOT_DIR/scripts/down.sh" >/dev/null 2>&1 || true
    # A caller's own teardown of what it set up around the stack (fault-classes.sh: a mount).
    if declare -F stack_after_down >/dev/null; then stack_after_down || true; fi
    if [[ ${KEEP_RUN:-} == 1 || $rc != 0 ]]; then log "run dir kept: $RUN_DIR"; else rm -rf "$RUN_DIR"; fi
    exit "$rc"
}

# stack_up: the stack on free ports (calling the caller's stack_before_up first, if defined,
# and stack_cleanup its stack_after_down after stopping it); exports RETRIEVAL_URL, SLA_MANAGER_URL, TARGET_PROMETHEUS_URL,
# MONGO_URI_LOCAL and the *_PORT variables. Extra service variables (HTTP_MAX_IN_FLIGHT,
# ETL_FAST_LOOP_SECS...) are taken from the caller's environment.
stack_up() {
    RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sla-reliability.XXXXXX")
    export RUN_DIR
    trap stack_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    local var
    for var in TARGET_PROMETHEUS_PORT NODE_EXPORTER_PORT INTERNAL_PROMETHEUS_PORT KAFKA_PORT MONGO_PORT \
        RETRIEVAL_PORT SLA_MANAGER_PORT SLA_GRPC_PORT ETL_ADMIN_PORT STORAGE_ADMIN_PORT \
        RETRIEVAL_ADMIN_PORT SLA_MANAGER_ADMIN_PORT; do
        export "$var=$(free_port)"
    done
    export SERVICES_PROFILE=${SERVICES_PROFILE:-dev}
    # The fault switches (common/src/fault.rs) are compiled in; each stays off unless its FAULT_*
    # variable is set, as only reliability/mutations.sh does.
    export SERVICES_FEATURES=${SERVICES_FEATURES-$FAULT_FEATURES}
    export HISTORY_DAYS=${HISTORY_DAYS:-1}
    export ETL_FAST_LOOP_SECS=${ETL_FAST_LOOP_SECS:-20}
    export ETL_SERIES_SELECTOR=${ETL_SERIES_SELECTOR:-'{__name__=~"node_load1|node_load5|node_memory_MemAvailable_bytes|node_procs_running|node_procs_blocked|synthetic_.+"}'}
    export SLA_MANAGER_GRPC="http://127.0.0.1:$SLA_GRPC_PORT"
    # A caller's own preparation of the run dir (fault-classes.sh: the database's data
    # directory on a small file system of its own), before anything is started.
    if declare -F stack_before_up >/dev/null; then stack_before_up; fi
    "$ROOT_DIR/scripts/up.sh" 2>"$RUN_DIR/up.log" || { cat "$RUN_DIR/up.log" >&2; die "scripts/up.sh failed"; }
    export RETRIEVAL_URL="http://127.0.0.1:$RETRIEVAL_PORT"
    export SLA_MANAGER_URL="http://127.0.0.1:$SLA_MANAGER_PORT"
    export TARGET_PROMETHEUS_URL="http://127.0.0.1:$TARGET_PROMETHEUS_PORT"
    export MONGO_URI_LOCAL="mongodb://127.0.0.1:$MONGO_PORT"
    log "stack up in $RUN_DIR (retrieval $RETRIEVAL_URL, sla-manager $SLA_MANAGER_URL)"
}

# load_slaset: sla_set.json (or SLA_SET_FILE) adapted to the target Prometheus (as
# deploy/tools/postman-e2e.sh does), stored with PUT /slaset; writes $RUN_DIR/slaset.json and
# $RUN_DIR/slaset-put.json. reliability/sla_set.synthetic.json is a set over the synthetic
# series, whose day of history lets the etl forecast them from its first cycle (a fresh
# node-exporter's series have too little history for a forecast for about four minutes).
load_slaset() {
    # node-exporter's series appear after the first scrape (15 s): retry for a minute.
    local deadline=$((SECONDS + 90))
    until python3 "$ROOT_DIR/deploy/tools/adapt_sla_set.py" "${SLA_SET_FILE:-$ROOT_DIR/sla_set.json}" "$TARGET_PROMETHEUS_URL" \
        >"$RUN_DIR/slaset.json" 2>"$RUN_DIR/slaset.err"
    do
        ((SECONDS < deadline)) || die "adapting the SLA set: $(cat "$RUN_DIR/slaset.err")"
        sleep 3
    done
    local auth=() status
    [[ -n ${SLA_API_TOKEN:-} ]] && auth=(-H "Authorization: Bearer $SLA_API_TOKEN")
    status=$(curl -sS -o "$RUN_DIR/slaset-put.json" -w '%{http_code}' -X PUT "$SLA_MANAGER_URL/slaset" "${auth[@]}" \
        -H 'Content-Type: application/json' --data-binary @"$RUN_DIR/slaset.json")
    [[ $status == 200 || $status == 201 ]] || die "PUT /slaset answered $status: $(cat "$RUN_DIR/slaset-put.json")"
    log "SLA set loaded ($status)"
}

# first_sla_id: the id of the first stored SLA series.
first_sla_id() {
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["slaset"][0]["id"])' "$RUN_DIR/slaset-put.json"
}

# wait_values ID TIMEOUT: until retrieval has values for ID.
wait_values() {
    local id=$1 deadline=$((SECONDS + $2))
    until [[ $(curl -sS -o /dev/null -w '%{http_code}' "$RETRIEVAL_URL/metrics/$id/values") == 200 ]]; do
        ((SECONDS < deadline)) || return 1
        sleep 3
    done
}

# panics_in_logs: lines of the service logs that mention a panic.
panics_in_logs() {
    grep -H -i -E 'panicked|panic' "$RUN_DIR"/logs/{etl,storage,retrieval,sla-manager}.log 2>/dev/null || true
}
