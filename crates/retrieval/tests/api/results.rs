//! `GET /metrics/{id}/values|metadata|prediction`.

use common::{SeriesId, record::Payload};
use reqwest::StatusCode;

use crate::helpers::{
    computed_at, error_of, labels, metadata_record, prediction_record, spawn_app, values_record,
};

#[tokio::test]
async fn each_kind_is_answered_as_stored_under_its_name() {
    let app = spawn_app().await;
    let name = labels("latency_seconds", &[("instance", "a")]);
    let records = [
        values_record(name.clone()),
        metadata_record(name.clone()),
        prediction_record(name.clone()),
    ];
    app.seed(&records).await;
    let id = SeriesId::of(&name);

    for record in &records {
        let kind = record.kind();
        let (status, headers, body) = app.get(&format!("/metrics/{id}/{kind}")).await;
        assert_eq!(status, StatusCode::OK, "{kind}: {body}");
        assert_eq!(headers["content-type"], "application/json");
        let stored = match &record.payload {
            Payload::Values { values } => serde_json::to_value(values),
            Payload::Metadata { metadata } => serde_json::to_value(metadata),
            Payload::Prediction { prediction } => serde_json::to_value(prediction),
        }
        .unwrap();
        assert_eq!(body[kind.as_str()], stored, "{kind}");
        assert_eq!(
            body["computed_at"],
            serde_json::to_value(computed_at()).unwrap()
        );
        assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
    }
}

#[tokio::test]
async fn unknown_series_and_results_not_yet_computed_are_404s_told_apart() {
    let app = spawn_app().await;
    let name = labels("latency_seconds", &[]);
    app.seed(&[values_record(name.clone())]).await;
    let id = SeriesId::of(&name);

    let (status, _, pending) = app.get(&format!("/metrics/{id}/metadata")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        error_of(&pending).contains("Nothing computed yet"),
        "{pending}"
    );
    let (status, _, _) = app.get(&format!("/metrics/{id}/prediction")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let unknown_id = SeriesId::of(&labels("never_stored", &[]));
    let (status, _, unknown) = app.get(&format!("/metrics/{unknown_id}/values")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(error_of(&unknown).contains("No series"), "{unknown}");
    assert_ne!(error_of(&unknown), error_of(&pending));
}

#[tokio::test]
async fn malformed_ids_and_unknown_kinds_are_400s_naming_the_problem() {
    let app = spawn_app().await;
    for bad_id in ["xyz", "0123456789abcdeg", "0123456789abcdef0"] {
        let (status, _, body) = app.get(&format!("/metrics/{bad_id}/values")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad_id}");
        assert!(error_of(&body).contains("16 hexadecimal digits"), "{body}");
    }
    let (status, _, body) = app.get("/metrics/0123456789abcdef/weather").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error_of(&body).contains("weather") && error_of(&body).contains("values"),
        "{body}"
    );
}

#[tokio::test]
async fn nan_and_infinite_results_are_served_as_prometheus_strings() {
    let app = spawn_app().await;
    let name = labels("quantile_seconds", &[("quantile", "0.99")]);
    let mut record = values_record(name.clone());
    let Payload::Values { values } = &mut record.payload else {
        unreachable!("a values record")
    };
    let window = values.h1.as_mut().expect("a 1h window");
    window.avg = f64::NAN;
    window.std_dev = f64::NAN;
    window.max = f64::INFINITY;
    window.min = f64::NEG_INFINITY;
    app.seed(std::slice::from_ref(&record)).await;

    let id = SeriesId::of(&name);
    let (status, _, body) = app.get(&format!("/metrics/{id}/values")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let h1 = &body["values"]["1h"];
    assert_eq!(h1["avg"], "NaN", "{body}");
    assert_eq!(h1["std_dev"], "NaN", "{body}");
    assert_eq!(h1["max"], "+Inf", "{body}");
    assert_eq!(h1["min"], "-Inf", "{body}");
}
