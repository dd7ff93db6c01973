"""The Kubernetes policy check: what the design asks of the manifests under kubernetes/ beyond
their schemas (kubernetes-validate checks those).

- order: `kubectl apply -R` goes through the files in name order, so the Namespace comes first,
  and every other object is in it;
- workloads: non-root pods, containers without privilege escalation or capabilities, a decided
  read-only root file system, requests and a memory limit, pinned images, `bash -c` commands
  that parse, readiness and liveness probes (but on Jobs);
- references: every ConfigMap, Secret, key and claim a workload refers to is in the manifests;
- availability: a PodDisruptionBudget for each service, HorizontalPodAutoscalers on existing
  Deployments whose containers request what they scale on, storage no wider than the topic's
  partitions, the etl's standby replica, leader election and leases;
- exposure: NodePorts 31000/31001 for the REST APIs, and nothing else leaves the cluster.

Usage: python -m validate.kubernetes [DIR]   (default kubernetes)
"""
import glob
import os
import subprocess

from validate import is_pinned, load_yaml_docs, report, run

SERVICES = ("etl", "storage", "retrieval", "sla-manager")
NODE_PORTS = (("retrieval", 31000), ("sla-manager", 31001))
CONFIG = "sla-monitor-config"


def load(root):
    """(path, document) of every manifest below root, the files in name order."""
    files = sorted(glob.glob(os.path.join(root, "**", "*.y*ml"), recursive=True))
    return [(path, doc) for path in files for doc in load_yaml_docs(path)]


def bash_parses(script):
    """None when the bash script parses, else bash's complaint."""
    r = subprocess.run(["bash", "-n", "-c", script], capture_output=True, text=True)
    return r.stderr.strip() if r.returncode else None


def check_order(docs):
    problems = []
    first_path, first = docs[0]
    if first["kind"] != "Namespace":
        problems.append(f"{first_path}: the first object applied is a {first['kind']}, not the Namespace")
    namespace = first["metadata"]["name"]
    for path, doc in docs[1:]:
        ns = doc["metadata"].get("namespace")
        if doc["kind"] != "Namespace" and ns != namespace:
            problems.append(f"{path}: {doc['kind']}/{doc['metadata']['name']} is not in namespace {namespace}")
    return problems


def workloads(docs):
    """(path, document, what, pod spec) of the Deployments, StatefulSets and Jobs."""
    for path, doc in docs:
        if doc["kind"] in ("Deployment", "StatefulSet", "Job"):
            what = f"{path}: {doc['kind']}/{doc['metadata']['name']}"
            yield path, doc, what, doc["spec"]["template"]["spec"]


def check_container(cw, c):
    problems = []
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
    if not is_pinned(image):
        problems.append(f"{cw}: image {image!r} is not pinned")
    cmd = c.get("command", [])
    if len(cmd) >= 3 and cmd[0] in ("bash", "sh") and cmd[1] == "-c":
        complaint = bash_parses(cmd[2])
        if complaint is not None:
            problems.append(f"{cw}: its bash does not parse: {complaint}")
    return problems


def check_workloads(docs):
    problems = []
    for _, doc, what, spec in workloads(docs):
        if not spec.get("securityContext", {}).get("runAsNonRoot"):
            problems.append(f"{what}: pod securityContext.runAsNonRoot is not true")
        for c in spec.get("initContainers", []) + spec["containers"]:
            problems += check_container(f"{what} container {c['name']}", c)
        if doc["kind"] != "Job":
            for c in spec["containers"]:
                for probe in ("readinessProbe", "livenessProbe"):
                    if probe not in c:
                        problems.append(f"{what} container {c['name']}: no {probe}")
    return problems


def check_references(docs):
    problems = []
    names = {(d["kind"], d["metadata"]["name"]) for _, d in docs}
    for _, _, what, spec in workloads(docs):
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
                    if key not in ref:
                        continue
                    obj = next((d for _, d in docs
                                if d["kind"] == kind_ref and d["metadata"]["name"] == ref[key]["name"]), None)
                    data = {} if obj is None else {**obj.get("data", {}), **obj.get("stringData", {})}
                    if ref[key]["key"] not in data:
                        problems.append(f"{what}: env {env['name']} refers to a missing {kind_ref} key "
                                        f"{ref[key]['name']}/{ref[key]['key']}")
    return problems


def selects(selector, labels):
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def check_availability(docs):
    problems = []
    deployments = {d["metadata"]["name"]: d for _, d in docs if d["kind"] == "Deployment"}
    pdbs = [d for _, d in docs if d["kind"] == "PodDisruptionBudget"]
    config = next((d["data"] for _, d in docs
                   if d["kind"] == "ConfigMap" and d["metadata"]["name"] == CONFIG), {})
    for svc in SERVICES:
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
                    problems.append(f"{path}: HorizontalPodAutoscaler {name} scales on {resource}, "
                                    f"container {c['name']} requests none")
        if ref["name"] == "storage" and spec["maxReplicas"] > int(config.get("KAFKA_TOPIC_PARTITIONS", 0)):
            problems.append(f"{path}: storage may scale beyond the topic's "
                            f"{config.get('KAFKA_TOPIC_PARTITIONS')} partitions (idle consumers)")
    etl = deployments.get("etl")
    if etl:
        problems += check_etl(etl, config)
    return problems


def check_etl(etl, config):
    """Shards are led through leases in MongoDB: a standby replica takes over a lost leader."""
    problems = []
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
    return problems


def check_exposure(docs):
    problems = []
    services = [d for _, d in docs if d["kind"] == "Service"]
    node_ports = {d["metadata"]["name"]: [p.get("nodePort") for p in d["spec"]["ports"]] for d in services}
    for svc, port in NODE_PORTS:
        if port not in node_ports.get(svc, []):
            problems.append(f"Service {svc} does not expose NodePort {port}")
    # Only those leave the cluster: gRPC and the admin ports stay inside (a port of a NodePort
    # Service without a nodePort gets a random one on every node).
    allowed = {port for _, port in NODE_PORTS}
    for d in services:
        if d["spec"].get("type") in ("NodePort", "LoadBalancer"):
            for p in d["spec"]["ports"]:
                if p.get("nodePort") not in allowed:
                    problems.append(f"Service {d['metadata']['name']} opens port {p['port']} ({p.get('name')}) on the nodes")
    return problems


def check(docs):
    return (check_order(docs) + check_workloads(docs) + check_references(docs)
            + check_availability(docs) + check_exposure(docs))


def main(argv):
    return report(check(load(argv[0] if argv else "kubernetes")))


if __name__ == "__main__":
    run(main)
