"""The metric names check: every etl_/storage_/retrieval_/sla_/http_ metric the alert rules and
the dashboards use is defined, as a string literal, in the services' sources (crates/*/src), so
a renamed metric cannot leave a silent alert or an empty panel behind. Histogram series
(_bucket, _sum, _count) count as their base name.

Usage: python -m validate.metric_names
"""
import glob
import re

from validate import read_text, run
from validate.grafana import dashboard_files

RULES = "deploy/prometheus/rules.yml"
PREFIX = r"(?:etl|storage|retrieval|sla|http)_[a-zA-Z0-9_]+"
USED = re.compile(r"\b(" + PREFIX + ")")
DEFINED = re.compile(r'"(' + PREFIX + ')"')
HISTOGRAM_SUFFIX = re.compile(r"_(bucket|sum|count)$")


def used_names(sources):
    """sources: (path, text) of rules and dashboards. Returns {base metric name: paths}."""
    used = {}
    for path, text in sources:
        for name in USED.findall(text):
            used.setdefault(HISTOGRAM_SUFFIX.sub("", name), set()).add(path)
    return used


def defined_names(rust_sources):
    """rust_sources: texts of Rust files. Returns the metric names they hold as literals."""
    defined = set()
    for text in rust_sources:
        defined.update(DEFINED.findall(text))
    return defined


def check(sources, rust_sources):
    """Returns (problems, number of names used)."""
    used = used_names(sources)
    defined = defined_names(rust_sources)
    missing = {n: p for n, p in used.items() if n not in defined}
    problems = [f"{name}: used in {', '.join(sorted(paths))}, defined in no crates/*/src file"
                for name, paths in sorted(missing.items())]
    return problems, len(used)


def main(argv):
    sources = [(path, read_text(path)) for path in [RULES] + dashboard_files()]
    rust = (read_text(path) for path in glob.glob("crates/*/src/**/*.rs", recursive=True))
    problems, n = check(sources, rust)
    for line in problems:
        print(line)
    print(f"{n} metric names used, {len(problems)} undefined")
    return 1 if problems else 0


if __name__ == "__main__":
    run(main)
