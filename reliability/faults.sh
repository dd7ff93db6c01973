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
# shellcheck source=reliability/faultlib.sh
source "$REL_DIR/faultlib.sh"
fault_watch_start
load_slaset
wait_all_documents
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
    remember_pids
    wait_mid_traffic
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
    recovered=$(wait_fresh "$t_kill" "$t_up" "$RECOVERY_TIMEOUT")
    read -r fresh _ <<<"$(docs_fresh "$t_kill")"
    others=$(others_alive "$part")
    if [[ -z $recovered ]]; then
        bad=1; findings+=("$part: only $fresh of $SERIES documents fresh ${RECOVERY_TIMEOUT}s after the restart")
    fi
    [[ -z $others ]] || { bad=1; findings+=("$part: $others"); }
    rows+=("| $part | ${DOWN} | ${recovered:->$RECOVERY_TIMEOUT} | $fresh/$SERIES | ${lag%.*} | ${pending%.*} | ${others:-all up, same pids, /slaset intact} |")
    log "${rows[-1]}"
done

# ---- final accounting ----------------------------------------------------------------------------
fault_account

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
    echo "| $PRODUCED | $DROPPED | $WRITTEN | $STALE | $DEAD | $((WRITTEN + STALE + DEAD - PRODUCED)) |"
    echo
    echo "Records the local broker (Tansu, memory storage) held unconsumed when it was killed (lag + pending): $tansu_lost"
    echo
    echo "By identity (record-audit loss, from the topic to the database; exit $AUDIT_RC):"
    echo
    echo '```'
    cat "$FAULT_WORK/audit.txt"
    echo '```'
    echo "Panics in service logs: $([[ -z $PANICS ]] && echo none || echo yes)"
    for f in "${findings[@]}"; do echo "FINDING: $f"; done
    echo "verdict: $([[ $bad == 0 ]] && echo "every fault survived without a manual restart, every series fresh again" || echo "FAILED (see findings)")"
} | tee "$RESULTS_DIR/faults.md"
((bad == 0))
