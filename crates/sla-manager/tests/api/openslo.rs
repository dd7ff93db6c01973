//! `PUT /slaset` with OpenSLO v1 documents and `GET /slaset?format=openslo`: the README's
//! ratio example and four threshold SLOs over the test Prometheus' series, stored, exported and
//! stored again; the spec's own examples refused with the fields named.

use common::series::selector;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, spawn_app};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/openslo/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("the fixture is there")
}

async fn put_yaml(app: &TestApp, text: &str) -> (StatusCode, Value) {
    app.put_raw("application/yaml", text.to_owned()).await
}

/// A threshold SLO (Timeslices) on a series with its range, as a user would write it.
fn threshold_slo(name: &str, labels: &common::Labels, min: f64, max: f64) -> String {
    format!(
        r#"---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: {name}
  annotations:
    sla-monitor/range-min: "{min}"
    sla-monitor/for: "5"
spec:
  indicator:
    spec:
      thresholdMetric:
        metricSource:
          type: Prometheus
          spec:
            query: '{query}'
  timeWindow:
    - duration: 1w
      isRolling: false
      calendar: {{startTime: "2024-01-01 00:00:00", timeZone: Europe/Paris}}
  budgetingMethod: Timeslices
  objectives:
    - op: lte
      value: {max}
      target: 0.99
      timeSliceWindow: 1m
"#,
        query = selector(labels)
    )
}

#[tokio::test]
async fn openslo_documents_are_stored_exported_and_stored_again() {
    let app = spawn_app().await;
    let mut stream = String::new();
    for (index, (labels, min, max, _)) in app.sla_set().iter().take(4).enumerate() {
        stream.push_str(&threshold_slo(&format!("sla-{index}"), labels, *min, *max));
    }
    stream.push_str("---\n");
    stream.push_str(&fixture("readme-ratio-prometheus.yaml"));
    let (status, reply) = put_yaml(&app, &stream).await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    let (_, stored) = app.get("/slaset").await;
    assert_eq!(stored[0]["name"], serde_json::json!(app.sla_set()[0].0));
    assert_eq!(stored[0]["for"], 5);
    assert_eq!(
        stored[0]["objective"],
        serde_json::json!({"target": 0.99, "calendar": "week", "time_zone": "Europe/Paris"})
    );
    assert_eq!(stored[4]["counter"], true);
    assert_eq!(stored[4]["objective"]["window"], "28d");

    let response = reqwest::get(format!("{}/slaset?format=openslo", app.api))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/yaml");
    let exported = response.text().await.unwrap();
    assert_eq!(exported.matches("kind: SLO").count(), 5, "{exported}");
    assert!(exported.contains("localhost_server_requests{code=\"total\""));
    let (status, reply) = put_yaml(&app, &exported).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(
        app.get("/slaset").await.1,
        stored,
        "the export reads back as the set"
    );
    assert_eq!(
        app.get("/slaset?format=yaml").await.0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn the_spec_s_examples_are_refused_naming_the_unsupported_fields() {
    let app = spawn_app().await;
    let (status, reply) = put_yaml(&app, &fixture("budgeting-method--ratio-timeslices.yaml")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{reply}");
    let details = reply["details"].to_string();
    assert!(
        details.contains("RatioTimeslices") && details.contains("got \\\"Any\\\""),
        "{details}"
    );
    assert_eq!(
        app.get("/slaset").await.0,
        StatusCode::NOT_FOUND,
        "nothing stored"
    );
}
