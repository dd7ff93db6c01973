use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use common::{
    promql::PromClient,
    record::{Kind, Payload, Record, Window},
    testing::{free_port, prometheus_url},
};

use crate::helpers::{Options, SlaServer, manifest, records_until, sla_on, spawn_app};

fn of_kind(records: &[Record], kind: Kind) -> Vec<&Record> {
    records.iter().filter(|r| r.kind() == kind).collect()
}

fn name(record: &Record) -> &str {
    record
        .name
        .get("__name__")
        .map(String::as_str)
        .unwrap_or_default()
}

fn assert_close(what: &str, got: f64, expected: f64) {
    let tolerance = 1e-9 * expected.abs().max(1.0);
    assert!(
        (got - expected).abs() <= tolerance,
        "{what}: got {got}, expected {expected}"
    );
}

fn assert_window(what: &str, got: Option<Window>, expected: Option<synthetic::WindowStats>) {
    match (got, expected) {
        (Some(got), Some(expected)) => {
            assert_close(&format!("{what} min"), got.min, expected.min);
            assert_close(&format!("{what} max"), got.max, expected.max);
            assert_close(&format!("{what} avg"), got.avg, expected.avg);
            assert_close(&format!("{what} std_dev"), got.std_dev, expected.std_dev);
            assert_eq!(got.count, expected.count as u64, "{what} count");
        }
        (None, None) => {}
        (got, expected) => panic!("{what}: got {got:?}, expected {expected:?}"),
    }
}

/// The noise-free part of the `seasonal` shape (`synthetic::Shape::Seasonal`).
fn seasonal_signal(t: i64) -> f64 {
    let t = t as f64;
    100.0
        + 20.0 * (std::f64::consts::TAU * t / 86_400.0).sin()
        + 5.0 * (std::f64::consts::TAU * t / 3_600.0).sin()
}

/// One values record per synthetic series, each equal to what the history gives at `now`.
fn assert_values_match_the_history(values: &[&Record], now: DateTime<Utc>) {
    let manifest = manifest();
    let data = manifest.dataset();
    let synthetic_series = manifest.series.len() + manifest.bulk.count as usize;
    assert_eq!(
        values.len(),
        synthetic_series,
        "one values record per series"
    );
    for record in values {
        assert_eq!(record.computed_at, now);
        let series = data
            .series()
            .iter()
            .find(|s| s.label_set() == record.name)
            .expect("a synthetic series");
        let Payload::Values { values } = &record.payload else {
            unreachable!()
        };
        let at = now.timestamp();
        assert_window(
            &format!("{} 1h", name(record)),
            values.h1,
            data.window_stats(series, at, 3600),
        );
        assert_window(
            &format!("{} 3h", name(record)),
            values.h3,
            data.window_stats(series, at, 3 * 3600),
        );
        assert_window(
            &format!("{} 12h", name(record)),
            values.h12,
            data.window_stats(series, at, 12 * 3600),
        );
    }
}

#[tokio::test]
async fn sharded_cycles_cover_every_series_once_with_the_same_aggregates() {
    // Arrange: three shards run by one replica without election; the bulk series of the
    // history (one metric name, a `shard` label) make each shard narrow its queries.
    let manifest = manifest();
    assert!(
        manifest.bulk.count >= 3,
        "the test history needs bulk series (TEST_SYNTHETIC_BULK)"
    );
    let synthetic_series = manifest.series.len() + manifest.bulk.count as usize;
    let now = DateTime::from_timestamp(manifest.config.end - 600, 0).unwrap();
    let sla_port = free_port();
    let _sla = SlaServer::start(sla_port, vec![]).await;
    let app = spawn_app(Options {
        now: Some(now),
        shards: 3,
        ..Options::new(sla_port)
    })
    .await;

    // Act: the first fast cycle of each shard.
    let consumer = app.consumer();
    let records = records_until(&consumer, Duration::from_secs(120), |records| {
        of_kind(records, Kind::Values).len() >= synthetic_series
    })
    .await;

    // Assert: every series once, from its own shard, with the aggregates of the history.
    assert_values_match_the_history(&of_kind(&records, Kind::Values), now);
}

#[tokio::test]
async fn one_fast_and_one_slow_cycle_produce_the_expected_records() {
    // Arrange: "now" is 10 minutes before the end of the history, so the forecast can be
    // compared with the 10 minutes held out.
    let manifest = manifest();
    let data = manifest.dataset();
    let synthetic_series = manifest.series.len() + manifest.bulk.count as usize;
    let now = DateTime::from_timestamp(manifest.config.end - 600, 0).unwrap();
    let sla_port = free_port();
    let _sla = SlaServer::start(sla_port, vec![sla_on("synthetic_seasonal", Some(60))]).await;
    let app = spawn_app(Options {
        now: Some(now),
        ..Options::new(sla_port)
    })
    .await;

    // Act: the first fast and slow cycles run at start.
    let consumer = app.consumer();
    let records = records_until(&consumer, Duration::from_secs(120), |records| {
        of_kind(records, Kind::Values).len() >= synthetic_series
            && of_kind(records, Kind::Metadata).len() >= synthetic_series
            && !of_kind(records, Kind::Prediction).is_empty()
    })
    .await;

    // Assert: values equal what the synthetic history gives for the same windows.
    let values = of_kind(&records, Kind::Values);
    assert_values_match_the_history(&values, now);
    // ... and what PromQL itself answers.
    let client = PromClient::new(prometheus_url(), Duration::from_secs(5)).unwrap();
    let promql = client
        .instant(
            r#"stddev_over_time(synthetic_trend{job="synthetic"}[3h])"#,
            Some(now),
        )
        .await
        .unwrap();
    let trend = values
        .iter()
        .find(|r| name(r) == "synthetic_trend")
        .unwrap();
    let Payload::Values { values: trend } = &trend.payload else {
        unreachable!()
    };
    assert_eq!(promql.len(), 1);
    assert_close(
        "PromQL stddev 3h",
        trend.h3.unwrap().std_dev,
        promql[0].value,
    );

    // Metadata: one per series; the constant one short-circuits; seasonality in minutes.
    let metadata = of_kind(&records, Kind::Metadata);
    assert_eq!(
        metadata.len(),
        synthetic_series,
        "one metadata record per series"
    );
    for record in &metadata {
        let Payload::Metadata { metadata } = &record.payload else {
            unreachable!()
        };
        assert_eq!(metadata.step_seconds, 60);
        // The lookback reaches 10 minutes before the history began: those points are left out.
        let lived = (now.timestamp() - manifest.start) / 60 + 1;
        assert_eq!(metadata.samples, lived as u64, "{}", name(record));
        match name(record) {
            "synthetic_constant" => {
                assert!(metadata.constant);
                assert!(metadata.stationarity.is_none() && metadata.seasonality.is_none());
            }
            "synthetic_seasonal" => {
                assert!(!metadata.constant);
                let period = metadata
                    .seasonality
                    .as_ref()
                    .and_then(|s| s.period)
                    .expect("a seasonal period");
                assert!(
                    (period - 1440.0).abs() <= 14.4 || (period - 60.0).abs() <= 0.6,
                    "period {period} minutes"
                );
                assert_eq!(metadata.autocorrelation.as_ref().unwrap()["0"], 1.0);
            }
            "synthetic_noise" => {
                assert!(
                    metadata.stationarity.expect("ADF").stationary,
                    "white noise is stationary"
                );
            }
            _ => assert!(!metadata.constant, "{}", name(record)),
        }
    }

    // Prediction: the next 10 minutes after "now", within bounds of the held-out history.
    let predictions = of_kind(&records, Kind::Prediction);
    assert_eq!(predictions.len(), 1);
    assert_eq!(name(predictions[0]), "synthetic_seasonal");
    let Payload::Prediction { prediction } = &predictions[0].payload else {
        unreachable!()
    };
    assert_eq!(
        (
            prediction.horizon_minutes,
            prediction.step_seconds,
            prediction.values.len()
        ),
        (10, 60, 10)
    );
    let seasonal = data.series_named("synthetic_seasonal").unwrap();
    let mut inside = 0;
    for (k, point) in prediction.values.iter().enumerate() {
        let t = now.timestamp() + 60 * (k as i64 + 1);
        assert_eq!(point.timestamp, now + TimeDelta::minutes(k as i64 + 1));
        assert!(point.lower <= point.value && point.value <= point.upper);
        // The noise-free signal stays near the band: Holt-Winters with the hourly period follows
        // the daily sine only through its trend, so at about 1% of start minutes the signal
        // leaves the band, by at most 0.24 of its half-width over a day (`cargo run -p etl
        // --example band_probe`). A third of the half-width is the bound.
        let signal = seasonal_signal(t);
        let slack = (point.upper - point.lower) / 6.0;
        assert!(
            point.lower - slack <= signal && signal <= point.upper + slack,
            "step {k}: signal {signal} more than a third of the half-width outside {point:?}"
        );
        if point.lower <= seasonal.value(t) && seasonal.value(t) <= point.upper {
            inside += 1;
        }
    }
    // 95% bounds: 7 or more of 10 held-out samples inside has a probability above 99.8%.
    assert!(
        inside >= 7,
        "only {inside} of 10 held-out samples within the 95% bounds: {prediction:?}"
    );
    assert!(prediction.min <= prediction.avg && prediction.avg <= prediction.max);

    // The exporter tells what happened.
    let metrics = app.metrics().await;
    assert!(
        metrics.get("etl_records_produced_total", &[("kind", "values")]) >= synthetic_series as f64
    );
    assert!(
        metrics.get("etl_records_produced_total", &[("kind", "metadata")])
            >= synthetic_series as f64
    );
    assert!(metrics.get("etl_records_produced_total", &[("kind", "prediction")]) >= 1.0);
    assert_eq!(
        metrics.get("etl_series_selected", &[("loop", "fast")]),
        synthetic_series as f64
    );
    for gauge in [
        "etl_executiontime_1h",
        "etl_executiontime_3h",
        "etl_executiontime_12h",
        "etl_executiontime_metadata",
    ] {
        assert!(
            metrics.has_label(gauge, "metric_name", "synthetic_seasonal"),
            "{gauge}"
        );
    }
    assert!(metrics.has_label(
        "etl_executiontime_prediction",
        "metric_name",
        "synthetic_seasonal"
    ));
    assert_eq!(metrics.get("etl_failures_total", &[]), 0.0, "no failures");
    assert!(
        metrics.get(
            "etl_last_successful_cycle_timestamp_seconds",
            &[("loop", "fast")]
        ) > 0.0
    );
}

#[tokio::test]
async fn readyz_reports_every_dependency() {
    let sla_port = free_port();
    let app = spawn_app(Options::new(sla_port)).await;
    let url = format!("http://{}/readyz", app.admin);
    let response = reqwest::get(&url).await.unwrap();
    assert_eq!(response.status(), 503, "the sla-manager is not there yet");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["checks"]["prometheus"], "ok");
    assert_eq!(body["checks"]["broker"], "ok");
    assert_ne!(body["checks"]["sla_manager"], "ok");

    let _sla = SlaServer::start(sla_port, vec![]).await;
    common::testing::wait_until("readiness", Duration::from_secs(20), || async {
        reqwest::get(&url)
            .await
            .map(|r| r.status() == 200)
            .unwrap_or(false)
    })
    .await;
}
