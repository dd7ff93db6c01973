//! Conformance to the original API (`ORIGINAL_API.md`, appendix A.2): each endpoint's statuses
//! and the structure of its answers (keys and JSON types, recursively) against the original's
//! documented examples, `conformance/original-api/*.json`. The project's additions are extra
//! keys, which the comparison allows; its deliberate differences (README, "Differences from the
//! original API") are edited into the expected structure here, each where it applies.

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, spawn_app},
    shape::{assert_conforms, assert_covers, assert_documented, at, fixture, map_of},
};

/// The original's example of `GET path`, with the deliberate differences edited in.
fn expected(path: &str) -> Value {
    let mut expected = fixture(match path {
        "/slaset" => "slaset_get",
        "/status" => "status",
        "/violations" => "violations",
        "/future-violations" => "future_violations",
        other => panic!("no fixture for {other}"),
    });
    names_as_label_sets(&mut expected);
    if path == "/slaset" {
        // The README's row "Series id": `id`, 16 hex digits, instead of `_id.$oid`.
        let item = at(&mut expected, "/0");
        item.remove("_id");
        item.insert("id".to_owned(), json!("string"));
    }
    expected
}

/// A label set: data-dependent keys, string values.
fn labels() -> Value {
    map_of(json!("string"))
}

/// Every item's `name` as a label set.
fn names_as_label_sets(expected: &mut Value) {
    for item in expected.as_array_mut().expect("a list") {
        item["name"] = labels();
    }
}

/// Timestamps are RFC 3339 UTC (the README's row "Timestamps"): still strings, as in the
/// original, and they must parse.
fn assert_rfc3339(value: &Value) {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"));
    assert!(
        text.ends_with('Z') && text.parse::<DateTime<Utc>>().is_ok(),
        "not an RFC 3339 UTC time: {text}"
    );
}

#[tokio::test]
async fn slaset_conforms() {
    let app = spawn_app().await;
    // PUT: 201 created, then 200 updated, with the original's texts (in a JSON body: the
    // README's row "PUT /slaset answer").
    let (status, body) = app.put_slaset(&app.sla_set_body()).await;
    assert_eq!(
        (status, &body["message"]),
        (StatusCode::CREATED, &json!("SLA set created"))
    );
    let (status, body) = app.put_slaset(&app.sla_set_body()).await;
    assert_eq!(
        (status, &body["message"]),
        (StatusCode::OK, &json!("SLA set updated"))
    );
    // The original's example body has one metric, not in this Prometheus: 400, and the
    // error names the problems.
    let (status, body) = app.put_slaset(&fixture("slaset_put_body")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"].is_string(), "{body}");

    let (status, body) = app.get("/slaset").await;
    assert_eq!(status, StatusCode::OK);
    assert_conforms(&body, &expected("/slaset"));
    for item in body.as_array().expect("a list") {
        let id = item["id"].as_str().unwrap_or_default();
        assert!(
            id.len() == 16 && id.chars().all(|c| c.is_ascii_hexdigit()),
            "{item}"
        );
    }
}

/// A new app's answer to `path` at the end of the history for the test set, checked against
/// the original's documented shape.
async fn conforming_answer(path: &str) -> Value {
    let app = spawn_app().await;
    app.define_sla_set().await;
    let (status, body) = app.get(&format!("{path}?at={}", app.end())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_conforms(&body, &expected(path));
    body
}

#[tokio::test]
async fn status_conforms() {
    let body = conforming_answer("/status").await;
    assert_eq!(body.as_array().map(Vec::len), Some(5));
    // The descriptions follow the original's templates (checked word for word against the
    // generator in `state`): the inactive one with the value in brackets.
    let inactive = body
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["status"] == "inactive")
        .expect("an inactive SLA");
    let text = inactive["description"].as_str().unwrap_or_default();
    assert!(
        text.starts_with("Actual value [") && text.contains("] in ("),
        "{text}"
    );
    // The current state of every SLA in the set's order, values oldest first: the last of
    // `last-values` is the one in the description.
    let last = inactive["last-values"]
        .as_array()
        .and_then(|v| v.last())
        .cloned();
    assert!(
        last.is_some_and(|v| text.contains(&format!(
            "[{}]",
            crate::helpers::py_float(v.as_f64().unwrap_or(f64::NAN))
        ))),
        "{inactive}"
    );
}

#[tokio::test]
async fn violations_conform() {
    let body = conforming_answer("/violations").await;
    let listed: Vec<&Value> = body
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|m| m["violation_list"].as_array().into_iter().flatten())
        .collect();
    assert!(!listed.is_empty(), "the history has violations: {body}");
    for violation in listed {
        assert_rfc3339(&violation["start_time"]);
        assert_rfc3339(&violation["end_time"]);
    }
}

/// Seeds a prediction with out-of-range runs for the SLA series and one in range for the
/// constant series; the others have none ("Prediction not available").
async fn seed_predictions(app: &TestApp) {
    let set = app.sla_set();
    let max = app.manifest.sla.range.max;
    let predicted = [max + 1.0, max + 1.0, max + 1.0, max - 0.1, max + 1.0];
    app.seed_prediction(&set[0].0, app.end(), &predicted, 0.1)
        .await;
    app.seed_prediction(&set[1].0, app.end(), &[42.0; 10], 1.0)
        .await;
}

#[tokio::test]
async fn future_violations_conform() {
    let app = spawn_app().await;
    app.define_sla_set().await;
    seed_predictions(&app).await;
    let (status, body) = app
        .get(&format!("/future-violations?at={}", app.end()))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let expected = expected("/future-violations");
    assert_conforms(&body, &expected);
    // Both documented forms are there, and every list ends with the forecast's statistics.
    assert_covers(&body, &expected);
    let summary_form = &expected[1]["violations"][1];
    for item in body.as_array().expect("a list") {
        if let Some(list) = item["violations"].as_array() {
            let last = list.last().expect("at least the summary");
            assert_conforms(last, summary_form);
            assert!(last.get("description").is_none(), "{last}");
            for run in &list[..list.len() - 1] {
                assert_conforms(run, &expected[1]["violations"][0]);
                assert_rfc3339(&run["start_time"]);
            }
        } else {
            assert_eq!(item["error"], "Prediction not available", "{item}");
        }
    }
}

#[tokio::test]
async fn without_a_set_the_statuses_are_the_originals() {
    let app = spawn_app().await;
    // "SLA set not defined" (400), as the original documents for /violations and
    // /future-violations; /status answers the same.
    for path in ["/status", "/violations", "/future-violations"] {
        app.assert_error(path, StatusCode::BAD_REQUEST, "SLA set not defined")
            .await;
    }
}

#[tokio::test]
async fn the_openapi_document_describes_the_original_shapes() {
    let app = spawn_app().await;
    let (status, document) = app.get("/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    for path in ["/slaset", "/status", "/violations", "/future-violations"] {
        assert_documented(&document, path, &expected(path));
    }
}
