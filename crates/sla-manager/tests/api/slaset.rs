//! `PUT /slaset` and `GET /slaset`: creation, replacement, every validation error, the token,
//! and the edge answers (413, 415).

use common::{SeriesId, series::selector};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Options, entry, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_set_is_created_then_updated_and_read_back_with_ids() {
    let app = spawn_app().await;
    app.assert_error("/slaset", StatusCode::NOT_FOUND, "SLA set not defined")
        .await;

    let (status, body) = app.put_slaset(&app.sla_set_body()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["message"], "SLA set created");

    // Replace it with another order and other ranges.
    let mut set = app.sla_set();
    set.reverse();
    set[0].2 = 2000.0;
    let replacement = Value::Array(
        set.iter()
            .map(|(l, min, max, f)| entry(l, *min, *max, *f))
            .collect(),
    );
    let (status, body) = app.put_slaset(&replacement).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["message"], "SLA set updated");

    let (status, stored) = app.get("/slaset").await;
    assert_eq!(status, StatusCode::OK);
    let stored = stored.as_array().expect("a list").clone();
    assert_eq!(stored.len(), 5);
    for (got, (labels, min, max, for_minutes)) in stored.iter().zip(&set) {
        assert_eq!(got["id"], SeriesId::of(labels).to_string());
        assert_eq!(got["name"], json!(labels));
        assert_eq!(got["range"], json!({"min": min, "max": max}));
        assert_eq!(got["for"], *for_minutes);
    }
    // One document per SLA metric in the database, keyed by the series id.
    let count = app
        .database
        .collection::<bson::Document>("slaset")
        .count_documents(bson::doc! {})
        .await
        .unwrap();
    assert_eq!(count, 5);
    let collections = app.database.list_collection_names().await.unwrap();
    assert_eq!(
        collections,
        vec!["slaset".to_owned()],
        "only the set, no staging collection left behind"
    );
}

#[tokio::test]
async fn every_problem_of_a_set_is_listed_in_one_400_and_the_stored_set_stays() {
    let app = spawn_app().await;
    app.define_sla_set().await;
    let (_, before) = app.get("/slaset").await;

    let set = app.sla_set();
    let sla = &set[0].0;
    let constant = &set[1].0;
    let mut unknown = set[2].0.clone();
    unknown.insert("job".into(), "not-there".into());
    let body = json!([
        {"name": sla, "range": {"min": 0.05, "max": 0.5}, "for": 5},
        {"name": constant, "range": {"max": 100}, "for": 5},
        {"name": set[3].0, "range": {"min": 0, "max": "lots"}, "for": 0},
        {"name": set[4].0, "range": {"min": 10, "max": 1}},
        {"name": unknown, "range": {"min": 0, "max": 1}, "for": -3},
        {"name": sla, "for": 5},
    ]);
    let (status, answer) = app.put_slaset(&body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(answer["error"], "The SLA set is invalid");
    let details: Vec<&str> = answer["details"]
        .as_array()
        .expect("details")
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    let expected = [
        "SLA set must consist of 5 metrics. 6 provided".to_owned(),
        format!("metric 2 ({}): range.min is missing", selector(constant)),
        format!(
            "metric 3 ({}): range.max must be a number, got \"lots\"",
            selector(&set[3].0)
        ),
        format!(
            "metric 3 ({}): for must be a positive number of minutes, got 0",
            selector(&set[3].0)
        ),
        format!(
            "metric 4 ({}): range.min (10) is greater than range.max (1)",
            selector(&set[4].0)
        ),
        format!("metric 4 ({}): for is missing", selector(&set[4].0)),
        format!(
            "metric 5 ({}): for must be a positive number of minutes, got -3",
            selector(&unknown)
        ),
        format!("metric 6 ({}): the same metric as metric 1", selector(sla)),
        format!("metric 6 ({}): range is missing", selector(sla)),
        format!(
            "metric 5 ({}): not found in the target Prometheus (no series with exactly these labels)",
            selector(&unknown)
        ),
    ];
    assert_eq!(details, expected);

    // A subset of a series' labels is not the series.
    let mut partial = app.sla_set_body();
    partial[1]["name"]
        .as_object_mut()
        .unwrap()
        .remove("instance");
    let (status, answer) = app.put_slaset(&partial).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        answer["details"][0]
            .as_str()
            .unwrap()
            .contains("not found in the target Prometheus"),
        "{answer}"
    );

    for malformed in [
        json!({"not": "a list"}),
        json!("text"),
        json!([1, 2, 3, 4, 5]),
    ] {
        let (status, answer) = app.put_slaset(&malformed).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{malformed}: {answer}");
    }
    let (status, answer) = app.request(Method::PUT, "/slaset", None, None).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{answer}");

    let (_, after) = app.get("/slaset").await;
    assert_eq!(after, before, "a failed PUT changed the stored set");
}

#[tokio::test]
async fn with_a_token_a_put_needs_it_and_changes_nothing_without_it() {
    let app = spawn_app_with(Options {
        token: Some("s3cret-token".into()),
        ..Options::default()
    })
    .await;
    let body = app.sla_set_body();
    for token in [
        None,
        Some("wrong"),
        Some("s3cret-tokeN"),
        Some("s3cret-token-and-more"),
    ] {
        let (status, answer) = app
            .request(Method::PUT, "/slaset", Some(&body), token)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token:?}");
        assert_eq!(answer, json!({"error": "missing or wrong bearer token"}));
    }
    // An invalid body without the token is still a 401: nothing is looked at before the token.
    let (status, _) = app
        .request(Method::PUT, "/slaset", Some(&json!([])), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get("/slaset").await.0,
        StatusCode::NOT_FOUND,
        "a refused PUT stored something"
    );

    let (status, answer) = app
        .request(Method::PUT, "/slaset", Some(&body), Some("s3cret-token"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    // Reading needs no token.
    assert_eq!(app.get("/slaset").await.0, StatusCode::OK);
}

#[tokio::test]
async fn too_large_and_non_json_bodies_get_json_errors() {
    let app = spawn_app().await;
    let huge = format!("[{}]", vec!["{\"name\": {}}"; 10_000].join(","));
    let (status, body) = app.put_raw("application/json", huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body, json!({"error": "the request body is too large"}));

    let (status, body) = app.put_raw("text/plain", "[]").await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        body,
        json!({"error": "the request body must be JSON (Content-Type: application/json)"})
    );

    let (status, body) = app.put_raw("application/json", "[{").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("JSON"), "{body}");
    assert_eq!(app.get("/slaset").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_openapi_document_describes_the_api() {
    let app = spawn_app().await;
    let (status, document) = app.get("/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    for path in [
        "/slaset",
        "/status",
        "/violations",
        "/future-violations",
        "/slo",
        "/openapi.json",
    ] {
        assert!(document["paths"][path].is_object(), "{path} missing");
    }
    let put = &document["paths"]["/slaset"]["put"];
    for status in ["200", "201", "400", "401", "413", "415", "502", "504"] {
        assert!(
            put["responses"][status].is_object(),
            "PUT /slaset {status} undocumented"
        );
    }
    assert!(document["components"]["schemas"]["ErrorBody"]["properties"]["details"].is_object());
    assert!(document["components"]["securitySchemes"]["bearer"].is_object());
}
