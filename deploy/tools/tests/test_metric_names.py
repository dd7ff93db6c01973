"""validate.metric_names: every metric the rules and dashboards use is defined in crates/*/src."""
import unittest

from tests import InRepoRoot
from validate import metric_names

RUST = ['const CYCLES: &str = "etl_cycles_total";', 'histogram("storage_write_seconds")']


class Check(unittest.TestCase):
    def test_defined_names_pass(self):
        rules = ("rules.yml", "expr: rate(etl_cycles_total[5m]) > 0 and storage_write_seconds_count > 1")
        self.assertEqual(metric_names.check([rules], RUST), ([], 2))

    def test_histogram_series_count_as_their_base_name(self):
        used = metric_names.used_names([("d.json", "storage_write_seconds_bucket storage_write_seconds_sum")])
        self.assertEqual(used, {"storage_write_seconds": {"d.json"}})

    def test_undefined_name_fails(self):
        problems, n = metric_names.check([("sla.json", '"expr": "sla_no_such_metric"')], RUST)
        self.assertEqual(n, 1)
        self.assertEqual(problems, ["sla_no_such_metric: used in sla.json, defined in no crates/*/src file"])

    def test_names_outside_the_services_are_not_checked(self):
        self.assertEqual(metric_names.check([("r.yml", "node_load1 > 2")], []), ([], 0))

    def test_a_name_only_in_a_comment_or_identifier_is_not_a_definition(self):
        rust = ["// etl_cycles_total is counted below", "let etl_cycles_total = 1;"]
        problems, _ = metric_names.check([("r.yml", "etl_cycles_total")], rust)
        self.assertEqual(len(problems), 1)


class Main(InRepoRoot, unittest.TestCase):
    def test_repository_passes(self):
        self.assertEqual(metric_names.main([]), 0)
        self.assertRegex(self.output.getvalue(), r"^[1-9][0-9]* metric names used, 0 undefined$")


if __name__ == "__main__":
    unittest.main()
