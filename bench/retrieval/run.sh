#!/usr/bin/env bash
# Load benchmark of retrieval: GET /metrics/{id}/values through the service (wrk) against the
# same documents read straight from the database (examples/direct_reads.rs), at the same
# concurrency, in alternating rounds of the same run, on a database of the benchmark's own.
#
# Usage: bench/retrieval/run.sh [--series N] [--concurrency C] [--duration SECS] [--rounds R]
#                               [--threads T] [--mongo-uri URI]
#
#   --series N       series seeded (default 10000), as `storage` stores them.
#   --concurrency C  open connections of wrk and clients of direct_reads (default 4).
#   --duration SECS  length of each measured run (default 10); a 3 s warm-up of each client first.
#   --rounds R       rounds of (direct, service), alternating so that the load of a shared
#                    machine weighs on both alike (default 3).
#   --threads T      wrk threads (default 1: one is plenty for a few connections and leaves
#                    the cores to the service and the database).
#   --mongo-uri URI  use this database server (a fresh database on it) instead of starting a
#                    private SecantusDB on a free port.
#
# Installs wrk (apt) when missing, builds retrieval and the examples in release mode, seeds
# the series, starts retrieval on free ports, runs both clients, prints one line per client and
# round (throughput, p50/p99 in ms, errors), then the totals: throughput over all rounds, the
# worst p99, the service/direct ratio; exits 1 when a goal is missed: ratio >= 0.80, no errors,
# service p99 < 50 ms in every round.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

series=10000 concurrency=4 duration=10 rounds=3 threads=1 mongo_uri=""
while (($#)); do
    case $1 in
        -h | --help) usage_from_header "$0"; exit 0 ;;
        --series) series=$2; shift 2 ;;
        --concurrency) concurrency=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        --mongo-uri) mongo_uri=$2; shift 2 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done
((threads <= concurrency)) || threads=$concurrency
cd "$ROOT_DIR"

if ! command -v wrk >/dev/null; then
    log "installing wrk"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi

log "building retrieval and the examples (release)"
cargo build --quiet --release -p retrieval --bin retrieval --example seed_series --example direct_reads
bin="$CARGO_TARGET_DIR/release"

run_dir=$(mktemp -d "${TMPDIR:-/tmp}/retrieval-bench.XXXXXX")
mkdir -p "$run_dir/logs" "$run_dir/pids" "$run_dir/data"
cleanup() {
    local rc=$? pid_file
    for pid_file in "$run_dir"/pids/*.pid; do
        [[ -f $pid_file ]] && kill -- "-$(<"$pid_file")" 2>/dev/null || true
    done
    rm -rf "$run_dir"
    exit "$rc"
}
trap cleanup EXIT

# Starts "$@" in its own session as NAME, logging to the run dir.
start() {
    local name=$1
    shift
    setsid "$@" >"$run_dir/logs/$name.log" 2>&1 </dev/null &
    echo $! >"$run_dir/pids/$name.pid"
}

if [[ -z $mongo_uri ]]; then
    secantusd=$(secantusd_bin) || die "secantusd-py not found under $VENV_DIR (run scripts/deps.sh)"
    port=$(free_port)
    start secantusd "$secantusd" --host 127.0.0.1 --port "$port" --storage-path "$run_dir/data/secantusd" --log-level WARNING
    wait_for_port secantusd "$port" 60 "$run_dir"
    mongo_uri="mongodb://127.0.0.1:$port"
fi
export MONGO_URI=$mongo_uri MONGO_DB="retrieval_bench_$$" IDS_FILE="$run_dir/ids.txt"

log "seeding $series series"
"$bin/examples/seed_series" --series "$series" --ids-file "$IDS_FILE"

api_port=$(free_port) admin_port=$(free_port)
RUST_LOG=warn BIND_ADDRESS=127.0.0.1 RETRIEVAL_PORT=$api_port RETRIEVAL_ADMIN_PORT=$admin_port \
    HTTP_MAX_IN_FLIGHT=$((concurrency * 4 + 16)) start retrieval "$bin/retrieval"
wait_for_http retrieval "http://127.0.0.1:$admin_port/healthz" 60 "$run_dir"
url="http://127.0.0.1:$api_port"

log "warming up (3 s each)"
"$bin/examples/direct_reads" --ids-file "$IDS_FILE" --concurrency "$concurrency" --duration 3s >/dev/null
wrk -t "$threads" -c "$concurrency" -d 3s -s bench/retrieval/rotate_ids.lua "$url" >/dev/null

log "measuring: $rounds rounds of ${duration}s per client, $concurrency clients, $series series"
lines=()
for ((round = 1; round <= rounds; round++)); do
    lines+=("$("$bin/examples/direct_reads" --ids-file "$IDS_FILE" --concurrency "$concurrency" --duration "${duration}s")")
    echo "${lines[-1]}"
    lines+=("$(wrk -t "$threads" -c "$concurrency" -d "${duration}s" --timeout 5s -s bench/retrieval/rotate_ids.lua "$url" | grep '^service ')")
    echo "${lines[-1]}"
done

printf '%s\n' "${lines[@]}" | python3 -c '
import sys
runs = {"direct": [], "service": []}
for line in sys.stdin:
    who, *pairs = line.split()
    runs[who].append({k: float(v) for k, v in (p.split("=") for p in pairs)})
total = {}
for who, rs in runs.items():
    requests, seconds = sum(r["requests"] for r in rs), sum(r["duration_s"] for r in rs)
    total[who] = dict(rps=requests / seconds, p50=sorted(r["p50_ms"] for r in rs)[len(rs) // 2],
                      p99=max(r["p99_ms"] for r in rs), errors=int(sum(r["errors"] for r in rs)))
    t = total[who]
    print("%-8s total: %.1f req/s, median p50 %.2f ms, worst p99 %.2f ms, errors %d" % (who, t["rps"], t["p50"], t["p99"], t["errors"]))
ratio = total["service"]["rps"] / total["direct"]["rps"]
checks = [("service/direct throughput %.2f >= 0.80" % ratio, ratio >= 0.80),
          ("errors %d + %d == 0" % (total["service"]["errors"], total["direct"]["errors"]), total["service"]["errors"] + total["direct"]["errors"] == 0),
          ("service p99 %.2f ms < 50 ms" % total["service"]["p99"], total["service"]["p99"] < 50)]
for text, ok in checks:
    print(("ok     " if ok else "MISSED ") + text)
sys.exit(0 if all(ok for _, ok in checks) else 1)
'
