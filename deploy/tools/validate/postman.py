"""The Postman collection check (postman_collection.json).

A v2.1 collection that sends the token as a bearer token and has the variables the requests
use; every request goes to a host variable, has tests that look at the response and an
example response; every REST endpoint of both services has a request. The scripts (test and
pre-request) are written to WORK_DIR/scriptN.js, for validate-deploy.sh to parse with
`node --check`.

Usage: python -m validate.postman WORK_DIR
"""
import json
import os

from validate import read_text, report, run

COLLECTION = "postman_collection.json"
SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
VARIABLES = ("retrieval_url", "sla_manager_url", "token", "id")
HOSTS = ("retrieval_url", "sla_manager_url")
# (host variable, method, path, with ?name=): the REST endpoints of both services.
REQUIRED = [
    ("retrieval_url", "GET", "/metrics", False), ("retrieval_url", "GET", "/metrics", True),
    ("retrieval_url", "GET", "/metrics/{id}/metadata", False), ("retrieval_url", "GET", "/metrics/{id}/values", False),
    ("retrieval_url", "GET", "/metrics/{id}/prediction", False), ("retrieval_url", "GET", "/metrics/{id}/aggregate", False),
    ("retrieval_url", "GET", "/metrics/{id}/anomalies", False), ("retrieval_url", "GET", "/outliers", True),
    ("retrieval_url", "GET", "/openapi.json", False),
    ("sla_manager_url", "GET", "/slaset", False), ("sla_manager_url", "PUT", "/slaset", False),
    ("sla_manager_url", "GET", "/status", False), ("sla_manager_url", "GET", "/violations", False),
    ("sla_manager_url", "GET", "/future-violations", False), ("sla_manager_url", "GET", "/openapi.json", False),
    ("sla_manager_url", "GET", "/slo", False),
]


def requests_of(items):
    """The requests of a collection's items, folders flattened, in order."""
    out = []
    for it in items:
        if "item" in it:
            out += requests_of(it["item"])
        else:
            out.append(it)
    return out


def endpoint(request):
    """(host variable, method, path with {id}, with ?name=) of a request."""
    raw = request["url"]["raw"]
    base, _, rest = raw.partition("}}")
    path = "/" + rest.lstrip("/").split("?")[0]
    return base.strip("{"), request["method"], path.replace("{{id}}", "{id}"), "name=" in raw


def check(collection):
    """Returns (problems, requests, scripts): scripts are the source of every event script."""
    problems = []
    if collection["info"]["schema"] != SCHEMA:
        problems.append("not a v2.1 collection")
    variables = {v["key"] for v in collection.get("variable", [])}
    for v in VARIABLES:
        if v not in variables:
            problems.append(f"no variable {v}")
    if collection.get("auth", {}).get("type") != "bearer":
        problems.append("the collection does not send the token as a bearer token")
    requests = requests_of(collection["item"])
    covered = set()
    scripts = []
    for it in requests:
        host, method, path, with_name = endpoint(it["request"])
        if host not in HOSTS:
            problems.append(f"{it['name']}: host {host!r} is not a variable")
        covered.add((host, method, path, with_name))
        if not [e for e in it.get("event", []) if e["listen"] == "test"]:
            problems.append(f"{it['name']}: no tests")
        if not it.get("response"):
            problems.append(f"{it['name']}: no example response")
        for e in it.get("event", []):
            src = "\n".join(e["script"]["exec"])
            if e["listen"] == "test" and "pm.response" not in src:
                problems.append(f"{it['name']}: tests do not look at the response")
            scripts.append(src)
    for req in REQUIRED:
        if req not in covered:
            problems.append(f"no request for {req[1]} {req[0]}{req[2]}" + ("?name=" if req[3] else ""))
    return problems, requests, scripts


def main(argv):
    work = argv[0]
    problems, requests, scripts = check(json.loads(read_text(COLLECTION)))
    for i, src in enumerate(scripts, 1):
        with open(os.path.join(work, f"script{i}.js"), "w") as f:
            f.write(src)
    return report(problems, f"{len(requests)} requests, {len(scripts)} scripts")


if __name__ == "__main__":
    run(main)
