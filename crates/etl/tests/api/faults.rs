//! Each dependency down, then back: the etl logs and counts the failure, keeps running, and
//! recovers without a restart.

use std::{
    net::{Ipv4Addr, SocketAddr},
    time::Duration,
};

use common::{
    record::Kind,
    testing::{BrokerServer, free_port, prometheus_url},
};

use crate::helpers::{
    Gate, Options, SlaServer, TestApp, records_until, sla_on, socket_of, spawn_app,
};

/// A private broker and an etl producing to it every second (each record given
/// `message_timeout` in all), once its first values are acknowledged.
async fn producing_to_a_private_broker(
    message_timeout: &'static str,
) -> (BrokerServer, SlaServer, TestApp) {
    let broker = BrokerServer::start().await;
    let sla_port = free_port();
    let sla = SlaServer::start(sla_port, vec![]).await;
    let app = spawn_app(Options {
        brokers: broker.brokers(),
        fast_secs: 1,
        message_timeout,
        ..Options::new(sla_port)
    })
    .await;
    app.wait_for_metric(
        "etl_records_produced_total",
        &[("kind", "values")],
        1.0,
        Duration::from_secs(60),
    )
    .await;
    (broker, sla, app)
}

#[tokio::test]
async fn prometheus_down_at_start_is_counted_then_recovered() {
    // Arrange: Prometheus' URL points at a port that drops every connection for now.
    let prometheus = Gate::closed().await;
    let sla_port = free_port();
    let _sla = SlaServer::start(sla_port, vec![]).await;
    let app = spawn_app(Options {
        prometheus_url: format!("http://127.0.0.1:{}", prometheus.port()),
        fast_secs: 1,
        ..Options::new(sla_port)
    })
    .await;

    // Act and assert: the fast loop fails and says so, and the service keeps running.
    let failed = [("loop", "fast"), ("cause", "prometheus")];
    app.wait_for_metric("etl_failures_total", &failed, 2.0, Duration::from_secs(30))
        .await;
    assert_eq!(
        app.metric("etl_records_produced_total", &[("kind", "values")])
            .await,
        0.0
    );

    // Prometheus becomes reachable at that address: a later cycle succeeds.
    prometheus.open(socket_of(prometheus_url().as_str()));
    let consumer = app.consumer();
    let records = records_until(&consumer, Duration::from_secs(60), |r| {
        r.iter().any(|r| r.kind() == Kind::Values)
    })
    .await;
    assert!(!records.is_empty());
    app.wait_for_metric(
        "etl_last_successful_cycle_timestamp_seconds",
        &[("loop", "fast")],
        1.0,
        Duration::from_secs(30),
    )
    .await;
}

#[tokio::test]
async fn sla_manager_down_is_counted_then_recovered() {
    // Arrange: no SLA server yet.
    let sla_manager = Gate::closed().await;
    let app = spawn_app(Options {
        fast_secs: 3,
        ..Options::new(sla_manager.port())
    })
    .await;

    // Act and assert: values still flow; the SLA step fails and is counted.
    let failed = [("loop", "fast"), ("cause", "sla_manager")];
    app.wait_for_metric("etl_failures_total", &failed, 1.0, Duration::from_secs(30))
        .await;
    app.wait_for_metric(
        "etl_records_produced_total",
        &[("kind", "values")],
        1.0,
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(
        app.metric("etl_records_produced_total", &[("kind", "prediction")])
            .await,
        0.0
    );
    assert!(
        app.metric("etl_retries_total", &[("operation", "get_sla_set")])
            .await
            >= 1.0,
        "the call was retried"
    );

    // The sla-manager comes up: forecasts follow without a restart.
    let sla_port = free_port();
    let _sla = SlaServer::start(sla_port, vec![sla_on("synthetic_trend", None)]).await;
    sla_manager.open(SocketAddr::from((Ipv4Addr::LOCALHOST, sla_port)));
    let consumer = app.consumer();
    let records = records_until(&consumer, Duration::from_secs(90), |r| {
        r.iter().any(|r| r.kind() == Kind::Prediction)
    })
    .await;
    let prediction = records
        .iter()
        .find(|r| r.kind() == Kind::Prediction)
        .unwrap();
    assert_eq!(
        prediction.name.get("__name__").map(String::as_str),
        Some("synthetic_trend")
    );
}

#[tokio::test]
async fn broker_down_mid_cycle_pauses_production_then_recovers() {
    // Arrange: a private broker, and an etl producing to it every second.
    let (mut broker, _sla, app) = producing_to_a_private_broker("60s").await;

    // Act: the broker dies; records wait for it instead of being dropped.
    broker.process().kill().await;
    let produced_before = app
        .metric("etl_records_produced_total", &[("kind", "values")])
        .await;
    app.wait_for_metric("etl_records_pending", &[], 1.0, Duration::from_secs(30))
        .await;
    assert_eq!(
        app.metric("etl_records_produced_total", &[("kind", "values")])
            .await,
        produced_before,
        "nothing acknowledged while down"
    );

    // The broker comes back (empty: memory storage); production resumes, the topic is created
    // again, and nothing was dropped.
    broker.process().start().await;
    app.wait_for_metric(
        "etl_records_produced_total",
        &[("kind", "values")],
        produced_before + 6.0,
        Duration::from_secs(120),
    )
    .await;
    let consumer = app.consumer();
    let records = records_until(&consumer, Duration::from_secs(60), |r| {
        r.iter().any(|r| r.kind() == Kind::Values)
    })
    .await;
    assert!(!records.is_empty());
    assert!(
        app.metric("etl_retries_total", &[("operation", "kafka_produce")])
            .await
            >= 1.0,
        "failed attempts are counted"
    );
    assert_eq!(
        app.metric("etl_records_dropped_total", &[]).await,
        0.0,
        "no record dropped"
    );
}

/// The threads of this process (each librdkafka client runs several while it lives).
fn threads() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("Threads:"))
                .and_then(|n| n.trim().parse().ok())
        })
        .expect("/proc/self/status has a thread count")
}

#[tokio::test]
async fn failed_produces_reuse_one_admin_client() {
    // Arrange: a private broker, an etl producing to it every second, short attempts (of 5 s,
    // retried for 20 s).
    let (mut broker, _sla, app) = producing_to_a_private_broker("20s").await;
    let retries_before = app
        .metric("etl_retries_total", &[("operation", "kafka_produce")])
        .await;
    let baseline = threads();

    // Act: the broker dies; every record's failed attempt asks for the topic to be created.
    broker.process().kill().await;
    let mut peak = baseline;
    let until = tokio::time::Instant::now() + Duration::from_secs(30);
    while tokio::time::Instant::now() < until {
        peak = peak.max(threads());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Assert: many failed attempts, but no client per attempt (one librdkafka client is 3 to 5
    // threads; a rebuilt producer overlaps its predecessor for a while).
    let retries = app
        .metric("etl_retries_total", &[("operation", "kafka_produce")])
        .await
        - retries_before;
    let dropped = app.metric("etl_records_dropped_total", &[]).await;
    assert!(
        retries + dropped >= 5.0,
        "{retries} retried and {dropped} dropped attempts"
    );
    assert!(
        peak <= baseline + 16,
        "{} threads more at the peak ({retries} failed attempts): a client per attempt",
        peak - baseline
    );
}
