//! `GET /metrics`.

use common::SeriesId;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{error_of, labels, spawn_app, values_record};

fn ids(body: &Value) -> Vec<String> {
    body.as_array()
        .expect("a JSON array")
        .iter()
        .map(|s| s["id"].as_str().expect("an id").to_owned())
        .collect()
}

#[tokio::test]
async fn every_series_is_listed_with_its_id_and_labels_sorted_by_id() {
    let app = spawn_app().await;
    let names = [
        labels("cpu", &[("instance", "a")]),
        labels("cpu", &[("instance", "b")]),
        labels("memory", &[]),
    ];
    app.seed(&names.clone().map(values_record)).await;

    let (status, _, body) = app.get("/metrics").await;

    assert_eq!(status, StatusCode::OK);
    let listed = body.as_array().expect("a JSON array");
    assert_eq!(listed.len(), 3);
    let mut expected: Vec<String> = names.iter().map(|n| SeriesId::of(n).to_string()).collect();
    expected.sort();
    assert_eq!(ids(&body), expected);
    for entry in listed {
        let name: common::Labels = serde_json::from_value(entry["name"].clone()).unwrap();
        assert_eq!(
            SeriesId::of(&name).to_string(),
            entry["id"],
            "id is the fingerprint of name"
        );
        assert_eq!(
            entry.as_object().unwrap().len(),
            2,
            "only id and name: {entry}"
        );
    }
}

#[tokio::test]
async fn the_listing_filters_by_metric_name() {
    let app = spawn_app().await;
    let cpu = [
        labels("cpu", &[("instance", "a")]),
        labels("cpu", &[("instance", "b")]),
    ];
    app.seed(&cpu.clone().map(values_record)).await;
    app.seed(&[values_record(labels("memory", &[]))]).await;

    let (status, _, body) = app.get("/metrics?name=cpu").await;
    assert_eq!(status, StatusCode::OK);
    let mut expected: Vec<String> = cpu.iter().map(|n| SeriesId::of(n).to_string()).collect();
    expected.sort();
    assert_eq!(ids(&body), expected);

    let (status, _, body) = app.get("/metrics?name=disk").await;
    assert_eq!((status, body), (StatusCode::OK, serde_json::json!([])));
}

#[tokio::test]
async fn an_empty_database_lists_an_empty_array() {
    let app = spawn_app().await;
    let (status, _, body) = app.get("/metrics").await;
    assert_eq!((status, body), (StatusCode::OK, serde_json::json!([])));
}

#[tokio::test]
async fn a_malformed_name_or_an_unknown_parameter_is_a_400_naming_it() {
    let app = spawn_app().await;
    let (status, _, body) = app.get("/metrics?name=cpu%7Bjob%3D%22x%22%7D").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error_of(&body).contains("`name`"), "{body}");

    let (status, _, body) = app.get("/metrics?nmae=cpu").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error_of(&body).contains("nmae"), "{body}");
}

#[tokio::test]
async fn a_large_listing_is_streamed_in_chunks_and_complete() {
    let app = spawn_app().await;
    let records: Vec<_> = (0..1000)
        .map(|i| values_record(labels("bulk", &[("shard", &i.to_string())])))
        .collect();
    app.seed(&records).await;

    let response = app
        .client
        .get(format!("{}/metrics", app.api))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["transfer-encoding"],
        "chunked",
        "the listing is streamed, not buffered"
    );
    assert!(response.headers().get("content-length").is_none());
    let body: Value = response.json().await.unwrap();
    let listed = ids(&body);
    assert_eq!(listed.len(), 1000);
    assert!(
        listed.windows(2).all(|pair| pair[0] < pair[1]),
        "sorted and without duplicates"
    );
}
