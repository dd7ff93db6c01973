//! Conformance to the original API (`ORIGINAL_API.md`, appendix A.1): each endpoint's statuses
//! and the structure of its answers (keys and JSON types, recursively) against the original's
//! documented examples, `conformance/original-api/retrieval_*.json`. Additions are extra keys,
//! which the comparison allows; the deliberate differences (README, "Differences from the
//! original API") are edited into the expected structure here, each where it applies.

use common::{
    SeriesId,
    record::{Decomposition, Payload, Record, Seasonality, Window, Windows},
};
use reqwest::StatusCode;
use serde_json::json;

use crate::{
    helpers::{computed_at, labels, prediction_record, spawn_app},
    shape::{assert_conforms, assert_covers, at, fixture, map_of},
};

/// Records of every kind for one series, each section filled in as in the original's examples.
fn records(name: &common::Labels) -> Vec<Record> {
    let window = Window {
        min: 0.5,
        max: 2.5,
        avg: 1.25,
        std_dev: 0.4,
        count: 60,
    };
    let values = Payload::Values {
        values: Windows {
            h1: Some(window),
            h3: Some(window),
            h12: Some(window),
        },
    };
    let mut metadata = common::testing::full_metadata();
    metadata.seasonality = Some(Seasonality {
        period: Some(1440.0),
        add: Some(Decomposition {
            period: 1440.0,
            error: 0.5,
        }),
        mul: Some(Decomposition {
            period: 1440.0,
            error: 0.02,
        }),
    });
    vec![
        Record::new(name.clone(), computed_at(), values),
        Record::new(name.clone(), computed_at(), Payload::Metadata { metadata }),
        prediction_record(name.clone()),
    ]
}

#[tokio::test]
async fn every_endpoint_conforms() {
    let app = spawn_app().await;
    let name = labels("node_filesystem_avail_bytes", &[("mountpoint", "/run")]);
    app.seed(&records(&name)).await;
    let id = SeriesId::of(&name);

    let (status, _, body) = app.get("/metrics").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut expected = fixture("retrieval_metrics");
    for item in expected.as_array_mut().expect("a list") {
        item["name"] = map_of(json!("string"));
        // The README's row "Series id": `id`, 16 hex digits, instead of `_id.$oid`.
        let item = item.as_object_mut().expect("an object");
        item.remove("_id");
        item.insert("id".to_owned(), json!("string"));
    }
    assert_conforms(&body, &expected);
    assert_covers(&body, &expected);

    let (status, _, body) = app.get(&format!("/metrics/{id}/metadata")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut expected = fixture("retrieval_metadata");
    // The lags listed depend on the series.
    at(&mut expected, "/metadata").insert("autocorrelation".to_owned(), map_of(json!(1.0)));
    assert_conforms(&body, &expected);

    let (status, _, body) = app.get(&format!("/metrics/{id}/values")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_conforms(&body, &fixture("retrieval_values"));

    let (status, _, body) = app.get(&format!("/metrics/{id}/prediction")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut expected = fixture("retrieval_prediction");
    // The README's row "Prediction values": a list of points instead of a CSV string.
    at(&mut expected, "/prediction").insert(
        "values".to_owned(),
        json!([{"timestamp": "string", "value": 1.0, "lower": 1.0, "upper": 1.0}]),
    );
    assert_conforms(&body, &expected);
    let points = body["prediction"]["values"].as_array().expect("a list");
    assert!(!points.is_empty());
}

#[tokio::test]
async fn bad_and_unknown_ids_are_answered_with_the_documented_statuses() {
    let app = spawn_app().await;
    for kind in ["metadata", "values", "prediction"] {
        // A malformed id: 400, as in the original.
        let (status, _, body) = app.get(&format!("/metrics/not-an-id/{kind}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{kind}: {body}");
        assert!(body["error"].is_string(), "{body}");
        // A well-formed id that is not stored: 404 (the README's row "Unknown id"; the
        // original answered 400).
        let unknown = SeriesId::of(&labels("never_stored", &[]));
        let (status, _, body) = app.get(&format!("/metrics/{unknown}/{kind}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{kind}: {body}");
        assert!(body["error"].is_string(), "{body}");
    }
}
