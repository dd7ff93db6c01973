//! The database stopped and started again; load shedding.

use std::time::{Duration, Instant};

use common::{
    SeriesId,
    http::BUSY_MESSAGE,
    testing::{DatabaseServer, wait_until},
};
use futures::future::join_all;
use reqwest::StatusCode;

use crate::helpers::{Options, error_of, get_json, labels, spawn_app_with, values_record};

#[tokio::test]
async fn a_stopped_database_is_a_504_and_the_service_recovers_when_it_returns() {
    let mut database = DatabaseServer::start().await;
    let app = spawn_app_with(Options {
        mongo_uri: database.uri(),
        mongo_timeout: "1s",
        ..Options::default()
    })
    .await;
    let name = labels("latency_seconds", &[]);
    app.seed(&[values_record(name.clone())]).await;
    let values = format!("/metrics/{}/values", SeriesId::of(&name));
    assert_eq!(app.get(&values).await.0, StatusCode::OK);

    database.process().kill().await;

    for path in [
        values.as_str(),
        "/metrics",
        &format!(
            "/metrics/{}/aggregate?op=avg&window=60",
            SeriesId::of(&name)
        ),
    ] {
        let started = Instant::now();
        let (status, _, body) = app.get(path).await;
        assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{path}: {body}");
        assert_eq!(
            error_of(&body),
            "DB not available",
            "the cause is logged, not sent"
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{path} answered after {:?}",
            started.elapsed()
        );
    }
    assert_eq!(
        app.admin_text("/readyz").await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );

    database.process().start().await;

    wait_until(
        "the service to reach the restarted database",
        Duration::from_secs(30),
        || async { app.get(&values).await.0 != StatusCode::GATEWAY_TIMEOUT },
    )
    .await;
    // SecantusDB may lose writes it had not checkpointed when it was killed: that is the
    // database's durability, not the service's; write again and read it back.
    app.seed(&[values_record(name.clone())]).await;
    let (status, _, body) = app.get(&values).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["values"]["1h"]["count"], 60, "{body}");
    assert_eq!(app.admin_text("/readyz").await.0, StatusCode::OK);
}

#[tokio::test]
async fn requests_beyond_the_in_flight_limit_are_shed_with_a_503() {
    let mut database = DatabaseServer::start().await;
    let app = spawn_app_with(Options {
        mongo_uri: database.uri(),
        mongo_timeout: "2s",
        max_in_flight: 1,
        ..Options::default()
    })
    .await;
    let name = labels("latency_seconds", &[]);
    app.seed(&[values_record(name.clone())]).await;
    let url = format!("{}/metrics/{}/values", app.api, SeriesId::of(&name));
    // With the database gone, the request that gets the only slot holds it for the database
    // timeout, so the others arrive while it is taken.
    database.process().kill().await;

    let answers = join_all((0..5).map(|_| get_json(&app.client, &url))).await;

    let shed: Vec<_> = answers
        .iter()
        .filter(|(status, _, _)| *status == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert!(
        !shed.is_empty(),
        "no request was shed: {:?}",
        answers.iter().map(|a| a.0).collect::<Vec<_>>()
    );
    for (_, _, body) in shed {
        assert_eq!(error_of(body), BUSY_MESSAGE);
    }
    assert!(
        answers
            .iter()
            .any(|(status, _, _)| *status == StatusCode::GATEWAY_TIMEOUT),
        "one request was served"
    );
}
