"""validate.sla_set: the SLA set's shape, and its series in a node-exporter's answer."""
import json
import unittest

from tests import CheckTestCase, InRepoRoot, broken, repo_path
from validate import read_text, sla_set

SLAS = json.loads(read_text(repo_path(sla_set.SLA_SET)))
SIZE = sla_set.set_size(read_text(repo_path(sla_set.ENV_FILE)))


class SetSize(unittest.TestCase):
    def test_the_last_assignment_counts(self):
        self.assertEqual(sla_set.set_size("A=1\nSLA_SET_SIZE=3\n# SLA_SET_SIZE=4\nSLA_SET_SIZE=7\n"), 7)

    def test_default_without_one(self):
        self.assertEqual(sla_set.set_size("A=1\nSLA_SET_SIZE=\n"), sla_set.DEFAULT_SIZE)
        self.assertEqual(sla_set.set_size(""), sla_set.DEFAULT_SIZE)


class Shape(CheckTestCase):
    def check(self, slas, size=SIZE):
        return sla_set.check_shape(slas, size)

    def test_repository_set_passes(self):
        self.assertEqual(sla_set.check_shape(SLAS, SIZE), [])

    def test_other_size_fails(self):
        self.assertProblem(SLAS, f"expected a list of {SIZE + 1} SLAs", size=SIZE + 1)
        self.assertProblem({"name": {}}, "expected a list")

    def test_extra_key_fails(self):
        self.assertProblem(broken(SLAS, lambda s: s[0].update(severity="high")), "SLA 1: keys are")

    def test_series_of_another_instance_fails(self):
        self.assertProblem(broken(SLAS, lambda s: s[1]["name"].update(instance="localhost:9100")),
                           "SLA 2: not a series of the compose node-exporter")

    def test_series_listed_twice_fails(self):
        self.assertProblem(broken(SLAS, lambda s: s.__setitem__(1, dict(s[0], range=s[1]["range"]))),
                           "SLA 2: series listed twice")

    def test_inverted_range_fails(self):
        self.assertProblem(broken(SLAS, lambda s: s[0].update(range={"min": 2, "max": 1})), "is not min <= max")
        self.assertProblem(broken(SLAS, lambda s: s[0].update(range={"min": "0", "max": 1})), "is not min <= max")

    def test_non_positive_or_fractional_minutes_fail(self):
        self.assertProblem(broken(SLAS, lambda s: s[0].update({"for": 0})), "is not a positive number of minutes")
        self.assertProblem(broken(SLAS, lambda s: s[0].update({"for": 1.5})), "is not a positive number of minutes")


class ShapeMain(InRepoRoot, unittest.TestCase):
    def test_repository_set_passes(self):
        self.assertEqual(sla_set.main(["shape"]), 0)


EXPOSITION = """# HELP node_load1 1m load average.
# TYPE node_load1 gauge
node_load1 0.5
node_cpu_seconds_total{cpu="0",mode="idle"} 12
"""


class Series(unittest.TestCase):
    def test_exposed_series(self):
        self.assertEqual(sla_set.exposed_series(EXPOSITION), {"node_load1", 'node_cpu_seconds_total{cpu="0",mode="idle"}'})

    def test_series_missing_from_node_exporter_fail(self):
        slas = [{"name": {"__name__": "node_load1"}}, {"name": {"__name__": "node_load15"}}]
        self.assertEqual(sla_set.missing_series(slas, sla_set.exposed_series(EXPOSITION)), ["node_load15"])

    def test_labelled_series_do_not_count(self):
        slas = [{"name": {"__name__": "node_cpu_seconds_total"}}]
        self.assertEqual(sla_set.missing_series(slas, sla_set.exposed_series(EXPOSITION)), ["node_cpu_seconds_total"])


if __name__ == "__main__":
    unittest.main()
