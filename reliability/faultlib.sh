# shellcheck shell=bash
# Sourced by reliability/faults.sh and reliability/fault-classes.sh (not run), after stack.sh
# and stack_up: what a fault run shares. It watches the pipeline while faults are injected and
# gives the verdict's parts:
#
#   fault_watch_start        starts `record-audit loss --watch-until` (identity, every second)
#                            and the counters scraper; sets FAULT_WORK (the run's work dir)
#   pid_of NAME              the pid in the run dir's pid file (or "none")
#   docs_fresh SINCE         "fresh total": metrics documents with values_at > SINCE (epoch)
#   scrape_once              one line per counter of etl and storage to $FAULT_WORK/counters.log
#   last_counter SVC METRIC  the last scraped value of SVC's current process
#   wait_all_documents       until every selected series has a document; sets SERIES
#   wait_mid_traffic         until the etl's next cycle had records acknowledged (etl_produced:
#                            the records the etl replicas' current processes produced)
#   wait_fresh SINCE FROM LIMIT  until SERIES documents have values_at > SINCE; prints the
#                            seconds from FROM (epoch) it took, or nothing after LIMIT seconds
#   others_alive SKIP...     the services not in SKIP that died, changed pid or fail /healthz
#                            (since FAULT_PIDS was taken by remember_pids), empty when all fine
#   fault_finish             stops the etl gracefully, lets storage drain, ends the audit; sets
#                            AUDIT_RC, PRODUCED DROPPED WRITTEN STALE DEAD (counter totals over
#                            every process instance) and PANICS
#   fault_account            fault_finish, then the audit's and the panics' findings added to
#                            the caller's `findings` (`bad=1` when any)
#
# The services' admin ports are in ADMIN (a caller may add replicas to it and to SERVICES).

SERVICES=(sla-manager storage retrieval etl)
declare -A ADMIN=([etl]=$ETL_ADMIN_PORT [storage]=$STORAGE_ADMIN_PORT [retrieval]=$RETRIEVAL_ADMIN_PORT
    [sla-manager]=$SLA_MANAGER_ADMIN_PORT)
declare -A FAULT_PIDS=()
# what up.sh exports to the services, for the ones a fault run starts again
export PROMETHEUS_URL=$TARGET_PROMETHEUS_URL KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT" MONGO_URI=$MONGO_URI_LOCAL
export BIND_ADDRESS=127.0.0.1
PY=$(pymongo_python)

pid_of() { cat "$RUN_DIR/pids/$1.pid" 2>/dev/null || echo none; }

fault_watch_start() {
    FAULT_WORK=$RUN_DIR/faults
    mkdir -p "$FAULT_WORK" "$RESULTS_DIR"
    # The identity audit looks from now on (the etl's first records are already on their way).
    "$RECORD_AUDIT" loss --watch-until "$FAULT_WORK/audit.stop" --interval 1s \
        >"$FAULT_WORK/audit.txt" 2>"$FAULT_WORK/audit.err" &
    AUDIT=$!
    (while :; do scrape_once; sleep 1; done) &
    SCRAPER=$!
    # shellcheck disable=SC2154 # rc is assigned in the trap
    trap 'rc=$?; kill "$SCRAPER" "$AUDIT" 2>/dev/null || true; stack_cleanup "$rc"' EXIT
}

docs_fresh() {
    "$PY" - "$MONGO_URI_LOCAL" "$1" <<'PYEOF' 2>/dev/null || echo "0 -1"
import sys, datetime, pymongo
c = pymongo.MongoClient(sys.argv[1], serverSelectionTimeoutMS=2000)
since = datetime.datetime.fromtimestamp(float(sys.argv[2]), datetime.timezone.utc).replace(tzinfo=None)
m = c["sla_monitor"]["metrics"]
print(m.count_documents({"values_at": {"$gt": since}}), m.count_documents({}))
PYEOF
}

scrape_once() {
    local now svc pid
    now=$(date +%s.%N)
    for svc in "${SERVICES[@]}"; do
        [[ $svc == etl* || $svc == storage ]] || continue
        pid=$(pid_of "$svc")
        curl -sS --max-time 1 "http://127.0.0.1:${ADMIN[$svc]}/metrics" 2>/dev/null |
            awk -v t="$now" -v s="$svc" -v p="$pid" '
                /^(etl_records_produced_total|etl_records_dropped_total|etl_records_pending|storage_records_written_total|storage_records_stale_total|storage_dead_letters_total|storage_consumer_lag_records)/ {
                    name = $1; sub(/\{.*/, "", name); sums[name] += $2 }
                END { for (n in sums) print t, s, p, n, sums[n] }' || true # a stopped service
    done >>"$FAULT_WORK/counters.log"
}

last_counter() {
    awk -v s="$1" -v m="$2" -v p="$(pid_of "$1")" '$2 == s && $3 == p && $4 == m {v = $5} END {print v + 0}' "$FAULT_WORK/counters.log"
}

wait_all_documents() {
    log "waiting for every selected series to have a document"
    local deadline=$((SECONDS + 300)) selected total
    while :; do
        # the leader's (a standby replica selects nothing)
        selected=$(for svc in "${SERVICES[@]}"; do
            [[ $svc == etl* ]] && curl -sS "http://127.0.0.1:${ADMIN[$svc]}/metrics"
        done | awk '/^etl_series_selected\{loop="fast"\}/ && $2 > m {m = $2} END {print m + 0}')
        read -r _ total <<<"$(docs_fresh 0)"
        [[ -n $selected && $selected -gt 0 && $total -ge $selected ]] && break
        ((SECONDS < deadline)) || die "only $total documents for ${selected:-?} series after 300 s"
        sleep 3
    done
    SERIES=$total
}

# Inject in the middle of the traffic: as soon as the etl's next cycle has had records
# acknowledged (at most one fast loop plus a margin), so that some may still be in flight.
wait_mid_traffic() {
    scrape_once
    local start_count wait_until=$((SECONDS + ETL_FAST_LOOP_SECS + 20))
    start_count=$(etl_produced)
    while (($(etl_produced) == start_count && SECONDS < wait_until)); do
        sleep 0.2; scrape_once
    done
}

# etl_produced: records produced by the current processes of every etl replica.
etl_produced() {
    local svc sum=0
    for svc in "${SERVICES[@]}"; do
        [[ $svc == etl* ]] && sum=$((sum + $(last_counter "$svc" etl_records_produced_total)))
    done
    echo "$sum"
}

wait_fresh() {
    local since=$1 from=$2 limit=$3 fresh elapsed
    while :; do
        read -r fresh _ <<<"$(docs_fresh "$since")"
        # Timed after the look: a look that itself took past the limit is no recovery in time.
        elapsed=$(awk -v a="$from" -v b="$(date +%s.%N)" 'BEGIN {printf "%.0f", b - a}')
        ((elapsed <= limit)) || return 0
        if ((fresh >= SERIES)); then echo "$elapsed"; return; fi
        sleep 2
    done
}

remember_pids() {
    local svc
    for svc in "${SERVICES[@]}"; do FAULT_PIDS[$svc]=$(pid_of "$svc"); done
}

others_alive() {
    local svc skip=" $* " out=""
    for svc in "${SERVICES[@]}"; do
        [[ $skip == *" $svc "* ]] && continue
        if [[ $(pid_of "$svc") != "${FAULT_PIDS[$svc]}" ]] || ! kill -0 "$(pid_of "$svc")" 2>/dev/null; then
            out+="$svc died; "
        elif [[ $(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:${ADMIN[$svc]}/healthz") != 200 ]]; then
            out+="$svc /healthz not 200; "
        fi
    done
    local slas
    slas=$(curl -sS --max-time 5 "$SLA_MANAGER_URL/slaset" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null || echo "?")
    [[ $slas == "${SLA_SET_SIZE:-5}" ]] || out+="GET /slaset has $slas SLAs; "
    printf '%s' "$out"
}

fault_finish() {
    log "stopping the etl gracefully and letting storage drain"
    scrape_once
    local svc
    for svc in "${SERVICES[@]}"; do [[ $svc == etl* ]] && stop_bg "$RUN_DIR" "$svc"; done
    local deadline=$((SECONDS + 120))
    until [[ $(last_counter storage storage_consumer_lag_records) == 0 ]] && sleep 5 && scrape_once &&
        [[ $(last_counter storage storage_consumer_lag_records) == 0 ]]; do
        ((SECONDS < deadline)) || { log "storage lag not 0 after 120 s"; break; }
        sleep 2
    done
    kill "$SCRAPER" 2>/dev/null || true
    touch "$FAULT_WORK/audit.stop"
    AUDIT_RC=0
    wait "$AUDIT" || AUDIT_RC=$?
    # shellcheck disable=SC2034 # read by the caller
    read -r PRODUCED DROPPED WRITTEN STALE DEAD <<<"$(awk '
        {last[$2 " " $3 " " $4] = $5}
        END {
            # a second etl replica (etl-b) counts as the etl
            for (k in last) { split(k, a, " "); sub(/-.*/, "", a[1]); tot[a[1] " " a[3]] += last[k] }
            printf "%d %d %d %d %d\n", tot["etl etl_records_produced_total"], tot["etl etl_records_dropped_total"],
                tot["storage storage_records_written_total"], tot["storage storage_records_stale_total"],
                tot["storage storage_dead_letters_total"]
        }' "$FAULT_WORK/counters.log")"
    # shellcheck disable=SC2034 # read by the caller
    PANICS=$(panics_in_logs)
}

# fault_account: fault_finish, then adds the audit's finding and any panic in a service log to
# the caller's `findings` (and sets its `bad`).
fault_account() {
    fault_finish
    local finding
    finding=$(audit_finding)
    # shellcheck disable=SC2034 # read by the caller
    [[ -z $finding ]] || { bad=1; findings+=("$finding"); }
    # shellcheck disable=SC2034 # read by the caller
    [[ -z $PANICS ]] || { bad=1; findings+=("panic in a service log: $(head -c 300 <<<"$PANICS")"); }
}

# audit_finding: the finding for AUDIT_RC, or nothing.
audit_finding() {
    case $AUDIT_RC in
        0) ;;
        1) echo "records lost by identity (record-audit, see below)" ;;
        *) echo "record-audit could not run (exit $AUDIT_RC): $(tail -c 300 "$FAULT_WORK/audit.err")" ;;
    esac
}
