#!/usr/bin/env bash
# Availability of the etl under leader crashes, in the spirit of the original monitor
# experiment: three etl replicas share ETL_SHARDS shards through leases in MongoDB, and the
# leader of a random shard is SIGKILLed again and again.
#
# Usage: reliability/availability.sh [--minutes M] [--kills K] [--help]
#
# Brings the stack up like scripts/e2e.sh (reliability/stack.sh: free loopback ports, debug
# binaries, SLA set loaded) with ETL_SHARDS=2 ETL_LEASE_TTL=3s ETL_FAST_LOOP_SECS=8
# ETL_SLOW_LOOP_SECS=40 (each overridable), then starts two more etl replicas. For M minutes
# (default 30) it kills K leaders (default 15) at random moments: it reads the shard leases
# (`etl_leases`), SIGKILLs the holder of a random shard (its replica id ends in its pid), times
# how long until another replica holds the lease, and starts the killed replica again.
#
# Availability is read from the etl's cycle journal (`etl_cycles`): over the run, for each loop
# and shard, the share of scheduled slots (aligned to the epoch) with a cycle that completed
# before the slot ended. Duplicate-leader cycles are cycles of one shard and loop that two
# replicas ran at overlapping times. A slot journaled twice (a new leader re-running the slot its
# predecessor finished but had not yet journaled) is reported too. Goal: availability >= 99.9%,
# zero duplicate-leader cycles. Writes reliability/results/availability.md.
set -euo pipefail
# shellcheck source=reliability/stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/stack.sh"

MINUTES=30
KILLS=15
while (($#)); do
    case $1 in
        -h | --help) usage_from_header "$0"; exit 0 ;;
        --minutes) MINUTES=$2; shift 2 ;;
        --kills) KILLS=$2; shift 2 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done
((KILLS >= 1 && MINUTES * 60 / KILLS >= 10)) || die "need at least 10 s between kills"
ensure_venv
export ETL_SHARDS=${ETL_SHARDS:-2}
export ETL_LEASE_TTL=${ETL_LEASE_TTL:-3s}
export ETL_FAST_LOOP_SECS=${ETL_FAST_LOOP_SECS:-8}
export ETL_SLOW_LOOP_SECS=${ETL_SLOW_LOOP_SECS:-40}
stack_up
load_slaset
PY=$VENV/bin/python
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
leaders() {
    "$PY" - "$MONGO_URI_LOCAL" <<'PYEOF'
import sys, datetime, pymongo
leases = pymongo.MongoClient(sys.argv[1], serverSelectionTimeoutMS=2000)["sla_monitor"]["etl_leases"]
now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
for lease in leases.find({"kind": "shard", "expires_at": {"$gt": now}}):
    print(lease["_id"], lease["holder"])
PYEOF
}

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
# Let the first cycles (and the first slow cycle of each shard) complete before measuring.
sleep $((ETL_SLOW_LOOP_SECS + 5))
t_start=$(date +%s.%N)
run_start=$SECONDS
run_secs=$((MINUTES * 60))
gap=$((run_secs / KILLS))
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

mkdir -p "$REL_DIR/results"
result=$("$PY" - "$MONGO_URI_LOCAL" "$t_start" "$t_end" "$ETL_SHARDS" "$ETL_FAST_LOOP_SECS" "$ETL_SLOW_LOOP_SECS" <<'PYEOF'
import sys, datetime, math, collections, pymongo
uri, t0, t1, shards, fast, slow = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
cycles = list(pymongo.MongoClient(uri)["sla_monitor"]["etl_cycles"].find())
utc = datetime.timezone.utc
ts = lambda d: d.replace(tzinfo=utc).timestamp()
by_slot = collections.defaultdict(list)
for c in cycles:
    by_slot[(c["loop"], c["shard"], round(ts(c["slot"])))].append(c)
scheduled = on_time = late = 0
missed = []
for loop, period in (("fast", fast), ("slow", slow)):
    for index in range(shards):
        shard = f"{index}/{shards}"
        for k in range(math.ceil(t0 / period), math.floor(t1 / period)):
            slot = k * period
            scheduled += 1
            done = [c for c in by_slot.get((loop, shard, slot), []) if ts(c["finished_at"]) <= slot + period]
            if done:
                on_time += 1
            elif by_slot.get((loop, shard, slot)):
                late += 1
                missed.append(f"{loop} {shard} {slot} late")
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
print(f"{scheduled} {on_time} {late} {twice} {overlapping} {terms} {100.0 * on_time / max(scheduled, 1):.3f}")
print("; ".join(missed[:20]) or "none")
PYEOF
)
read -r scheduled on_time late twice overlapping terms availability <<<"$(head -1 <<<"$result")"
missed=$(tail -1 <<<"$result")
{
    echo "Availability run $(date -u +%FT%TZ): $MINUTES minutes, 3 etl replicas (debug binaries), ETL_SHARDS=$ETL_SHARDS, ETL_LEASE_TTL=$ETL_LEASE_TTL, fast loop ${ETL_FAST_LOOP_SECS}s, slow loop ${ETL_SLOW_LOOP_SECS}s; the leader of a random shard SIGKILLed ${#rows[@]} times and restarted 2 s later."
    echo
    echo "| kill | shard lease | replica killed | lease taken over after (s) | new leader |"
    echo "|---|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
    echo
    echo "| scheduled cycles (both loops, all shards) | completed on time | completed late | availability | duplicate-leader cycles (two replicas at once) | slots run twice, one after the other | terms seen |"
    echo "|---|---|---|---|---|---|---|"
    echo "| $scheduled | $on_time | $late | **${availability}%** | $overlapping | $twice | $terms |"
    echo
    echo "Slots not completed on time: $missed"
    echo "Panics in service logs: $([[ -z $panics ]] && echo none || echo yes)"
} | tee "$REL_DIR/results/availability.md"
if ! awk -v a="$availability" 'BEGIN {exit !(a >= 99.9)}' || ((overlapping > 0)) || [[ -n $panics ]]; then
    die "availability below 99.9%, duplicate-leader cycles or a panic (see above)"
fi
