"""The Grafana files check: the provisioning YAML and the dashboards' structure.

The datasource provisioning names the uids panels may use; the dashboard provisioning has a
provider; there are at least the ETL pipeline and the SLA dashboards, each JSON with the keys
Grafana needs, a unique uid, unique panel ids, and panels (rows aside) with a title, a grid
position, a provisioned datasource and queries with an expression; query variables use a
provisioned datasource. That the expressions are PromQL is validate.dashboard_queries' job.

Usage: python -m validate.grafana
"""
import glob
import json

from validate import load_yaml, read_text, report, run

DATASOURCES = "deploy/grafana/provisioning/datasources/prometheus.yml"
PROVIDERS = "deploy/grafana/provisioning/dashboards/dashboards.yml"
DASHBOARDS = "deploy/grafana/dashboards/*.json"
DASHBOARD_KEYS = ("uid", "title", "panels", "schemaVersion", "templating", "time")
PANEL_KEYS = ("title", "gridPos", "targets", "datasource")


def dashboard_files():
    return sorted(glob.glob(DASHBOARDS))


def check_dashboard(path, d, uids):
    """The problems of one parsed dashboard, given the provisioned datasource uids."""
    problems = []
    for key in DASHBOARD_KEYS:
        if key not in d:
            problems.append(f"{path}: no {key}")
    ids = [p["id"] for p in d.get("panels", [])]
    if len(ids) != len(set(ids)):
        problems.append(f"{path}: panel ids are not unique")
    for p in d.get("panels", []):
        if p["type"] == "row":
            continue
        for key in PANEL_KEYS:
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
    return problems


def check(datasources, providers, dashboards):
    """datasources and providers: the parsed provisioning files; dashboards: (path, text)."""
    problems = []
    uids = {d["uid"] for d in datasources["datasources"]}
    if not providers.get("providers"):
        problems.append("dashboards.yml: no provider")
    if len(dashboards) < 2:
        problems.append("expected the ETL pipeline and the SLA dashboards")
    seen_uids = set()
    for path, text in dashboards:
        try:
            d = json.loads(text)
        except ValueError as e:
            problems.append(f"{path}: not JSON: {e}")
            continue
        if d.get("uid") in seen_uids:
            problems.append(f"{path}: uid {d.get('uid')} used twice")
        seen_uids.add(d.get("uid"))
        problems += check_dashboard(path, d, uids)
    return problems


def main(argv):
    dashboards = [(path, read_text(path)) for path in dashboard_files()]
    return report(check(load_yaml(DATASOURCES), load_yaml(PROVIDERS), dashboards))


if __name__ == "__main__":
    run(main)
