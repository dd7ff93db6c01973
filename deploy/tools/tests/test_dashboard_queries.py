"""validate.dashboard_queries: every dashboard expression goes to a real Prometheus, which
rejects one that does not parse."""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.request

from tests import broken, repo_path
from validate import dashboard_queries, read_text

PATHS = ["etl-pipeline.json", "sla.json"]
LOADED = [(p, json.loads(read_text(repo_path("deploy/grafana/dashboards", p)))) for p in PATHS]


class Substitute(unittest.TestCase):
    def test_grafana_variables_are_replaced(self):
        self.assertEqual(dashboard_queries.substitute('topk($top, rate(x{name=~"$metric_name"}[$__rate_interval]))'),
                         'topk(10, rate(x{name=~".*"}[5m]))')

    def test_every_target_is_listed(self):
        exprs = [e for path, d in LOADED for e in dashboard_queries.expressions(path, d)]
        targets = sum(len(p.get("targets", [])) for _, d in LOADED for p in d["panels"])
        self.assertEqual(len(exprs), targets)
        self.assertFalse([e for e in exprs if "$" in e[2]], "a Grafana variable is left in an expression")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@unittest.skipUnless(shutil.which("prometheus"), "prometheus not installed")
class AgainstPrometheus(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        config = os.path.join(cls.dir.name, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: 1h\n")
        port = free_port()
        cls.url = f"http://127.0.0.1:{port}"
        cls.log = open(os.path.join(cls.dir.name, "prometheus.log"), "w")
        cls.proc = subprocess.Popen(["prometheus", f"--config.file={config}",
                                     f"--storage.tsdb.path={cls.dir.name}/data",
                                     f"--web.listen-address=127.0.0.1:{port}"],
                                    stdout=cls.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(cls.url + "/-/ready", timeout=2).read()
                break
            except OSError:
                if cls.proc.poll() is not None or time.monotonic() > deadline:
                    cls.tearDownClass()
                    raise RuntimeError("the test Prometheus did not start")
                time.sleep(0.2)

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()
        cls.proc.wait(10)
        cls.log.close()
        cls.dir.cleanup()

    def test_repository_dashboards_parse(self):
        problems, n = dashboard_queries.check(self.url, LOADED)
        self.assertEqual(problems, [])
        self.assertGreater(n, 10)

    def test_unparsable_expression_is_rejected(self):
        def change(dashboards):
            panel = next(p for p in dashboards[1][1]["panels"] if p.get("targets"))
            panel["targets"][0]["expr"] = "sum(rate(etl_cycles_total[5m])"
        problems, _ = dashboard_queries.check(self.url, broken(LOADED, change))
        self.assertEqual(len(problems), 1)
        self.assertIn("sla.json: panel", problems[0])
        self.assertIn("parse error", problems[0])


if __name__ == "__main__":
    unittest.main()
