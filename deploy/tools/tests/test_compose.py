"""validate.compose: the design's demands on the resolved docker-compose.yml."""
import os
import shutil
import subprocess
import unittest

import yaml

from tests import CheckTestCase, ROOT, broken, repo_path
from validate import compose, read_text


def service(image="sla-monitor:0.1.0", **extra):
    svc = {"image": image, "healthcheck": {"test": ["CMD", "http-probe", "http://localhost:8008/readyz"]}}
    svc.update(extra)
    return svc


def good():
    """The smallest resolved compose file the check accepts."""
    waits = {"init-topic": {"condition": "service_completed_successfully"}}
    return {
        "etl": service(depends_on={**waits, "mongo": {"condition": "service_healthy"}},
                       environment={"MONGO_URI": "mongodb://mongo:27017", "MONGO_DB": "sla", "ETL_SHARDS": "2"}),
        "storage": service(depends_on=dict(waits)),
        "retrieval": service(depends_on={"mongo": {}}, ports=[{"published": "5000", "target": 5000}]),
        "sla-manager": service(depends_on={"mongo": {}}, ports=["5001:5001"]),
        "mongo": {"image": "mongo:7.0.12"},
        "prometheus": {"image": "prom/prometheus:v3.13.2", "ports": ["127.0.0.1:9098:9098"]},
        "grafana": {"image": "grafana/grafana:11.2.0", "ports": ["127.0.0.1:3000:3000"]},
        "target-prometheus": {"image": "prom/prometheus:v3.13.2", "ports": ["127.0.0.1:9090:9090"]},
    }


class PublishedPort(unittest.TestCase):
    def test_short_and_long_forms(self):
        self.assertEqual(compose.published_port("127.0.0.1:9090:9090"), "9090")
        self.assertEqual(compose.published_port("5000:5001"), "5000")
        self.assertEqual(compose.published_port({"published": 5000, "target": 5001}), "5000")


class BindMounts(unittest.TestCase):
    def test_repository_paths_exist(self):
        text = read_text(repo_path(compose.COMPOSE_FILE))
        self.assertGreater(len(compose.BIND_MOUNT.findall(text)), 3)
        self.assertEqual(compose.missing_bind_mounts(text, exists=lambda p: os.path.exists(repo_path(p))), [])

    def test_missing_path_fails(self):
        text = "services:\n  grafana:\n    volumes:\n      - ./deploy/grafana/gone:/etc/grafana/gone:ro\n      - data:/var\n"
        self.assertEqual(compose.missing_bind_mounts(text, exists=lambda p: os.path.exists(repo_path(p))),
                         ["bind-mounted path missing: ./deploy/grafana/gone"])


class Check(CheckTestCase):
    def check(self, services):
        return compose.check(services)

    def test_good_passes(self):
        self.assertEqual(compose.check(good()), [])

    @unittest.skipUnless(shutil.which("docker-compose"), "docker-compose not installed")
    def test_repository_file_passes(self):
        out = subprocess.run(["docker-compose", "--project-directory", ROOT, "-f", f"{ROOT}/docker-compose.yml",
                              "config"], capture_output=True, text=True, check=True).stdout
        self.assertEqual(compose.check(yaml.safe_load(out)["services"]), [])

    def test_unpinned_image_fails(self):
        self.assertProblem(broken(good(), lambda c: c["mongo"].update(image="mongo:latest")), "mongo: image 'mongo:latest'")
        self.assertProblem(broken(good(), lambda c: c["mongo"].update(image="mongo")), "is not pinned")

    def test_no_readyz_health_check_fails(self):
        self.assertProblem(broken(good(), lambda c: c["retrieval"].pop("healthcheck")), "retrieval: no health check on /readyz")

    def test_no_depends_on_fails(self):
        self.assertProblem(broken(good(), lambda c: c["storage"].pop("depends_on")), "storage: no depends_on")

    def test_not_waiting_for_the_topic_fails(self):
        def change(c):
            c["storage"]["depends_on"]["init-topic"]["condition"] = "service_started"
        self.assertProblem(broken(good(), change), "storage: does not wait for init-topic")

    def test_etl_without_its_leases_fails(self):
        self.assertProblem(broken(good(), lambda c: c["etl"]["environment"].pop("MONGO_URI")), "etl: no MONGO_URI")
        self.assertProblem(broken(good(), lambda c: c["etl"]["environment"].pop("ETL_SHARDS")), "etl: no ETL_SHARDS")
        self.assertProblem(broken(good(), lambda c: c["etl"]["depends_on"].pop("mongo")), "etl: does not wait for mongo")

    def test_scaled_service_publishing_a_port_fails(self):
        self.assertProblem(broken(good(), lambda c: c["storage"].update(ports=["8009:8009"])),
                           "storage: publishes ports")

    def test_unpublished_api_port_fails(self):
        self.assertProblem(broken(good(), lambda c: c["retrieval"].pop("ports")), "port 5000 is not published")
        self.assertProblem(broken(good(), lambda c: c["grafana"].update(ports=["127.0.0.1:3001:3000"])),
                           "port 3000 is not published")


if __name__ == "__main__":
    unittest.main()
