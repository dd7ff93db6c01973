#!/usr/bin/env bash
# Load on the REST APIs of a whole local stack with wrk, at rising concurrency.
#
# Usage: reliability/load.sh [--levels "1 4 16 64 256"] [--duration 10s] [--min-ok-rps 5] [--help]
#
# Brings the stack up like scripts/e2e.sh (temporary run dir, free loopback ports, debug
# binaries) with HTTP_MAX_IN_FLIGHT (default here 16) low enough that the top levels must be
# shed, loads the SLA set and waits for the first values, then runs wrk (apt; installed if
# missing) for each level (connections) against:
#   retrieval   GET /metrics/{id}/values, GET /metrics
#   sla-manager GET /status, GET /violations   (the SLA set loaded)
# and reports, per endpoint and level: requests/s, p50/p99 latency, 2xx, 503 and other non-2xx
# answers, socket errors, and the RSS of the service under test after the level (VmRSS from
# /proc). Writes the table to reliability/results/load.md. Fails if an answer is a 5xx other
# than 503, a p99 exceeds the service's request timeout (HTTP_REQUEST_TIMEOUT, 10 s), a level
# with more than twice HTTP_MAX_IN_FLIGHT connections got no 503 (load was not shed), or a level
# got fewer than --min-ok-rps 2xx answers per second (shedding starved the service). Takes about
# 4-5 minutes; reliability/mutations.sh runs it with --levels 64 --duration 3s, also with the
# shedding removed (FAULT_NO_LOAD_SHED=1), which it must fail.
set -euo pipefail
# shellcheck source=reliability/stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/stack.sh"

LEVELS="1 4 16 64 256"
DURATION=10s
MIN_OK_RPS=5
while (($#)); do
    case $1 in
        -h | --help) usage_from_header "$0"; exit 0 ;;
        --levels) LEVELS=$2; shift 2 ;;
        --duration) DURATION=$2; shift 2 ;;
        --min-ok-rps) MIN_OK_RPS=$2; shift 2 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done
[[ $DURATION =~ ^[0-9]+s$ ]] || die "--duration takes whole seconds, e.g. 10s"
if ! command -v wrk >/dev/null; then
    log "apt: installing wrk"
    { apt-get update -qq && apt-get install -y -qq wrk; } >&2
fi

export HTTP_MAX_IN_FLIGHT=${HTTP_MAX_IN_FLIGHT:-16}
stack_up
load_slaset
ID=$(first_sla_id)
log "waiting for the first values of $ID"
wait_values "$ID" 300 || die "no values for $ID after 300 s"
mkdir -p "$RESULTS_DIR"
work=$RUN_DIR/load
mkdir -p "$work"

rss_mib() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$(<"$RUN_DIR/pids/$1.pid")/status"; }

declare -a rows
bad=0
run_level() {
    local svc=$1 url=$2 conns=$3 threads out
    threads=$((conns < 2 ? 1 : 2))
    out=$work/$svc-$(echo "$url" | tr -c 'a-z0-9' _)-$conns.txt
    wrk -t"$threads" -c"$conns" -d"$DURATION" --timeout 30s --latency -s "$REL_DIR/status-counts.lua" "$url" >"$out" 2>&1 || true
    local rps p50 p99 ok shed other errors
    rps=$(awk '/^Requests\/sec/ {print $2}' "$out")
    p50=$(awk '/^latency_us/ {printf "%.1f", $3 / 1000}' "$out")
    p99=$(awk '/^latency_us/ {printf "%.1f", $5 / 1000}' "$out")
    ok=$(awk '$1 == "status" && $2 ~ /^2/ {n += $3} END {print n + 0}' "$out")
    shed=$(awk '$1 == "status" && $2 == 503 {n += $3} END {print n + 0}' "$out")
    other=$(awk '$1 == "status" && $2 !~ /^2/ && $2 != 503 {printf "%s%s:%s", sep, $2, $3; sep = ","} END {if (!sep) print "0"}' "$out")
    errors=$(awk '/Socket errors/ {print $3 $4 $5 $6 $7 $8 $9 $10}' "$out")
    local path=/${url#http://127.0.0.1:*/}
    path=${path/$ID/ID}
    rows+=("| $svc | $path | $conns | ${rps:-?} | ${p50:-?} | ${p99:-?} | $ok | $shed | $other | ${errors:-0} | $(rss_mib "$svc") |")
    printf '%s\n' "${rows[-1]}" >&2
    [[ $other == 0 || $other != *5??:* ]] || { bad=1; log "unexpected non-2xx on $url at $conns: $other"; }
    if [[ -n $p99 ]] && awk -v p="$p99" 'BEGIN {exit !(p > 10000)}'; then bad=1; log "p99 over 10 s on $url at $conns"; fi
    if ((conns > 2 * HTTP_MAX_IN_FLIGHT && shed == 0)); then
        bad=1; log "no 503 on $url at $conns connections (in-flight limit $HTTP_MAX_IN_FLIGHT): load was not shed"
    fi
    local seconds=${DURATION%s}
    if awk -v ok="$ok" -v s="$seconds" -v min="$MIN_OK_RPS" 'BEGIN {exit !(ok < min * s)}'; then
        bad=1; log "only $ok 2xx in ${DURATION} on $url at $conns connections (floor: $MIN_OK_RPS/s)"
    fi
}

rss_start=$(for s in etl storage retrieval sla-manager; do printf '%s %s MiB; ' "$s" "$(rss_mib "$s")"; done)
log "RSS at start: $rss_start"
for target in "retrieval $RETRIEVAL_URL/metrics/$ID/values" "retrieval $RETRIEVAL_URL/metrics" \
    "sla-manager $SLA_MANAGER_URL/status" "sla-manager $SLA_MANAGER_URL/violations"; do
    read -r svc url <<<"$target"
    for conns in $LEVELS; do run_level "$svc" "$url" "$conns"; done
done
rss_end=$(for s in etl storage retrieval sla-manager; do printf '%s %s MiB; ' "$s" "$(rss_mib "$s")"; done)
alive=$(for s in etl storage retrieval sla-manager; do
    v=$(echo "${s^^}_ADMIN_PORT" | tr - _)
    printf '%s %s; ' "$s" "$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:${!v}/healthz")"
done)
panics=$(panics_in_logs)
[[ -z $panics ]] || bad=1

{
    echo "Load run $(date -u +%FT%TZ): wrk, $DURATION per level, debug binaries, HTTP_MAX_IN_FLIGHT=$HTTP_MAX_IN_FLIGHT, $(nproc) cores shared with the whole stack."
    echo
    echo "| service | endpoint | connections | req/s | p50 ms | p99 ms | 2xx | 503 | other non-2xx | socket errors | RSS after (MiB) |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
    echo
    echo "RSS at start: $rss_start"
    echo "RSS at end: $rss_end"
    echo "healthz after the run: $alive"
    echo "panics in service logs: $([[ -z $panics ]] && echo none || echo "$panics")"
    echo "verdict: $([[ $bad == 0 ]] && echo "held (no 5xx other than 503 shedding, every p99 under 10 s, 503s above twice the in-flight limit, at least $MIN_OK_RPS 2xx/s at every level)" || echo FAILED)"
} | tee "$RESULTS_DIR/load.md"
((bad == 0))
