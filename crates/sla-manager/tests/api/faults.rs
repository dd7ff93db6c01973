//! When the database or Prometheus does not answer.

use common::testing::{DatabaseServer, free_port, wait_until};
use reqwest::{Method, StatusCode};
use std::time::Duration;

use crate::helpers::{Options, spawn_app_with};

#[tokio::test]
async fn a_database_that_does_not_answer_is_a_504_until_it_is_back() {
    let mut server = DatabaseServer::start().await;
    let app = spawn_app_with(Options {
        mongo_uri: Some(server.uri()),
        ..Options::default()
    })
    .await;
    app.define_sla_set().await;
    let end = app.end();
    assert_eq!(
        app.get(&format!("/status?at={end}")).await.0,
        StatusCode::OK
    );

    server.process().kill().await;
    for path in [
        "/slaset".to_owned(),
        format!("/status?at={end}"),
        format!("/violations?at={end}"),
    ] {
        let (status, body) = app.get(&path).await;
        assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{path}: {body}");
        assert_eq!(body, serde_json::json!({"error": "DB not available"}));
    }
    let (status, _) = app
        .request(Method::PUT, "/slaset", Some(&app.sla_set_body()), None)
        .await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    // The etl's call fails as retryable.
    let refused = app.sla_set_stream().await.expect_err("no database, no set");
    assert_eq!(refused.code(), tonic::Code::Unavailable, "{refused}");

    server.process().start().await;
    wait_until(
        "the API to answer again",
        Duration::from_secs(60),
        || async { app.get("/slaset").await.0 != StatusCode::GATEWAY_TIMEOUT },
    )
    .await;
    // Writing works again. (Whether the set written just before the SIGKILL survived is the
    // database's business: SecantusDB may lose the last second of writes, journaled or not.)
    let (status, body) = app.put_slaset(&app.sla_set_body()).await;
    assert!(
        status == StatusCode::OK || status == StatusCode::CREATED,
        "{status}: {body}"
    );
    assert_eq!(
        app.get(&format!("/status?at={end}")).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_unreachable_prometheus_is_a_502_that_tells_nothing_of_it() {
    let port = free_port();
    let nowhere = format!("http://scraper:hunter2@127.0.0.1:{port}");
    let app = spawn_app_with(Options {
        prometheus_url: Some(nowhere.clone()),
        ..Options::default()
    })
    .await;
    let (status, body) = app.put_slaset(&app.sla_set_body()).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    // No URL, no credentials, no upstream text: a fixed message (the cause is logged).
    assert_eq!(
        body,
        serde_json::json!({"error": "Prometheus not available"})
    );
    assert_eq!(
        app.get("/slaset").await.0,
        StatusCode::NOT_FOUND,
        "nothing stored"
    );
    // The admin port names the cause, with the password redacted.
    let readiness = reqwest::get(format!("{}/readyz", app.admin))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(readiness.contains(&port.to_string()), "{readiness}");
    assert!(!readiness.contains("hunter2"), "{readiness}");
}

#[tokio::test]
async fn readiness_reports_each_dependency() {
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let app = spawn_app_with(Options {
        prometheus_url: Some(nowhere),
        ..Options::default()
    })
    .await;
    let response = reqwest::get(format!("{}/readyz", app.admin)).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["checks"]["database"], "ok");
    assert_ne!(body["checks"]["prometheus"], "ok");
    assert_eq!(
        reqwest::get(format!("{}/healthz", app.admin))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}
