//! Conformance to the original API (`ORIGINAL_API.md`, appendix A.1): each endpoint's statuses
//! and the structure of its answers (keys and JSON types, recursively) against the original's
//! documented examples, `conformance/original-api/retrieval_*.json`. Additions are extra keys,
//! which the comparison allows; the deliberate differences (README, "Differences from the
//! original API") are edited into the expected structure here, each where it applies.

use common::{
    SeriesId,
    record::{Decomposition, Payload, Record, Seasonality, Windows},
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    helpers::{computed_at, labels, prediction_record, spawn_app, window},
    shape::{assert_conforms, assert_covers, assert_documented, at, fixture, map_of},
};

/// Records of every kind for one series, each section filled in as in the original's examples.
fn records(name: &common::Labels) -> Vec<Record> {
    let window = window();
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
        periods: Vec::new(),
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

/// The original's example of a result (`metrics`, `metadata`, `values`, `prediction`), with the
/// deliberate differences edited in.
fn expected(kind: &str) -> Value {
    let mut expected = fixture(&format!("retrieval_{kind}"));
    match kind {
        "metrics" => {
            for item in expected.as_array_mut().expect("a list") {
                item["name"] = map_of(json!("string"));
                // The README's row "Series id": `id`, 16 hex digits, instead of `_id.$oid`.
                let item = item.as_object_mut().expect("an object");
                item.remove("_id");
                item.insert("id".to_owned(), json!("string"));
            }
        }
        // The lags listed depend on the series.
        "metadata" => {
            at(&mut expected, "/metadata").insert("autocorrelation".to_owned(), map_of(json!(1.0)));
        }
        // The README's row "Prediction values": a list of points instead of a CSV string.
        "prediction" => {
            at(&mut expected, "/prediction").insert(
                "values".to_owned(),
                json!([{"timestamp": "string", "value": 1.0, "lower": 1.0, "upper": 1.0}]),
            );
        }
        _ => {}
    }
    expected
}

#[tokio::test]
async fn every_endpoint_conforms() {
    let app = spawn_app().await;
    let name = labels("node_filesystem_avail_bytes", &[("mountpoint", "/run")]);
    app.seed(&records(&name)).await;
    let id = SeriesId::of(&name);

    let (status, _, body) = app.get("/metrics").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_conforms(&body, &expected("metrics"));
    assert_covers(&body, &expected("metrics"));
    for kind in ["metadata", "values", "prediction"] {
        let (status, _, body) = app.get(&format!("/metrics/{id}/{kind}")).await;
        assert_eq!(status, StatusCode::OK, "{kind}: {body}");
        assert_conforms(&body, &expected(kind));
    }
    let (_, _, body) = app.get(&format!("/metrics/{id}/prediction")).await;
    let points = body["prediction"]["values"].as_array().expect("a list");
    assert!(!points.is_empty());
}

#[tokio::test]
async fn the_openapi_document_describes_the_original_shapes() {
    let app = spawn_app().await;
    let (status, _, document) = app.get("/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_documented(&document, "/metrics", &expected("metrics"));
    for kind in ["metadata", "values", "prediction"] {
        assert_documented(&document, "/metrics/{id}/{kind}", &expected(kind));
    }
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
