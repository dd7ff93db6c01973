"""The sla_set.json checks.

- `shape` (sla-set): SLA_SET_SIZE SLAs (the last SLA_SET_SIZE= of .env, 5 without one), each with exactly name, range and for; the name is a
  series of the compose node-exporter (job node, instance node-exporter:9100), no series twice;
  the range is numbers with min <= max; `for` a positive whole number of minutes.
- `series FILE` (sla-set-series): every SLA's metric name is exposed by a real node-exporter,
  whose /metrics answer validate-deploy.sh saved to FILE.

Usage: python -m validate.sla_set shape | series EXPOSITION_FILE   (from the repository root)
"""
import json

from validate import read_text, report, run

SLA_SET = "sla_set.json"
ENV_FILE = ".env"
DEFAULT_SIZE = 5
NODE_EXPORTER = {"job": "node", "instance": "node-exporter:9100"}


def set_size(env_text):
    """SLA_SET_SIZE of a .env file's text: its last assignment, DEFAULT_SIZE without one."""
    sizes = [line[len("SLA_SET_SIZE="):].strip() for line in env_text.splitlines() if line.startswith("SLA_SET_SIZE=")]
    return int(sizes[-1]) if sizes and sizes[-1] else DEFAULT_SIZE


def check_shape(slas, size):
    problems = []
    if not isinstance(slas, list) or len(slas) != size:
        problems.append(f"expected a list of {size} SLAs (SLA_SET_SIZE)")
        if not isinstance(slas, list):
            return problems
    names = set()
    for i, sla in enumerate(slas, 1):
        if not isinstance(sla, dict) or set(sla) != {"name", "range", "for"}:
            keys = sorted(sla) if isinstance(sla, dict) else type(sla).__name__
            problems.append(f"SLA {i}: keys are {keys}, expected name, range, for")
            continue
        n = sla["name"]
        if not n.get("__name__") or any(n.get(k) != v for k, v in NODE_EXPORTER.items()):
            problems.append(f"SLA {i}: not a series of the compose node-exporter: {n}")
        key = json.dumps(n, sort_keys=True)
        if key in names:
            problems.append(f"SLA {i}: series listed twice")
        names.add(key)
        r = sla["range"]
        if not all(isinstance(r.get(k), (int, float)) for k in ("min", "max")) or r["min"] > r["max"]:
            problems.append(f"SLA {i}: range {r} is not min <= max")
        if not isinstance(sla["for"], int) or sla["for"] <= 0:
            problems.append(f"SLA {i}: for {sla['for']!r} is not a positive number of minutes")
    return problems


def exposed_series(exposition):
    """The series (name and labels, as written) of a Prometheus text exposition."""
    return {line.split(" ")[0] for line in exposition.splitlines() if line and not line.startswith("#")}


def missing_series(slas, exposed):
    """The SLAs' metric names that are not among the exposed series."""
    return [sla["name"]["__name__"] for sla in slas if sla["name"]["__name__"] not in exposed]


def main(argv):
    slas = json.loads(read_text(SLA_SET))
    if argv[0] == "shape":
        return report(check_shape(slas, set_size(read_text(ENV_FILE))))
    exposed = exposed_series(read_text(argv[1]))
    missing = missing_series(slas, exposed)
    if missing:
        print("series missing from node-exporter: " + ", ".join(missing))
        return 1
    print(f"{len(exposed)} series exposed, all SLA series among them")
    return 0


if __name__ == "__main__":
    run(main)
