use serde_json::json;

use super::*;
use crate::domain::{SetEntry, finish_validation, parse_sla_set};
use crate::repository::StoredEntry;
use common::series::selector;

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/openslo/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The stored entries of a set's JSON, as `PUT /slaset` would store them (no Prometheus).
fn stored(body: &Value) -> Vec<StoredEntry> {
    let size = body.as_array().map_or(0, Vec::len);
    let parsed = parse_sla_set(body, size);
    let objectives = parsed.objectives();
    let entries: Vec<SetEntry> = finish_validation(parsed, vec![]).unwrap();
    entries
        .iter()
        .enumerate()
        .filter_map(|(i, e)| StoredEntry::new(e, i, objectives[i]))
        .collect()
}

#[test]
fn selectors_of_exact_labels_parse() {
    let labels = parse_selector(r#"node_load1{instance="a:9100", job="n\"x"}"#).unwrap();
    assert_eq!(labels["__name__"], "node_load1");
    assert_eq!(labels["job"], "n\"x");
    assert_eq!(labels["instance"], "a:9100");
    assert_eq!(parse_selector("up").unwrap().len(), 1);
    assert_eq!(
        parse_selector(&selector(&labels)),
        Some(labels),
        "our own selectors read back"
    );
    for bad in [
        r#"up{job=~"x"}"#,
        "sum(up)",
        r#"up{job!="x"}"#,
        "",
        r#"up{job="x""#,
    ] {
        assert_eq!(parse_selector(bad), None, "{bad}");
    }
}

#[test]
fn the_readme_ratio_example_reads_as_a_ratio_sli() {
    let body = import(&fixture("readme-ratio-prometheus.yaml")).unwrap();
    assert_eq!(
        body,
        json!([{
            "good": r#"sum(localhost_server_requests{code=~"2xx|3xx",host="*",instance="127.0.0.1:9090"})"#,
            "total": r#"localhost_server_requests{code="total",host="*",instance="127.0.0.1:9090"}"#,
            "counter": true,
            "objective": {"target": 0.98, "window": "28d"},
        }])
    );
}

#[test]
fn the_spec_s_examples_are_refused_naming_each_unsupported_field() {
    let problems = |name: &str| import(&fixture(name)).unwrap_err();
    let any = |path: &str| {
        format!("document 1: {path}.metricSource.type must be Prometheus, got \"Any\"")
    };
    let threshold = "spec.indicator.spec.thresholdMetric";
    let good = "spec.indicator.spec.ratioMetric.good";
    let total = "spec.indicator.spec.ratioMetric.total";
    assert_eq!(
        problems("budgeting-method--occurences-slo.yaml"),
        [
            "document 1: spec.timeWindow[0].duration \"2w\" is not supported for a rolling window (7d, 28d or 30d)".to_owned(),
            "document 1: spec.budgetingMethod must be Timeslices with a thresholdMetric (minutes in range), got \"Occurrences\"".to_owned(),
            any(threshold),
            "document 1: spec.objectives[0].op must be lte or gte with a numeric value (the range includes its bounds), got \"lt\"".to_owned(),
        ]
    );
    assert_eq!(
        problems("budgeting-method--ratio-timeslices.yaml"),
        [
            "document 1: spec.timeWindow[0].duration \"2w\" is not supported for a rolling window (7d, 28d or 30d)".to_owned(),
            "document 1: spec.budgetingMethod must be Occurrences with a ratioMetric (events), got \"RatioTimeslices\"".to_owned(),
            any(good),
            any(total),
        ]
    );
    let calendar = [
        "document 1: spec.timeWindow[0].duration \"1m\" is not supported for a calendar window (1M or 1w)".to_owned(),
        "document 1: spec.budgetingMethod must be Occurrences with a ratioMetric (events), got \"Timeslices\"".to_owned(),
        any(good),
        any(total),
    ];
    let mut two = vec!["document 1: spec.objectives must hold exactly one objective".to_owned()];
    two.extend(calendar[1..].iter().cloned());
    assert_eq!(problems("budgeting-method--timeslices-slo.yaml"), two);
    // A one-week calendar window in New York is ours; only the source and method are not.
    assert_eq!(
        problems("treat-low-traffic-as-equally-important--timeslices-slo.yaml"),
        calendar[1..]
    );
}

#[test]
fn unsupported_fields_are_named_and_every_document_is_checked() {
    let text = r#"
apiVersion: openslo/v1
kind: SLO
metadata: {name: a}
spec:
  indicator:
    spec:
      ratioMetric:
        counter: true
        bad: {metricSource: {type: Prometheus, spec: {query: sum(errors)}}}
        total: {metricSource: {type: Prometheus, spec: {query: sum(all)}}}
  timeWindow: [{duration: 30d, isRolling: true}]
  budgetingMethod: Occurrences
  alertPolicies: [{alertPolicyRef: x}]
  objectives: [{target: 0.99, compositeWeight: 2}]
---
apiVersion: openslo/v1
kind: SLI
metadata: {name: b}
"#;
    let problems = import(text).unwrap_err();
    for expected in [
        "document 1: unsupported field spec.alertPolicies",
        "document 1: unsupported field spec.objectives[0].compositeWeight",
        "document 1: unsupported field spec.indicator.spec.ratioMetric.bad",
        "document 2: kind must be SLO (with its SLI inline)",
    ] {
        assert!(
            problems.iter().any(|p| p == expected),
            "{expected} not in {problems:#?}"
        );
    }
    assert_eq!(import("").unwrap_err(), ["no OpenSLO document"]);
    assert!(import("{{{").unwrap_err()[0].starts_with("document 1: not YAML"));
}

#[test]
fn a_set_exported_reads_back_as_the_same_set() {
    let body = json!([
        {"name": {"__name__": "latency", "job": "j"}, "range": {"min": 0.5, "max": 2.0}, "for": 5,
            "objective": {"target": 0.995, "window": "7d"}},
        {"name": {"__name__": "free"}, "range": {"min": 10.0, "max": f64::MAX}, "for": 3,
            "objective": {"target": 0.99, "calendar": "month", "time_zone": "Europe/Paris"}},
        {"name": {"__name__": "load"}, "range": {"min": f64::MIN, "max": 4.0}, "for": 1,
            "objective": {"target": 0.9, "calendar": "week"}},
        {"good": "sum(ok_total)", "total": "sum(all_total)", "counter": false,
            "objective": {"target": 0.999, "window": "30d"}},
    ]);
    let set = stored(&body);
    let text = export(&set);
    assert_eq!(text.matches("kind: SLO").count(), 4, "{text}");
    assert!(
        text.contains("op: gte") && text.contains("op: lte"),
        "{text}"
    );
    let back = import(&text).unwrap();
    assert_eq!(stored(&back), set, "{text}");
    assert_eq!(export(&stored(&back)), text);
    // An entry without an objective is no SLO: left out, and said so.
    let plain = json!([{"name": {"__name__": "x"}, "range": {"min": 0, "max": 1}, "for": 1}]);
    assert_eq!(
        export(&stored(&plain)),
        "# metric 1 has no objective: not an SLO, left out\n"
    );
}
