#!/usr/bin/env bash
# Runs the whole Postman collection with newman against a running stack (e.g. scripts/up.sh).
#
# Usage: deploy/tools/postman-e2e.sh [--help]
#
#   1. adapts sla_set.json to the target Prometheus: each SLA series keeps its metric name and
#      job, and takes the `instance` that series has there (up.sh's node-exporter is
#      127.0.0.1:<port>, compose's is node-exporter:9100);
#   2. stores it (PUT /slaset) and waits until the first SLA series has values, metadata and a
#      prediction (one fast cycle of the etl; the slow loop runs at start too);
#   3. runs newman (installed from npm into .cache/newman when missing) with that set as
#      `slaset`, every request and assertion must pass.
#
# Environment: RETRIEVAL_URL (http://127.0.0.1:$RETRIEVAL_PORT, default port 5000),
# SLA_MANAGER_URL (http://127.0.0.1:$SLA_MANAGER_PORT, 5001), TARGET_PROMETHEUS_URL
# (http://127.0.0.1:$TARGET_PROMETHEUS_PORT, 9090), SLA_API_TOKEN (sent as the bearer token;
# empty when the sla-manager has none), E2E_TIMEOUT (seconds to wait for results, 600),
# NEWMAN_VERSION (6.2.2).
set -euo pipefail

ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [[ ${1:-} == -h || ${1:-} == --help ]]; then
    sed -n '2,/^[^#]/{/^#/!q;s/^# \{0,1\}//;p}' "$0"
    exit 0
fi
(($# == 0)) || { echo "unexpected arguments: $* (see --help)" >&2; exit 2; }

RETRIEVAL_URL=${RETRIEVAL_URL:-http://127.0.0.1:${RETRIEVAL_PORT:-5000}}
SLA_MANAGER_URL=${SLA_MANAGER_URL:-http://127.0.0.1:${SLA_MANAGER_PORT:-5001}}
TARGET_PROMETHEUS_URL=${TARGET_PROMETHEUS_URL:-http://127.0.0.1:${TARGET_PROMETHEUS_PORT:-9090}}
SLA_API_TOKEN=${SLA_API_TOKEN:-}
E2E_TIMEOUT=${E2E_TIMEOUT:-600}
NEWMAN_VERSION=${NEWMAN_VERSION:-6.2.2}
NEWMAN_DIR=$ROOT_DIR/.cache/newman
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# ---- 1. the SLA set, adapted to the target Prometheus ------------------------------------
python3 "$ROOT_DIR/deploy/tools/adapt_sla_set.py" "$ROOT_DIR/sla_set.json" "$TARGET_PROMETHEUS_URL" >"$work/slaset.json"
log "SLA set adapted to $TARGET_PROMETHEUS_URL: $(python3 -c 'import json,sys; print(", ".join(s["name"]["__name__"] + "@" + s["name"]["instance"] for s in json.load(open(sys.argv[1]))))' "$work/slaset.json")"

# ---- 2. store it and wait for results -----------------------------------------------------
auth=()
[[ -n $SLA_API_TOKEN ]] && auth=(-H "Authorization: Bearer $SLA_API_TOKEN")
status=$(curl -sS -o "$work/put.json" -w '%{http_code}' -X PUT "$SLA_MANAGER_URL/slaset" "${auth[@]}" \
    -H 'Content-Type: application/json' --data-binary @"$work/slaset.json")
[[ $status == 200 || $status == 201 ]] || { log "PUT /slaset answered $status: $(cat "$work/put.json")"; exit 1; }
id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["slaset"][0]["id"])' "$work/put.json")
log "SLA set stored; waiting up to ${E2E_TIMEOUT}s for the results of $id"
deadline=$((SECONDS + E2E_TIMEOUT))
for kind in values metadata prediction; do
    until [[ $(curl -sS -o /dev/null -w '%{http_code}' "$RETRIEVAL_URL/metrics/$id/$kind") == 200 ]]; do
        ((SECONDS < deadline)) || { log "no $kind for $id after ${E2E_TIMEOUT}s"; exit 1; }
        sleep 5
    done
    log "$kind stored"
done

# ---- 3. newman ------------------------------------------------------------------------------
newman=$NEWMAN_DIR/node_modules/.bin/newman
if [[ ! -x $newman ]] || [[ $("$newman" --version 2>/dev/null) != "$NEWMAN_VERSION" ]]; then
    log "npm: installing newman@$NEWMAN_VERSION into $NEWMAN_DIR"
    mkdir -p "$NEWMAN_DIR"
    npm install --prefix "$NEWMAN_DIR" --no-audit --no-fund --silent "newman@$NEWMAN_VERSION" >&2
fi
"$newman" run "$ROOT_DIR/postman_collection.json" \
    --env-var "retrieval_url=$RETRIEVAL_URL" --env-var "sla_manager_url=$SLA_MANAGER_URL" \
    --env-var "token=$SLA_API_TOKEN" --env-var "slaset=$(cat "$work/slaset.json")" \
    --reporters cli --color off
