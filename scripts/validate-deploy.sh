#!/usr/bin/env bash
# Validates the deployment files without Docker or a cluster; exits non-zero on any failure.
#
# Usage: scripts/validate-deploy.sh [--help] [--no-install] [--write]
#
#   compose      docker-compose.yml with .env: `docker-compose config` (Debian's docker-compose
#                1.29, no engine needed); every bind-mounted file exists; the etl has MongoDB
#                (its leases) and ETL_SHARDS; etl and storage publish no ports (they scale).
#   docker       the files the Dockerfile copies exist; deploy/docker/http-probe is valid bash.
#   kubernetes   every manifest under kubernetes/ against the Kubernetes $K8S_VERSION schemas
#                (kubernetes-validate --strict, offline); the Namespace is applied first; every
#                workload container has resources, probes and a non-root security context; the
#                bash of every container command parses; the generated ConfigMaps are fresh;
#                a PodDisruptionBudget per service, HorizontalPodAutoscalers on existing
#                Deployments with requests (storage at most the topic's partitions), the etl's
#                replicas above ETL_SHARDS, its MONGO_URI and ETL_REPLICA_ID (the pod's name);
#                NodePorts 31000/31001 for the REST APIs and nothing else leaves the cluster.
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
apt_install() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    ((${#missing[@]})) || return 0
    $install || { log "missing apt packages: ${missing[*]} (--no-install)"; return 0; }
    log "apt: installing ${missing[*]}"
    local sudo=() policy=/usr/sbin/policy-rc.d placed=false
    ((EUID == 0)) || sudo=(sudo)
    if [[ ! -e $policy ]]; then
        # Exit 101 = "action not allowed": the packages' services are not started.
        printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
        "${sudo[@]}" chmod +x "$policy"
        placed=true
    fi
    local rc=0
    if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${missing[@]}" >/dev/null; then
        "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 update -q >/dev/null &&
            "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${missing[@]}" >/dev/null || rc=$?
    fi
    if $placed; then "${sudo[@]}" rm -f "$policy"; fi
    return $rc
}

if command -v dpkg-query >/dev/null; then
    apt_install docker-compose prometheus prometheus-alertmanager || log "apt install failed: the checks needing it will fail"
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
trap 'rm -rf "$WORK"' EXIT

# check NAME COMMAND...: runs the command, output to $WORK/NAME.log, shown on failure. The
# command runs in a subshell with errexit (outside any `if`, where bash would ignore it), so a
# check function fails at its first failing command.
check() {
    local name=$1 rc
    shift
    set +e
    (set -e; "$@") >"$WORK/$name.log" 2>&1
    rc=$?
    set -e
    if ((rc == 0)); then
        passed+=("$name")
        printf 'PASS  %s\n' "$name"
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
# http_get URL [FILE]: true when URL answers 200 (body to FILE).
http_get() {
    "$PY" -c 'import sys, urllib.request
body = urllib.request.urlopen(sys.argv[1], timeout=3).read()
if len(sys.argv) > 2: open(sys.argv[2], "wb").write(body)' "$@" 2>/dev/null
}
need() { have "$1" || { echo "$1 not found (run without --no-install)"; return 1; }; }

# ---- generated files -----------------------------------------------------------------------
if $write; then
    "$PY" deploy/tools/make_k8s_configmaps.py
    python3 deploy/tools/make_postman_collection.py
fi

# ---- compose -------------------------------------------------------------------------------
compose_config() {
    need docker-compose
    docker-compose --project-directory "$ROOT_DIR" -f docker-compose.yml config -q
    # Bind mounts (./...) must exist in the repository.
    local bad=0 path
    while read -r path; do
        [[ -e $path ]] || { echo "bind-mounted path missing: $path"; bad=1; }
    done < <(grep -oE '^\s+- \./[^:]+' docker-compose.yml | sed -E 's/^\s+- //')
    ((bad == 0))
    # What the design asks of it: pinned images, health checks on the services, the ports.
    docker-compose --project-directory "$ROOT_DIR" -f docker-compose.yml config >"$WORK/compose.yml"
    "$PY" - "$WORK/compose.yml" <<'PY'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))["services"]
problems = []
for name, svc in c.items():
    image = svc.get("image", "")
    if ":" not in image or image.endswith(":latest"):
        problems.append(f"{name}: image {image!r} is not pinned")
for name in ("etl", "storage", "retrieval", "sla-manager"):
    test = c[name].get("healthcheck", {}).get("test", [])
    if "/readyz" not in " ".join(test):
        problems.append(f"{name}: no health check on /readyz")
    if not c[name].get("depends_on"):
        problems.append(f"{name}: no depends_on")
for name in ("etl", "storage"):
    if c[name]["depends_on"].get("init-topic", {}).get("condition") != "service_completed_successfully":
        problems.append(f"{name}: does not wait for init-topic")
# The etl's leases are in MongoDB; etl and storage scale (`--scale`): no published ports.
env = c["etl"].get("environment", {})
for var in ("MONGO_URI", "MONGO_DB", "ETL_SHARDS"):
    if var not in env:
        problems.append(f"etl: no {var}")
if "mongo" not in c["etl"]["depends_on"]:
    problems.append("etl: does not wait for mongo (its leases)")
for name in ("etl", "storage"):
    if c[name].get("ports"):
        problems.append(f"{name}: publishes ports, so `--scale {name}=N` would clash")
# "HOST_IP:PUBLISHED:TARGET", "PUBLISHED:TARGET" or the long form.
published = {str(p.get("published")) if isinstance(p, dict) else str(p).rsplit(":", 1)[0].split(":")[-1]
             for svc in c.values() for p in svc.get("ports", [])}
for port in ("5000", "5001", "9098", "3000", "9090"):
    if port not in published:
        problems.append(f"port {port} is not published")
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY
}
check compose compose_config

# ---- Dockerfile ----------------------------------------------------------------------------
docker_files() {
    local src bad=0
    while read -r src; do
        [[ $src == --* || $src == . ]] && continue
        [[ -e $src ]] || { echo "Dockerfile copies a missing path: $src"; bad=1; }
    done < <(awk '$1 == "COPY" && $2 !~ /^--from/ { for (i = 2; i < NF; i++) print $i }' Dockerfile)
    bash -n deploy/docker/http-probe
    [[ -x deploy/docker/http-probe ]] || { echo "deploy/docker/http-probe is not executable"; bad=1; }
    for bin in etl storage retrieval sla-manager; do
        grep -q -- "--bin $bin" Dockerfile || { echo "Dockerfile does not build $bin"; bad=1; }
    done
    ((bad == 0))
}
check dockerfile docker_files

# The deployment's shell scripts parse (and pass shellcheck where it is installed).
deploy_scripts() {
    local scripts=(deploy/docker/http-probe deploy/tools/*.sh scripts/validate-deploy.sh) script
    for script in "${scripts[@]}"; do bash -n "$script"; done
    if have shellcheck; then shellcheck -x "${scripts[@]}"; else echo "shellcheck not installed: parsed only"; fi
}
check deploy-scripts deploy_scripts

# ---- Kubernetes ----------------------------------------------------------------------------
k8s_schemas() {
    need "$VALIDATE_VENV/bin/kubernetes-validate"
    local files=()
    mapfile -t files < <(find kubernetes -name '*.yaml' -o -name '*.yml' | LC_ALL=C sort)
    ((${#files[@]})) || { echo "no manifests under kubernetes/"; return 1; }
    "$VALIDATE_VENV/bin/kubernetes-validate" --strict --quiet -k "$K8S_VERSION" "${files[@]}"
}
check kubernetes-schemas k8s_schemas

k8s_policy() {
    "$PY" - <<'PY'
import glob, os, subprocess, sys, yaml

problems = []
files = sorted(glob.glob("kubernetes/**/*.y*ml", recursive=True))
docs = []
for path in files:
    for doc in yaml.safe_load_all(open(path)):
        if doc:
            docs.append((path, doc))

# `kubectl apply -R` goes through the files in name order: the Namespace must come first.
first_path, first = docs[0]
if first["kind"] != "Namespace":
    problems.append(f"{first_path}: the first object applied is a {first['kind']}, not the Namespace")
namespace = first["metadata"]["name"]
for path, doc in docs[1:]:
    ns = doc["metadata"].get("namespace")
    if doc["kind"] != "Namespace" and ns != namespace:
        problems.append(f"{path}: {doc['kind']}/{doc['metadata']['name']} is not in namespace {namespace}")

names = {(d["kind"], d["metadata"]["name"]) for _, d in docs}
for path, doc in docs:
    kind = doc["kind"]
    if kind not in ("Deployment", "StatefulSet", "Job"):
        continue
    what = f"{path}: {kind}/{doc['metadata']['name']}"
    spec = doc["spec"]["template"]["spec"]
    pod_sc = spec.get("securityContext", {})
    if not pod_sc.get("runAsNonRoot"):
        problems.append(f"{what}: pod securityContext.runAsNonRoot is not true")
    for c in spec.get("initContainers", []) + spec["containers"]:
        cw = f"{what} container {c['name']}"
        sc = c.get("securityContext", {})
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{cw}: allowPrivilegeEscalation is not false")
        if "ALL" not in sc.get("capabilities", {}).get("drop", []):
            problems.append(f"{cw}: capabilities are not all dropped")
        if "readOnlyRootFilesystem" not in sc:
            problems.append(f"{cw}: readOnlyRootFilesystem is not decided")
        res = c.get("resources", {})
        if "requests" not in res or "memory" not in res.get("limits", {}):
            problems.append(f"{cw}: resources need requests and a memory limit")
        image = c.get("image", "")
        if ":" not in image or image.endswith(":latest"):
            problems.append(f"{cw}: image {image!r} is not pinned")
        cmd = c.get("command", [])
        if len(cmd) >= 3 and cmd[0] in ("bash", "sh") and cmd[1] == "-c":
            r = subprocess.run(["bash", "-n", "-c", cmd[2]], capture_output=True, text=True)
            if r.returncode:
                problems.append(f"{cw}: its bash does not parse: {r.stderr.strip()}")
    if kind != "Job":
        for c in spec["containers"]:
            for probe in ("readinessProbe", "livenessProbe"):
                if probe not in c:
                    problems.append(f"{what} container {c['name']}: no {probe}")
    # Every ConfigMap and Secret a workload refers to is in the manifests.
    text = yaml.safe_dump(spec)
    for vol in spec.get("volumes", []):
        for key, kind_ref, field in (("configMap", "ConfigMap", "name"), ("secret", "Secret", "secretName"),
                                     ("persistentVolumeClaim", "PersistentVolumeClaim", "claimName")):
            if key in vol and (kind_ref, vol[key][field]) not in names:
                problems.append(f"{what}: volume {vol['name']} refers to a missing {kind_ref} {vol[key][field]}")
    for c in spec.get("initContainers", []) + spec["containers"]:
        for src in c.get("envFrom", []):
            for key, kind_ref in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                if key in src and (kind_ref, src[key]["name"]) not in names:
                    problems.append(f"{what}: envFrom refers to a missing {kind_ref} {src[key]['name']}")
        for env in c.get("env", []):
            ref = env.get("valueFrom", {})
            for key, kind_ref in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                if key in ref:
                    obj = next((d for _, d in docs if d["kind"] == kind_ref and d["metadata"]["name"] == ref[key]["name"]), None)
                    data = {} if obj is None else {**obj.get("data", {}), **obj.get("stringData", {})}
                    if ref[key]["key"] not in data:
                        problems.append(f"{what}: env {env['name']} refers to a missing {kind_ref} key {ref[key]['name']}/{ref[key]['key']}")

# Availability: a PodDisruptionBudget for each service; HorizontalPodAutoscalers that target an
# existing Deployment whose containers request what they scale on; storage no wider than the
# topic's partitions; the etl's replicas and leases.
def selects(selector, labels):
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())
deployments = {d["metadata"]["name"]: d for _, d in docs if d["kind"] == "Deployment"}
pdbs = [d for _, d in docs if d["kind"] == "PodDisruptionBudget"]
config = next((d["data"] for _, d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "sla-monitor-config"), {})
for svc in ("etl", "storage", "retrieval", "sla-manager"):
    dep = deployments.get(svc)
    if dep is None:
        problems.append(f"no Deployment {svc}")
        continue
    labels = dep["spec"]["template"]["metadata"]["labels"]
    if not any(selects(p["spec"]["selector"], labels) for p in pdbs):
        problems.append(f"Deployment {svc}: no PodDisruptionBudget selects its pods")
for p in pdbs:
    spec = p["spec"]
    if ("minAvailable" in spec) == ("maxUnavailable" in spec):
        problems.append(f"PodDisruptionBudget {p['metadata']['name']}: set exactly one of minAvailable, maxUnavailable")
for path, hpa in ((p, d) for p, d in docs if d["kind"] == "HorizontalPodAutoscaler"):
    name, spec = hpa["metadata"]["name"], hpa["spec"]
    ref = spec["scaleTargetRef"]
    dep = deployments.get(ref["name"]) if ref["kind"] == "Deployment" else None
    if dep is None:
        problems.append(f"{path}: HorizontalPodAutoscaler {name} targets a missing {ref['kind']} {ref['name']}")
        continue
    if not spec.get("minReplicas", 1) <= dep["spec"].get("replicas", 1) <= spec["maxReplicas"]:
        problems.append(f"{path}: Deployment {ref['name']} replicas outside HorizontalPodAutoscaler {name}'s range")
    for metric in spec.get("metrics", []):
        resource = metric.get("resource", {}).get("name")
        for c in dep["spec"]["template"]["spec"]["containers"] if resource else []:
            if resource not in c.get("resources", {}).get("requests", {}):
                problems.append(f"{path}: HorizontalPodAutoscaler {name} scales on {resource}, container {c['name']} requests none")
    if ref["name"] == "storage" and spec["maxReplicas"] > int(config.get("KAFKA_TOPIC_PARTITIONS", 0)):
        problems.append(f"{path}: storage may scale beyond the topic's {config.get('KAFKA_TOPIC_PARTITIONS')} partitions (idle consumers)")
etl = deployments.get("etl")
if etl:
    shards = int(config.get("ETL_SHARDS", 1))
    if etl["spec"].get("replicas", 1) <= shards:
        problems.append(f"Deployment etl: {etl['spec'].get('replicas', 1)} replicas for ETL_SHARDS={shards} leave no standby")
    if config.get("ETL_LEADER_ELECTION", "true") != "true":
        problems.append("ConfigMap: ETL_LEADER_ELECTION is not true: replicas would run the same shards")
    env = {e["name"]: e for c in etl["spec"]["template"]["spec"]["containers"] for e in c.get("env", [])}
    if "MONGO_URI" not in env:
        problems.append("Deployment etl: no MONGO_URI (its leases are in MongoDB)")
    if env.get("ETL_REPLICA_ID", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") != "metadata.name":
        problems.append("Deployment etl: ETL_REPLICA_ID is not the pod's name")

# NodePorts of the design.
node_ports = {d["metadata"]["name"]: [p.get("nodePort") for p in d["spec"]["ports"]] for _, d in docs if d["kind"] == "Service"}
for svc, port in (("retrieval", 31000), ("sla-manager", 31001)):
    if port not in node_ports.get(svc, []):
        problems.append(f"Service {svc} does not expose NodePort {port}")
# Only those leave the cluster: gRPC and the admin ports stay inside (a port of a NodePort
# Service without a nodePort gets a random one on every node).
for _, d in docs:
    if d["kind"] == "Service" and d["spec"].get("type") in ("NodePort", "LoadBalancer"):
        for p in d["spec"]["ports"]:
            if p.get("nodePort") not in (31000, 31001):
                problems.append(f"Service {d['metadata']['name']} opens port {p['port']} ({p.get('name')}) on the nodes")

print("\n".join(problems))
sys.exit(1 if problems else 0)
PY
}
check kubernetes-policy k8s_policy
check kubernetes-generated "$PY" deploy/tools/make_k8s_configmaps.py --check

# ---- Prometheus ----------------------------------------------------------------------------
prom_configs() {
    need promtool
    promtool check config deploy/prometheus/prometheus.yml
    promtool check config deploy/prometheus/target-prometheus.yml
    # The Kubernetes variants, with the rule file where the ConfigMap mounts it.
    mkdir -p "$WORK/k8s-prom"
    "$PY" - "$WORK/k8s-prom" <<'PY'
import sys, yaml
out = sys.argv[1]
for path, name, key in (("kubernetes/61-prometheus.yaml", "prometheus-config", "prometheus.yml"),
                        ("kubernetes/40-target-prometheus.yaml", "target-prometheus-config", "prometheus.yml")):
    for doc in yaml.safe_load_all(open(path)):
        if doc and doc["kind"] == "ConfigMap" and doc["metadata"]["name"] == name:
            text = doc["data"][key].replace("/etc/prometheus/rules/rules.yml", out + "/rules.yml")
            open(f"{out}/{name}.yml", "w").write(text)
PY
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
grafana_files() {
    "$PY" - <<'PY'
import glob, json, sys, yaml
problems = []
ds = yaml.safe_load(open("deploy/grafana/provisioning/datasources/prometheus.yml"))
uids = {d["uid"] for d in ds["datasources"]}
prov = yaml.safe_load(open("deploy/grafana/provisioning/dashboards/dashboards.yml"))
if not prov.get("providers"):
    problems.append("dashboards.yml: no provider")
seen_uids = set()
files = sorted(glob.glob("deploy/grafana/dashboards/*.json"))
if len(files) < 2:
    problems.append("expected the ETL pipeline and the SLA dashboards")
for path in files:
    try:
        d = json.load(open(path))
    except ValueError as e:
        problems.append(f"{path}: not JSON: {e}")
        continue
    for key in ("uid", "title", "panels", "schemaVersion", "templating", "time"):
        if key not in d:
            problems.append(f"{path}: no {key}")
    if d.get("uid") in seen_uids:
        problems.append(f"{path}: uid {d.get('uid')} used twice")
    seen_uids.add(d.get("uid"))
    ids = [p["id"] for p in d.get("panels", [])]
    if len(ids) != len(set(ids)):
        problems.append(f"{path}: panel ids are not unique")
    for p in d.get("panels", []):
        if p["type"] == "row":
            continue
        for key in ("title", "gridPos", "targets", "datasource"):
            if key not in p:
                problems.append(f"{path}: panel {p.get('id')} has no {key}")
        if p.get("datasource", {}).get("uid") not in uids:
            problems.append(f"{path}: panel {p.get('title')} uses datasource {p.get('datasource')}, not a provisioned one")
        if not p.get("targets"):
            problems.append(f"{path}: panel {p.get('title')} has no query")
        for t in p.get("targets", []):
            if not t.get("expr"):
                problems.append(f"{path}: panel {p.get('title')} has a target without expr")
    for v in d.get("templating", {}).get("list", []):
        if v.get("type") == "query" and v.get("datasource", {}).get("uid") not in uids:
            problems.append(f"{path}: variable {v.get('name')} uses a datasource that is not provisioned")
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY
}
check grafana-files grafana_files

# Every PromQL expression of the dashboards parses: a throwaway Prometheus answers them.
dashboard_queries() {
    need prometheus
    local port data pid rc=0
    port=$(free_port)
    data="$WORK/prom-data"
    mkdir -p "$data"
    printf 'global:\n  scrape_interval: 1h\n' >"$WORK/prom.yml"
    prometheus --config.file="$WORK/prom.yml" --storage.tsdb.path="$data" \
        --web.listen-address="127.0.0.1:$port" >"$WORK/prometheus.log" 2>&1 &
    pid=$!
    local deadline=$((SECONDS + 30))
    until http_get "http://127.0.0.1:$port/-/ready"; do
        kill -0 "$pid" 2>/dev/null || { cat "$WORK/prometheus.log"; return 1; }
        ((SECONDS < deadline)) || { echo "throwaway Prometheus not ready"; kill "$pid"; return 1; }
        sleep 0.2
    done
    "$PY" - "$port" <<'PY' || rc=$?
import glob, json, sys, urllib.error, urllib.parse, urllib.request
port = sys.argv[1]
bad = 0
n = 0
for path in sorted(glob.glob("deploy/grafana/dashboards/*.json")):
    d = json.load(open(path))
    for p in d["panels"]:
        for t in p.get("targets", []):
            expr = t["expr"].replace("$__rate_interval", "5m").replace("$__interval", "1m")
            expr = expr.replace("$top", "10").replace("$metric_name", ".*")
            n += 1
            url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
            try:
                urllib.request.urlopen(url, timeout=10).read()
            except urllib.error.HTTPError as e:
                bad += 1
                print(f"{path}: panel {p['title']!r}: {e.read().decode()[:300]}")
print(f"{n} expressions, {bad} rejected")
sys.exit(1 if bad or n == 0 else 0)
PY
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    return $rc
}
check grafana-queries dashboard_queries

# ---- metric names --------------------------------------------------------------------------
# Every etl_/storage_/retrieval_/sla_/http_ metric used by the rules and dashboards is defined
# (as a string literal) in the services' sources.
metric_names() {
    "$PY" - <<'PY'
import glob, json, re, sys
used = {}
sources = ["deploy/prometheus/rules.yml"] + sorted(glob.glob("deploy/grafana/dashboards/*.json"))
pattern = re.compile(r"\b((?:etl|storage|retrieval|sla|http)_[a-zA-Z0-9_]+)")
for path in sources:
    for name in pattern.findall(open(path).read()):
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        used.setdefault(base, set()).add(path)
defined = set()
for path in glob.glob("crates/*/src/**/*.rs", recursive=True):
    defined.update(re.findall(r'"((?:etl|storage|retrieval|sla|http)_[a-zA-Z0-9_]+)"', open(path).read()))
missing = {n: p for n, p in used.items() if n not in defined}
for name, paths in sorted(missing.items()):
    print(f"{name}: used in {', '.join(sorted(paths))}, defined in no crates/*/src file")
print(f"{len(used)} metric names used, {len(missing)} undefined")
sys.exit(1 if missing else 0)
PY
}
check metric-names metric_names

# ---- Postman -------------------------------------------------------------------------------
postman() {
    "$PY" - "$WORK" <<'PY'
import json, os, subprocess, sys
work = sys.argv[1]
problems = []
c = json.load(open("postman_collection.json"))
if c["info"]["schema"] != "https://schema.getpostman.com/json/collection/v2.1.0/collection.json":
    problems.append("not a v2.1 collection")
variables = {v["key"] for v in c.get("variable", [])}
for v in ("retrieval_url", "sla_manager_url", "token", "id"):
    if v not in variables:
        problems.append(f"no variable {v}")
if c.get("auth", {}).get("type") != "bearer":
    problems.append("the collection does not send the token as a bearer token")
requests = []
def walk(items):
    for it in items:
        if "item" in it:
            walk(it["item"])
        else:
            requests.append(it)
walk(c["item"])
covered = set()
scripts = 0
for it in requests:
    r = it["request"]
    raw = r["url"]["raw"]
    base, _, rest = raw.partition("}}")
    path = "/" + rest.lstrip("/").split("?")[0]
    for seg_from, seg_to in (("{{id}}", "{id}"),):
        path = path.replace(seg_from, seg_to)
    host = base.strip("{")
    if host not in ("retrieval_url", "sla_manager_url"):
        problems.append(f"{it['name']}: host {host!r} is not a variable")
    covered.add((host, r["method"], path, "name=" in raw))
    tests = [e for e in it.get("event", []) if e["listen"] == "test"]
    if not tests:
        problems.append(f"{it['name']}: no tests")
    if not it.get("response"):
        problems.append(f"{it['name']}: no example response")
    for e in it.get("event", []):
        src = "\n".join(e["script"]["exec"])
        if e["listen"] == "test" and "pm.response" not in src:
            problems.append(f"{it['name']}: tests do not look at the response")
        scripts += 1
        path_js = os.path.join(work, f"script{scripts}.js")
        open(path_js, "w").write(src)
required = [
    ("retrieval_url", "GET", "/metrics", False), ("retrieval_url", "GET", "/metrics", True),
    ("retrieval_url", "GET", "/metrics/{id}/metadata", False), ("retrieval_url", "GET", "/metrics/{id}/values", False),
    ("retrieval_url", "GET", "/metrics/{id}/prediction", False), ("retrieval_url", "GET", "/metrics/{id}/aggregate", False),
    ("retrieval_url", "GET", "/openapi.json", False),
    ("sla_manager_url", "GET", "/slaset", False), ("sla_manager_url", "PUT", "/slaset", False),
    ("sla_manager_url", "GET", "/status", False), ("sla_manager_url", "GET", "/violations", False),
    ("sla_manager_url", "GET", "/future-violations", False), ("sla_manager_url", "GET", "/openapi.json", False),
]
for req in required:
    if req not in covered:
        problems.append(f"no request for {req[1]} {req[0]}{req[2]}" + ("?name=" if req[3] else ""))
open(os.path.join(work, "scripts.count"), "w").write(str(scripts))
print(f"{len(requests)} requests, {scripts} scripts")
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY
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
sla_set() {
    local size
    size=$(sed -n 's/^SLA_SET_SIZE=//p' .env | tail -1)
    "$PY" - "${size:-5}" <<'PY'
import json, sys
size = int(sys.argv[1])
problems = []
s = json.load(open("sla_set.json"))
if not isinstance(s, list) or len(s) != size:
    problems.append(f"expected a list of {size} SLAs (SLA_SET_SIZE)")
names = set()
for i, sla in enumerate(s, 1):
    if set(sla) != {"name", "range", "for"}:
        problems.append(f"SLA {i}: keys are {sorted(sla)}, expected name, range, for")
        continue
    n = sla["name"]
    if not n.get("__name__") or n.get("job") != "node" or n.get("instance") != "node-exporter:9100":
        problems.append(f"SLA {i}: not a series of the compose node-exporter: {n}")
    key = json.dumps(n, sort_keys=True)
    if key in names:
        problems.append(f"SLA {i}: series listed twice")
    names.add(key)
    r = sla["range"]
    if not all(isinstance(r.get(k), (int, float)) for k in ("min", "max")) or r["min"] > r["max"]:
        problems.append(f"SLA {i}: range {r} is not min <= max")
    if not isinstance(sla["for"], int) or sla["for"] <= 0:
        problems.append(f"SLA {i}: for {sla['for']!r} is not a positive number of minutes")
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY
}
check sla-set sla_set

# The series names exist in a real node-exporter with no labels beyond instance and job.
sla_set_series() {
    local port pid rc=0
    port=$(free_port)
    prometheus-node-exporter --web.listen-address="127.0.0.1:$port" >"$WORK/node-exporter.log" 2>&1 &
    pid=$!
    local deadline=$((SECONDS + 20))
    until http_get "http://127.0.0.1:$port/metrics" "$WORK/node.prom"; do
        kill -0 "$pid" 2>/dev/null || { cat "$WORK/node-exporter.log"; return 1; }
        ((SECONDS < deadline)) || { echo "node-exporter did not answer"; kill "$pid"; return 1; }
        sleep 0.2
    done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    "$PY" - "$WORK/node.prom" <<'PY' || rc=$?
import json, sys
exposed = {line.split(" ")[0] for line in open(sys.argv[1]) if line and not line.startswith("#")}
missing = [sla["name"]["__name__"] for sla in json.load(open("sla_set.json")) if sla["name"]["__name__"] not in exposed]
print("series missing from node-exporter: " + ", ".join(missing) if missing else f"{len(exposed)} series exposed, all SLA series among them")
sys.exit(1 if missing else 0)
PY
    return $rc
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
