"""The MongoDB users check: each service logs in as its own user of deploy/mongo/roles.json,
never as root, in docker compose and in Kubernetes, and the init scripts create those users.

- roles.json: a user (and a role that exists) for every service in USERS;
- compose (the resolved file of `docker-compose config`): each service's MONGO_URI names its
  user and the password the mongo service hands the init script for it; no service uses the
  root user; the mongo service mounts deploy/mongo as /docker-entrypoint-initdb.d;
- Kubernetes: each service's MONGO_URI comes from a Secret key whose URI names its user with the
  Secret's password for it; no workload's MONGO_URI is root's; the init Job gets every user's
  password, mounts the ConfigMap mongo-init-scripts and runs create-users.js; that ConfigMap
  (GENERATED) holds the very files of deploy/mongo (`--write` regenerates it);
- create-users.js creates (or updates) every role and user of roles.json.

What it cannot show: that a MongoDB server accepts the roles and lets each service do its work
(deploy/tools/tests/test_mongo_users.py does that against SecantusDB when it is installed).

Usage: python -m validate.mongo_users COMPOSE_RESOLVED.yml [DIR]   (DIR default kubernetes)
       python -m validate.mongo_users --write                    (regenerates GENERATED)
"""
import json
import os
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

from validate import load_yaml, read_text, report, run
from validate.kubernetes import load, workloads

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
MONGO_DIR = "deploy/mongo"
FILES = ("roles.json", "create-users.js")
GENERATED = "kubernetes/30-mongo-init-scripts.generated.yaml"
SECRET = "sla-monitor-secrets"
INIT_JOB = "mongo-init-replica-set"
# service (compose service and Kubernetes workload name) -> its MongoDB user.
USERS = {"etl": "etl", "storage": "storage", "retrieval": "retrieval", "sla-manager": "sla-manager"}


def uri_credentials(uri):
    """(user, password, authSource) of a mongodb:// URI; user None without credentials."""
    parts = urlsplit(uri)
    auth_source = parse_qs(parts.query).get("authSource", [None])[0]
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return user, password, auth_source


def check_spec(spec):
    problems = []
    for service, user in USERS.items():
        if user not in spec.get("users", {}):
            problems.append(f"roles.json: no user {user} for {service}")
    for user, d in spec.get("users", {}).items():
        if d.get("role") not in spec.get("roles", {}):
            problems.append(f"roles.json: user {user} has the undefined role {d.get('role')}")
        if not d.get("passwordEnv"):
            problems.append(f"roles.json: user {user} has no passwordEnv")
    return problems


def check_script(js):
    """create-users.js reads roles.json and creates or updates every role and user in it."""
    needed = ("roles.json", "spec.roles", "spec.users", "createRole", "updateRole", "createUser", "updateUser")
    return [f"create-users.js: no {word} (it must create or update every role and user of roles.json)"
            for word in needed if word not in js]


def check_uri(where, uri, user, passwords, spec, root_user, database):
    """Problems of one service's MONGO_URI: its own user, that user's password, no root."""
    got, password, auth_source = uri_credentials(uri)
    if got is None:
        return [f"{where}: MONGO_URI has no user (want {user})"]
    if got == root_user:
        return [f"{where}: MONGO_URI logs in as the root user {root_user}"]
    problems = []
    if got != user:
        problems.append(f"{where}: MONGO_URI logs in as {got}, not as its own user {user}")
    elif passwords.get(spec["users"][user]["passwordEnv"]) != password:
        problems.append(f"{where}: MONGO_URI's password is not {spec['users'][user]['passwordEnv']}, "
                        "which the init script sets")
    if database is not None and auth_source != database:
        problems.append(f"{where}: MONGO_URI's authSource is {auth_source}, not {database} (where the users are)")
    return problems


def mount_of(volume):
    """(source relative to the repository when it is below it, target) of a compose volume."""
    if isinstance(volume, dict):
        source, target = str(volume.get("source", "")), volume.get("target")
    else:
        source, target = (volume.split(":") + [None])[:2]
    if source.startswith(ROOT + os.sep):
        source = os.path.relpath(source, ROOT)
    return source.lstrip("./").rstrip("/"), target


def check_compose(services, spec):
    problems = []
    mongo = services.get("mongo", {})
    env = mongo.get("environment") or {}
    root_user = env.get("MONGO_INITDB_ROOT_USERNAME")
    if not any(mount_of(v) == (MONGO_DIR, "/docker-entrypoint-initdb.d") for v in mongo.get("volumes") or []):
        problems.append(f"compose mongo: {MONGO_DIR} is not mounted as /docker-entrypoint-initdb.d")
    for d in spec["users"].values():
        if not env.get(d["passwordEnv"]):
            problems.append(f"compose mongo: no {d['passwordEnv']} for the init script")
    for name, svc in services.items():
        uri = (svc.get("environment") or {}).get("MONGO_URI")
        if name in USERS and uri is None:
            problems.append(f"compose {name}: no MONGO_URI")
        elif uri is not None:
            problems += check_uri(f"compose {name}", uri, USERS.get(name), env, spec, root_user,
                                  env.get("MONGO_DB"))
    return problems


def secret_data(docs, name):
    obj = next((d for _, d in docs if d["kind"] == "Secret" and d["metadata"]["name"] == name), {})
    return {**obj.get("data", {}), **obj.get("stringData", {})}


def config_value(docs, name, key):
    obj = next((d for _, d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == name), {})
    return obj.get("data", {}).get(key)


def check_kubernetes(docs, spec, files):
    problems = []
    secret = secret_data(docs, SECRET)
    root_user = secret.get("MONGO_ROOT_USERNAME")
    database = config_value(docs, "sla-monitor-config", "MONGO_DB")
    seen = set()
    for _, doc, what, pod in workloads(docs):
        name = doc["metadata"]["name"]
        for c in pod.get("initContainers", []) + pod["containers"]:
            for env in c.get("env", []):
                if env["name"] != "MONGO_URI":
                    continue
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref is None:
                    problems.append(f"{what}: MONGO_URI is not taken from a Secret")
                    continue
                uri = secret_data(docs, ref["name"]).get(ref["key"], "")
                seen.add(name)
                problems += check_uri(f"{what} container {c['name']} (Secret key {ref['key']})", uri,
                                      USERS.get(name), secret, spec, root_user, database)
    for service in USERS:
        if service not in seen:
            problems.append(f"Kubernetes {service}: no container with MONGO_URI")
    problems += check_init_job(docs, spec, files)
    return problems


def check_init_job(docs, spec, files):
    job = next(((what, pod) for _, d, what, pod in workloads(docs)
                if d["kind"] == "Job" and d["metadata"]["name"] == INIT_JOB), None)
    if job is None:
        return [f"no Job {INIT_JOB}"]
    what, pod = job
    problems = []
    env = {e["name"] for c in pod["containers"] for e in c.get("env", [])}
    for d in spec["users"].values():
        if d["passwordEnv"] not in env:
            problems.append(f"{what}: no {d['passwordEnv']} for create-users.js")
    if not any("create-users.js" in " ".join(c.get("command", []) + c.get("args", [])) for c in pod["containers"]):
        problems.append(f"{what}: does not run create-users.js")
    if not any(v.get("configMap", {}).get("name") == "mongo-init-scripts" for v in pod.get("volumes", [])):
        problems.append(f"{what}: does not mount the ConfigMap mongo-init-scripts")
    cm = next((d for _, d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "mongo-init-scripts"), None)
    if cm is None or cm.get("data") != files:
        problems.append(f"ConfigMap mongo-init-scripts is not {MONGO_DIR} as it is "
                        f"(PYTHONPATH=deploy/tools python3 -m validate.mongo_users --write)")
    return problems


def render(files):
    """GENERATED: the ConfigMap with the files of deploy/mongo."""
    doc = {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "mongo-init-scripts", "namespace": "sla-monitor",
                     "labels": {"app.kubernetes.io/name": "mongo", "app.kubernetes.io/part-of": "sla-monitor"}},
        "data": files,
    }
    head = ("# GENERATED by `PYTHONPATH=deploy/tools python3 -m validate.mongo_users --write` from\n"
            f"# {MONGO_DIR}: do not edit. The roles and users the mongo-init-replica-set Job creates.\n")
    return head + yaml.dump(doc, Dumper=BlockDumper, sort_keys=False, width=120)


class BlockDumper(yaml.SafeDumper):
    """Writes multi-line strings as `|` blocks: the files stay readable in the ConfigMap."""


BlockDumper.add_representer(str, lambda dumper, text: dumper.represent_scalar(
    "tag:yaml.org,2002:str", text, style="|" if "\n" in text else None))


def read_files(root=ROOT):
    return {name: read_text(os.path.join(root, MONGO_DIR, name)) for name in FILES}


def main(argv):
    files = read_files()
    if argv == ["--write"]:
        with open(os.path.join(ROOT, GENERATED), "w") as f:
            f.write(render(files))
        return 0
    if not argv:
        print(__doc__)
        return 2
    spec = json.loads(files["roles.json"])
    problems = check_spec(spec) + check_script(files["create-users.js"])
    problems += check_compose(load_yaml(argv[0]).get("services", {}), spec)
    problems += check_kubernetes(load(argv[1] if len(argv) > 1 else "kubernetes"), spec, files)
    return report(problems)


if __name__ == "__main__":
    run(main)
