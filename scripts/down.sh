#!/usr/bin/env bash
# Stops what scripts/up.sh started, by the pid files in .run/pids (or RUN_DIR), newest first.
#
# Usage: scripts/down.sh [--clean] [--help]
#
#   --clean  also delete .run/data (history, databases) and .run/logs.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

clean=false
case ${1:-} in
    -h | --help) usage_from_header "$0"; exit 0 ;;
    --clean) clean=true ;;
    "") ;;
    *) die "unknown argument: $1 (see --help)" ;;
esac
RUN_DIR=${RUN_DIR:-$ROOT_DIR/.run}
stop_all "$RUN_DIR"
if $clean; then rm -rf "$RUN_DIR/data" "$RUN_DIR/logs" "$RUN_DIR/config"; fi
log "stopped everything under $RUN_DIR/pids"
