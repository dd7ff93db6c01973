#!/usr/bin/env bash
# Shows that each reliability script fails when its property breaks: a short version of each
# script runs once as it is (it must pass) and once against its mutation (it must fail, and say
# why in its log). The mutations are the fault switches of the `fault-injection` feature
# (crates/common/src/fault.rs), compiled into the services by reliability/stack.sh:
#
#   script           short version                                      mutation (must fail)
#   load.sh          --levels 64 --duration 3s                          FAULT_NO_LOAD_SHED=1
#   faults.sh        --parts storage --down 2 --recovery-timeout 120    FAULT_STORAGE_DROP_PERCENT=1
#   availability.sh  --seconds 30 --kills 1, slow loop 20 s,            FAULT_ETL_FAIL_STEPS=1
#                    SLA set over the synthetic series
#                                                                       FAULT_ETL_DOUBLE_LEADER=1
#   fuzz.sh          --max-examples 5 --grpc-cases 300                  FAULT_BAD_INPUT_FAILS=1
#                                                                       (both must catch it: the
#                    REST APIs' own 5xx counters and the gRPC cases' statuses)
#   fault-classes.sh --classes stop-database --fault 10                 FAULT_STORAGE_DROP_PERCENT=20
#                    (its identity audit must find the dropped records; the run sees about 50
#                    records, so 1% would drop only the first, which the next cycle may
#                    overwrite before any look: 20% drops some of the last cycle's too)
#
# Usage: reliability/mutations.sh [--only "load faults availability fuzz fault-classes"] [--help]
#
# First checks that `fault-injection` is in no crate's default features and that the
# Dockerfile does not build it. Each run's log is kept under the printed directory; results go
# there too (reliability/results/ is left alone). Exits non-zero when an unmutated run failed,
# a mutated one passed, or a mutated one failed for another reason than its property (the line
# its log must hold is in the cases below). MUTATION_JOBS (2) cases run at once, each with its
# own stack on free ports. Took about 9 minutes before the two fault-classes cases (90 s each,
# run alone); scripts/test.sh runs it (SKIP_MUTATIONS=1 skips it).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

ONLY="load faults availability fuzz fault-classes"
while (($#)); do
    case $1 in
        -h | --help) usage_from_header "$0"; exit 0 ;;
        --only) ONLY=$2; shift 2 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done
cd "$ROOT_DIR"

# ---- the switches never reach an image ----------------------------------------------------
defaults=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; m=json.load(sys.stdin); print(" ".join(p["name"] for p in m["packages"] if any("fault-injection" in f for f in p["features"].get("default", []))))')
[[ -z $defaults ]] || die "fault-injection is a default feature of: $defaults"
! grep -n -E 'fault-injection|FAULT_' Dockerfile || die "the Dockerfile mentions the fault switches (above): it must not build them"
grep -q -E '^RUN cargo build --release --locked( --bin [a-z-]+)+ ' Dockerfile ||
    die "the Dockerfile's cargo build is not the plain one this check knows: check it builds no feature"

OUT=$(mktemp -d "${TMPDIR:-/tmp}/sla-mutations.XXXXXX")
export RESULTS_DIR=$OUT/results
log "mutation runs: logs and results in $OUT"

# all_match PATTERNS FILE: whether FILE has a line for each of the &&-separated PATTERNS.
all_match() {
    local rest=$1 file=$2 pattern
    while [[ -n $rest ]]; do
        pattern=${rest%%&&*}
        if [[ $rest == *'&&'* ]]; then rest=${rest#*&&}; else rest=; fi
        grep -q -E -- "$pattern" "$file" || return 1
    done
}

# run_case NAME EXPECT PATTERN ENV -- COMMAND...: runs COMMAND with ENV (VAR=value words, or -),
# expecting `pass` (exit 0) or `fail` (non-zero, with a log line matching PATTERN, or one for each
# of PATTERN's &&-separated parts); writes its table row to $OUT/rows/NAME and, when it did not do
# what it must, $OUT/bad/NAME.
run_case() {
    local name=$1 expect=$2 pattern=$3 env_words=$4
    shift 5
    local logfile=$OUT/$name.log rc=0 started=$SECONDS verdict ok=true
    local env_args=()
    [[ $env_words == - ]] || read -r -a env_args <<<"$env_words"
    log "$name: ${env_words/#-/unmutated} $*"
    timeout 900 env "${env_args[@]}" "$@" >"$logfile" 2>&1 || rc=$?
    if [[ $expect == pass ]]; then
        if ((rc == 0)); then verdict="passed, as it must"; else verdict="FAILED (exit $rc): it must pass"; ok=false; fi
    elif ((rc == 0)); then
        verdict="PASSED: the mutation was not caught"; ok=false
    elif all_match "$pattern" "$logfile"; then
        verdict="failed, as it must: $(grep -m1 -o -E -- "${pattern%%&&*}.{0,60}" "$logfile" | head -n 1)"
    else
        verdict="FAILED for another reason (exit $rc): no line matches '$pattern'"; ok=false
    fi
    echo "| $name | ${env_words/#-/none} | \`${*#"$ROOT_DIR"/}\` | $expect | $((SECONDS - started)) | $verdict |" >"$OUT/rows/$name"
    log "$(cat "$OUT/rows/$name")"
    if ! $ok; then
        : >"$OUT/bad/$name"
        tail -n 15 "$logfile" >&2
    fi
    # A failed script keeps its stack's run dir: this one's log says which.
    local kept
    kept=$(sed -n 's/^.*run dir kept: \(.*sla-reliability\.[A-Za-z0-9]*\)$/\1/p' "$logfile" | tail -n 1)
    if [[ -n $kept && ${KEEP_RUN:-} != 1 ]]; then rm -rf "$kept"; fi
}

# The cases, in order: "NAME|EXPECT|PATTERN|ENV|SCRIPT ARGS..." (each stack has its own ports).
R=$ROOT_DIR/reliability
LOAD="$R/load.sh --levels 64 --duration 3s"
FAULTS="$R/faults.sh --parts storage --down 2 --recovery-timeout 120"
FUZZ="$R/fuzz.sh --max-examples 5 --grpc-cases 300"
FAULT_CLASSES="$R/fault-classes.sh --classes stop-database --fault 10 --recovery-timeout 120"
AVAILABILITY="env ETL_SLOW_LOOP_SECS=20 SLA_SET_FILE=$R/sla_set.synthetic.json $R/availability.sh --seconds 30 --kills 1 --warmup-timeout 30"
cases=()
for script in $ONLY; do
    case $script in
        load) cases+=("load|pass|-|-|$LOAD"
            "load-no-shed|fail|load was not shed|FAULT_NO_LOAD_SHED=1|$LOAD") ;;
        faults) cases+=("faults|pass|-|-|$FAULTS"
            "faults-storage-drop|fail|COMMITTED BUT MISSING|LOST:|FAULT_STORAGE_DROP_PERCENT=1|$FAULTS") ;;
        availability) cases+=("availability|pass|-|-|$AVAILABILITY"
            "availability-fail-steps|fail|failed \([0-9]+ failed steps|FAULT_ETL_FAIL_STEPS=1|$AVAILABILITY"
            "availability-double-leader|fail|DUPLICATE LEADER|FAULT_ETL_DOUBLE_LEADER=1|$AVAILABILITY") ;;
        fuzz) cases+=("fuzz|pass|-|-|$FUZZ"
            "fuzz-bad-input-fails|fail|the services counted [0-9]+ 5xx answers&&FAILURE: case [0-9]+ .* UNKNOWN|FAULT_BAD_INPUT_FAILS=1|$FUZZ") ;;
        fault-classes) cases+=("fault-classes|pass|-|-|$FAULT_CLASSES"
            "fault-classes-storage-drop|fail|FINDING: records lost by identity|FAULT_STORAGE_DROP_PERCENT=20|$FAULT_CLASSES") ;;
        *) die "unknown script: $script (load, faults, availability, fuzz, fault-classes)" ;;
    esac
done

# Up to MUTATION_JOBS (2) cases at once: each is mostly waiting on its own stack's loops.
mkdir -p "$OUT/rows" "$OUT/bad"
names=()
for spec in "${cases[@]}"; do
    IFS='|' read -r -a fields <<<"$spec"
    # The pattern may hold a |: everything between EXPECT and the last two fields.
    name=${fields[0]} expect=${fields[1]} command=${fields[-1]} env_words=${fields[-2]}
    pattern=$(IFS='|'; echo "${fields[*]:2:${#fields[@]}-4}")
    names+=("$name")
    while (($(jobs -rp | wc -l) >= ${MUTATION_JOBS:-2})); do wait -n || true; done
    read -r -a command_words <<<"$command"
    run_case "$name" "$expect" "$pattern" "$env_words" -- "${command_words[@]}" &
done
wait

rows=()
for name in "${names[@]}"; do rows+=("$(cat "$OUT/rows/$name" 2>/dev/null || echo "| $name | | | | | did not report |")"); done
{
    echo "Mutation runs $(date -u +%FT%TZ) (reliability/mutations.sh):"
    echo
    echo "| case | fault switch | command | expected | seconds | outcome |"
    echo "|---|---|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
} | tee "$OUT/summary.md"
failed=$(find "$OUT/bad" -type f -printf '%f ')
[[ -z $failed ]] || die "a reliability script did not do what it claims: ${failed}(logs in $OUT)"
if [[ ${KEEP_RUN:-} == 1 ]]; then log "logs kept: $OUT"; else rm -rf "$OUT"; fi
