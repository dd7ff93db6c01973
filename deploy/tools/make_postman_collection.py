"""Writes postman_collection.json (Postman v2.1) from this description of the requests and tests,
with sla_set.json as the default body of PUT /slaset. Run: python3 deploy/tools/make_postman_collection.py"""
import json, os, sys, uuid
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
slaset = json.load(open(ROOT + '/sla_set.json'))

def ns(name): return str(uuid.uuid5(uuid.NAMESPACE_URL, 'sla-monitor/' + name))

def url(base, path, query=None):
    segs = [s for s in path.strip('/').split('/') if s]
    raw = '{{%s}}/%s' % (base, '/'.join(segs))
    u = {"raw": raw, "host": ["{{%s}}" % base], "path": segs}
    if query:
        raw += '?' + '&'.join('%s=%s' % (k, v) for k, v, _ in query)
        u["raw"] = raw
        u["query"] = [{"key": k, "value": v, "description": d} for k, v, d in query]
    return u

def req(name, method, base, path, tests, desc, query=None, body=None, auth=True, prerequest=None, examples=()):
    r = {"method": method, "header": [{"key": "Accept", "value": "application/json"}],
         "url": url(base, path, query), "description": desc}
    if body is not None:
        r["header"].append({"key": "Content-Type", "value": "application/json"})
        r["body"] = {"mode": "raw", "raw": body, "options": {"raw": {"language": "json"}}}
    if not auth:
        r["auth"] = {"type": "noauth"}
    events = [{"listen": "test", "script": {"type": "text/javascript", "exec": tests.strip('\n').split('\n')}}]
    if prerequest:
        events.insert(0, {"listen": "prerequest", "script": {"type": "text/javascript", "exec": prerequest.strip('\n').split('\n')}})
    resp = []
    for ex_name, status, code, ex_body in examples:
        resp.append({"name": ex_name, "originalRequest": {"method": method, "header": [], "url": url(base, path, query)},
                     "status": status, "code": code, "_postman_previewlanguage": "json",
                     "header": [{"key": "Content-Type", "value": "application/json"}], "body": json.dumps(ex_body, indent=2)})
    return {"name": name, "event": events, "request": r, "response": resp, "id": ns(name)}

ERR = '''
pm.test("error body is {\\"error\\": string}", function () {
    const body = pm.response.json();
    pm.expect(body).to.be.an("object");
    pm.expect(body.error).to.be.a("string").and.not.empty;
});'''
JSONCT = '''
pm.test("answer is JSON", function () {
    pm.expect(pm.response.headers.get("Content-Type")).to.include("application/json");
});'''


def for_each(title, array, item):
    """The opening of a test that the answer is a non-empty JSON array (`array`), and of its loop
    over each element (`item`): the caller's checks follow, then the two closings."""
    return f'''
pm.test("{title}", function () {{
    const {array} = pm.response.json();
    pm.expect({array}).to.be.an("array").and.not.empty;
    {array}.forEach(function ({item}) {{'''


def status(code):
    """The test script's check of the answer's status code."""
    return f'''
pm.test("status is {code}", function () {{
    pm.response.to.have.status({code});
}});'''

# PUT /slaset with OpenSLO YAML: one of the spec's own examples, whose fields this service does
# not have: a 400 naming them, and the stored set is left as it is.
openslo_put = req("PUT /slaset with OpenSLO YAML (400: unsupported fields named)", "PUT", "sla_manager_url", "/slaset", JSONCT + status(400) + ERR + '''
pm.test("details name the unsupported fields", function () {
    const details = pm.response.json().details;
    pm.expect(details).to.be.an("array").and.not.empty;
    pm.expect(details.join("\\n")).to.include("unsupported field spec.alertPolicies");
});''', "`Content-Type: application/yaml`: OpenSLO v1 `SLO` documents, one per entry (a Prometheus thresholdMetric with Timeslices, or ratioMetric with Occurrences, "
    "SLI inline), checked like a JSON set. This one has alert policies and a source that is not Prometheus: every unsupported field is named in one 400.",
    body="""apiVersion: openslo/v1
kind: SLO
metadata:
  name: search-slo
spec:
  indicator:
    spec:
      ratioMetric:
        good: {metricSource: {type: Any, spec: {query: good}}}
        total: {metricSource: {type: Prometheus, spec: {query: sum(up)}}}
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Occurrences
  alertPolicies: [{alertPolicyRef: pager}]
  objectives: [{target: 0.99}]
""", examples=[("Unsupported fields", "Bad Request", 400, {"error": "The SLA set is invalid", "details": [
        "document 1: unsupported field spec.alertPolicies",
        "document 1: spec.indicator.spec.ratioMetric.good.metricSource.type must be Prometheus, got \"Any\""]})])
openslo_put["request"]["header"] = [{"key": "Accept", "value": "application/json"}, {"key": "Content-Type", "value": "application/yaml"}]
openslo_put["request"]["body"]["options"] = {"raw": {"language": "text"}}

W = {"min": 0.12, "max": 1.87, "avg": 0.64, "std_dev": 0.31, "count": 240}
sla_view = [dict(s, id="6f1c0a9e3b27d845" if i == 0 else "%016x" % (0x1a2b3c4d5e6f7081 + i)) for i, s in enumerate(slaset)]
at_ex = "2026-11-22T06:00:00Z"
status_ex = [dict(sla_view[0], status="inactive", description="Actual value [0.35] in (0, 4)", **{"last-values": [0.41, 0.38, 0.35]},
                  out_of_range_minutes=0, evaluated_at=at_ex)]
viol_ex = [dict(sla_view[0], **{"1h": {"n": 0, "time": 0.0}, "3h": {"n": 1, "time": 7.0}, "12h": {"n": 2, "time": 19.0},
          "violation_list": [{"start_time": "2026-11-22T04:10:00Z", "end_time": "2026-11-22T04:17:00Z", "duration": 7.0, "avg_value": 4.6, "max_value": 5.2, "min_value": 4.1, "ongoing": False}]},
          evaluated_at=at_ex)]
fut_ex = [dict(sla_view[0], status="pending", evaluated_at=at_ex, model="holt_winters_add", prediction_rmse=0.08,
          violations=[{"start_time": "2026-11-22T05:58:00Z", "end_time": "2026-11-22T06:04:00Z", "duration": 6, "description": "Was pending, will fire",
                       "predicted_minutes": 3, "continuing": True, "avg": 4.4, "max": 4.9, "min": 4.1, "probability": 0.71, "probability_independent": 0.64},
                      {"avg_value": 3.1, "max_value": 4.9, "min_value": 0.4}],
          summary={"avg_value": 3.1, "max_value": 4.9, "min_value": 0.4}),
          dict(sla_view[1], status="inactive", evaluated_at=at_ex, error="Prediction not available")]

sla_items = [
  req("PUT /slaset (the SLA set)", "PUT", "sla_manager_url", "/slaset", JSONCT + '''
pm.test("set created (201) or updated (200)", function () {
    pm.expect(pm.response.code).to.be.oneOf([200, 201]);
});
pm.test("answer names the stored set with an id per metric", function () {
    const body = pm.response.json();
    pm.expect(body.message).to.be.oneOf(["SLA set created", "SLA set updated"]);
    pm.expect(body.slaset).to.be.an("array").and.not.empty;
    body.slaset.forEach(function (sla) {
        pm.expect(sla.id).to.match(/^[0-9a-f]{16}$/);
        pm.expect(sla.name).to.have.property("__name__");
        pm.expect(sla.range.min).to.be.at.most(sla.range.max);
        pm.expect(sla["for"]).to.be.a("number").and.above(0);
    });
    pm.collectionVariables.set("sla_id", body.slaset[0].id);
});''',
      "Replaces the SLA set (SLA_SET_SIZE metrics; every series must exist in the target Prometheus). "
      "201 when created, 200 when replaced; 400 lists every problem; 401 without the bearer token when SLA_API_TOKEN is set. "
      "The body is the variable `slaset` (by default the content of sla_set.json, for the compose setup); "
      "override it, e.g. `newman run ... --env-var \"slaset=$(cat my_set.json)\"`.",
      body="{{slaset}}",
      examples=[("Created", "Created", 201, {"message": "SLA set created", "slaset": sla_view}),
                ("Invalid set", "Bad Request", 400, {"error": "The SLA set is invalid", "details": ["metric 1: range.min 2 is above range.max 1"]})]),
  req("PUT /slaset with an invalid set (400, every problem listed)", "PUT", "sla_manager_url", "/slaset", JSONCT + status(400) + ERR + '''
pm.test("details list the problems", function () {
    const body = pm.response.json();
    pm.expect(body.details).to.be.an("array").and.not.empty;
    body.details.forEach(function (problem) { pm.expect(problem).to.be.a("string"); });
});''',
      "A set with an empty name, min above max and a zero `for`: one 400 listing every problem.",
      body=json.dumps([{"name": {}, "range": {"min": 2, "max": 1}, "for": 0}], indent=2),
      examples=[("Invalid set", "Bad Request", 400, {"error": "The SLA set is invalid", "details": ["metric 1: name must have __name__", "metric 1: range.min 2 is above range.max 1", "metric 1: for must be a positive number of minutes", "the set must have 5 metrics, got 1"]})]),
  req("GET /slaset", "GET", "sla_manager_url", "/slaset", JSONCT + status(200) + for_each("the set: id, name, range, for", "set", "sla") + '''
        pm.expect(sla).to.include.all.keys("id", "name", "range", "for");
        pm.expect(sla.id).to.match(/^[0-9a-f]{16}$/);
        pm.expect(sla.range).to.include.all.keys("min", "max");
    });
    pm.collectionVariables.set("sla_id", set[0].id);
    pm.collectionVariables.set("metric_name", set[0].name.__name__);
});''', "The stored SLA set, in the order it was given (404 before any PUT). Captures `sla_id` and `metric_name` from its first metric.",
      examples=[("The set", "OK", 200, sla_view)]),
  req("GET /status", "GET", "sla_manager_url", "/status", JSONCT + status(200) + for_each("a list as in the original: name, status, description, last-values per SLA", "body", "m") + '''
        pm.expect(m).to.include.all.keys("name", "status", "description", "last-values");
        pm.expect(m.name).to.be.an("object");
        pm.expect(m.status).to.be.oneOf(["inactive", "pending", "firing", "unknown"]);
        pm.expect(m.description).to.be.a("string");
        pm.expect(m["last-values"]).to.be.an("array");
        if (m.status === "inactive") {
            pm.expect(m.description).to.match(/^Actual value \\[.+\\] in \\(.+, .+\\)$/);
        }
        pm.expect(m.id).to.match(/^[0-9a-f]{16}$/);
        pm.expect(Date.parse(m.evaluated_at)).to.not.be.NaN;
        pm.expect(m.out_of_range_minutes).to.be.a("number");
    });
});''', "Each SLA's state now, a list as in the original: `status` inactive, pending (out of range for less than `for` minutes), firing, or unknown; the original's `description`; `last-values`, the last three values at a 1-minute step. `?at=` (RFC 3339 or unix seconds) evaluates at another time.",
      examples=[("States", "OK", 200, status_ex)]),
  req("GET /status?at= (an hour ago)", "GET", "sla_manager_url", "/status", JSONCT + status(200) + for_each("evaluated at the time asked", "body", "m") + '''
        pm.expect(Date.parse(m.evaluated_at) / 1000).to.eql(Number(pm.variables.get("an_hour_ago")));
    });
});''', "The state as it was an hour ago (unix seconds in `at`).",
      query=[("at", "{{an_hour_ago}}", "Evaluation time: RFC 3339 or unix seconds")],
      prerequest='pm.variables.set("an_hour_ago", String(Math.floor(Date.now() / 1000) - 3600));',
      examples=[("States", "OK", 200, status_ex)]),
  req("GET /status?at=yesterday (400)", "GET", "sla_manager_url", "/status", JSONCT + status(400) + ERR, "A malformed `at` is a 400.", query=[("at", "yesterday", "not a time")],
      examples=[("Bad time", "Bad Request", 400, {"error": "at must be an RFC 3339 time or unix seconds, got \"yesterday\""})]),
  req("GET /violations", "GET", "sla_manager_url", "/violations", JSONCT + status(200) + for_each("a list as in the original: counts and minutes in 1h, 3h, 12h and the violation_list", "body", "m") + '''
        pm.expect(m).to.include.all.keys("name", "1h", "3h", "12h", "violation_list");
        pm.expect(m.id).to.match(/^[0-9a-f]{16}$/);
        ["1h", "3h", "12h"].forEach(function (w) {
            pm.expect(m[w].n).to.be.a("number");
            pm.expect(m[w].time).to.be.a("number");
        });
        pm.expect(m.violation_list).to.be.an("array");
        m.violation_list.forEach(function (v) {
            pm.expect(v).to.include.all.keys("start_time", "end_time", "duration", "avg_value", "max_value", "min_value");
        });
    });
});''', "Each SLA's violations (runs out of range for at least `for` minutes), a list as in the original: how many overlap the last 1, 3 and 12 hours (`n`) and their minutes (`time`), and `violation_list`, those of the last 12 hours.",
      examples=[("Violations", "OK", 200, viol_ex)]),
  req("GET /future-violations", "GET", "sla_manager_url", "/future-violations", JSONCT + status(200) + '''
const descriptions = ["Was already firing, continuing firing", "Was pending, will fire", "Will fire", "Will be pending"];
pm.test("a list as in the original: the runs then the forecast's statistics, or Prediction not available", function () {
    const body = pm.response.json();
    pm.expect(body).to.be.an("array").and.not.empty;
    body.forEach(function (m) {
        pm.expect(m).to.have.property("name");
        pm.expect(m.id).to.match(/^[0-9a-f]{16}$/);
        if (m.error !== undefined) {
            pm.expect(m.error).to.eql("Prediction not available");
            return;
        }
        pm.expect(m).to.include.all.keys("violations", "prediction_rmse");
        const last = m.violations[m.violations.length - 1];
        pm.expect(last).to.include.all.keys("avg_value", "max_value", "min_value");
        m.violations.slice(0, -1).forEach(function (v) {
            pm.expect(v).to.include.all.keys("start_time", "end_time", "duration", "description");
            pm.expect(v.description).to.be.oneOf(descriptions);
            pm.expect(v.probability).to.be.within(0, 1);
            pm.expect(v.probability_independent).to.be.within(0, 1);
            pm.expect(Date.parse(v.start_time)).to.be.at.most(Date.parse(v.end_time));
        });
    });
});''', "Each SLA's predicted out-of-range runs over the forecast horizon (from the stored prediction), a list as in the original: `violations` holds the runs, labelled from the state now (\"Was already firing, continuing firing\", \"Was pending, will fire\", \"Will fire\", \"Will be pending\"), then `{avg_value, max_value, min_value}` of the forecast; with `prediction_rmse`. Without a prediction: `error` \"Prediction not available\".",
      examples=[("Predicted", "OK", 200, fut_ex)]),
  req("GET /slo", "GET", "sla_manager_url", "/slo", JSONCT + status(200) + '''
pm.test("each SLA with an objective: compliance, budget, burn rates, alerts", function () {
    const body = pm.response.json();
    pm.expect(body).to.be.an("array");
    body.forEach(function (m) {
        pm.expect(m.id).to.match(/^[0-9a-f]{16}$/);
        pm.expect(m).to.include.all.keys("target", "compliance", "budget", "burn_rates", "alerts", "time_to_exhaustion_seconds");
        if (m.budgeting === "Occurrences") {
            // A ratio SLI: its budget is in events, and the etl forecasts no ratio.
            pm.expect(m).to.include.all.keys("good", "total", "counter", "good_events", "total_events");
            pm.expect(m.budget).to.include.all.keys("total_events", "consumed_events", "remaining_events", "consumed_ratio", "remaining_ratio");
        } else {
            pm.expect(m).to.include.all.keys("name", "range", "for", "forecast");
            pm.expect(m.budget).to.include.all.keys("total_minutes", "consumed_minutes", "remaining_minutes", "consumed_ratio", "remaining_ratio");
            if (m.forecast !== null) { pm.expect(m.forecast.breach_probability).to.be.within(0, 1); }
        }
        pm.expect(m.burn_rates.map(function (b) { return b.window; })).to.eql(["5m", "30m", "1h", "2h", "6h", "1d", "3d"]);
        pm.expect(m.alerts).to.have.lengthOf(4);
        m.alerts.forEach(function (a) { pm.expect(a.severity).to.be.oneOf(["page", "ticket"]); pm.expect(a.firing).to.be.a("boolean"); });
    });
});''', "Each SLA of the set that has an `objective` (`{\"target\": 0.995, \"window\": \"28d\"}`): a timeslice SLO over the minutes in range. "
      "Compliance over the rolling window, the error budget in minutes and as shares, burn rates over 5m to 3d, the SRE workbook's multi-window multi-burn-rate alerts "
      "(page 14.4x 1h/5m, 6x 6h/30m; ticket 3x 1d/2h, 1x 3d/6h) and the time until the budget is spent at the 1h burn rate; `forecast`: from the series' stored prediction, "
      "the probability that the objective is missed over its horizon, when the budget runs out by it, and when the series leaves its range. "
      "A ratio SLI (`{\"good\", \"total\", \"objective\"}`) has `budgeting: Occurrences` and its budget in events. `at` evaluates the past, as for /status.",
      examples=[("Objectives", "OK", 200, [dict(sla_view[0], target=0.995, window="28d", compliance=0.99767, good_minutes=40227, measured_minutes=40321,
                  budget={"total_minutes": 201.6, "consumed_minutes": 94.0, "remaining_minutes": 107.6, "consumed_ratio": 0.4663, "remaining_ratio": 0.5337},
                  burn_rates=[{"window": "1h", "rate": 40.0, "bad_minutes": 12, "measured_minutes": 60, "time_to_exhaustion_seconds": 32280.0}],
                  alerts=[{"severity": "page", "factor": 14.4, "long_window": "1h", "short_window": "5m", "firing": True}],
                  time_to_exhaustion_seconds=32280.0,
                  forecast={"model": "holt_winters_additive", "horizon_seconds": 600, "expected_bad_minutes": 5.5, "breach_probability": 0.875,
                            "time_to_exhaustion_seconds": 480.0, "leaves_range": {"at": "2026-11-22T06:04:00Z", "in_seconds": 240, "probability": 0.999}},
                  evaluated_at="2026-11-22T06:00:00Z")])]),
  req("GET /slaset?format=openslo", "GET", "sla_manager_url", "/slaset", status(200) + '''
pm.test("answer is OpenSLO YAML", function () {
    pm.expect(pm.response.headers.get("Content-Type")).to.include("application/yaml");
    const text = pm.response.text();
    // One SLO document per entry with an objective; a comment for each entry without one.
    text.split("\\n").filter(function (l) { return l.length > 0; }).forEach(function (line) {
        pm.expect(line.startsWith("#") || line.startsWith("---") || line.startsWith(" ") || /^[a-zA-Z]+:/.test(line)).to.be.true;
    });
});''', "The stored set as OpenSLO v1 `SLO` documents (`application/yaml`): a range SLA with an objective as a thresholdMetric with Timeslices budgeting, "
      "a ratio SLI as a ratioMetric with Occurrences budgeting; an entry without an objective is no SLO and is left out (a comment says so). `format=json` (the default) is the JSON list.",
      query=[("format", "openslo", "json (the default) or openslo")],
      examples=[("OpenSLO", "OK", 200, "# metric 1 has no objective: not an SLO, left out\n---\napiVersion: openslo/v1\nkind: SLO\n")]),
  openslo_put,
  req("GET /openapi.json (sla-manager)", "GET", "sla_manager_url", "/openapi.json", JSONCT + status(200) + '''
pm.test("an OpenAPI 3 document of every route", function () {
    const doc = pm.response.json();
    pm.expect(doc.openapi).to.match(/^3\\./);
    pm.expect(doc.paths).to.include.all.keys("/slaset", "/status", "/violations", "/future-violations");
});''', "The OpenAPI document of the sla-manager's REST API.", auth=False,
      examples=[("Document", "OK", 200, {"openapi": "3.1.0", "info": {"title": "sla-manager", "version": "0.1.0"}, "paths": {"/slaset": {}, "/status": {}, "/violations": {}, "/future-violations": {}}})]),
]

ids_hex = "/^[0-9a-f]{16}$/"
win = '''function checkWindow(w) {
    pm.expect(w).to.include.all.keys("min", "max", "avg", "std_dev", "count");
    pm.expect(w.min).to.be.at.most(w.max);
    pm.expect(w.count).to.be.a("number").and.at.least(0);
}'''
retrieval_items = [
  req("GET /metrics", "GET", "retrieval_url", "/metrics", JSONCT + status(200) + for_each("every series: a 16-hex id and its labels", "series", "s") + '''
        pm.expect(s.id).to.match(/^[0-9a-f]{16}$/);
        pm.expect(s.name.__name__).to.be.a("string");
    });
});
// Capture `id`: the first SLA metric when it is listed (it has every kind of result, a
// prediction included), else the first series of `metric_name`, else the first one.
const series = pm.response.json();
const slaId = pm.collectionVariables.get("sla_id");
const name = pm.collectionVariables.get("metric_name");
const chosen = series.find(function (s) { return s.id === slaId; })
    || series.find(function (s) { return s.name.__name__ === name; })
    || series[0];
if (chosen) {
    pm.collectionVariables.set("id", chosen.id);
}''', "Every stored series with its id and labels, sorted by id. Captures `id` for the requests below.",
      examples=[("Series", "OK", 200, [{"id": "6f1c0a9e3b27d845", "name": slaset[0]["name"]}])]),
  req("GET /metrics?name=", "GET", "retrieval_url", "/metrics", JSONCT + status(200) + for_each("only series of that metric name", "series", "s") + '''
        pm.expect(s.name.__name__).to.eql(pm.collectionVariables.get("metric_name"));
    });
});''', "The series of one metric name (`__name__`).", query=[("name", "{{metric_name}}", "a metric name")],
      examples=[("Series of node_load1", "OK", 200, [{"id": "6f1c0a9e3b27d845", "name": slaset[0]["name"]}])]),
  req("GET /metrics/{id}/values", "GET", "retrieval_url", "/metrics/{{id}}/values", JSONCT + status(200) + '''
''' + win + '''
pm.test("aggregates over 1h, 3h and 12h", function () {
    const body = pm.response.json();
    ["1h", "3h", "12h"].forEach(function (w) { checkWindow(body.values[w]); });
    pm.expect(Date.parse(body.computed_at)).to.not.be.NaN;
});''', "The latest aggregates of the series over the last 1, 3 and 12 hours (min, max, avg, std_dev, count).",
      examples=[("Values", "OK", 200, {"values": {"1h": W, "3h": W, "12h": W}, "computed_at": "2026-11-22T06:00:00Z"}),
                ("Unknown series", "Not Found", 404, {"error": "series 0000000000000000 not found"})]),
  req("GET /metrics/{id}/metadata", "GET", "retrieval_url", "/metrics/{{id}}/metadata", JSONCT + status(200) + '''
pm.test("statistics of the history", function () {
    const m = pm.response.json().metadata;
    pm.expect(m.constant).to.be.a("boolean");
    pm.expect(m.samples).to.be.a("number");
    pm.expect(m.step_seconds).to.be.a("number");
    // Each section is absent when undefined for the series (constant, too short, ...).
    if (m.stationarity) {
        pm.expect(m.stationarity).to.include.all.keys("stationary", "p_value", "adf_statistic", "used_lag");
        pm.expect(m.stationarity.stationary).to.eql(m.stationarity.p_value < 0.05);
    }
    if (m.autocorrelation) {
        pm.expect(m.autocorrelation["0"]).to.be.closeTo(1, 1e-9);
    }
    if (m.seasonality) {
        pm.expect(m.seasonality).to.have.property("period");
    }
    if (m.constant) {
        pm.expect(m).to.not.have.any.keys("stationarity", "autocorrelation", "seasonality");
    }
});''', "Statistics of the series' history: constant, stationarity (ADF), autocorrelation, seasonality.",
      examples=[("Metadata", "OK", 200, {"metadata": {"constant": False, "samples": 4320, "step_seconds": 60,
                  "stationarity": {"stationary": True, "p_value": 0.003, "adf_statistic": -3.9, "used_lag": 12},
                  "autocorrelation": {"0": 1.0, "1": 0.93, "60": 0.41},
                  "seasonality": {"period": 1440, "add": {"period": 1440, "error": 0.12}, "mul": None}},
                  "computed_at": "2026-11-22T05:00:00Z"})]),
  req("GET /metrics/{id}/prediction", "GET", "retrieval_url", "/metrics/{{id}}/prediction", JSONCT + '''
// Forecasts exist for the series under an SLA: for another series 404 is the right answer.
const underSla = pm.collectionVariables.get("id") === pm.collectionVariables.get("sla_id");
pm.test(underSla ? "status is 200 (a series under an SLA)" : "status is 200, or 404 for a series under no SLA", function () {
    pm.expect(pm.response.code).to.be.oneOf(underSla ? [200] : [200, 404]);
});
if (pm.response.code === 200) {
    pm.test("a 10-minute forecast with 95% bounds", function () {
        const p = pm.response.json().prediction;
        pm.expect(p).to.include.all.keys("model", "rmse", "min", "max", "avg", "horizon_minutes", "step_seconds", "values");
        pm.expect(p.values).to.be.an("array").and.not.empty;
        p.values.forEach(function (v) {
            pm.expect(v).to.include.all.keys("timestamp", "value", "lower", "upper");
            pm.expect(v.lower).to.be.at.most(v.upper);
        });
    });
} else {''' + ERR.replace('\n', '\n    ') + '''
}''', "The latest forecast of the series (for series under an SLA): model, RMSE and the next 10 minutes with 95% bounds.",
      examples=[("Prediction", "OK", 200, {"prediction": {"model": "holt_winters_add", "rmse": 0.08, "min": 0.3, "max": 0.52, "avg": 0.41,
                  "horizon_minutes": 10, "step_seconds": 60, "values": [{"timestamp": "2026-11-22T06:01:00Z", "value": 0.41, "lower": 0.25, "upper": 0.57}]},
                  "computed_at": "2026-11-22T06:00:00Z"})]),
  req("GET /metrics/{id}/aggregate", "GET", "retrieval_url", "/metrics/{{id}}/aggregate", JSONCT + status(200) + '''
pm.test("one window per 5 minutes of the last hour, in time order", function () {
    const buckets = pm.response.json();
    pm.expect(buckets).to.be.an("array").and.not.empty;
    pm.expect(buckets.length).to.be.at.most(13);
    buckets.forEach(function (b, i) {
        pm.expect(b).to.include.all.keys("start", "end", "value");
        pm.expect(Date.parse(b.end) - Date.parse(b.start)).to.eql(300000);
        if (i > 0) { pm.expect(Date.parse(b.start)).to.be.above(Date.parse(buckets[i - 1].start)); }
        pm.expect(b.value === null || typeof b.value === "number").to.be.true;
    });
});''', "Ad-hoc windowed aggregation by the target Prometheus: `op` (avg, min, max, count, std_dev) over windows of `window` seconds, from `from` to `to` (default: the last hour).",
      query=[("op", "avg", "avg, min, max, count or std_dev"), ("window", "300", "window length in seconds")],
      examples=[("Averages", "OK", 200, [{"start": "2026-11-22T05:00:00Z", "end": "2026-11-22T05:05:00Z", "value": 0.42}])]),
  req("GET /metrics/{id}/aggregate with a bad op (400)", "GET", "retrieval_url", "/metrics/{{id}}/aggregate", JSONCT + status(400) + ERR, "An unknown `op` is a 400 naming the problem.", query=[("op", "median", "not an aggregation"), ("window", "300", "")],
      examples=[("Bad op", "Bad Request", 400, {"error": "op must be one of avg, min, max, count, std_dev"})]),
  req("GET /metrics/{id}/anomalies", "GET", "retrieval_url", "/metrics/{{id}}/anomalies", JSONCT + status(200) + '''
pm.test("changepoints and the outlier status of the series", function () {
    const body = pm.response.json();
    const a = body.anomalies;
    pm.expect(a.changepoints).to.be.an("array");
    a.changepoints.forEach(function (c, i) {
        pm.expect(c).to.include.all.keys("timestamp", "kind", "size", "score");
        pm.expect(c.kind).to.be.oneOf(["level", "trend"]);
        if (i > 0) { pm.expect(Date.parse(c.timestamp)).to.be.at.least(Date.parse(a.changepoints[i - 1].timestamp)); }
    });
    // null when the series was not compared (fewer than three series of its name).
    if (a.outlier !== null) {
        pm.expect(a.outlier).to.include.all.keys("method", "compared", "outlying");
        pm.expect(a.outlier.compared).to.be.at.least(3);
        pm.expect(a.outlier.since === null).to.eql(!a.outlier.outlying);
    }
    pm.expect(Date.parse(body.computed_at)).to.not.be.NaN;
});''', "The anomalies the slow loop found in the series: its level and trend changepoints over the metadata lookback, and whether it behaves unlike the other series of its metric name (and since when).",
      examples=[("Anomalies", "OK", 200, {"anomalies": {"changepoints": [{"timestamp": "2026-11-22T04:00:00Z", "kind": "level", "size": 2.5, "score": 8.0}],
                  "outlier": {"method": "mad", "compared": 12, "outlying": True, "since": "2026-11-22T04:00:00Z", "until": None, "score": 6.5}},
                  "computed_at": "2026-11-22T05:00:00Z"}),
                ("No anomalies yet", "Not Found", 404, {"error": "Nothing computed yet: series 6f1c0a9e3b27d845 has no anomalies"})]),
  req("GET /outliers?name=", "GET", "retrieval_url", "/outliers", JSONCT + status(200) + '''
pm.test("the outlying series of the metric name", function () {
    const body = pm.response.json();
    pm.expect(body.name).to.eql(pm.collectionVariables.get("metric_name"));
    pm.expect(body.outliers).to.be.an("array");
    body.outliers.forEach(function (o) {
        pm.expect(o.id).to.match(/^[0-9a-f]{16}$/);
        pm.expect(o.labels.__name__).to.eql(body.name);
        pm.expect(o.outlier.outlying).to.be.true;
        pm.expect(Date.parse(o.outlier.since)).to.not.be.NaN;
    });
});''', "The series of one metric name (`__name__`) that behave unlike the others, with since when, as the last slow loop judged them.",
      query=[("name", "{{metric_name}}", "a metric name")],
      examples=[("Outliers of node_load1", "OK", 200, {"name": "node_load1", "outliers": [{"id": "6f1c0a9e3b27d845", "labels": slaset[0]["name"],
                  "outlier": {"method": "mad", "compared": 12, "outlying": True, "since": "2026-11-22T04:00:00Z", "until": None, "score": 6.5},
                  "computed_at": "2026-11-22T05:00:00Z"}]})]),
  req("GET /outliers without a name (400)", "GET", "retrieval_url", "/outliers", JSONCT + status(400) + ERR, "`name` is required: a 400 naming it.",
      examples=[("No name", "Bad Request", 400, {"error": "`name` is required: the metric name whose series are compared"})]),
  req("GET /metrics/{id}/values of an unknown series (404)", "GET", "retrieval_url", "/metrics/0000000000000000/values", JSONCT + status(404) + ERR, "A well-formed id that is not stored is a 404.",
      examples=[("Unknown series", "Not Found", 404, {"error": "series 0000000000000000 not found"})]),
  req("GET /metrics/{id}/values with a malformed id (400)", "GET", "retrieval_url", "/metrics/not-an-id/values", JSONCT + status(400) + ERR, "An id that is not 16 hexadecimal digits is a 400.",
      examples=[("Malformed id", "Bad Request", 400, {"error": "id must be 16 hexadecimal digits"})]),
  req("GET /openapi.json (retrieval)", "GET", "retrieval_url", "/openapi.json", JSONCT + status(200) + '''
pm.test("an OpenAPI 3 document of every route", function () {
    const doc = pm.response.json();
    pm.expect(doc.openapi).to.match(/^3\\./);
    pm.expect(doc.paths).to.include.all.keys("/metrics", "/metrics/{id}/aggregate", "/metrics/{id}/anomalies", "/outliers");
});''', "The OpenAPI document of retrieval's REST API.",
      examples=[("Document", "OK", 200, {"openapi": "3.1.0", "info": {"title": "retrieval", "version": "0.1.0"}, "paths": {"/metrics": {}, "/metrics/{id}/{kind}": {}, "/metrics/{id}/aggregate": {}, "/metrics/{id}/anomalies": {}, "/outliers": {}}})]),
]

coll = {
  "info": {"_postman_id": ns("collection"), "name": "SLA monitor",
           "description": "Every REST endpoint of the SLA monitor: the sla-manager (SLA set, state, violations, predicted violations; port 5001, NodePort 31001) "
                          "and retrieval (stored results, anomalies and ad-hoc aggregation; port 5000, NodePort 31000).\n\n"
                          "Run in order: the sla-manager folder stores the SLA set and captures `sla_id` and `metric_name`, retrieval's `GET /metrics` captures `id`.\n\n"
                          "Variables: `retrieval_url`, `sla_manager_url`, `token` (the sla-manager's SLA_API_TOKEN, sent as a bearer token), `slaset` (the body of PUT /slaset).\n\n"
                          "`newman run postman_collection.json --env-var retrieval_url=http://localhost:5000 --env-var sla_manager_url=http://localhost:5001 --env-var token=dev-token-change-me`",
           "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
  "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "{{token}}", "type": "string"}]},
  "item": [
    {"name": "sla-manager", "description": "SLA set, state, violations and predicted violations (port 5001).", "item": sla_items},
    {"name": "retrieval", "description": "Stored results of the etl and ad-hoc aggregation (port 5000).", "item": retrieval_items},
  ],
  "variable": [
    {"key": "retrieval_url", "value": "http://localhost:5000", "type": "string", "description": "retrieval's REST API (Kubernetes: http://<node>:31000)"},
    {"key": "sla_manager_url", "value": "http://localhost:5001", "type": "string", "description": "the sla-manager's REST API (Kubernetes: http://<node>:31001)"},
    {"key": "token", "value": "dev-token-change-me", "type": "string", "description": "SLA_API_TOKEN of the sla-manager (development default of docker-compose.yml)"},
    {"key": "slaset", "value": json.dumps(slaset), "type": "string", "description": "Body of PUT /slaset: sla_set.json by default"},
    {"key": "sla_id", "value": "", "type": "string", "description": "captured by PUT/GET /slaset: the first SLA's id"},
    {"key": "metric_name", "value": slaset[0]["name"]["__name__"], "type": "string", "description": "captured by GET /slaset: the first SLA's metric name"},
    {"key": "id", "value": "", "type": "string", "description": "captured by GET /metrics"},
  ],
}
def yaml_examples(items):
    """The OpenSLO export answers YAML: its example says so."""
    for item in items:
        yaml_examples(item.get("item", []))
        if item.get("name") == "GET /slaset?format=openslo":
            for example in item["response"]:
                example["body"] = json.loads(example["body"])
                example["_postman_previewlanguage"] = "text"
                example["header"] = [{"key": "Content-Type", "value": "application/yaml"}]


yaml_examples(coll["item"])
text = json.dumps(coll, indent=2) + '\n'
if '--check' in sys.argv[1:]:
    with open(ROOT + '/postman_collection.json') as f:
        if f.read() != text:
            sys.exit('postman_collection.json is stale: run python3 deploy/tools/make_postman_collection.py')
else:
    with open(ROOT + '/postman_collection.json', 'w') as f:
        f.write(text)
