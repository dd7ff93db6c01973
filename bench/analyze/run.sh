#!/usr/bin/env bash
# Times `etl analyze` against the equivalent statsmodels script over the same CSV files, side
# by side in one run.
#
# Usage: bench/analyze/run.sh [--rounds N] [--sets hourly,daily,none]
#
# Generates (once; fixed seed) 20 series of 4,320 one-minute points (3 days) with
# bench/analyze/statsmodels_analyze.py: 7 with an hourly period (additive and multiplicative),
# 3 with a daily period, 10 without (trend, white noise, random walks, AR(1)). Builds `etl` in
# release once, then, for each round and each file set, times (a) `etl analyze --input FILE
# [--period MINUTES]` once per file (period given where the file has one) and (b) one
# statsmodels_analyze.py process doing the same work per file (aggregates, adfuller, acf,
# periodogram + seasonal_decompose search, ExponentialSmoothing fits, forecast 10). The order of
# (a) and (b) alternates between rounds. Prints a Markdown table of the medians over the rounds
# and the ratios; statsmodels is reported by wall time of its process (interpreter start and
# imports included) and by its in-process compute time (excluded), the ratio uses the latter.
#
# Options and environment:
#   --rounds N      rounds (default 5, env BENCH_ROUNDS)
#   --sets LIST     file sets to time (default hourly,daily,none)
#   BENCH_VENV      Python venv with statsmodels STATSMODELS_VERSION (default .cache/bench-venv,
#                   created and populated with pip when missing; an existing one is reused)
#   BENCH_RUN_DIR   data, outputs and timings (default .cache/bench-analyze)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
cd "$ROOT_DIR"

STATSMODELS_VERSION=0.15.0
rounds=${BENCH_ROUNDS:-5}
sets=hourly,daily,none
while (($#)); do
    case $1 in
        -h | --help) usage_from_header "$0"; exit 0 ;;
        --rounds) rounds=${2:?--rounds needs a value}; shift 2 ;;
        --sets) sets=${2:?--sets needs a value}; shift 2 ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "--rounds must be a positive integer"
IFS=, read -r -a set_list <<<"$sets"

run_dir=${BENCH_RUN_DIR:-$ROOT_DIR/.cache/bench-analyze}
venv=${BENCH_VENV:-$ROOT_DIR/.cache/bench-venv}
script=$ROOT_DIR/bench/analyze/statsmodels_analyze.py
data_dir=$run_dir/data
mkdir -p "$run_dir/out"

has_statsmodels() {
    [[ -x $1/bin/python ]] &&
        [[ $("$1/bin/python" -c 'import statsmodels, scipy, pandas; print(statsmodels.__version__)' 2>/dev/null) == "$STATSMODELS_VERSION" ]]
}
if has_statsmodels "$venv"; then
    log "reusing $venv (statsmodels $STATSMODELS_VERSION)"
else
    [[ -e $venv ]] && die "$venv exists but has no statsmodels $STATSMODELS_VERSION; remove it or set BENCH_VENV"
    log "creating $venv with statsmodels $STATSMODELS_VERSION"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "statsmodels==$STATSMODELS_VERSION" numpy scipy pandas
    has_statsmodels "$venv" || die "statsmodels $STATSMODELS_VERSION did not install into $venv"
fi
python=$venv/bin/python

if [[ ! -f $data_dir/files.txt || $script -nt $data_dir/files.txt ]]; then
    log "generating the benchmark series in $data_dir"
    "$python" "$script" generate "$data_dir"
fi

log "building etl (release)"
cargo build --quiet --release -p etl
etl=$CARGO_TARGET_DIR/release/etl
probe=$data_dir/$(awk 'NR == 1 {print $2}' "$data_dir/files.txt")
"$etl" analyze --input "$probe" >"$run_dir/out/probe.json" ||
    die "etl analyze failed on $probe"

# Files and periods of one set, as arguments for each tool.
etl_runs() { # SET -> lines "FILE [PERIOD]"
    awk -v s="$1" -v d="$data_dir" '$1 == s {print d "/" $2, ($3 == "-" ? "" : $3)}' "$data_dir/files.txt"
}
now() { date +%s%N; }

time_etl() { # SET ROUND -> prints wall ns
    local set=$1 round=$2 file period started
    started=$(now)
    while read -r file period; do
        "$etl" analyze --input "$file" ${period:+--period "$period"} \
            >"$run_dir/out/etl-$(basename "$file" .csv).json"
    done < <(etl_runs "$set")
    echo $(($(now) - started))
}
time_statsmodels() { # SET ROUND -> prints "wall_ns compute_ns"
    local set=$1 round=$2 started wall args=()
    local file period
    while read -r file period; do args+=("$file${period:+:$period}"); done < <(etl_runs "$set")
    started=$(now)
    "$python" "$script" analyze "${args[@]}" >"$run_dir/out/statsmodels-$set.jsonl"
    wall=$(($(now) - started))
    echo "$wall $(awk '$1 == "compute_ns" {print $2}' "$run_dir/out/statsmodels-$set.jsonl")"
}

timings=$run_dir/timings.tsv
printf 'round\tset\ttool\twall_ns\tcompute_ns\n' >"$timings"
log "machine load before: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min), $(nproc) cores"
for ((round = 1; round <= rounds; round++)); do
    for set in "${set_list[@]}"; do
        [[ -n $(etl_runs "$set") ]] || die "no files in set $set"
        if ((round % 2)); then order=(etl statsmodels); else order=(statsmodels etl); fi
        for tool in "${order[@]}"; do
            if [[ $tool == etl ]]; then
                wall=$(time_etl "$set" "$round")
                printf '%s\t%s\tetl\t%s\t%s\n' "$round" "$set" "$wall" "$wall" >>"$timings"
            else
                read -r wall compute < <(time_statsmodels "$set" "$round")
                printf '%s\t%s\tstatsmodels\t%s\t%s\n' "$round" "$set" "$wall" "$compute" >>"$timings"
            fi
            log "round $round/$rounds $set $tool: $((wall / 1000000)) ms"
        done
    done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
log "machine load after: $load_after"

python3 - "$timings" "$data_dir/files.txt" "$rounds" "$load_after" <<'PY'
import collections, statistics, sys

timings, index, rounds, load = sys.argv[1:5]
files = collections.Counter(line.split()[0] for line in open(index) if line.strip())
rows = collections.defaultdict(list)
totals = collections.defaultdict(lambda: [0, 0])
for line in list(open(timings))[1:]:
    r, s, tool, wall, compute = line.split()
    rows[(s, tool)].append((int(wall), int(compute)))
    totals[(r, tool)][0] += int(wall)
    totals[(r, tool)][1] += int(compute)
sets = list(dict.fromkeys(s for s, _ in rows))
med = lambda xs: statistics.median(xs)
print(f"| file set | files | etl analyze, all files (ms) | per file (ms) | statsmodels wall (s) | statsmodels compute (s) | per file (s) | speed-up (compute) | speed-up (wall) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
def row(name, n, etl, sm_wall, sm_compute):
    print(f"| {name} | {n} | {etl / 1e6:.0f} | {etl / n / 1e6:.1f} | {sm_wall / 1e9:.1f} | "
          f"{sm_compute / 1e9:.1f} | {sm_compute / n / 1e9:.2f} | **{sm_compute / etl:.0f}x** | {sm_wall / etl:.0f}x |")
for s in sets:
    etl = med([w for w, _ in rows[(s, "etl")]])
    sm_wall = med([w for w, _ in rows[(s, "statsmodels")]])
    sm_compute = med([c for _, c in rows[(s, "statsmodels")]])
    row(s, files[s], etl, sm_wall, sm_compute)
n = sum(files[s] for s in sets)
rs = sorted({r for r, _ in totals})
row("all", n, med([totals[(r, "etl")][0] for r in rs]),
    med([totals[(r, "statsmodels")][0] for r in rs]), med([totals[(r, "statsmodels")][1] for r in rs]))
print(f"\nMedians over {rounds} rounds (order alternating); load average after the run: {load}.")
PY
