"""The Grafana queries check: every PromQL expression of the dashboards parses.

A Prometheus answers: validate-deploy.sh starts a throwaway one (no data) on a free loopback
port, and each expression, with Grafana's variables replaced by plausible values, is sent to
its query API; a 400 is a rejected expression. Fails when an expression is rejected, or when
there is none (a check that saw nothing proves nothing).

Usage: python -m validate.dashboard_queries PORT
"""
import json
import urllib.error
import urllib.parse
import urllib.request

from validate import read_text, run
from validate.grafana import dashboard_files

# Grafana's variables (built-in and the dashboards' own) and a value Prometheus accepts.
VARIABLES = (("$__rate_interval", "5m"), ("$__interval", "1m"), ("$top", "10"), ("$metric_name", ".*"))


def substitute(expr):
    for var, value in VARIABLES:
        expr = expr.replace(var, value)
    return expr


def expressions(path, dashboard):
    """(path, panel title, expression) of every query of a parsed dashboard, variables replaced."""
    for p in dashboard["panels"]:
        for t in p.get("targets", []):
            yield path, p["title"], substitute(t["expr"])


def rejection(base_url, expr):
    """None when Prometheus at base_url parses expr, else the start of its error answer."""
    url = f"{base_url}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        urllib.request.urlopen(url, timeout=10).read()
    except urllib.error.HTTPError as e:
        return e.read().decode()[:300]
    return None


def check(base_url, dashboards):
    """dashboards: (path, parsed dashboard). Returns (problems, number of expressions)."""
    problems = []
    n = 0
    for path, d in dashboards:
        for _, title, expr in expressions(path, d):
            n += 1
            error = rejection(base_url, expr)
            if error is not None:
                problems.append(f"{path}: panel {title!r}: {error}")
    return problems, n


def main(argv):
    dashboards = [(path, json.loads(read_text(path))) for path in dashboard_files()]
    problems, n = check(f"http://127.0.0.1:{argv[0]}", dashboards)
    for line in problems:
        print(line)
    print(f"{n} expressions, {len(problems)} rejected")
    return 1 if problems or n == 0 else 0


if __name__ == "__main__":
    run(main)
