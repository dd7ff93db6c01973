#!/usr/bin/env bash
# Backfills deterministic synthetic history into a Prometheus data directory.
#
# Usage: scripts/history.sh [--data-dir DIR] [--days N] [--bulk N] [--end UNIX] [--seed S] [--force]
#                           [--import-url URL]
#
#   --data-dir DIR  Prometheus TSDB directory to fill (default .run/data/target-prometheus).
#   --import-url URL  instead: import into the running VictoriaMetrics at URL (its
#                   /api/v1/import/prometheus); DIR is then its -storageDataPath, where only the
#                   manifest is written (it marks the history imported, as for Prometheus).
#   --days N        days of 1-minute samples (default 3).
#   --bulk N        extra synthetic_bulk{shard="i"} series, e.g. 1000-10000 for load tests (default 0).
#   --end UNIX      time of the last sample (default: now, rounded down to the minute).
#   --seed S        noise seed (default: the generator's).
#   --force         wipe DIR first when it already holds a different history.
#
# Writes DIR/synthetic-manifest.json (what crates/synthetic's Manifest::load reads). When DIR
# already holds the requested history (same manifest config), or holds one and no --end/--days/
# --bulk/--seed was given, nothing is done. Start Prometheus on DIR afterwards (or restart it).
#
# Quirks (promtool 2.42):
# - `tsdb create-blocks-from openmetrics` has no --max-block-duration yet and re-reads its
#   whole input once per 2h block, so the generator writes one file per 2h window aligned to
#   the epoch (synthetic --split-hours 2) and each file becomes exactly one block.
# - The newest block ends at --end, i.e. about "now": it overlaps the time range of the head of
#   a Prometheus started right after. That is fine: 2.42 allows overlapping blocks and merges
#   blocks and head at query time (test.sh checks the backfill is served).
# - Verified against Prometheus 2.42: min/max/count_over_time at time=end equal the library's
#   Dataset::window_stats exactly, avg/stddev to 1e-9 relative. A range selector [1h] at t
#   includes both t-1h and t (61 samples; Prometheus 3 makes the left end open: 60).
# - The series end at `end`: instant queries see them until end+5m (staleness), after which
#   tests must pass `time=end` or use ranges that reach back to it.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

data_dir="$ROOT_DIR/.run/data/target-prometheus"
days="" bulk="" end="" seed="" force=false import_url=""
while (($#)); do
    case $1 in
        -h | --help) usage_from_header "$0"; exit 0 ;;
        --data-dir) data_dir=$2; shift 2 ;;
        --days) days=$2; shift 2 ;;
        --bulk) bulk=$2; shift 2 ;;
        --end) end=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        --force) force=true; shift ;;
        --import-url) import_url=$2; shift 2 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done
[[ -n $import_url ]] || command -v promtool >/dev/null || die "promtool not found (run scripts/deps.sh)"

manifest="$data_dir/synthetic-manifest.json"
explicit=false
[[ -n $days$bulk$end$seed ]] && explicit=true
days=${days:-3} bulk=${bulk:-0}
[[ -n $end ]] || end=$(($(date +%s) / 60 * 60))

# The generator: release when the output is large, else the dev profile the tests build anyway.
profile=dev bin_dir=debug
if ((bulk >= 500)); then profile=release bin_dir=release; fi
log "building synthetic ($profile)"
cargo build --quiet --profile "$profile" -p synthetic --bin synthetic
synthetic="$CARGO_TARGET_DIR/$bin_dir/synthetic"

gen_args=(--end "$end" --days "$days" --bulk "$bulk")
[[ -n $seed ]] && gen_args+=(--seed "$seed")

if [[ -f $manifest ]]; then
    # Compare the "config" of the existing manifest with the requested one.
    norm='import json,sys; d=json.load(sys.stdin); print(json.dumps(d.get("config", d), sort_keys=True))'
    wanted=$("$synthetic" --print-config "${gen_args[@]}" | python3 -c "$norm")
    have=$(python3 -c "$norm" <"$manifest")
    if [[ $wanted == "$have" ]] || ! $explicit; then
        log "history already in $data_dir ($have); nothing to do"
        exit 0
    fi
    [[ -z $import_url ]] || die "VictoriaMetrics' $data_dir holds another history ($have); start it on an empty directory"
    $force || die "$data_dir holds another history ($have); pass --force to replace it"
fi
# VictoriaMetrics runs on its directory while it imports: nothing to wipe there.
if [[ -z $import_url && -d $data_dir ]] && [[ -n $(ls -A "$data_dir") ]]; then
    $force || die "$data_dir is not empty and has no synthetic manifest; pass --force to wipe it"
    log "wiping $data_dir"
    rm -rf "$data_dir"
fi
mkdir -p "$data_dir"

work=$(mktemp -d "${TMPDIR:-/tmp}/synthetic-om.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$synthetic" --out "$work" --split-hours 2 --manifest "$work/manifest.json" "${gen_args[@]}"

if [[ -n $import_url ]]; then
    log "importing $(find "$work" -name '*.om' | wc -l) file(s) into VictoriaMetrics at $import_url"
    mapfile -d '' files < <(find "$work" -name '*.om' -print0 | sort -z)
    import_openmetrics_victoria_metrics "$import_url" "${files[@]}"
    cp "$work/manifest.json" "$manifest"
    log "history: imported into $import_url (manifest $manifest)"
    exit 0
fi
log "promtool: backfilling $(find "$work" -name '*.om' | wc -l) block(s) into $data_dir"
find "$work" -name '*.om' -print0 | sort -z |
    xargs -0 -P "$(nproc)" -I{} promtool tsdb create-blocks-from openmetrics --quiet {} "$data_dir" \
    >"$work/promtool.log" 2>&1 || { cat "$work/promtool.log" >&2; die "promtool failed"; }
# The manifest goes in last: its presence means the backfill completed.
cp "$work/manifest.json" "$manifest"
log "history: $(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); c=m["config"]; print("%d+%d series, %d..%d" % (len(m["series"]), c["bulk"], m["start"], c["end"]))' "$manifest") in $data_dir"
