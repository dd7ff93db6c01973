"""validate.mongo_users: every service has its own MongoDB user in compose and Kubernetes, none
is root, the init scripts create them; copies with one defect each fail."""
import json
import shutil
import subprocess
import unittest

import yaml

from tests import ROOT, CheckTestCase, broken, repo_path
from validate import kubernetes, mongo_users

DOCS = kubernetes.load(repo_path("kubernetes"))
FILES = mongo_users.read_files()
SPEC = json.loads(FILES["roles.json"])
HAVE_COMPOSE = shutil.which("docker-compose") is not None


def resolved_compose():
    out = subprocess.run(["docker-compose", "--project-directory", ROOT, "-f", f"{ROOT}/docker-compose.yml",
                          "config"], capture_output=True, text=True, check=True).stdout
    return yaml.safe_load(out)["services"]


def secret(docs):
    return next(d for _, d in docs if d["kind"] == "Secret")["stringData"]


def job(docs):
    return next(d for _, d in docs if d["kind"] == "Job" and d["metadata"]["name"] == mongo_users.INIT_JOB)


def main_container(docs, name):
    d = next(d for _, d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == name)
    return d["spec"]["template"]["spec"]["containers"][0]


class Spec(CheckTestCase):
    def check(self, spec):
        return mongo_users.check_spec(spec)

    def test_repository_spec_passes(self):
        self.assertEqual(mongo_users.check_spec(SPEC), [])
        self.assertEqual(mongo_users.check_script(FILES["create-users.js"]), [])

    def test_retrieval_is_read_only(self):
        role = SPEC["roles"][SPEC["users"]["retrieval"]["role"]]
        self.assertEqual({a for p in role["privileges"] for a in p["actions"]}, {"find"})

    def test_missing_user_fails(self):
        self.assertProblem(broken(SPEC, lambda s: s["users"].pop("storage")), "no user storage for storage")

    def test_undefined_role_fails(self):
        self.assertProblem(broken(SPEC, lambda s: s["roles"].pop("slaEtlRole")), "user etl has the undefined role")

    def test_script_that_never_updates_users_fails(self):
        js = FILES["create-users.js"].replace("updateUser", "noop")
        self.assertIn("create-users.js: no updateUser", "\n".join(mongo_users.check_script(js)))


def env(services, name):
    """The environment of compose service `name`."""
    return services[name]["environment"]


@unittest.skipUnless(HAVE_COMPOSE, "docker-compose not installed")
class Compose(CheckTestCase):
    def check(self, services):
        return mongo_users.check_compose(services, SPEC)

    @classmethod
    def setUpClass(cls):
        cls.services = resolved_compose()

    def test_repository_file_passes(self):
        self.assertEqual(mongo_users.check_compose(self.services, SPEC), [])

    def test_root_uri_fails(self):
        root = "mongodb://root:dev-password-change-me@mongo:27017/?authSource=admin"
        self.assertProblem(broken(self.services, lambda s: env(s, "storage").update(MONGO_URI=root)), "compose storage: MONGO_URI logs in as the root user root")

    def test_another_services_user_fails(self):
        def change(s):
            env(s, "retrieval")["MONGO_URI"] = env(s, "storage")["MONGO_URI"]
        self.assertProblem(broken(self.services, change), "compose retrieval: MONGO_URI logs in as storage, not as its own user retrieval")

    def test_no_uri_fails(self):
        self.assertProblem(broken(self.services, lambda s: env(s, "etl").pop("MONGO_URI")), "compose etl: no MONGO_URI")

    def test_password_out_of_step_fails(self):
        self.assertProblem(broken(self.services, lambda s: env(s, "mongo").update(MONGO_ETL_PASSWORD="another")), "compose etl: MONGO_URI's password is not MONGO_ETL_PASSWORD")

    def test_init_scripts_not_mounted_fails(self):
        def change(s):
            s["mongo"]["volumes"] = [v for v in s["mongo"]["volumes"] if "initdb" not in str(v)]
        self.assertProblem(broken(self.services, change), "deploy/mongo is not mounted as /docker-entrypoint-initdb.d")

    def test_root_uri_on_a_tool_fails(self):
        def change(s):
            s["init-topic"]["environment"]["MONGO_URI"] = "mongodb://root:x@mongo:27017/?authSource=admin"
        self.assertProblem(broken(self.services, change), "compose init-topic: MONGO_URI logs in as the root user")


class Kubernetes(CheckTestCase):
    def check(self, docs):
        return mongo_users.check_kubernetes(docs, SPEC, FILES)

    def test_repository_manifests_pass(self):
        self.assertEqual(mongo_users.check_kubernetes(DOCS, SPEC, FILES), [])

    def test_shared_secret_key_fails(self):
        def change(d):
            for e in main_container(d, "retrieval")["env"]:
                if e["name"] == "MONGO_URI":
                    e["valueFrom"]["secretKeyRef"]["key"] = "MONGO_URI_SLA_MANAGER"
        self.assertProblem(broken(DOCS, change), "logs in as sla-manager, not as its own user retrieval")

    def test_root_uri_in_the_secret_fails(self):
        def change(d):
            secret(d)["MONGO_URI_ETL"] = "mongodb://root:dev-password-change-me@mongo-0.mongo:27017/?authSource=admin"
        self.assertProblem(broken(DOCS, change), "(Secret key MONGO_URI_ETL): MONGO_URI logs in as the root user root")

    def test_password_out_of_step_fails(self):
        def change(d):
            secret(d)["MONGO_STORAGE_PASSWORD"] = "rotated"
        self.assertProblem(broken(DOCS, change), "MONGO_URI's password is not MONGO_STORAGE_PASSWORD")

    def test_wrong_auth_source_fails(self):
        def change(d):
            secret(d)["MONGO_URI_RETRIEVAL"] = secret(d)["MONGO_URI_RETRIEVAL"].replace("authSource=sla_monitor", "authSource=admin")
        self.assertProblem(broken(DOCS, change), "authSource is admin, not sla_monitor")

    def test_init_job_without_a_password_fails(self):
        def change(d):
            c = job(d)["spec"]["template"]["spec"]["containers"][0]
            c["env"] = [e for e in c["env"] if e["name"] != "MONGO_RETRIEVAL_PASSWORD"]
        self.assertProblem(broken(DOCS, change), "no MONGO_RETRIEVAL_PASSWORD for create-users.js")

    def test_init_job_not_running_the_script_fails(self):
        def change(d):
            c = job(d)["spec"]["template"]["spec"]["containers"][0]
            c["command"][-1] = c["command"][-1].replace("/scripts/create-users.js", "--eval 1")
        self.assertProblem(broken(DOCS, change), "does not run create-users.js")

    def test_stale_configmap_fails(self):
        files = dict(FILES, **{"roles.json": FILES["roles.json"].replace('"find"', '"find", "remove"', 1)})
        self.assertIn("ConfigMap mongo-init-scripts is not deploy/mongo as it is",
                      "\n".join(mongo_users.check_kubernetes(DOCS, SPEC, files)))

    def test_generated_file_is_fresh(self):
        with open(repo_path(mongo_users.GENERATED)) as f:
            self.assertEqual(f.read(), mongo_users.render(FILES))


if __name__ == "__main__":
    unittest.main()
