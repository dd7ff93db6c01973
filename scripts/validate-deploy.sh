#!/usr/bin/env bash
# Validates the deployment files without Docker or a cluster; exits non-zero on any failure.
#
# Usage: scripts/validate-deploy.sh [--help] [--no-install] [--write]
#
#   compose      docker-compose.yml with .env: `docker-compose config` (Debian's docker-compose
#                1.29, no engine needed); every bind-mounted file exists; the etl has MongoDB
#                (its leases) and ETL_SHARDS; etl and storage publish no ports (they scale).
#   docker       the files the Dockerfile copies exist; deploy/docker/http-probe, deploy/tools/*.sh
#                and scripts/*.sh parse and pass shellcheck (when installed).
#   tools        the Python of deploy/tools compiles, passes pyflakes (when installed) and its
#                unit tests (deploy/tools/run_tests.py: every check below that reads files, on
#                the repository's files and on broken copies of them).
#   kubernetes   every manifest under kubernetes/ against the Kubernetes $K8S_VERSION schemas
#                (kubernetes-validate --strict, offline); the Namespace is applied first; every
#                workload container has resources, probes and a non-root security context; the
#                bash of every container command parses; the generated ConfigMaps are fresh;
#                a PodDisruptionBudget per service, HorizontalPodAutoscalers on existing
#                Deployments with requests (storage at most the topic's partitions), the etl's
#                replicas above ETL_SHARDS, its MONGO_URI and ETL_REPLICA_ID (the pod's name);
#                NodePorts 31000/31001 for the REST APIs and nothing else leaves the cluster;
#                NetworkPolicies: a default deny, every pod selected, every Service port
#                reachable from exactly the pods of the intended table (network_policies.py).
#   mongo users  each service's MONGO_URI (compose and Kubernetes) names its own user of
#                deploy/mongo/roles.json with the password the init script sets, never root;
#                the init scripts create every user; their ConfigMap is fresh.
#   prometheus   promtool check config (compose and Kubernetes configs), check rules, test rules
#                (deploy/prometheus/rules.test.yml).
#   alertmanager amtool check-config (Debian prometheus-alertmanager; skipped without it).
#   grafana      provisioning YAML; dashboards: JSON, required keys, unique panel ids, the
#                provisioned datasource uid, and every PromQL expression parses (a throwaway
#                Prometheus on a free loopback port answers them).
#   metric names every metric the rules and dashboards use is defined in crates/*/src.
#   postman      postman_collection.json: v2.1, every REST endpoint, tests on every request,
#                the variables, scripts that parse (node --check), fresh from its generator.
#   sla_set      sla_set.json: SLA_SET_SIZE SLAs of the compose node-exporter series, valid ranges;
#                the series exist in a node-exporter run on a free port (when installed).
#
# The checks that read files are Python modules in deploy/tools/validate (their docstrings say
# what each checks); this script installs the tools, starts the throwaway processes and calls them.
#
# Installs what it needs when missing (idempotent): apt docker-compose prometheus
# prometheus-alertmanager; a venv at $VALIDATE_VENV (default .cache/validate-venv) with
# kubernetes-validate and PyYAML, pinned below. --no-install only uses what is there (missing
# tools are then failures, except amtool and node, which are skipped).
# --write regenerates the generated files (kubernetes/60-monitoring-config.generated.yaml,
# postman_collection.json) before validating.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KUBERNETES_VALIDATE_VERSION=1.37.0
PYYAML_VERSION=6.0.3
K8S_VERSION=${K8S_VERSION:-1.30.0}
VALIDATE_VENV=${VALIDATE_VENV:-$ROOT_DIR/.cache/validate-venv}

install=true
write=false
for arg in "$@"; do
    case $arg in
    -h | --help) usage_from_header "$0"; exit 0 ;;
    --no-install) install=false ;;
    --write) write=true ;;
    *) die "unexpected argument: $arg (see --help)" ;;
    esac
done
cd "$ROOT_DIR"

# ---- tools ---------------------------------------------------------------------------------
if command -v dpkg-query >/dev/null; then
    mapfile -t missing < <(apt_missing docker-compose prometheus prometheus-alertmanager)
    if ((${#missing[@]})) && ! $install; then
        log "missing apt packages: ${missing[*]} (--no-install)"
    elif ! apt_install "${missing[@]}"; then
        log "apt install failed: the checks needing it will fail"
    fi
fi
PY=$VALIDATE_VENV/bin/python
if [[ ! -x $VALIDATE_VENV/bin/kubernetes-validate ]] ||
    ! "$PY" -c "import yaml, kubernetes_validate, importlib.metadata as m; assert m.version('kubernetes-validate') == '$KUBERNETES_VALIDATE_VERSION'" 2>/dev/null; then
    if $install; then
        log "venv $VALIDATE_VENV: installing kubernetes-validate==$KUBERNETES_VALIDATE_VERSION PyYAML==$PYYAML_VERSION"
        python3 -m venv "$VALIDATE_VENV"
        "$VALIDATE_VENV/bin/pip" install -q --disable-pip-version-check \
            "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" "PyYAML==$PYYAML_VERSION"
    fi
fi

# ---- bookkeeping ---------------------------------------------------------------------------
passed=() failed=() skipped=()
WORK=$(mktemp -d)
# The throwaway processes (a Prometheus, a node-exporter) run with their logs under $WORK/run.
trap 'stop_all "$WORK/run"; rm -rf "$WORK"' EXIT
# Python's bytecode goes there too, not into deploy/tools.
export PYTHONPYCACHEPREFIX=$WORK/pycache

# check NAME COMMAND...: runs the command, output to $WORK/NAME.log, shown on failure. The
# command runs in a subshell with errexit (outside any `if`, where bash would ignore it), so a
# check function fails at its first failing command.
check() {
    local name=$1 rc summary
    shift
    set +e
    (set -e; "$@") >"$WORK/$name.log" 2>&1
    rc=$?
    set -e
    if ((rc == 0)); then
        passed+=("$name")
        # A test run's count ("N passed, M failed") is worth a glance.
        summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$WORK/$name.log" | tail -n 1 || true)
        printf 'PASS  %s%s\n' "$name" "${summary:+ ($summary)}"
    else
        failed+=("$name")
        printf 'FAIL  %s\n' "$name"
        sed 's/^/      /' "$WORK/$name.log" | tail -40
    fi
}
skip() {
    skipped+=("$1: $2")
    printf 'SKIP  %s (%s)\n' "$1" "$2"
}
have() { command -v "$1" >/dev/null 2>&1; }
# validate MODULE ARGS...: one of the checks of deploy/tools/validate (its docstring says what).
validate() { PYTHONPATH="$ROOT_DIR/deploy/tools" "$PY" -m "validate.$1" "${@:2}"; }
need() { have "$1" || { echo "$1 not found (run without --no-install)"; return 1; }; }

# ---- generated files -----------------------------------------------------------------------
if $write; then
    "$PY" deploy/tools/make_k8s_configmaps.py
    python3 deploy/tools/make_postman_collection.py
fi

# ---- compose -------------------------------------------------------------------------------
compose_config() {
    need docker-compose
    docker-compose --project-directory "$ROOT_DIR" -f docker-compose.yml config >"$WORK/compose.yml"
    validate compose "$WORK/compose.yml"
}
check compose compose_config
# Each service's own MongoDB user (deploy/mongo/roles.json), never root, in compose and
# Kubernetes; the init scripts create them; the generated ConfigMap is fresh.
mongo_users() {
    [[ -f $WORK/compose.yml ]] || { echo "no resolved compose file (the compose check failed)"; return 1; }
    validate mongo_users "$WORK/compose.yml" kubernetes
}
check mongo-users mongo_users

# ---- Dockerfile ----------------------------------------------------------------------------
docker_files() {
    bash -n deploy/docker/http-probe
    validate dockerfile
}
check dockerfile docker_files

# The deployment's and the repository's shell scripts parse (and pass shellcheck where it is
# installed: scripts/deps.sh installs it).
deploy_scripts() {
    local scripts=(deploy/docker/http-probe deploy/tools/*.sh scripts/*.sh) script
    for script in "${scripts[@]}"; do bash -n "$script"; done
    if have shellcheck; then shellcheck -x "${scripts[@]}"; else echo "shellcheck not installed: parsed only"; fi
}
check deploy-scripts deploy_scripts

# The Python of deploy/tools (the generators and these checks, deploy/tools/validate) compiles,
# passes pyflakes (installed by scripts/deps.sh) and its tests (deploy/tools/tests).
deploy_tools() {
    local files=()
    mapfile -t files < <(find deploy/tools -name '*.py' | LC_ALL=C sort)
    "$PY" -m py_compile "${files[@]}"
    if [[ -x $VENV_DIR/bin/pyflakes ]]; then
        "$VENV_DIR/bin/pyflakes" "${files[@]}"
    else
        echo "pyflakes not installed in $VENV_DIR (scripts/deps.sh): compiled only"
    fi
    "$PY" deploy/tools/run_tests.py
}
check deploy-tools deploy_tools

# ---- Kubernetes ----------------------------------------------------------------------------
k8s_schemas() {
    need "$VALIDATE_VENV/bin/kubernetes-validate"
    local files=()
    mapfile -t files < <(find kubernetes -name '*.yaml' -o -name '*.yml' | LC_ALL=C sort)
    ((${#files[@]})) || { echo "no manifests under kubernetes/"; return 1; }
    "$VALIDATE_VENV/bin/kubernetes-validate" --strict --quiet -k "$K8S_VERSION" "${files[@]}"
}
check kubernetes-schemas k8s_schemas

check kubernetes-policy validate kubernetes kubernetes
check kubernetes-network-policies validate network_policies kubernetes
check kubernetes-generated "$PY" deploy/tools/make_k8s_configmaps.py --check

# ---- Prometheus ----------------------------------------------------------------------------
prom_configs() {
    need promtool
    promtool check config deploy/prometheus/prometheus.yml
    promtool check config deploy/prometheus/target-prometheus.yml
    # The Kubernetes variants, with the rule file where the ConfigMap mounts it.
    mkdir -p "$WORK/k8s-prom"
    validate prometheus_configs "$WORK/k8s-prom"
    cp deploy/prometheus/rules.yml "$WORK/k8s-prom/rules.yml"
    promtool check config "$WORK/k8s-prom/prometheus-config.yml"
    promtool check config "$WORK/k8s-prom/target-prometheus-config.yml"
}
check prometheus-config prom_configs
check prometheus-rules promtool check rules deploy/prometheus/rules.yml
check prometheus-rule-tests bash -c 'cd deploy/prometheus && promtool test rules rules.test.yml'

# ---- Alertmanager --------------------------------------------------------------------------
if have amtool; then
    check alertmanager amtool check-config deploy/alertmanager/alertmanager.yml
else
    skip alertmanager "amtool not installed (apt prometheus-alertmanager)"
fi

# ---- Grafana -------------------------------------------------------------------------------
check grafana-files validate grafana

# Every PromQL expression of the dashboards parses: a throwaway Prometheus answers them.
dashboard_queries() {
    need prometheus
    local port rc=0
    port=$(free_port)
    printf 'global:\n  scrape_interval: 1h\n' >"$WORK/prom.yml"
    start_prometheus "$WORK/run" prometheus "$port" "$WORK/prom.yml" "$WORK/prom-data"
    validate dashboard_queries "$port" || rc=$?
    stop_bg "$WORK/run" prometheus
    return $rc
}
check grafana-queries dashboard_queries

# ---- metric names --------------------------------------------------------------------------
# Every etl_/storage_/retrieval_/sla_/http_ metric used by the rules and dashboards is defined
# (as a string literal) in the services' sources.
check metric-names validate metric_names

# ---- Postman -------------------------------------------------------------------------------
postman() {
    validate postman "$WORK"
    if have node; then
        local js
        for js in "$WORK"/script*.js; do
            node --check "$js" || { echo "a Postman script does not parse: $(head -3 "$js")"; return 1; }
        done
    else
        echo "node not installed: scripts not parsed"
    fi
    python3 deploy/tools/make_postman_collection.py --check
}
check postman postman

# ---- sla_set.json --------------------------------------------------------------------------
check sla-set validate sla_set shape

# The series names exist in a real node-exporter with no labels beyond instance and job.
sla_set_series() {
    local port
    port=$(free_port)
    start_node_exporter "$WORK/run" node-exporter "$port"
    curl -fsS --max-time 10 -o "$WORK/node.prom" "http://127.0.0.1:$port/metrics"
    stop_bg "$WORK/run" node-exporter
    validate sla_set series "$WORK/node.prom"
}
if have prometheus-node-exporter; then
    check sla-set-series sla_set_series
else
    skip sla-set-series "prometheus-node-exporter not installed"
fi

# ---- summary -------------------------------------------------------------------------------
echo
for item in "${skipped[@]}"; do echo "skipped: $item"; done
for item in "${failed[@]}"; do echo "failed: $item"; done
echo "validate-deploy: ${#passed[@]} passed, ${#failed[@]} failed, ${#skipped[@]} skipped"
((${#failed[@]} == 0))
