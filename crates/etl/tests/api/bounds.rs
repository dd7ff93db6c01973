//! What the SLA set cannot make the etl do: read a lookback of billions of points for an
//! absurd seasonal period, or forecast one history merged from several series.

use std::time::Duration;

use common::{record::Kind, testing::free_port};

use crate::helpers::{Options, SlaServer, TestApp, records_until, sla_on, spawn_app};

/// An etl (fast loop every 5 s) reading `set`, and what it produced up to the forecast of
/// `synthetic_trend` (at most 90 s): the etl and the SLA server stay up for further checks.
async fn produced_until_the_trend_forecast(
    set: Vec<common::proto::SlaSetResponse>,
) -> (TestApp, SlaServer, Vec<common::record::Record>) {
    let sla_port = free_port();
    let sla = SlaServer::start(sla_port, set).await;
    let app = spawn_app(Options {
        fast_secs: 5,
        ..Options::new(sla_port)
    })
    .await;
    let consumer = app.consumer();
    let records = records_until(&consumer, Duration::from_secs(90), |r| {
        prediction_of(r, "synthetic_trend")
    })
    .await;
    (app, sla, records)
}

fn prediction_of(records: &[common::record::Record], name: &str) -> bool {
    records.iter().any(|r| {
        r.kind() == Kind::Prediction && r.name.get("__name__").map(String::as_str) == Some(name)
    })
}

#[tokio::test]
async fn a_seasonal_period_beyond_the_bound_is_ignored_and_the_series_still_forecast() {
    // u32::MAX minutes: uncapped, two periods of history at one-minute steps are billions of
    // points.
    let (_app, _sla, records) =
        produced_until_the_trend_forecast(vec![sla_on("synthetic_trend", Some(u32::MAX))]).await;
    assert!(prediction_of(&records, "synthetic_trend"));
}

#[tokio::test]
async fn an_sla_whose_labels_match_several_series_is_reported_not_merged() {
    // `synthetic_bulk{job, instance}` names 12 series that differ by `shard`, none exactly.
    let (app, _sla, records) = produced_until_the_trend_forecast(vec![
        sla_on("synthetic_bulk", None),
        sla_on("synthetic_trend", None),
    ])
    .await;
    app.wait_for_metric(
        "etl_failures_total",
        &[("loop", "fast"), ("cause", "ambiguous_selector")],
        1.0,
        Duration::from_secs(30),
    )
    .await;
    assert!(
        !prediction_of(&records, "synthetic_bulk"),
        "no forecast of a history merged from several series"
    );
}
