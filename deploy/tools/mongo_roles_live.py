"""Runs deploy/mongo/create-users.js for real against a SecantusDB server (the project's test
database, MongoDB's wire protocol and SCRAM) and shows that each service's user can do its work
and nothing its role leaves out.

1. A throwaway secantusd without --auth (SecantusDB's way to provision, as mongod's localhost
   exception is); create-users.js runs in node with a recording `db` (mongosh is not installed
   here), once on an empty server and once on the provisioned one (the updateRole/updateUser
   path), and each recorded call is sent as the database command mongosh sends for it.
2. The server restarted with --auth on the same data: each user logs in with its password and
   runs the operations of its service (the commands the crates send); every operation its role
   does not grant must fail with Unauthorized (13): retrieval's writes above all.

SecantusDB checks privileges per database, not per collection (its rbac module says so), so a
collection outside a role's resources is not refused here as mongod refuses it; that part is
only checked statically (validate/mongo_users.py reads roles.json). The ping of the readiness
probes and `hello` need no privilege on either server.

3. With --services DIR (the built binaries, e.g. target/debug): retrieval and the sla-manager
   start with MONGO_URI naming their users, as compose and Kubernetes give it, and must log in
   (the Rust driver's SCRAM; /readyz's database check "ok") and read (GET /metrics, GET /slaset);
   with a wrong password retrieval's database check must fail. (The etl and storage need Kafka
   to start: their commands are the ones of step 2.)

Usage: $VENV_DIR/bin/python deploy/tools/mongo_roles_live.py [--roles FILE] [--services DIR]
  (pymongo and secantusd-py from scripts/deps.sh's venv; exits 0 when every step passed)
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import pymongo
from pymongo.errors import OperationFailure

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
MONGO_DIR = os.path.join(ROOT, "deploy", "mongo")
DB = "sla_monitor"
UNAUTHORIZED = 13

# A mongosh stand-in for create-users.js: getRole/getUser answer from the state given on stdin,
# the writes are recorded and printed as JSON (the script's only output besides print()).
SHIM = r"""
const state = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const calls = [];
globalThis.print = () => {};
globalThis.db = {getSiblingDB: (name) => ({
  getRole: (r) => (state.roles.includes(r) ? {role: r} : null),
  getUser: (u) => (state.users.includes(u) ? {user: u} : null),
  createRole: (spec) => calls.push(['createRole', name, spec]),
  updateRole: (r, spec) => calls.push(['updateRole', name, {role: r, ...spec}]),
  createUser: (spec) => calls.push(['createUser', name, spec]),
  updateUser: (u, spec) => calls.push(['updateUser', name, {user: u, ...spec}]),
})};
require(process.env.SCRIPT);
process.stdout.write(JSON.stringify(calls));
"""


def command_of(call):
    """The database command mongosh sends for one recorded helper call."""
    kind, db, spec = call
    if kind in ("createRole", "updateRole"):
        return db, {kind: spec["role"], "privileges": spec["privileges"], "roles": spec["roles"]}
    return db, {kind: spec["user"], "pwd": spec["pwd"], "roles": spec["roles"]}


def run_script(mongo_dir, env, state):
    mongo_dir = os.path.abspath(mongo_dir)  # require() resolves a relative path as a module name
    out = subprocess.run(["node", "-e", SHIM], input=json.dumps(state), capture_output=True, text=True,
                         env={**os.environ, **env, "SCRIPT": os.path.join(mongo_dir, "create-users.js"),
                              "MONGO_INIT_DIR": mongo_dir, "MONGO_DB": DB})
    if out.returncode != 0:
        raise RuntimeError(f"create-users.js failed: {out.stderr.strip()}")
    return json.loads(out.stdout)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, data, auth):
        self.port = free_port()
        config = os.path.join(data, "secantusd.toml")
        open(config, "w").close()  # an empty config: no auto-discovery of a stray one
        args = [os.path.join(os.environ.get("VENV_DIR", os.path.join(ROOT, ".venv")), "bin", "secantusd-py"),
                "--config", config, "--host", "127.0.0.1", "--port", str(self.port),
                "--storage-path", os.path.join(data, "db"), "--log-level", "WARNING"] + (["--auth"] if auth else [])
        self.log = open(os.path.join(data, f"secantusd-{'auth' if auth else 'open'}.log"), "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"secantusd did not start (log {self.log.name})")
                time.sleep(0.2)

    def client(self, user=None, password=None):
        kw = {"username": user, "password": password, "authSource": DB} if user else {}
        return pymongo.MongoClient("127.0.0.1", self.port, directConnection=True,
                                   serverSelectionTimeoutMS=10000, **kw)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(30)
        self.log.close()


def service_operations(db, client):
    """service -> [(what, operation, allowed)]: the crates' commands, and ones their roles omit."""
    metrics, slaset, leases, cycles = db["metrics"], db["slaset"], db["etl_leases"], db["etl_cycles"]
    minutes = db["slo_minutes"]
    upsert = {"update": "metrics", "ordered": False, "updates": [{
        "q": {"_id": "series-1", "values_at": {"$not": {"$gte": 1}}},
        "u": {"$set": {"name": {"__name__": "up"}, "values": {"avg": 1.0}, "values_at": 1}}, "upsert": True}]}
    staging = "slaset_staging_00000000000000ab"
    return {
        "storage": [
            ("createIndex metrics", lambda: metrics.create_index([("name.__name__", 1)], name="by_metric_name"), True),
            ("update (upsert) metrics", lambda: db.command(upsert), True),
            ("find metrics", lambda: metrics.find_one({"_id": "series-1"}), True),
            ("delete metrics", lambda: metrics.delete_one({"_id": "x"}), False),
            ("drop metrics", lambda: db.command({"drop": "metrics"}), False),
            ("renameCollection", lambda: client.admin.command(
                {"renameCollection": f"{DB}.metrics", "to": f"{DB}.gone"}), False),
        ],
        "retrieval": [
            ("find metrics", lambda: list(metrics.find({}, {"_id": 1, "name": 1}).sort("_id", 1)), True),
            ("insert metrics", lambda: metrics.insert_one({"_id": "forged"}), False),
            ("update metrics", lambda: metrics.update_one({"_id": "series-1"}, {"$set": {"values": {}}}), False),
            ("delete metrics", lambda: metrics.delete_one({"_id": "series-1"}), False),
            ("createIndex metrics", lambda: metrics.create_index([("x", 1)]), False),
            ("drop metrics", lambda: db.command({"drop": "metrics"}), False),
        ],
        "etl": [
            ("update (upsert) etl_leases", lambda: leases.update_one(
                {"_id": "replica:a"}, {"$set": {"kind": "replica", "expires_at": 1}}, upsert=True), True),
            ("find etl_leases", lambda: list(leases.find({"kind": "replica"})), True),
            ("insert etl_leases", lambda: leases.insert_one({"_id": "shard:0", "holder": "a", "term": 1}), True),
            ("findAndModify etl_leases", lambda: leases.find_one_and_update(
                {"_id": "shard:0"}, {"$inc": {"term": 1}}), True),
            ("delete etl_leases", lambda: leases.delete_one({"_id": "replica:a"}), True),
            ("createIndex etl_cycles", lambda: cycles.create_index([("loop", 1), ("shard", 1), ("slot", -1)]), True),
            ("insert etl_cycles", lambda: cycles.insert_one({"loop": "fast", "shard": "0", "slot": 1}), True),
            ("find etl_cycles", lambda: cycles.find_one({"loop": "fast", "shard": "0"}), True),
            ("drop etl_leases", lambda: db.command({"drop": "etl_leases"}), False),
            ("renameCollection", lambda: client.admin.command(
                {"renameCollection": f"{DB}.etl_cycles", "to": f"{DB}.gone"}), False),
        ],
        "sla-manager": [
            ("find metrics", lambda: metrics.find_one({"_id": "series-1"}), True),
            ("count slaset", lambda: slaset.estimated_document_count(), True),
            ("insert staging", lambda: db[staging].insert_many([{"_id": "a", "position": 0}]), True),
            ("renameCollection over slaset", lambda: client.admin.command({
                "renameCollection": f"{DB}.{staging}", "to": f"{DB}.slaset", "dropTarget": True}), True),
            ("find slaset", lambda: list(slaset.find({}).sort([("position", 1), ("_id", 1)])), True),
            ("update (upsert) slo_minutes", lambda: minutes.update_one(
                {"_id": "k:020000"}, {"$set": {"key": "k", "day": 20000, "m.5": 1}}, upsert=True), True),
            ("createIndex slo_minutes", lambda: minutes.create_index(
                [("expires", 1)], name="expires_ttl", expireAfterSeconds=0), True),
            ("find slo_minutes", lambda: minutes.find_one({"_id": "k"}), True),
            # update and createIndex on metrics are refused by mongod only (granted on
            # slo_minutes alone; SecantusDB checks per database): roles.json says so.
            ("delete metrics", lambda: metrics.delete_one({"_id": "series-1"}), False),
            ("delete slo_minutes", lambda: minutes.delete_one({"_id": "k:020000"}), False),
        ],
    }


def http_get(url):
    """(status, body) of a GET; status None when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except OSError as e:
        return None, str(e)


def database_check(body):
    try:
        return json.loads(body)["checks"]["database"]
    except (ValueError, KeyError, TypeError):
        return None


def check_services(server, services_dir, passwords, spec, log_dir):
    """The Rust services log in with their own users and read; a wrong password is refused."""
    problems = []
    cases = [("retrieval", passwords[spec["users"]["retrieval"]["passwordEnv"]], "/metrics", True),
             ("sla-manager", passwords[spec["users"]["sla-manager"]["passwordEnv"]], "/slaset", True),
             ("retrieval", "a-wrong-password", "/metrics", False)]
    for service, password, path, good in cases:
        api, admin, grpc = free_port(), free_port(), free_port()
        prefix = service.upper().replace("-", "_")
        env = {**os.environ, "BIND_ADDRESS": "127.0.0.1", "RUST_LOG": "warn", "MONGO_DB": DB,
               "MONGO_URI": f"mongodb://{service}:{password}@127.0.0.1:{server.port}/?authSource={DB}"
                            "&directConnection=true",
               f"{prefix}_PORT": str(api), f"{prefix}_ADMIN_PORT": str(admin), "SLA_GRPC_PORT": str(grpc)}
        with open(os.path.join(log_dir, f"{service}-{'good' if good else 'bad'}.log"), "w") as log:
            proc = subprocess.Popen([os.path.join(services_dir, service)], env=env, stdout=log, stderr=log)
        try:
            deadline, state = time.monotonic() + 30, None
            while time.monotonic() < deadline:
                state = database_check(http_get(f"http://127.0.0.1:{admin}/readyz")[1])
                if state == "ok" or (state is not None and not good):
                    break
                time.sleep(0.5)
            status, body = http_get(f"http://127.0.0.1:{api}{path}")
            if good and (state != "ok" or status not in (200, 404)):
                problems.append(f"{service} as {service}: database check {state!r}, GET {path} {status} {body[:200]}")
            if not good and (state is None or "AuthenticationFailed" not in state):
                problems.append(f"{service} with a wrong password: database check {state!r}, want AuthenticationFailed")
        finally:
            proc.terminate()
            proc.wait(30)
    return problems


def check(roles_file, mongo_dir=MONGO_DIR, services_dir=None):
    """Problems found (one line each); empty when every step passed."""
    spec = json.load(open(roles_file))
    passwords = {d["passwordEnv"]: f"test-{user}-{os.getpid()}" for user, d in spec["users"].items()}
    problems = []
    with tempfile.TemporaryDirectory() as data:
        # create-users.js reads roles.json next to it: a copy of the directory with roles_file.
        script_dir = os.path.join(data, "scripts")
        os.mkdir(script_dir)
        with open(os.path.join(mongo_dir, "create-users.js")) as src, \
                open(os.path.join(script_dir, "create-users.js"), "w") as dst:
            dst.write(src.read())
        with open(roles_file) as src, open(os.path.join(script_dir, "roles.json"), "w") as dst:
            dst.write(src.read())
        server = Server(data, auth=False)
        try:
            client = server.client()
            first = run_script(script_dir, passwords, {"roles": [], "users": []})
            again = run_script(script_dir, passwords, {"roles": list(spec["roles"]), "users": list(spec["users"])})
            for call in first + again:
                db, cmd = command_of(call)
                client[db].command(cmd)
            kinds = sorted({c[0] for c in first}), sorted({c[0] for c in again})
            if kinds != (["createRole", "createUser"], ["updateRole", "updateUser"]):
                problems.append(f"create-users.js: calls {kinds}, want create* then update* on a second run")
            client.close()
        finally:
            server.stop()
        server = Server(data, auth=True)
        try:
            anonymous = server.client()
            try:
                anonymous[DB]["metrics"].find_one()
                problems.append("secantusd --auth answered an unauthenticated find")
            except OperationFailure:
                pass
            # The services first, on the empty database (step 2's test documents are not theirs).
            if services_dir:
                problems += check_services(server, services_dir, passwords, spec, data)
            # storage first: the others read what it wrote. Each service's user has its name.
            for service in ("storage", "retrieval", "etl", "sla-manager"):
                password = passwords[spec["users"][service]["passwordEnv"]]
                client = server.client(service, password)
                client[DB].command("ping")
                for what, op, allowed in service_operations(client[DB], client)[service]:
                    try:
                        op()
                        if not allowed:
                            problems.append(f"{service}: {what} was allowed; its role must not grant it")
                    except OperationFailure as e:
                        if allowed or e.code != UNAUTHORIZED:
                            problems.append(f"{service}: {what} failed ({e.code}: {e.details.get('errmsg')})")
                client.close()
        finally:
            server.stop()
    return problems


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--roles", default=os.path.join(MONGO_DIR, "roles.json"))
    parser.add_argument("--services", help="directory of the built service binaries (target/debug)")
    args = parser.parse_args(argv)
    problems = check(args.roles, services_dir=args.services)
    for line in problems:
        print(line)
    print("mongo roles on SecantusDB: " + ("FAIL" if problems else "every operation as granted"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
