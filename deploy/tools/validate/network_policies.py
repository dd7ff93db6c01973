"""The NetworkPolicy check: who may reach which port of which pod, from the manifests alone.

- a default deny: a policy selecting every pod (`podSelector: {}`) with Ingress and no rule;
- every pod (the templates of the Deployments, StatefulSets and Jobs) is selected by a policy;
- every port of every Service and every container port is in INTENDED, and the pods the policies let in on it (by their
  `app.kubernetes.io/name`) are exactly the ones INTENDED names: no more (a leak), no fewer (the
  system would break). ANYONE is a port open to every source (the public REST APIs, Grafana);
- egress: the pods of EGRESS are restricted, reach exactly the (pod, port) pairs named there and
  otherwise only DNS (port 53, UDP and TCP, to any address); every pod whose egress a policy
  restricts may still resolve names (without DNS it cannot find its peers).

What it cannot show: that the cluster's CNI enforces the policies (without one they are ignored).

Usage: python -m validate.network_policies [DIR]   (default kubernetes)
"""
from validate import report, run
from validate.kubernetes import load, workloads

NAME = "app.kubernetes.io/name"
ANYONE = "anyone"
ADMIN = frozenset({"prometheus"})

# (pod, port) -> the pods that may connect, or ANYONE. The one definition of who talks to whom.
INTENDED = {
    ("kafka", 9092): frozenset({"etl", "storage", "kafka-create-topic", "kafka"}),
    ("kafka", 9093): frozenset({"kafka"}),
    ("mongo", 27017): frozenset({"etl", "storage", "retrieval", "sla-manager", "mongo", "mongo-init-replica-set"}),
    ("sla-manager", 50052): frozenset({"etl"}),
    ("sla-manager", 5001): ANYONE,
    ("retrieval", 5000): ANYONE,
    ("etl", 8008): ADMIN,
    ("storage", 8009): ADMIN,
    ("retrieval", 8010): ADMIN,
    ("sla-manager", 8011): ADMIN,
    ("target-prometheus", 9090): frozenset({"etl", "sla-manager", "retrieval", "prometheus"}),
    ("node-exporter", 9100): frozenset({"target-prometheus"}),
    ("prometheus", 9098): frozenset({"grafana"}),
    ("alertmanager", 9093): frozenset({"prometheus"}),
    ("grafana", 3000): ANYONE,
}

# pod -> the (pod, port) pairs it may connect to, besides DNS. Pods not named here: egress open.
EGRESS = {
    "kafka": frozenset({("kafka", 9092), ("kafka", 9093)}),
    "mongo": frozenset({("mongo", 27017)}),
}
DNS = frozenset({("UDP", 53), ("TCP", 53)})


def matches(selector, labels):
    """Whether a label selector (matchLabels, matchExpressions) selects these labels."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        ok = {"In": lambda: labels.get(key) in values, "NotIn": lambda: labels.get(key) not in values,
              "Exists": lambda: key in labels, "DoesNotExist": lambda: key not in labels}[op]()
        if not ok:
            return False
    return True


def pods(docs):
    """(what, labels, {port name (or number): number}) of every pod template."""
    for _, doc, what, spec in workloads(docs):
        labels = doc["spec"]["template"]["metadata"].get("labels", {})
        ports = {p.get("name", p["containerPort"]): p["containerPort"]
                 for c in spec["containers"] for p in c.get("ports", [])}
        yield what, labels, ports


def ingress_policies(docs):
    for _, d in docs:
        if d["kind"] == "NetworkPolicy" and "Ingress" in d["spec"].get("policyTypes", ["Ingress"]):
            yield d


def allowed_sources(docs, labels, port_names, port):
    """ANYONE, or the names of the pods the policies let in on this pod's port."""
    sources = set()
    for policy in ingress_policies(docs):
        if not matches(policy["spec"].get("podSelector") or {}, labels):
            continue
        for rule in policy["spec"].get("ingress") or []:
            rule_ports = rule.get("ports")
            if rule_ports is not None and not any(
                    p.get("port") is None or p.get("port") == port or port_names.get(p.get("port")) == port
                    for p in rule_ports):
                continue
            peers = rule.get("from")
            if not peers:
                return ANYONE
            for peer in peers:
                # Another namespace or an address block: not a pod of ours, treated as anyone.
                if "podSelector" not in peer or "namespaceSelector" in peer or "ipBlock" in peer:
                    return ANYONE
                sources |= {other.get(NAME) for _, other, _ in pods(docs) if matches(peer["podSelector"], other)}
    return frozenset(sources)


def egress_problems(docs, templates):
    problems = []
    egress = [d for _, d in docs if d["kind"] == "NetworkPolicy" and "Egress" in d["spec"].get("policyTypes", [])]
    for what, labels, _ in templates:
        name = labels.get(NAME)
        policies = [d for d in egress if matches(d["spec"].get("podSelector") or {}, labels)]
        if not policies:
            if name in EGRESS:
                problems.append(f"{what}: its egress is not restricted (intended: {sorted(EGRESS[name])} and DNS)")
            continue
        reached, anywhere = set(), set()
        for rule in (r for d in policies for r in d["spec"].get("egress") or []):
            ports = {(p.get("protocol", "TCP"), p.get("port")) for p in rule.get("ports") or [{"port": None}]}
            peers = rule.get("to")
            if not peers or any("podSelector" not in peer or "namespaceSelector" in peer or "ipBlock" in peer
                                for peer in peers):
                anywhere |= ports
                continue
            for peer in peers:
                for _, other, _ in pods(docs):
                    if matches(peer["podSelector"], other):
                        reached |= {(other.get(NAME), port) for _, port in ports}
        if not DNS <= anywhere:
            problems.append(f"{what}: egress restricted without DNS (port 53 UDP and TCP)")
        for protocol, port in sorted(anywhere - DNS, key=str):
            problems.append(f"{what}: egress to any address on {protocol} port {port or 'any'}")
        problems += differences(what, reached, EGRESS.get(name, frozenset()),
                                "egress to {} too", "no egress to {}, which it needs", key=str)
    return problems


def differences(where, got, want, too, lacking, key=None):
    """The problems of `got` against the intended `want`: `too` names the members beyond it and
    `lacking` the missing ones (each a format with one {} for the sorted members)."""
    problems = []
    if got - want:
        problems.append(f"{where}: {too.format(sorted(got - want, key=key))} (intended {sorted(want)})")
    if want - got:
        problems.append(f"{where}: {lacking.format(sorted(want - got))}")
    return problems


def check(docs):
    problems = []
    if not any(p["spec"].get("podSelector") in ({}, None) and not p["spec"].get("ingress")
               for p in ingress_policies(docs)):
        problems.append("no default-deny NetworkPolicy (podSelector {}, Ingress, no rules)")
    templates = list(pods(docs))
    problems += egress_problems(docs, templates)
    for what, labels, _ in templates:
        if not any(matches(p["spec"].get("podSelector") or {}, labels) for p in ingress_policies(docs)):
            problems.append(f"{what}: its pods are selected by no NetworkPolicy")
    by_name = {labels.get(NAME): (labels, ports) for _, labels, ports in templates}
    # A pod is reachable at its own address too, Service or not: every container port counts.
    ports_to_check = [(f"{what} port {number}", labels.get(NAME), labels, ports, number)
                      for what, labels, ports in templates for number in ports.values()]
    for _, svc in docs:
        if svc["kind"] != "Service":
            continue
        target = (svc["spec"].get("selector") or {}).get(NAME)
        if target not in by_name:
            problems.append(f"Service {svc['metadata']['name']}: selects no pod of the manifests")
            continue
        labels, port_names = by_name[target]
        for p in svc["spec"]["ports"]:
            tp = p.get("targetPort", p["port"])
            number = port_names.get(tp, tp)
            ports_to_check.append((f"Service {svc['metadata']['name']} port {p['port']} ({target}:{number})",
                                   target, labels, port_names, number))
    for where, target, labels, port_names, number in ports_to_check:
        if (target, number) not in INTENDED:
            problems.append(f"{where}: not in the intended table of validate/network_policies.py")
            continue
        want, got = INTENDED[(target, number)], allowed_sources(docs, labels, port_names, number)
        if want == got:
            continue
        if got == ANYONE:
            problems.append(f"{where}: open to anyone, intended only {sorted(want)}")
        elif want == ANYONE:
            problems.append(f"{where}: open only to {sorted(got)}, intended for anyone")
        else:
            problems += differences(where, got, want, "reachable from {} too", "not reachable from {}, which need it")
    return problems


def main(argv):
    return report(check(load(argv[0] if argv else "kubernetes")))


if __name__ == "__main__":
    run(main)
