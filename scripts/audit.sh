#!/usr/bin/env bash
# Checks Cargo.lock against the RustSec advisories with cargo-audit (installed by
# scripts/deps.sh), offline: against the snapshot vendored in audit/advisory-db.tar.gz (its date
# in audit/SNAPSHOT; audit/refresh.sh renews it where GitHub is reachable). Fails on any
# advisory not ignored in .cargo/audit.toml (none is; an ignore there must say why it does not
# reach us).
#
# Usage: scripts/audit.sh [--help]
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
no_arguments_but_help "$@"
cd "$ROOT_DIR"
audit=$VENV_DIR/bin/cargo-audit
[[ -x $audit ]] || die "cargo-audit not found in $VENV_DIR (run scripts/deps.sh)"
db=$(mktemp -d)
trap 'rm -rf "$db"' EXIT
tar -xzf audit/advisory-db.tar.gz -C "$db"
log "cargo audit against $(cat audit/SNAPSHOT)"
"$audit" audit --db "$db" --no-fetch --deny warnings
