#!/usr/bin/env bash
# Measures storage's records/s from a pre-filled topic into the database, beside the database's
# own upsert rate for the same records written directly from one client (same batch upsert,
# same run), and prints a markdown table.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: bench/storage/run.sh [options]

Pre-fills a fresh topic with N deterministic records (values and predictions over N/4 series,
in rounds), then:
  1. direct:  upserts the same records into a fresh database from one client, in batches of
              --batch-size, through common's MetricsRepository::upsert;
  2. storage: runs the release `storage` binary on the topic into another fresh database and
              times it from its first written record to its last (start-up and the consumer
              group join are not counted);
  3. direct again, into a third database, so that load drifting on the machine during the run
     weighs on both sides: the direct rate is the mean of runs 1 and 3.
Prints a markdown table with the rates and storage's share of the direct rate (goal: >= 80%).

Options:
  --records N       records to write (default 20000)
  --batch-size N    records per upsert, for both paths (default 500)
  --brokers LIST    Kafka bootstrap servers (default $TEST_KAFKA_BROKERS, else 127.0.0.1:39092)
  --mongo-uri URI   database server (default $TEST_MONGO_URI, else mongodb://127.0.0.1:37017)
  --partitions N    partitions of the bench topic (default 3)
  -h, --help        this help
USAGE
}

records=20000
batch_size=500
partitions=3
brokers="${TEST_KAFKA_BROKERS:-127.0.0.1:39092}"
mongo_uri="${TEST_MONGO_URI:-mongodb://127.0.0.1:37017}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --records) records="$2"; shift 2 ;;
    --batch-size) batch_size="$2"; shift 2 ;;
    --brokers) brokers="$2"; shift 2 ;;
    --mongo-uri) mongo_uri="$2"; shift 2 ;;
    --partitions) partitions="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"

echo "building (release)..." >&2
cargo build --quiet --release -p storage --bin storage --example bench_storage
tool="$target/release/examples/bench_storage"
storage_bin="$target/release/storage"

run_id="$(date +%s)_$$"
topic="bench_storage_${run_id}"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
field() { python3 -c "import json,sys; print(json.loads(sys.stdin.read())['$1'])"; }

echo "filling $topic with $records records..." >&2
"$tool" fill --brokers "$brokers" --topic "$topic" --records "$records" --partitions "$partitions" >&2

echo "direct upserts (1)..." >&2
direct_json="$("$tool" direct --mongo-uri "$mongo_uri" --database "bench_direct_${run_id}" --records "$records" --batch-size "$batch_size")"
echo "$direct_json" >&2

admin_port="$(free_port)"
log="$(mktemp -t storage-bench.XXXXXX.log)"
echo "storage (log: $log)..." >&2
KAFKA_BROKERS="$brokers" KAFKA_TOPIC="$topic" MONGO_URI="$mongo_uri" MONGO_DB="bench_storage_${run_id}" \
  STORAGE_GROUP_ID="bench_storage_${run_id}" STORAGE_ADMIN_PORT="$admin_port" STORAGE_BATCH_SIZE="$batch_size" \
  BIND_ADDRESS=127.0.0.1 RUST_LOG="${RUST_LOG:-warn}" \
  "$storage_bin" >"$log" 2>&1 &
storage_pid=$!
trap 'kill "$storage_pid" 2>/dev/null || true; wait "$storage_pid" 2>/dev/null || true' EXIT
storage_json="$("$tool" watch --admin "127.0.0.1:$admin_port" --records "$records")"
echo "$storage_json" >&2
kill "$storage_pid" 2>/dev/null || true
wait "$storage_pid" 2>/dev/null || true

echo "direct upserts (2)..." >&2
direct2_json="$("$tool" direct --mongo-uri "$mongo_uri" --database "bench_direct2_${run_id}" --records "$records" --batch-size "$batch_size")"
echo "$direct2_json" >&2

direct_rate="$(echo "$direct_json" | field records_per_second)"
direct_secs="$(echo "$direct_json" | field seconds)"
direct2_rate="$(echo "$direct2_json" | field records_per_second)"
direct2_secs="$(echo "$direct2_json" | field seconds)"
storage_rate="$(echo "$storage_json" | field records_per_second)"
storage_secs="$(echo "$storage_json" | field seconds)"
direct_mean="$(python3 -c "print(f'{($direct_rate+$direct2_rate)/2:.1f}')")"
share="$(python3 -c "print(f'{100*$storage_rate/$direct_mean:.0f}%')")"

cat <<TABLE

| path | records | batch | seconds | records/s |
|---|---:|---:|---:|---:|
| direct upsert, one client (before storage) | $records | $batch_size | $direct_secs | $direct_rate |
| storage, topic -> database | $records | $batch_size | $storage_secs | $storage_rate |
| direct upsert, one client (after storage) | $records | $batch_size | $direct2_secs | $direct2_rate |
| **storage / mean direct** | | | | **$share** |
TABLE
