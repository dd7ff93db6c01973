#!/usr/bin/env bash
# Times the fast loop over N backfilled series split over 1, 2 and 4 shards, each shard run by
# its own etl process at the same time, as that many replicas on this machine would.
#
# Usage: bench/etl/shards.sh [--series N] [--rounds R] [SHARDS ...]   (default: 10000, 2, 1 2 4)
#
# Backfills 6 fixed + N `synthetic_bulk` series of one day ending now (scripts/history.sh
# --bulk N), starts a private Prometheus and Tansu, and for each shard count S starts S
# processes of the `cycles` example of crates/etl (release build) at once, with `--shards S
# --shard K` and CYCLES_FAST_ONLY=1: each runs one fast cycle of its shard (aggregates of its
# series, the forecasts of its SLA metrics). Reported per S: the median over R rounds of the
# wall time until every shard is done (the fast loop's time with S replicas), and the records
# and failures of the last round. Logs stay in BENCH_RUN_DIR (default .run/bench-etl-shards).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
cd "$ROOT_DIR"

series=10000
rounds=2
shard_counts=()
while (($#)); do
    case $1 in
        -h | --help) usage_from_header "$0"; exit 0 ;;
        --series) series=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        *) shard_counts+=("$1"); shift ;;
    esac
done
((${#shard_counts[@]})) || shard_counts=(1 2 4)
run_dir=${BENCH_RUN_DIR:-$ROOT_DIR/.run/bench-etl-shards}
mkdir -p "$run_dir/logs"
tansu=$(tansu_bin) || die "tansu not found (run scripts/deps.sh)"
command -v prometheus >/dev/null || die "prometheus not found (run scripts/deps.sh)"
trap 'stop_all "$run_dir"' EXIT

log "building the cycles example (release)"
cargo build --quiet --release -p etl --example cycles
cycles="$CARGO_TARGET_DIR/release/examples/cycles"

data_dir="$run_dir/data/prometheus"
"$ROOT_DIR/scripts/history.sh" --data-dir "$data_dir" --days 1 --bulk "$series" --force >&2
broker_port=$(free_port)
start_bg "$run_dir" broker "$tansu" broker --listener-url "tcp://127.0.0.1:$broker_port" \
    --advertised-listener-url "tcp://127.0.0.1:$broker_port" --storage-engine memory://tansu/
wait_for_port broker "$broker_port" 30 "$run_dir"
printf 'global:\n  scrape_interval: 1h\nscrape_configs: []\n' >"$run_dir/prometheus.yml"
port=$(free_port)
start_bg "$run_dir" prometheus prometheus --config.file="$run_dir/prometheus.yml" \
    --storage.tsdb.path="$data_dir" --storage.tsdb.retention.time=3650d \
    --web.listen-address="127.0.0.1:$port" --query.max-samples=100000000
wait_for_http prometheus "http://127.0.0.1:$port/-/ready" 300 "$run_dir"

echo "| shards (processes at once) | fast loop, median wall time (s) | slowest shard's cycle (s) | values + forecast records | failures |"
echo "|---:|---:|---:|---:|---:|"
for shards in "${shard_counts[@]}"; do
    walls=()
    for ((round = 1; round <= rounds; round++)); do
        started=$(date +%s.%N)
        pids=()
        for ((shard = 0; shard < shards; shard++)); do
            CYCLES_FAST_ONLY=1 RUST_LOG=${RUST_LOG:-warn} "$cycles" \
                --prometheus-url "http://127.0.0.1:$port" --kafka-brokers "127.0.0.1:$broker_port" \
                --kafka-topic "bench_shards_$shards" --series-selector '{job="synthetic"}' \
                --bind-address 127.0.0.1 --admin-port 0 --shards "$shards" --shard "$shard" \
                >"$run_dir/result-$shards-$shard.json" 2>>"$run_dir/logs/cycles-$shards-$shard.log" &
            pids+=($!)
        done
        for pid in "${pids[@]}"; do wait "$pid" || die "a shard's cycle failed (see $run_dir/logs)"; done
        walls+=("$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}')")
    done
    python3 - "$shards" "$run_dir" "${walls[@]}" <<'PY'
import json, statistics, sys
shards, run_dir, walls = int(sys.argv[1]), sys.argv[2], [float(w) for w in sys.argv[3:]]
results = [json.load(open(f"{run_dir}/result-{shards}-{k}.json"))["fast"] for k in range(shards)]
slowest = max(r["seconds"] for r in results)
records = sum(r["records"] for r in results)
failures = sum(r["failures"] for r in results)
print(f"| {shards} | {statistics.median(walls):.1f} | {slowest:.1f} | {records:,} | {failures} |")
PY
done
