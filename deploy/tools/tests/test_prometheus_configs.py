"""validate.prometheus_configs: the Kubernetes Prometheus configs, out of their ConfigMaps."""
import os
import tempfile
import unittest

import yaml

from tests import InRepoRoot, repo_path
from validate import load_yaml_docs, prometheus_configs, read_text


class Extract(unittest.TestCase):
    def test_rule_file_points_at_the_copy(self):
        docs = load_yaml_docs(repo_path("kubernetes/61-prometheus.yaml"))
        text = prometheus_configs.extract(docs, "prometheus-config", "prometheus.yml", "/tmp/x/rules.yml")
        self.assertIn("/tmp/x/rules.yml", yaml.safe_load(text)["rule_files"])
        self.assertNotIn(prometheus_configs.MOUNTED_RULES, text)

    def test_missing_configmap_is_none(self):
        docs = load_yaml_docs(repo_path("kubernetes/61-prometheus.yaml"))
        self.assertIsNone(prometheus_configs.extract(docs, "no-such-config", "prometheus.yml", "r.yml"))


class Main(InRepoRoot, unittest.TestCase):
    def test_writes_both_configs(self):
        with tempfile.TemporaryDirectory() as out:
            self.assertEqual(prometheus_configs.main([out]), 0)
            self.assertEqual(sorted(os.listdir(out)), ["prometheus-config.yml", "target-prometheus-config.yml"])
            self.assertIn("scrape_configs", yaml.safe_load(read_text(os.path.join(out, "prometheus-config.yml"))))

    def test_a_renamed_configmap_fails(self):
        self.addCleanup(setattr, prometheus_configs, "CONFIGS", prometheus_configs.CONFIGS)
        prometheus_configs.CONFIGS = (("kubernetes/61-prometheus.yaml", "renamed-config", "prometheus.yml"),)
        with tempfile.TemporaryDirectory() as out:
            self.assertEqual(prometheus_configs.main([out]), 1)
        self.assertIn("no ConfigMap renamed-config", self.output.getvalue())


if __name__ == "__main__":
    unittest.main()
