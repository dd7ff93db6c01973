"""Prints sla_set.json adapted to a target Prometheus.

Usage: python3 deploy/tools/adapt_sla_set.py SLA_SET_JSON PROMETHEUS_URL

Each SLA keeps its metric name and job and takes the full label set that series has in that
Prometheus (its `instance` differs between compose, Kubernetes and a local run). Exits non-zero,
naming the selector, when a series is not there (yet: node-exporter's appear after a scrape).
"""
import json
import sys
import urllib.parse
import urllib.request

slas = json.load(open(sys.argv[1]))
prometheus = sys.argv[2].rstrip("/")
for sla in slas:
    name = sla["name"]
    selector = '{__name__="%s",job="%s"}' % (name["__name__"], name["job"])
    url = prometheus + "/api/v1/series?" + urllib.parse.urlencode({"match[]": selector})
    series = json.load(urllib.request.urlopen(url, timeout=10))["data"]
    if not series:
        sys.exit(f"the target Prometheus has no series {selector}")
    sla["name"] = series[0]
json.dump(slas, sys.stdout, indent=2)
