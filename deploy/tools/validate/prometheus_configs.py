"""Writes the Kubernetes variants of the Prometheus configs to files promtool can check.

The configs of the admin Prometheus (kubernetes/61-prometheus.yaml) and the target Prometheus
(kubernetes/40-target-prometheus.yaml) live in ConfigMaps; each is written to
OUT_DIR/CONFIGMAP_NAME.yml with the rule file path pointing at OUT_DIR/rules.yml (where the
caller copies deploy/prometheus/rules.yml), instead of where the ConfigMap is mounted.

Usage: python -m validate.prometheus_configs OUT_DIR
"""
import os

from validate import load_yaml_docs, report, run

CONFIGS = (("kubernetes/61-prometheus.yaml", "prometheus-config", "prometheus.yml"),
           ("kubernetes/40-target-prometheus.yaml", "target-prometheus-config", "prometheus.yml"))
MOUNTED_RULES = "/etc/prometheus/rules/rules.yml"


def extract(docs, name, key, rules_path):
    """The config text of ConfigMap `name` (key `key`), its rule file at rules_path; None when
    the documents hold no such ConfigMap."""
    for doc in docs:
        if doc["kind"] == "ConfigMap" and doc["metadata"]["name"] == name:
            return doc["data"][key].replace(MOUNTED_RULES, rules_path)
    return None


def main(argv):
    out = argv[0]
    missing = []
    for path, name, key in CONFIGS:
        text = extract(load_yaml_docs(path), name, key, os.path.join(out, "rules.yml"))
        if text is None:
            missing.append(f"{path}: no ConfigMap {name} with {key}")
            continue
        with open(os.path.join(out, f"{name}.yml"), "w") as f:
            f.write(text)
    return report(missing)


if __name__ == "__main__":
    run(main)
