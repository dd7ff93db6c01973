#!/usr/bin/env bash
# Soak of the default local stack: no record dead-lettered in an hour (issue 14: Prometheus' own
# summaries have NaN quantiles, and storage used to dead-letter them every cycle).
#
# Usage: reliability/soak.sh [--minutes 60] [--help]
#
# Brings the stack up with scripts/up.sh as it is by default (the selector {__name__=~".+"}, the
# fast loop of 120 s and the slow one of 3600 s, three days of history, sla_set.json loaded),
# but in a temporary run dir with every port picked free, as scripts/e2e.sh does, and with the
# debug service binaries (SERVICES_PROFILE, default dev: no release build). Waits the given time,
# checking every minute that no service died, then reads storage's admin /metrics and FAILS when
# storage_dead_letters_total (every reason) is above 0, or when storage_records_written_total is
# 0 (nothing written: the run proved nothing), or when a service died or logged a panic. Appends
# its row to reliability/results/soak.md (RESULTS_DIR elsewhere). KEEP_RUN=1 keeps the run dir.
#
# Its mutation (it must fail): SERVICES_FEATURES=storage/fault-injection FAULT_STORAGE_REJECT_NAN=1
# reliability/soak.sh --minutes 5 (storage dead-letters every record with a NaN value, as before
# issue 14).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

MINUTES=60
while (($#)); do
    case $1 in
        -h | --help) usage_from_header "$0"; exit 0 ;;
        --minutes) MINUTES=$2; shift 2 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done
[[ $MINUTES =~ ^[1-9][0-9]*$ ]] || die "--minutes $MINUTES: a whole number of minutes, 1 or more"
cd "$ROOT_DIR"
RESULTS_DIR=${RESULTS_DIR:-$ROOT_DIR/reliability/results}

RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sla-soak.XXXXXX")
export RUN_DIR
cleanup() {
    local rc=$?
    "$ROOT_DIR/scripts/down.sh" >/dev/null 2>&1 || true
    if [[ ${KEEP_RUN:-} == 1 || $rc != 0 ]]; then log "soak run dir kept: $RUN_DIR"; else rm -rf "$RUN_DIR"; fi
    exit "$rc"
}
on_exit cleanup

export_free_ports "${UP_PORT_VARS[@]}"
export SERVICES_PROFILE=${SERVICES_PROFILE:-dev}
export SLA_MANAGER_GRPC="http://127.0.0.1:$SLA_GRPC_PORT"
# The defaults of the services, not a caller's leftovers (the point is the default stack).
unset ETL_SERIES_SELECTOR ETL_FAST_LOOP_SECS ETL_SLOW_LOOP_SECS HISTORY_DAYS
started_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
"$ROOT_DIR/scripts/up.sh" 2>"$RUN_DIR/up.log" || { tail -n 40 "$RUN_DIR/up.log" >&2; die "scripts/up.sh failed"; }
log "stack up in $RUN_DIR; soaking for $MINUTES minutes"

SERVICES=(etl storage retrieval sla-manager)
declare -A PIDS=()
for svc in "${SERVICES[@]}"; do PIDS[$svc]=$(<"$RUN_DIR/pids/$svc.pid"); done

# sum_metric PORT NAME: the sum of NAME's samples (every label set) on PORT's /metrics, 0 if none.
sum_metric() {
    curl -fsS --max-time 5 "http://127.0.0.1:$1/metrics" |
        awk -v name="$2" '$1 == name || index($1, name "{") == 1 {s += $2} END {printf "%d\n", s}'
}

dead_services() {
    local svc
    for svc in "${SERVICES[@]}"; do
        kill -0 "${PIDS[$svc]}" 2>/dev/null || printf '%s ' "$svc"
    done
}

for ((minute = 1; minute <= MINUTES; minute++)); do
    sleep 60
    dead=$(dead_services)
    [[ -z $dead ]] || die "died during the soak: $dead(logs in $RUN_DIR/logs)"
    log "minute $minute/$MINUTES: written $(sum_metric "$STORAGE_ADMIN_PORT" storage_records_written_total), dead letters $(sum_metric "$STORAGE_ADMIN_PORT" storage_dead_letters_total)"
done

written=$(sum_metric "$STORAGE_ADMIN_PORT" storage_records_written_total)
dead_letters=$(sum_metric "$STORAGE_ADMIN_PORT" storage_dead_letters_total)
stale=$(sum_metric "$STORAGE_ADMIN_PORT" storage_records_stale_total)
fast_cycles=$(sum_metric "$ETL_ADMIN_PORT" etl_cycle_duration_seconds_count)
reasons=$(curl -fsS "http://127.0.0.1:$STORAGE_ADMIN_PORT/metrics" | grep '^storage_dead_letters_total' | tr '\n' ' ' || true)
panics=$(grep -H -i -E 'panicked' "$RUN_DIR"/logs/{etl,storage,retrieval,sla-manager}.log 2>/dev/null || true)
dead=$(dead_services)

verdict=passed
problems=()
((dead_letters == 0)) || problems+=("storage dead-lettered $dead_letters records (${reasons:-no reason line})")
((written > 0)) || problems+=("storage wrote no record: the run shows nothing")
[[ -z $dead ]] || problems+=("died: $dead")
[[ -z $panics ]] || problems+=("panics in the logs: $panics")
((${#problems[@]} == 0)) || verdict="FAILED: ${problems[*]}"

printf 'soak: %s minutes, storage_records_written_total %s, storage_dead_letters_total %s, storage_records_stale_total %s, etl cycles (both loops) %s\n' \
    "$MINUTES" "$written" "$dead_letters" "$stale" "$fast_cycles"
printf 'soak verdict: %s\n' "$verdict"

mkdir -p "$RESULTS_DIR"
results=$RESULTS_DIR/soak.md
if [[ ! -s $results ]]; then
    {
        printf '# Soak of the default local stack (reliability/soak.sh)\n\n'
        printf '| started (UTC) | minutes | binaries | features and switches | records written | dead letters | stale | etl cycles | verdict |\n'
        printf '|---|---|---|---|---|---|---|---|---|\n'
    } >"$results"
fi
switches=$(env | grep -E '^FAULT_' | tr '\n' ' ' || true)
printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$started_at" "$MINUTES" "$SERVICES_PROFILE" \
    "${SERVICES_FEATURES:-none}${switches:+, $switches}" "$written" "$dead_letters" "$stale" "$fast_cycles" "$verdict" >>"$results"
[[ $verdict == passed ]]
