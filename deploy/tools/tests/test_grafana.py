"""validate.grafana: the provisioning and the dashboards' structure."""
import json
import unittest

from tests import CheckTestCase, InRepoRoot, broken, repo_path
from validate import grafana, load_yaml, read_text

DATASOURCES = load_yaml(repo_path(grafana.DATASOURCES))
PROVIDERS = load_yaml(repo_path(grafana.PROVIDERS))
PATHS = ["etl-pipeline.json", "sla.json"]
DASHBOARDS = {p: json.loads(read_text(repo_path("deploy/grafana/dashboards", p))) for p in PATHS}


def texts(dashboards):
    return [(p, json.dumps(d)) for p, d in dashboards.items()]


def first_panel(d):
    return next(p for p in d["panels"] if p["type"] != "row")


class Check(CheckTestCase):
    def problems(self, dashboards, datasources=DATASOURCES, providers=PROVIDERS):
        return grafana.check(datasources, providers, texts(dashboards) if isinstance(dashboards, dict) else dashboards)

    check = problems

    def test_repository_files_pass(self):
        self.assertEqual(self.problems(DASHBOARDS), [])

    def test_not_json_fails(self):
        self.assertProblem([("a.json", "{"), ("sla.json", json.dumps(DASHBOARDS["sla.json"]))], "a.json: not JSON")

    def test_one_dashboard_fails(self):
        self.assertProblem({"sla.json": DASHBOARDS["sla.json"]}, "expected the ETL pipeline and the SLA dashboards")

    def test_no_provider_fails(self):
        self.assertProblem(DASHBOARDS, "dashboards.yml: no provider", providers={"apiVersion": 1})

    def test_missing_key_fails(self):
        self.assertProblem(broken(DASHBOARDS, lambda d: d["sla.json"].pop("schemaVersion")), "sla.json: no schemaVersion")

    def test_uid_used_twice_fails(self):
        self.assertProblem(broken(DASHBOARDS, lambda d: d["sla.json"].update(uid=d["etl-pipeline.json"]["uid"])),
                           "used twice")

    def test_duplicate_panel_ids_fail(self):
        def change(d):
            panels = d["sla.json"]["panels"]
            panels[1]["id"] = panels[0]["id"]
        self.assertProblem(broken(DASHBOARDS, change), "sla.json: panel ids are not unique")

    def test_panel_without_grid_position_fails(self):
        self.assertProblem(broken(DASHBOARDS, lambda d: first_panel(d["sla.json"]).pop("gridPos")), "has no gridPos")

    def test_unprovisioned_datasource_fails(self):
        def change(d):
            first_panel(d["etl-pipeline.json"])["datasource"] = {"type": "prometheus", "uid": "elsewhere"}
        self.assertProblem(broken(DASHBOARDS, change), "not a provisioned one")

    def test_target_without_expression_fails(self):
        self.assertProblem(broken(DASHBOARDS, lambda d: first_panel(d["sla.json"])["targets"][0].pop("expr")),
                           "has a target without expr")

    def test_panel_without_query_fails(self):
        self.assertProblem(broken(DASHBOARDS, lambda d: first_panel(d["sla.json"]).update(targets=[])), "has no query")

    def test_query_variable_on_unprovisioned_datasource_fails(self):
        def change(d):
            d["sla.json"]["templating"]["list"] = [{"name": "v", "type": "query", "datasource": {"uid": "elsewhere"}}]
        self.assertProblem(broken(DASHBOARDS, change), "variable v uses a datasource that is not provisioned")


class Main(InRepoRoot, unittest.TestCase):
    def test_main_reads_the_repository_files(self):
        self.assertEqual(sorted(p.rsplit("/", 1)[1] for p in grafana.dashboard_files()), PATHS)
        self.assertEqual(grafana.main([]), 0)


if __name__ == "__main__":
    unittest.main()
