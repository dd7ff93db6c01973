//! Objectives on the SLA set and `GET /slo`: the figures are checked against the synthetic
//! history's planted out-of-range minutes and against PromQL subqueries on the same Prometheus.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

/// The test set with an objective on the SLA series (the first) and on the constant one.
fn set_with_objectives(app: &TestApp) -> Value {
    let mut body = app.sla_set_body();
    body[0]["objective"] = json!({"target": 0.995, "window": "7d"});
    body[1]["objective"] = json!({"target": 0.999, "window": "28d"});
    body
}

#[tokio::test]
async fn objectives_are_stored_and_read_back_and_sets_without_them_read_as_before() {
    let app = spawn_app().await;
    app.define_sla_set().await;
    let (_, plain) = app.get("/slaset").await;
    for item in plain.as_array().expect("a list") {
        assert!(item.get("objective").is_none(), "{item}");
    }

    let body = set_with_objectives(&app);
    let (status, reply) = app.put_slaset(&body).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["slaset"][0]["objective"], body[0]["objective"]);
    let (status, stored) = app.get("/slaset").await;
    assert_eq!(status, StatusCode::OK);
    let stored = stored.as_array().expect("a list");
    assert_eq!(
        stored[0]["objective"],
        json!({"target": 0.995, "window": "7d"})
    );
    assert_eq!(
        stored[1]["objective"],
        json!({"target": 0.999, "window": "28d"})
    );
    assert!(stored[2].get("objective").is_none());
    // What GET answers can be put back as it is.
    let (status, reply) = app.put_slaset(&Value::Array(stored.clone())).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(app.get("/slaset").await.1, Value::Array(stored.clone()));
}

#[tokio::test]
async fn a_bad_objective_is_listed_with_the_other_problems_and_nothing_is_stored() {
    let app = spawn_app().await;
    let mut body = set_with_objectives(&app);
    body[0]["objective"] = json!({"target": 1.5, "window": "14d"});
    body[2]["range"]["min"] = json!(5000);
    body[3]["objective"] = json!("99%");
    let (status, reply) = app.put_slaset(&body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{reply}");
    let details: Vec<String> = serde_json::from_value(reply["details"].clone()).unwrap();
    assert_eq!(details.len(), 4, "{details:?}");
    assert!(
        details[0].starts_with("metric 1 (") && details[0].contains("objective.target must be")
    );
    assert!(
        details[1].starts_with("metric 1 (")
            && details[1].contains(r#"objective.window must be one of 7d, 28d, 30d, got "14d""#)
    );
    assert!(
        details[2].starts_with("metric 3 (") && details[2].contains("range.min (5000) is greater")
    );
    assert!(
        details[3].starts_with("metric 4 (")
            && details[3].ends_with("objective must be an object with target and window")
    );
    assert_eq!(app.get("/slaset").await.0, StatusCode::NOT_FOUND);
}
