"""deploy/tools/mongo_roles_live.py against a real SecantusDB: the repository's roles let each
service do its work and refuse what they leave out; a role granting too much, or too little,
fails the run. Needs scripts/deps.sh's venv ($VENV_DIR: pymongo, secantusd-py) and node."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from tests import ROOT, repo_path

VENV = os.environ.get("VENV_DIR", os.path.join(ROOT, ".venv"))
PYTHON = os.path.join(VENV, "bin", "python")
READY = (os.path.exists(os.path.join(VENV, "bin", "secantusd-py")) and os.path.exists(PYTHON)
         and shutil.which("node") is not None)
SCRIPT = repo_path("deploy", "tools", "mongo_roles_live.py")
# The built services, when there are any (scripts/test.sh builds them): step 3 of the script.
BIN = os.path.join(os.environ.get("CARGO_TARGET_DIR", repo_path("target")), "debug")
HAVE_BIN = all(os.access(os.path.join(BIN, b), os.X_OK) for b in ("retrieval", "sla-manager"))


def run_with(change=None, services=False):
    """(exit status, output) of the live run with roles.json after change(spec)."""
    with open(repo_path("deploy", "mongo", "roles.json")) as f:
        spec = json.load(f)
    if change:
        change(spec)
    with tempfile.NamedTemporaryFile("w", suffix=".json") as roles:
        json.dump(spec, roles)
        roles.flush()
        out = subprocess.run([PYTHON, SCRIPT, "--roles", roles.name] + (["--services", BIN] if services else []),
                             capture_output=True, text=True,
                             env={**os.environ, "VENV_DIR": VENV}, timeout=300)
    return out.returncode, out.stdout + out.stderr


def actions(spec, role, index=0):
    return spec["roles"][role]["privileges"][index]["actions"]


@unittest.skipUnless(READY, f"no secantusd-py/pymongo in {VENV} or no node (scripts/deps.sh)")
class LiveRoles(unittest.TestCase):
    def assertFailsWith(self, change, text):
        """The live check of the roles after change(spec) exits 1 and prints text."""
        status, out = run_with(change)
        self.assertEqual(status, 1, out)
        self.assertIn(text, out)

    def test_repository_roles_pass(self):
        status, out = run_with()
        self.assertEqual(status, 0, out)
        self.assertIn("every operation as granted", out)

    def test_retrieval_allowed_to_write_fails(self):
        self.assertFailsWith(lambda s: actions(s, "slaRetrievalRole").extend(["insert", "update"]), "retrieval: insert metrics was allowed")

    def test_storage_allowed_to_drop_fails(self):
        self.assertFailsWith(lambda s: actions(s, "slaStorageRole").append("dropCollection"), "storage: drop metrics was allowed")

    def test_sla_manager_without_rename_fails(self):
        self.assertFailsWith(lambda s: actions(s, "slaManagerRole").remove("renameCollectionSameDB"), "sla-manager: renameCollection over slaset failed (13")

    def test_etl_without_remove_fails(self):
        self.assertFailsWith(lambda s: actions(s, "slaEtlRole").remove("remove"), "etl: delete etl_leases failed (13")


    @unittest.skipUnless(HAVE_BIN, f"no built retrieval and sla-manager in {BIN}")
    def test_services_log_in_with_their_users(self):
        status, out = run_with(services=True)
        self.assertEqual(status, 0, out)

    @unittest.skipUnless(HAVE_BIN, f"no built retrieval and sla-manager in {BIN}")
    def test_service_whose_role_cannot_read_fails(self):
        def change(spec):
            spec["roles"]["slaRetrievalRole"]["privileges"][0]["actions"] = ["listIndexes"]
        status, out = run_with(change, services=True)
        self.assertEqual(status, 1, out)
        self.assertIn("retrieval as retrieval: database check 'ok', GET /metrics 50", out)


if __name__ == "__main__":
    sys.exit(unittest.main())
