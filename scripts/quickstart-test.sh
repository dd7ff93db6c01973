#!/usr/bin/env bash
# Runs the README's quick start verbatim on a fresh clone, then the browser check of the web UI.
#
# Usage: scripts/quickstart-test.sh [--help]
#
# 1. `git clone` of this repository (its committed HEAD) into a temporary directory;
# 2. the lines of the README's block between `<!-- quickstart -->` and `<!-- /quickstart -->`,
#    run one by one in the clone, each of which must succeed. Two things differ from a user's
#    run, both by environment only: every port is picked free (and the URLs of the block are
#    rewritten to those ports), and the clone shares this checkout's CARGO_TARGET_DIR and
#    VENV_DIR (so nothing is built or installed cold), runs the debug binaries
#    (SERVICES_PROFILE=dev), one day of history and a 20 s fast loop;
# 3. before the block's last line (scripts/down.sh): waits until the first SLA has a stored
#    forecast, checks that `/` answers the overview, then runs deploy/tools/browser_check.py
#    (headless Chromium; WITH_BROWSER=1 scripts/deps.sh installs it) against the clone's stack,
#    unless SKIP_BROWSER=1, with the series page of synthetic_seasonal too (its autocorrelation
#    must be drawn). SCREENSHOTS_DIR=docs/screenshots saves its screenshots there.
# Everything it started is stopped whatever happens; KEEP_QUICKSTART_RUN=1 keeps the clone.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ ${1:-} == -h || ${1:-} == --help ]]; then usage_from_header "$0"; exit 0; fi
(($# == 0)) || die "unexpected arguments: $* (see --help)"

work=$(mktemp -d "${TMPDIR:-/tmp}/sla-quickstart.XXXXXX")
clone=$work/repo
export RUN_DIR=$work/run
step="cloning"
cleanup() {
    local rc=$?
    if [[ -x $clone/scripts/down.sh ]]; then "$clone/scripts/down.sh" >/dev/null 2>&1 || true; fi
    if [[ $rc != 0 ]]; then
        tail -n 20 "$RUN_DIR"/logs/*.log >&2 2>/dev/null || true
        log "quick start FAILED (exit $rc) while $step; kept $work"
    elif [[ ${KEEP_QUICKSTART_RUN:-} == 1 ]]; then
        log "quick start run kept: $work"
    else
        rm -rf "$work"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

git clone --quiet "$ROOT_DIR" "$clone"
# shellcheck disable=SC2016 # the backticks are Markdown's, not an expansion
block=$(sed -n '/^<!-- quickstart -->$/,/^<!-- \/quickstart -->$/p' "$clone/README.md" |
    sed -n '/^```sh$/,/^```$/p' | sed '1d;$d' | sed 's/[[:space:]]*#.*$//' | sed '/^$/d')
[[ -n $block ]] || die "README.md has no quickstart block (<!-- quickstart --> ... <!-- /quickstart -->)"
mapfile -t lines <<<"$block"
[[ ${lines[0]} == scripts/up.sh && ${lines[-1]} == scripts/down.sh ]] ||
    die "the quickstart block must start with scripts/up.sh and end with scripts/down.sh: ${lines[*]}"

for var in TARGET_PROMETHEUS_PORT NODE_EXPORTER_PORT INTERNAL_PROMETHEUS_PORT KAFKA_PORT MONGO_PORT \
    RETRIEVAL_PORT SLA_MANAGER_PORT SLA_GRPC_PORT ETL_ADMIN_PORT STORAGE_ADMIN_PORT \
    RETRIEVAL_ADMIN_PORT SLA_MANAGER_ADMIN_PORT; do
    export "$var=$(free_port)"
done
export SLA_MANAGER_GRPC="http://127.0.0.1:$SLA_GRPC_PORT"
export CARGO_TARGET_DIR VENV_DIR SERVICES_PROFILE=${SERVICES_PROFILE:-dev} HISTORY_DAYS=1
export ETL_FAST_LOOP_SECS=20 ETL_SLOW_LOOP_SECS=60
export ETL_SERIES_SELECTOR='{__name__=~"node_load1|node_load5|node_memory_MemAvailable_bytes|node_procs_running|node_procs_blocked|synthetic_.+"}'

cd "$clone"
run_line() {
    local line=$1
    line=${line//localhost:5001/127.0.0.1:$SLA_MANAGER_PORT}
    line=${line//127.0.0.1:5001/127.0.0.1:$SLA_MANAGER_PORT}
    line=${line//localhost:5000/127.0.0.1:$RETRIEVAL_PORT}
    line=${line//127.0.0.1:5000/127.0.0.1:$RETRIEVAL_PORT}
    step="running \`$line\`"
    log "quick start: $line"
    bash -euo pipefail -c "$line" >"$work/out" 2>&1 || { cat "$work/out" >&2; exit 1; }
    tail -n 12 "$work/out" >&2
}
for ((i = 0; i < ${#lines[@]} - 1; i++)); do run_line "${lines[i]}"; done

sla="http://127.0.0.1:$SLA_MANAGER_PORT"
step="waiting for the first SLA's forecast"
id=$(curl -fsS "$sla/slaset" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
deadline=$((SECONDS + 600))
until [[ $(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$RETRIEVAL_PORT/metrics/$id/prediction") == 200 &&
    $(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$RETRIEVAL_PORT/metrics/$id/metadata") == 200 ]]; do
    ((SECONDS < deadline)) || die "no forecast and metadata for $id after 600 s"
    sleep 5
done
step="checking the web UI's overview"
curl -fsS "$sla/" | grep -q 'id="overview"' || die "$sla/ has no overview table"
if [[ ${SKIP_BROWSER:-} != 1 ]]; then
    step="installing chromium (WITH_BROWSER=1 scripts/deps.sh)"
    WITH_BROWSER=1 "$ROOT_DIR/scripts/deps.sh"
    step="checking every page in headless Chromium (deploy/tools/browser_check.py)"
    # A synthetic series has a day of history, hence an autocorrelation beyond lag 0.
    seasonal=$(curl -fsS "http://127.0.0.1:$RETRIEVAL_PORT/metrics?name=synthetic_seasonal" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
    deadline=$((SECONDS + 300))
    until curl -fsS -o /dev/null "http://127.0.0.1:$RETRIEVAL_PORT/metrics/$seasonal/metadata" 2>/dev/null; do
        ((SECONDS < deadline)) || die "no metadata for synthetic_seasonal ($seasonal) after 300 s"
        sleep 5
    done
    python3 "$ROOT_DIR/deploy/tools/browser_check.py" "$sla" --series-with-acf "$seasonal" \
        ${SCREENSHOTS_DIR:+--screenshots "$SCREENSHOTS_DIR"}
fi
run_line "${lines[-1]}"
log "quick start passed on a fresh clone"
