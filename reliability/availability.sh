#!/usr/bin/env bash
# Availability of the etl under leader crashes, in the spirit of the original monitor
# experiment: three etl replicas share ETL_SHARDS shards through leases in MongoDB, and the
# leader of a random shard is SIGKILLed again and again.
#
# Usage: reliability/availability.sh [--minutes M | --seconds S] [--kills K]
#                                    [--warmup-timeout SECS] [--help]
#
# Brings the stack up like scripts/e2e.sh (reliability/stack.sh: free loopback ports, debug
# binaries, SLA set loaded) with ETL_SHARDS=2 ETL_LEASE_TTL=3s ETL_FAST_LOOP_SECS=8
# ETL_SLOW_LOOP_SECS=40 (each overridable), then starts two more etl replicas. For M minutes
# (default 30) it kills K leaders (default 15) at random moments: it reads the shard leases
# (`etl_leases`), SIGKILLs the holder of a random shard (its replica id ends in its pid), times
# how long until another replica holds the lease, and starts the killed replica again.
#
# Availability is read from the etl's cycle journal (`etl_cycles`): over the run, for each loop
# and shard, the share of scheduled slots (aligned to the epoch) with a clean cycle that
# completed before the slot ended: no failed step, no record dropped or fenced. A journaled
# cycle that failed counts as failed, not as on time. Duplicate leaders are read twice: from the
# journal (cycles of one shard and loop that two replicas ran at overlapping times) and from the
# records read back from the topic (`record-audit leaders`: by the `etl-shard`, `etl-term`,
# `etl-replica` and `etl-slot` headers, a deposed leader's record after its successor's in a
# partition, or one term produced by two replicas), since a deposed leader's cycle is never
# journaled. A slot run twice one after the other (a new leader re-running the slot its
# predecessor finished but had not yet journaled) is reported too. Goal: availability >= 99.9%,
# zero duplicate leaders; the run fails otherwise. Writes reliability/results/availability.md.
# reliability/mutations.sh runs it for 30 s with one kill, also with every etl step failing
# (FAULT_ETL_FAIL_STEPS=1) and with two leaders per shard (FAULT_ETL_DOUBLE_LEADER=1), which it
# must fail.
set -euo pipefail
# shellcheck source=reliability/stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/stack.sh"

RUN_SECS=1800
KILLS=15
WARMUP_TIMEOUT=600
while (($#)); do
    case $1 in
        -h | --help) usage_from_header "$0"; exit 0 ;;
        --minutes) RUN_SECS=$(($2 * 60)); shift 2 ;;
        --seconds) RUN_SECS=$2; shift 2 ;;
        --kills) KILLS=$2; shift 2 ;;
        --warmup-timeout) WARMUP_TIMEOUT=$2; shift 2 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done
((KILLS >= 0 && RUN_SECS >= 20)) || die "need --kills >= 0 and a run of at least 20 s"
((KILLS == 0 || RUN_SECS / KILLS >= 10)) || die "need at least 10 s between kills"
export ETL_SHARDS=${ETL_SHARDS:-2}
export ETL_LEASE_TTL=${ETL_LEASE_TTL:-3s}
export ETL_FAST_LOOP_SECS=${ETL_FAST_LOOP_SECS:-8}
export ETL_SLOW_LOOP_SECS=${ETL_SLOW_LOOP_SECS:-40}
stack_up
load_slaset
PY=$(pymongo_python)
# what up.sh exports to the services
export PROMETHEUS_URL=$TARGET_PROMETHEUS_URL KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT" MONGO_URI=$MONGO_URI_LOCAL
export BIND_ADDRESS=127.0.0.1
# A copy: a build during the run must not swap the binary the replicas restart from.
mkdir -p "$RUN_DIR/bin"
cp "$CARGO_TARGET_DIR/debug/etl" "$RUN_DIR/bin/etl"
ETL_BIN=$RUN_DIR/bin/etl
declare -A ADMIN=([etl]=$ETL_ADMIN_PORT [etl-b]=$(free_port) [etl-c]=$(free_port))

start_replica() {
    ETL_ADMIN_PORT=${ADMIN[$1]} start_bg "$RUN_DIR" "$1" "$ETL_BIN"
    wait_for_http "$1" "http://127.0.0.1:${ADMIN[$1]}/healthz" 60 "$RUN_DIR"
}
start_replica etl-b
start_replica etl-c

# leaders: "shard holder" for every shard lease that has not expired.
leaders() { live_shard_leases _id holder; }

name_of_pid() {
    local name
    for name in "${!ADMIN[@]}"; do
        [[ $(cat "$RUN_DIR/pids/$name.pid" 2>/dev/null) == "$1" ]] && { echo "$name"; return; }
    done
}

log "waiting until every shard has a leader"
deadline=$((SECONDS + 120))
until (($(leaders | wc -l) == ETL_SHARDS)); do
    ((SECONDS < deadline)) || die "not every shard has a leader after 120 s: $(leaders)"
    sleep 1
done
# Let the first cycles (and the first slow cycle of each shard) complete before measuring, and
# wait (at most --warmup-timeout) until the newest journaled cycle of each loop and shard was
# clean: a fresh node-exporter's series have too little history for a forecast for about four
# minutes, and those failed cycles are the stack warming up, not the etl being unavailable.
sleep $((ETL_SLOW_LOOP_SECS + 5))
warm_start=$SECONDS
until "$PY" - "$MONGO_URI_LOCAL" "$ETL_SHARDS" <<'PYEOF'
import sys, pymongo
cycles = pymongo.MongoClient(sys.argv[1], serverSelectionTimeoutMS=2000)["sla_monitor"]["etl_cycles"]
shards = int(sys.argv[2])
for loop in ("fast", "slow"):
    for index in range(shards):
        newest = cycles.find_one({"loop": loop, "shard": f"{index}/{shards}"}, sort=[("slot", -1)])
        if newest is None or newest["failures"] or newest.get("dropped", 0) or newest.get("fenced", 0):
            sys.exit(1)
PYEOF
do
    if ((SECONDS - warm_start >= WARMUP_TIMEOUT)); then
        log "warm-up: a loop's newest cycle still failed after ${WARMUP_TIMEOUT}s; measuring anyway"
        break
    fi
    sleep 2
done
log "warm-up done after $((SECONDS - warm_start)) s"
t_start=$(date +%s.%N)
run_start=$SECONDS
run_secs=$RUN_SECS
gap=$((run_secs / (KILLS > 0 ? KILLS : 1)))
rows=()
for ((kill_no = 1; kill_no <= KILLS; kill_no++)); do
    # a random moment in this kill's share of the run (which leaves time for the takeover)
    at=$((run_start + (kill_no - 1) * gap + RANDOM % (gap - 8)))
    ((at <= SECONDS)) || sleep $((at - SECONDS))
    mapfile -t current < <(leaders)
    ((${#current[@]})) || { log "no leader to kill right now"; continue; }
    read -r lease holder <<<"${current[RANDOM % ${#current[@]}]}"
    pid=${holder##*-}
    victim=$(name_of_pid "$pid")
    [[ -n $victim ]] || die "leader $holder of $lease is not one of ours"
    t_kill=$(date +%s.%N)
    kill -KILL "$pid"
    taken=""
    while :; do
        now=$(date +%s.%N)
        new=$(leaders | awk -v l="$lease" '$1 == l {print $2}')
        if [[ -n $new && $new != "$holder" ]]; then
            taken=$(awk -v a="$t_kill" -v b="$now" 'BEGIN {printf "%.1f", b - a}'); break
        fi
        awk -v a="$t_kill" -v b="$now" 'BEGIN {exit !(b - a > 60)}' && break
        sleep 0.1
    done
    rows+=("| $kill_no | $lease | $victim ($holder) | ${taken:->60} | ${new:-none} |")
    log "${rows[-1]}"
    sleep 2
    start_replica "$victim"
done
((run_start + run_secs <= SECONDS)) || sleep $((run_start + run_secs - SECONDS))
t_end=$(date +%s.%N)
panics=$(panics_in_logs; grep -H -i -E 'panicked|panic' "$RUN_DIR"/logs/etl-[bc].log 2>/dev/null || true)

mkdir -p "$RESULTS_DIR"
result=$("$PY" - "$MONGO_URI_LOCAL" "$t_start" "$t_end" "$ETL_SHARDS" "$ETL_FAST_LOOP_SECS" "$ETL_SLOW_LOOP_SECS" <<'PYEOF'
import sys, datetime, math, collections, pymongo
uri, t0, t1, shards, fast, slow = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
cycles = list(pymongo.MongoClient(uri)["sla_monitor"]["etl_cycles"].find())
utc = datetime.timezone.utc
ts = lambda d: d.replace(tzinfo=utc).timestamp()
by_slot = collections.defaultdict(list)
for c in cycles:
    by_slot[(c["loop"], c["shard"], round(ts(c["slot"])))].append(c)
scheduled = on_time = late = failed = 0
missed = []
# A cycle counts only when it completed cleanly: no failed step, nothing dropped or fenced.
clean = lambda c: c["failures"] == 0 and c.get("dropped", 0) == 0 and c.get("fenced", 0) == 0
for loop, period in (("fast", fast), ("slow", slow)):
    for index in range(shards):
        shard = f"{index}/{shards}"
        for k in range(math.ceil(t0 / period), math.floor(t1 / period)):
            slot = k * period
            scheduled += 1
            entries = by_slot.get((loop, shard, slot), [])
            done = [c for c in entries if clean(c) and ts(c["finished_at"]) <= slot + period]
            if done:
                on_time += 1
            elif any(clean(c) for c in entries):
                late += 1
                missed.append(f"{loop} {shard} {slot} late")
            elif entries:
                failed += 1
                missed.append(f"{loop} {shard} {slot} failed ({entries[0]['failures']} failed steps, {entries[0].get('dropped', 0)} dropped, {entries[0].get('fenced', 0)} fenced)")
            else:
                missed.append(f"{loop} {shard} {slot} missing")
twice = sum(1 for entries in by_slot.values() if len(entries) > 1)
overlapping = 0
runs = collections.defaultdict(list)
for c in cycles:
    runs[(c["loop"], c["shard"])].append((ts(c["started_at"]), ts(c["finished_at"]), c["replica"]))
for spans in runs.values():
    spans.sort()
    for (s1, e1, r1), (s2, e2, r2) in zip(spans, spans[1:]):
        if r1 != r2 and s2 < e1:
            overlapping += 1
terms = len({(c["shard"], c["term"]) for c in cycles})
print(f"{scheduled} {on_time} {late} {failed} {twice} {overlapping} {terms} {100.0 * on_time / max(scheduled, 1):.3f}")
print("; ".join(missed[:20]) or "none")
PYEOF
)
read -r scheduled on_time late failed twice overlapping terms availability <<<"$(head -1 <<<"$result")"
missed=$(tail -1 <<<"$result")
leaders_rc=0
"$RECORD_AUDIT" leaders >"$RUN_DIR/leaders.txt" 2>&1 || leaders_rc=$?
{
    echo "Availability run $(date -u +%FT%TZ): $RUN_SECS s, 3 etl replicas (debug binaries), ETL_SHARDS=$ETL_SHARDS, ETL_LEASE_TTL=$ETL_LEASE_TTL, fast loop ${ETL_FAST_LOOP_SECS}s, slow loop ${ETL_SLOW_LOOP_SECS}s; the leader of a random shard SIGKILLed ${#rows[@]} times and restarted 2 s later."
    echo
    echo "| kill | shard lease | replica killed | lease taken over after (s) | new leader |"
    echo "|---|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
    echo
    echo "| scheduled cycles (both loops, all shards) | completed cleanly on time | completed cleanly but late | journaled but failed | availability | duplicate-leader cycles in the journal (two replicas at once) | slots run twice, one after the other | terms seen |"
    echo "|---|---|---|---|---|---|---|---|"
    echo "| $scheduled | $on_time | $late | $failed | **${availability}%** | $overlapping | $twice | $terms |"
    echo
    echo "Slots not completed cleanly on time: $missed"
    echo
    echo "From the records read back from the topic (record-audit leaders; exit $leaders_rc):"
    echo
    echo '```'
    cat "$RUN_DIR/leaders.txt"
    echo '```'
    echo "Panics in service logs: $([[ -z $panics ]] && echo none || echo yes)"
} | tee "$RESULTS_DIR/availability.md"
if ! awk -v a="$availability" 'BEGIN {exit !(a >= 99.9)}' || ((overlapping > 0 || leaders_rc != 0)) || [[ -n $panics ]]; then
    die "availability below 99.9%, duplicate leaders (journal or record headers) or a panic (see above)"
fi
