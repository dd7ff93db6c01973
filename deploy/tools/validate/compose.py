"""The compose check: what the design asks of docker-compose.yml beyond what
`docker-compose config` validates.

Every file it bind-mounts (`- ./PATH:...`) is in the repository. The rest is read from the
output of `docker-compose config` (variables interpolated, depends_on in its long form): the image of every service is pinned; the four services have a health check on /readyz
and wait for their dependencies (etl and storage for the topic's creation); the etl has its
MongoDB (leases) and ETL_SHARDS; etl and storage publish no ports, so `--scale` works; the REST
APIs, the admin Prometheus, Grafana and the target Prometheus are published.

Usage: python -m validate.compose COMPOSE_CONFIG_YML   (from the repository root)
"""
import os
import re

from validate import is_pinned, load_yaml, read_text, report, run

COMPOSE_FILE = "docker-compose.yml"
# A short-form bind mount of a repository path, as docker-compose.yml writes them.
BIND_MOUNT = re.compile(r"^\s+- \./([^:]+)", re.M)

SERVICES = ("etl", "storage", "retrieval", "sla-manager")
# Scaled with `docker-compose up --scale NAME=N`: a published port would clash.
SCALED = ("etl", "storage")
PUBLISHED = ("5000", "5001", "9098", "3000", "9090")


def published_port(port):
    """The host port of a ports entry: "HOST_IP:PUBLISHED:TARGET", "PUBLISHED:TARGET" or the
    long form."""
    if isinstance(port, dict):
        return str(port.get("published"))
    return str(port).rsplit(":", 1)[0].split(":")[-1]


def missing_bind_mounts(compose_text, exists=os.path.exists):
    """The problems of the repository paths compose_text bind-mounts that do not exist."""
    return [f"bind-mounted path missing: ./{path}" for path in BIND_MOUNT.findall(compose_text)
            if not exists(path)]


def check(services):
    problems = []
    for name, svc in services.items():
        image = svc.get("image", "")
        if not is_pinned(image):
            problems.append(f"{name}: image {image!r} is not pinned")
    for name in SERVICES:
        test = services[name].get("healthcheck", {}).get("test", [])
        if "/readyz" not in " ".join(test):
            problems.append(f"{name}: no health check on /readyz")
        if not services[name].get("depends_on"):
            problems.append(f"{name}: no depends_on")
    for name in SCALED:
        waits = services[name].get("depends_on") or {}
        if waits.get("init-topic", {}).get("condition") != "service_completed_successfully":
            problems.append(f"{name}: does not wait for init-topic")
    # The etl's leases are in MongoDB.
    env = services["etl"].get("environment", {})
    for var in ("MONGO_URI", "MONGO_DB", "ETL_SHARDS"):
        if var not in env:
            problems.append(f"etl: no {var}")
    if "mongo" not in (services["etl"].get("depends_on") or {}):
        problems.append("etl: does not wait for mongo (its leases)")
    for name in SCALED:
        if services[name].get("ports"):
            problems.append(f"{name}: publishes ports, so `--scale {name}=N` would clash")
    published = {published_port(p) for svc in services.values() for p in svc.get("ports", [])}
    for port in PUBLISHED:
        if port not in published:
            problems.append(f"port {port} is not published")
    return problems


def main(argv):
    problems = missing_bind_mounts(read_text(COMPOSE_FILE)) + check(load_yaml(argv[0])["services"])
    return report(problems)


if __name__ == "__main__":
    run(main)
