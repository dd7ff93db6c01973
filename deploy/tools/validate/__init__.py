"""The checks of scripts/validate-deploy.sh that read files: one module per check.

validate-deploy.sh starts the tools and the throwaway processes (docker-compose, promtool, a
Prometheus, a node-exporter) and calls these modules, run from the repository root as

    PYTHONPATH=deploy/tools python -m validate.MODULE [ARGS...]

Each module has a pure `check(...)` that takes parsed input and returns the problems found (one
line each, naming the file and the object), and a `main(argv)` that reads the repository's files,
prints the problems and returns the exit status. deploy/tools/tests holds their tests
(`python3 deploy/tools/run_tests.py`).
"""
import sys

import yaml


def report(problems, summary=None):
    """Prints the optional summary line and the problems; returns 1 when there is any problem."""
    if summary is not None:
        print(summary)
    for line in problems:
        print(line)
    return 1 if problems else 0


def load_yaml_docs(path):
    """The non-empty documents of a (multi-document) YAML file."""
    with open(path) as f:
        return [doc for doc in yaml.safe_load_all(f) if doc]


def load_yaml(path):
    with open(path) as f:
        return yaml.safe_load(f)


def read_text(path):
    with open(path) as f:
        return f.read()


def is_pinned(image):
    """An image reference with a tag other than `latest`."""
    return ":" in image and not image.endswith(":latest")


def run(main):
    """Runs a module's main(argv) as the process: its return value is the exit status."""
    sys.exit(main(sys.argv[1:]))
