//! `GET /metrics/{id}/anomalies` and `GET /outliers?name=`, read from the metadata documents in
//! the real database, and documented as answered.

use common::{
    SeriesId,
    record::{Anomalies, OutlierStatus, Payload, Record},
    testing::unique_name,
};
use reqwest::StatusCode;

use crate::{
    helpers::{computed_at, error_of, labels, metadata_record, spawn_app, values_record},
    shape::{assert_documented, map_of},
};

/// A metadata record of `labels` with the given outlier status (`None`: not compared) and no
/// changepoint; `anomalies: false` leaves the anomalies out, as the etl did before it found them.
fn judged(labels: common::Labels, status: Option<OutlierStatus>, anomalies: bool) -> Record {
    let mut metadata = common::testing::full_metadata();
    metadata.anomalies = anomalies.then_some(Anomalies {
        changepoints: Vec::new(),
        outlier: status,
    });
    Record::new(labels, computed_at(), Payload::Metadata { metadata })
}

fn status(outlying: bool) -> OutlierStatus {
    OutlierStatus {
        method: "mad".to_owned(),
        compared: 5,
        outlying,
        since: outlying.then(|| "2026-11-22T03:00:00Z".parse().unwrap()),
        until: None,
        score: outlying.then_some(7.5),
    }
}

#[tokio::test]
async fn the_anomalies_of_a_series_are_answered_as_stored_and_documented() {
    let app = spawn_app().await;
    let name = labels("node_load1", &[("instance", "a")]);
    let record = metadata_record(name.clone());
    app.seed(std::slice::from_ref(&record)).await;
    let id = SeriesId::of(&name);

    let (status, headers, body) = app.get(&format!("/metrics/{id}/anomalies")).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["content-type"], "application/json");
    let Payload::Metadata { metadata } = &record.payload else {
        unreachable!()
    };
    assert_eq!(
        body["anomalies"],
        serde_json::to_value(metadata.anomalies.as_ref().unwrap()).unwrap()
    );
    assert_eq!(body["anomalies"]["changepoints"][0]["kind"], "level");
    assert_eq!(body["anomalies"]["outlier"]["outlying"], true);
    assert_eq!(
        body["computed_at"],
        serde_json::to_value(computed_at()).unwrap()
    );
    let (_, _, document) = app.get("/openapi.json").await;
    assert_documented(&document, "/metrics/{id}/anomalies", &body);
}

#[tokio::test]
async fn unknown_series_missing_anomalies_and_bad_ids_get_the_errors_of_the_other_routes() {
    let app = spawn_app().await;
    let only_values = labels("node_load1", &[("instance", "values-only")]);
    let old = labels("node_load1", &[("instance", "old")]);
    app.seed(&[
        values_record(only_values.clone()),
        judged(old.clone(), None, false),
    ])
    .await;

    let unknown = SeriesId::of(&labels("never_stored", &[]));
    let (status, _, body) = app.get(&format!("/metrics/{unknown}/anomalies")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(error_of(&body).contains("No series"), "{body}");

    let id = SeriesId::of(&only_values);
    let (status, _, body) = app.get(&format!("/metrics/{id}/anomalies")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(error_of(&body).contains("has no metadata"), "{body}");

    let id = SeriesId::of(&old);
    let (status, _, body) = app.get(&format!("/metrics/{id}/anomalies")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(error_of(&body).contains("has no anomalies"), "{body}");

    for bad in ["xyz", "0123456789abcdeg"] {
        let (status, _, body) = app.get(&format!("/metrics/{bad}/anomalies")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(error_of(&body).contains("16 hexadecimal digits"), "{body}");
    }
}

#[tokio::test]
async fn outliers_lists_only_the_outlying_series_of_the_name() {
    let app = spawn_app().await;
    let metric = unique_name("fleet");
    let other = unique_name("other");
    let host = |name: &str, i: usize| labels(name, &[("instance", &format!("h{i}"))]);
    app.seed(&[
        judged(host(&metric, 0), Some(status(false)), true),
        judged(host(&metric, 1), Some(status(true)), true),
        judged(host(&metric, 2), Some(status(false)), true),
        judged(host(&metric, 3), None, true),
        judged(host(&metric, 4), None, false),
        values_record(host(&metric, 5)),
        judged(host(&other, 0), Some(status(true)), true),
    ])
    .await;

    let (code, _, body) = app.get(&format!("/outliers?name={metric}")).await;

    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(body["name"], metric.as_str());
    let outliers = body["outliers"].as_array().unwrap();
    assert_eq!(outliers.len(), 1, "{body}");
    let entry = &outliers[0];
    assert_eq!(entry["id"], SeriesId::of(&host(&metric, 1)).to_string());
    assert_eq!(entry["labels"]["instance"], "h1");
    assert_eq!(
        entry["outlier"],
        serde_json::to_value(status(true)).unwrap()
    );
    // Labels are a map of any keys: documented as such.
    let mut expected = body.clone();
    expected["outliers"][0]["labels"] = map_of(serde_json::json!("string"));
    let (_, _, document) = app.get("/openapi.json").await;
    assert_documented(&document, "/outliers", &expected);

    let (code, _, body) = app.get("/outliers?name=never_stored").await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(body["outliers"], serde_json::json!([]));
}

#[tokio::test]
async fn outliers_without_a_valid_name_is_a_400_naming_it() {
    let app = spawn_app().await;
    for query in ["", "?name=", "?name"] {
        let (status, _, body) = app.get(&format!("/outliers{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query:?}: {body}");
        assert!(
            error_of(&body).contains("`name` is required"),
            "{query:?}: {body}"
        );
    }
    let (status, _, body) = app.get("/outliers?name=a-b").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error_of(&body).contains("metric name"), "{body}");
    let (status, _, body) = app.get("/outliers?name=up&limit=3").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error_of(&body).contains("limit"), "{body}");
}
