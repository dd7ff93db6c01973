#!/usr/bin/env bash
# Fault injection on a running pipeline: SIGKILL and restart, in turn, every part.
#
# Usage: reliability/faults.sh [--parts "tansu secantusd target-prometheus sla-manager storage etl"]
#                              [--down SECS] [--recovery-timeout SECS] [--help]
#
# Brings the stack up like scripts/e2e.sh (temporary run dir, free loopback ports, debug
# binaries, ETL_FAST_LOOP_SECS=15 unless set), loads the SLA set and waits until every selected
# series has a document. Then for each part: SIGKILL its process group, leave it down --down
# seconds (default 10), start it again exactly as scripts/up.sh does, and wait (at most
# --recovery-timeout, default 240 s) until every series' document has `values_at` later than the
# kill (read with pymongo). After each fault: every other service
# still runs with the same pid (no manual restart) and answers /healthz.
# Loss is accounted by record identity (series id, kind, computed_at), from the topic to the
# database, by `record-audit loss` (crates/pipeline-check/src/audit.rs): from the start it
# looks every second, and every record the storage group has committed must then be in the
# database (or a newer one of its series and kind, or in the dead-letter topic); at the end the
# etl is stopped gracefully, storage drains, and every record seen in the topic must be so.
# A duplicate cannot hide a loss. The run fails on any record lost.
# Counters: etl and storage admin /metrics are scraped every second (per process, since a
# restart resets them) and reported: produced vs written + stale + dead letters. Killing Tansu
# loses what it held (memory storage): the storage consumer lag and etl_records_pending at that
# moment are reported. Writes reliability/results/faults.md. Takes about 10-15 minutes;
# reliability/mutations.sh runs it with --parts storage --down 2, also with storage dropping
# records (FAULT_STORAGE_DROP_PERCENT=1), which it must fail.
set -euo pipefail
# shellcheck source=reliability/stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/stack.sh"

PARTS="tansu secantusd target-prometheus sla-manager storage etl"
DOWN=10
RECOVERY_TIMEOUT=240
while (($#)); do
    case $1 in
        -h | --help) usage_from_header "$0"; exit 0 ;;
        --parts) PARTS=$2; shift 2 ;;
        --down) DOWN=$2; shift 2 ;;
        --recovery-timeout) RECOVERY_TIMEOUT=$2; shift 2 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done
export ETL_FAST_LOOP_SECS=${ETL_FAST_LOOP_SECS:-15}
export STORAGE_SESSION_TIMEOUT=${STORAGE_SESSION_TIMEOUT:-10s}
stack_up
work=$RUN_DIR/faults
mkdir -p "$work" "$RESULTS_DIR"
PY=$(pymongo_python)
SERVICES=(sla-manager storage retrieval etl)
declare -A ADMIN=([etl]=$ETL_ADMIN_PORT [storage]=$STORAGE_ADMIN_PORT [retrieval]=$RETRIEVAL_ADMIN_PORT
    [sla-manager]=$SLA_MANAGER_ADMIN_PORT)
# what up.sh exports to the services
export PROMETHEUS_URL=$TARGET_PROMETHEUS_URL KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT" MONGO_URI=$MONGO_URI_LOCAL
export BIND_ADDRESS=127.0.0.1
# The identity audit looks from now on (the etl's first records are already on their way).
"$RECORD_AUDIT" loss --watch-until "$work/audit.stop" --interval 1s >"$work/audit.txt" 2>"$work/audit.err" &
AUDIT=$!
trap 'rc=$?; kill "$AUDIT" 2>/dev/null || true; stack_cleanup "$rc"' EXIT
load_slaset

pid_of() { cat "$RUN_DIR/pids/$1.pid" 2>/dev/null || echo none; }

# docs_fresh SINCE_EPOCH: prints "fresh total" for the metrics documents (values_at > SINCE).
docs_fresh() {
    "$PY" - "$MONGO_URI_LOCAL" "$1" <<'PYEOF' 2>/dev/null || echo "0 -1"
import sys, datetime, pymongo
c = pymongo.MongoClient(sys.argv[1], serverSelectionTimeoutMS=2000)
since = datetime.datetime.fromtimestamp(float(sys.argv[2]), datetime.timezone.utc).replace(tzinfo=None)
m = c["sla_monitor"]["metrics"]
print(m.count_documents({"values_at": {"$gt": since}}), m.count_documents({}))
PYEOF
}

# ---- counters scraper: "epoch service pid metric value" every second ----------------------------
scrape_once() {
    local now svc pid
    now=$(date +%s.%N)
    for svc in etl storage; do
        pid=$(pid_of "$svc")
        curl -sS --max-time 1 "http://127.0.0.1:${ADMIN[$svc]}/metrics" 2>/dev/null |
            awk -v t="$now" -v s="$svc" -v p="$pid" '
                /^(etl_records_produced_total|etl_records_dropped_total|etl_records_pending|storage_records_written_total|storage_records_stale_total|storage_dead_letters_total|storage_consumer_lag_records)/ {
                    name = $1; sub(/\{.*/, "", name); sums[name] += $2 }
                END { for (n in sums) print t, s, p, n, sums[n] }'
    done >>"$work/counters.log"
}
(while :; do scrape_once; sleep 1; done) &
SCRAPER=$!
trap 'rc=$?; kill "$SCRAPER" "$AUDIT" 2>/dev/null || true; stack_cleanup "$rc"' EXIT

last_counter() { # SERVICE METRIC: the last scraped value of the current process
    awk -v s="$1" -v m="$2" -v p="$(pid_of "$1")" '$2 == s && $3 == p && $4 == m {v = $5} END {print v + 0}' "$work/counters.log"
}

log "waiting for every selected series to have a document"
deadline=$((SECONDS + 300))
while :; do
    selected=$(curl -sS "http://127.0.0.1:$ETL_ADMIN_PORT/metrics" | awk '/^etl_series_selected\{loop="fast"\}/ {print $2}')
    read -r _ total <<<"$(docs_fresh 0)"
    [[ -n $selected && $selected -gt 0 && $total -ge $selected ]] && break
    ((SECONDS < deadline)) || die "only $total documents for ${selected:-?} series after 300 s"
    sleep 3
done
SERIES=$total
log "$SERIES series have documents; injecting faults: $PARTS"

restart_part() {
    case $1 in
        tansu) start_tansu "$RUN_DIR" tansu "$KAFKA_PORT" ;;
        secantusd) start_secantusd "$RUN_DIR" secantusd "$MONGO_PORT" "$RUN_DIR/data/secantusd" ;;
        target-prometheus) start_prometheus "$RUN_DIR" target-prometheus "$TARGET_PROMETHEUS_PORT" \
            "$RUN_DIR/config/target-prometheus.yml" "$RUN_DIR/data/target-prometheus" ;;
        *) start_bg "$RUN_DIR" "$1" "$CARGO_TARGET_DIR/debug/$1"
           wait_for_http "$1" "http://127.0.0.1:${ADMIN[$1]}/healthz" 60 "$RUN_DIR" ;;
    esac
}

rows=() findings=() bad=0 tansu_lost=0
for part in $PARTS; do
    declare -A before=()
    for svc in "${SERVICES[@]}"; do before[$svc]=$(pid_of "$svc"); done
    # Kill in the middle of the traffic: as soon as the etl's next cycle has had records
    # acknowledged (at most one fast loop plus a margin), so that some may still be in flight.
    scrape_once
    start_count=$(last_counter etl etl_records_produced_total)
    wait_until=$((SECONDS + ETL_FAST_LOOP_SECS + 20))
    while (($(last_counter etl etl_records_produced_total) == start_count && SECONDS < wait_until)); do
        sleep 0.2; scrape_once
    done
    lag=$(last_counter storage storage_consumer_lag_records)
    pending=$(last_counter etl etl_records_pending)
    victim=$(pid_of "$part")
    t_kill=$(date +%s.%N)
    kill -KILL -- "-$victim" 2>/dev/null || kill -KILL "$victim"
    while kill -0 "$victim" 2>/dev/null; do sleep 0.1; done
    log "$part (pid $victim) SIGKILLed; storage lag ${lag}, etl pending ${pending}; down for ${DOWN}s"
    [[ $part == tansu ]] && tansu_lost=$((tansu_lost + ${lag%.*} + ${pending%.*}))
    sleep "$DOWN"
    restart_part "$part"
    t_up=$(date +%s.%N)
    log "$part restarted (pid $(pid_of "$part")); waiting for $SERIES fresh documents"
    recovered=""
    while :; do
        read -r fresh total <<<"$(docs_fresh "$t_kill")"
        if ((fresh >= SERIES)); then recovered=$(awk -v a="$t_up" -v b="$(date +%s.%N)" 'BEGIN {printf "%.0f", b - a}'); break; fi
        awk -v a="$t_up" -v b="$(date +%s.%N)" -v l="$RECOVERY_TIMEOUT" 'BEGIN {exit !(b - a > l)}' && break
        sleep 2
    done
    others=""
    for svc in "${SERVICES[@]}"; do
        [[ $svc == "$part" ]] && continue
        if [[ $(pid_of "$svc") != "${before[$svc]}" ]] || ! kill -0 "$(pid_of "$svc")" 2>/dev/null; then
            others+="$svc died; "
        elif [[ $(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:${ADMIN[$svc]}/healthz") != 200 ]]; then
            others+="$svc /healthz not 200; "
        fi
    done
    slas=$(curl -sS --max-time 5 "$SLA_MANAGER_URL/slaset" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null || echo "?")
    [[ $slas == "${SLA_SET_SIZE:-5}" ]] || others+="GET /slaset has $slas SLAs; "
    if [[ -z $recovered ]]; then
        bad=1; findings+=("$part: only $fresh of $SERIES documents fresh ${RECOVERY_TIMEOUT}s after the restart")
    fi
    [[ -z $others ]] || { bad=1; findings+=("$part: $others"); }
    rows+=("| $part | ${DOWN} | ${recovered:->$RECOVERY_TIMEOUT} | $fresh/$SERIES | ${lag%.*} | ${pending%.*} | ${others:-all up, same pids, /slaset intact} |")
    log "${rows[-1]}"
done

# ---- final accounting ----------------------------------------------------------------------------
log "stopping the etl gracefully and letting storage drain"
scrape_once
stop_bg "$RUN_DIR" etl
deadline=$((SECONDS + 120))
until [[ $(last_counter storage storage_consumer_lag_records) == 0 ]] && sleep 5 && scrape_once &&
    [[ $(last_counter storage storage_consumer_lag_records) == 0 ]]; do
    ((SECONDS < deadline)) || { log "storage lag not 0 after 120 s"; break; }
    sleep 2
done
kill "$SCRAPER" 2>/dev/null || true
touch "$work/audit.stop"
audit_rc=0
wait "$AUDIT" || audit_rc=$?
case $audit_rc in
    0) ;;
    1) bad=1; findings+=("records lost by identity (record-audit, see below)") ;;
    *) bad=1; findings+=("record-audit could not run (exit $audit_rc): $(tail -c 300 "$work/audit.err")") ;;
esac
read -r produced dropped consumed written stale dead <<<"$(awk '
    {last[$2 " " $3 " " $4] = $5}
    END {
        for (k in last) { split(k, a, " "); tot[a[1] " " a[3]] += last[k] }
        printf "%d %d %d %d %d %d\n", tot["etl etl_records_produced_total"], tot["etl etl_records_dropped_total"],
            tot["storage storage_records_written_total"] + tot["storage storage_records_stale_total"] + tot["storage storage_dead_letters_total"],
            tot["storage storage_records_written_total"], tot["storage storage_records_stale_total"], tot["storage storage_dead_letters_total"]
    }' "$work/counters.log")"
diff=$((consumed - produced))
panics=$(panics_in_logs)
[[ -z $panics ]] || { bad=1; findings+=("panic in a service log: $(head -c 300 <<<"$panics")"); }

{
    echo "Fault run $(date -u +%FT%TZ): debug binaries, ETL_FAST_LOOP_SECS=$ETL_FAST_LOOP_SECS, each part SIGKILLed (process group), down ${DOWN}s, restarted as scripts/up.sh does; $SERIES series."
    echo
    echo "| part killed | down (s) | recovery after restart (s): every series has values computed after the kill | fresh docs | storage lag at kill | etl pending at kill | other services |"
    echo "|---|---|---|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
    echo
    echo "Counters over all process instances (etl stopped gracefully at the end, storage drained):"
    echo
    echo "| produced (etl) | dropped (etl) | written | stale | dead letters | written+stale+dead - produced |"
    echo "|---|---|---|---|---|---|"
    echo "| $produced | $dropped | $written | $stale | $dead | $diff |"
    echo
    echo "Records the local broker (Tansu, memory storage) held unconsumed when it was killed (lag + pending): $tansu_lost"
    echo
    echo "By identity (record-audit loss, from the topic to the database; exit $audit_rc):"
    echo
    echo '```'
    cat "$work/audit.txt"
    echo '```'
    echo "Panics in service logs: $([[ -z $panics ]] && echo none || echo yes)"
    for f in "${findings[@]}"; do echo "FINDING: $f"; done
    echo "verdict: $([[ $bad == 0 ]] && echo "every fault survived without a manual restart, every series fresh again" || echo "FAILED (see findings)")"
} | tee "$RESULTS_DIR/faults.md"
((bad == 0))
