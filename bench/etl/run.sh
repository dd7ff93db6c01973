#!/usr/bin/env bash
# Times one fast and one slow etl cycle over N backfilled synthetic series.
#
# Usage: bench/etl/run.sh [N ...]        (default: 1000 10000)
#
# For each N: backfills 6 fixed + N `synthetic_bulk` series of BENCH_DAYS days (default 3, the
# metadata lookback) at one-minute steps ending now (scripts/history.sh --bulk N), starts a
# private Prometheus on it and a private Tansu broker, and runs the `cycles` example of crates/etl
# (release build): one fast cycle (15 aggregate queries, 5 forecasts from an in-process SLA
# server) and one slow cycle (metadata of every series), with ETL_MAX_CONCURRENCY (default 8).
# Prints one Markdown table row per N: each cycle's seconds and records, the fast cycle's share of
# time waiting on Prometheus (etl_prometheus_wait_seconds over its duration), the failed steps, and
# the etl's peak resident memory over both cycles (VmHWM). Exits non-zero, after the other sizes,
# when a cycle failed a step or produced fewer records than there are series (a values record per
# series + 5 forecasts; a metadata record per series). Logs and data stay in BENCH_RUN_DIR
# (default .run/bench-etl). The history is backfilled afresh each run, since the cycles evaluate
# "now".
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
if [[ ${1:-} == -h || ${1:-} == --help ]]; then usage_from_header "$0"; exit 0; fi
cd "$ROOT_DIR"

sizes=("$@")
((${#sizes[@]})) || sizes=(1000 10000)
days=${BENCH_DAYS:-3}
run_dir=${BENCH_RUN_DIR:-$ROOT_DIR/.run/bench-etl}
mkdir -p "$run_dir"
tansu=$(tansu_bin) || die "tansu not found (run scripts/deps.sh)"
command -v prometheus >/dev/null || die "prometheus not found (run scripts/deps.sh)"

cleanup() {
    stop_bg "$run_dir" broker
    for n in "${sizes[@]}"; do stop_bg "$run_dir" "prometheus-$n"; done
}
trap cleanup EXIT

log "building the cycles example (release)"
cargo build --quiet --release -p etl --example cycles
cycles="$CARGO_TARGET_DIR/release/examples/cycles"

broker_port=$(free_port)
start_bg "$run_dir" broker "$tansu" broker --listener-url "tcp://127.0.0.1:$broker_port" \
    --advertised-listener-url "tcp://127.0.0.1:$broker_port" --storage-engine memory://tansu/
wait_for_port broker "$broker_port" 30 "$run_dir"

printf 'global:\n  scrape_interval: 1h\nscrape_configs: []\n' >"$run_dir/prometheus.yml"
echo "| series | fast cycle (s) | fast: waiting on Prometheus | fast records (values + 5 forecasts) | slow cycle (s) | metadata records | failures | etl peak RSS (MiB) |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
short=()
for n in "${sizes[@]}"; do
    data_dir="$run_dir/data/prometheus-$n"
    backfill_start=$SECONDS
    "$ROOT_DIR/scripts/history.sh" --data-dir "$data_dir" --days "$days" --bulk "$n" --force >&2
    log "backfill of $n series took $((SECONDS - backfill_start)) s"
    port=$(free_port)
    start_bg "$run_dir" "prometheus-$n" prometheus --config.file="$run_dir/prometheus.yml" \
        --storage.tsdb.path="$data_dir" --storage.tsdb.retention.time=3650d \
        --web.listen-address="127.0.0.1:$port" --query.max-samples=100000000
    wait_for_http "prometheus-$n" "http://127.0.0.1:$port/-/ready" 300 "$run_dir"
    result=$(RUST_LOG=${RUST_LOG:-warn} "$cycles" \
        --prometheus-url "http://127.0.0.1:$port" --kafka-brokers "127.0.0.1:$broker_port" \
        --kafka-topic "bench_$n" --series-selector '{job="synthetic"}' --bind-address 127.0.0.1 \
        --admin-port 0 --metadata-lookback "${days}d" 2>>"$run_dir/logs/cycles-$n.log")
    stop_bg "$run_dir" "prometheus-$n"
    if ! python3 - "$n" "$result" <<'PY'; then short+=("$n"); fi
import json, sys
n, r = int(sys.argv[1]), json.loads(sys.argv[2])
f, s = r["fast"], r["slow"]
series = n + 6
share = f["prometheus_seconds"] / f["seconds"] if f["seconds"] else 0.0
rss = r["peak_rss_bytes"] / 2**20
failures = f["failures"] + s["failures"]
print(f"| {series:,} | {f['seconds']:.1f} | {share:.0%} | {f['records']:,} | {s['seconds']:.1f} | {s['records']:,} | {failures} | {rss:,.0f} |")
# A failed row is printed, and fails the bench: it is not a result.
problems = []
if failures:
    problems.append(f"{failures} failed steps")
if f["records"] < series + 5:
    problems.append(f"fast cycle: {f['records']:,} records for {series:,} series + 5 forecasts")
if s["records"] < series:
    problems.append(f"slow cycle: {s['records']:,} metadata records for {series:,} series")
if problems:
    print(f"bench/etl/run.sh: {series:,} series: " + "; ".join(problems), file=sys.stderr)
    sys.exit(1)
PY
done
if ((${#short[@]})); then die "the cycles failed or fell short for N = ${short[*]} (see above and $run_dir/logs)"; fi