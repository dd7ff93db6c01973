#!/usr/bin/env bash
# Refreshes the vendored RustSec advisory snapshot (audit/advisory-db.tar.gz, the `crates/`
# folder of github.com/rustsec/advisory-db) on a machine that reaches GitHub; the CI machines
# do not, so scripts/audit.sh checks Cargo.lock against this snapshot offline.
#
# Usage: audit/refresh.sh [--help]
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
if [[ ${1:-} == -h || ${1:-} == --help ]]; then usage_from_header "$0"; exit 0; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q --depth 1 https://github.com/rustsec/advisory-db "$work/db"
tar -czf "$ROOT_DIR/audit/advisory-db.tar.gz" -C "$work/db" crates
echo "rustsec/advisory-db $(git -C "$work/db" log -1 --format='%H %cs') (crates/ only)" >"$ROOT_DIR/audit/SNAPSHOT"
log "snapshot: $(cat "$ROOT_DIR/audit/SNAPSHOT")"
