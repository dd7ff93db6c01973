//! The OpenAPI document, the admin listener, request ids and compression.

use common::SeriesId;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{labels, metadata_record, spawn_app, values_record};

#[tokio::test]
async fn the_openapi_document_lists_every_path_and_each_one_is_served() {
    let app = spawn_app().await;
    let name = labels("synthetic_seasonal", &[]);
    app.seed(&[values_record(name.clone()), metadata_record(name.clone())])
        .await;
    let id = SeriesId::of(&name).to_string();

    let (status, _, document) = app.get("/openapi.json").await;

    assert_eq!(status, StatusCode::OK);
    assert!(
        document["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        document["openapi"]
    );
    let paths = document["paths"].as_object().expect("paths");
    let mut listed: Vec<&str> = paths.keys().map(String::as_str).collect();
    listed.sort();
    assert_eq!(
        listed,
        [
            "/metrics",
            "/metrics/{id}/aggregate",
            "/metrics/{id}/anomalies",
            "/metrics/{id}/{kind}",
            "/openapi.json",
            "/outliers"
        ]
    );
    let parameters = |path: &str| -> Vec<String> {
        paths[path]["get"]["parameters"]
            .as_array()
            .map_or_else(Vec::new, |ps| {
                ps.iter()
                    .map(|p| p["name"].as_str().unwrap().to_owned())
                    .collect()
            })
    };
    assert_eq!(parameters("/metrics"), ["name"]);
    assert_eq!(parameters("/metrics/{id}/{kind}"), ["id", "kind"]);
    assert_eq!(parameters("/metrics/{id}/anomalies"), ["id"]);
    assert_eq!(parameters("/outliers"), ["name"]);
    assert_eq!(
        parameters("/metrics/{id}/aggregate"),
        ["id", "op", "window", "from", "to"]
    );
    assert!(
        document["components"]["schemas"]["Windows"]["properties"]["1h"].is_object(),
        "result schemas are included"
    );
    // Each documented path is a route of the service, with its documented success status.
    for path in listed {
        let concrete = path.replace("{id}", &id).replace("{kind}", "values");
        let query = match path {
            "/metrics/{id}/aggregate" => "?op=avg&window=60",
            "/outliers" => "?name=synthetic_seasonal",
            _ => "",
        };
        let (status, _, body) = app.get(&format!("{concrete}{query}")).await;
        assert_eq!(status, StatusCode::OK, "{concrete}: {body}");
        assert!(paths[path]["get"]["responses"]["200"].is_object());
    }
}

#[tokio::test]
async fn the_admin_listener_serves_health_readiness_and_latency_per_route() {
    let app = spawn_app().await;
    assert_eq!(app.admin_text("/healthz").await.0, StatusCode::OK);
    let (status, readiness) = app.admin_text("/readyz").await;
    assert_eq!(status, StatusCode::OK, "{readiness}");
    let readiness: Value = serde_json::from_str(&readiness).unwrap();
    assert_eq!(
        readiness["checks"],
        serde_json::json!({"database": "ok", "prometheus": "ok"})
    );

    let id = SeriesId::of(&labels("never_stored", &[]));
    assert_eq!(
        app.get(&format!("/metrics/{id}/values")).await.0,
        StatusCode::NOT_FOUND
    );

    let (status, metrics) = app.admin_text("/metrics").await;
    assert_eq!(status, StatusCode::OK);
    let series = r#"http_request_duration_seconds_count{method="GET",route="/metrics/{id}/{kind}",status="404"} 1"#;
    assert!(metrics.contains(series), "{metrics}");
    assert!(
        metrics.contains(
            r#"retrieval_database_request_duration_seconds_count{operation="find",outcome="ok"} 1"#
        ),
        "{metrics}"
    );
    assert!(
        !metrics.contains(&id.to_string()),
        "no series id in metric labels"
    );
}

#[tokio::test]
async fn answers_carry_a_request_id_and_are_compressed_when_asked() {
    let app = spawn_app().await;
    let records: Vec<_> = (0..50)
        .map(|i| values_record(labels("bulk", &[("shard", &i.to_string())])))
        .collect();
    app.seed(&records).await;

    let plain = app
        .client
        .get(format!("{}/metrics", app.api))
        .send()
        .await
        .unwrap();
    assert!(plain.headers().contains_key("x-request-id"));
    assert!(plain.headers().get("content-encoding").is_none());

    let request = app
        .client
        .get(format!("{}/metrics", app.api))
        .header("accept-encoding", "gzip")
        .header("x-request-id", "test-42");
    let compressed = request.send().await.unwrap();
    assert_eq!(compressed.status(), StatusCode::OK);
    assert_eq!(compressed.headers()["content-encoding"], "gzip");
    assert_eq!(compressed.headers()["x-request-id"], "test-42");
}
