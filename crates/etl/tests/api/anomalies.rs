//! The slow loop's anomalies against a real PromQL engine: histories with a planted level shift
//! and a planted outlier host, imported into the test VictoriaMetrics (the one engine of the
//! tests that takes samples over HTTP), analysed by a real etl whose records are read back from
//! the broker.

use std::{fmt::Write as _, time::Duration};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use common::{
    record::{ChangeKind, Kind, Metadata, Payload, Record},
    testing::{free_port, required_env, unique_name},
};

use crate::helpers::{Options, SlaServer, records_until, spawn_app};

/// Hosts of the fleet; host [`OUTLIER`] is lifted from the middle of the history on.
const HOSTS: usize = 10;
const OUTLIER: usize = 7;
/// Minutes of history, and the minute (from its start) of both planted changes.
const MINUTES: i64 = 1_200;
const PLANTED: i64 = 600;

/// A small deterministic wiggle, different per host, so that the noise is not zero.
fn wiggle(minute: i64, host: usize) -> f64 {
    ((minute as usize * 7 + host * 13) % 11) as f64 * 0.1
}

/// The import body (Prometheus text format, millisecond timestamps): `{job}_shift` jumps by 8
/// at [`PLANTED`]; `{job}_fleet` has [`HOSTS`] hosts, [`OUTLIER`] lifted by 5 from then on.
fn histories(job: &str, start: DateTime<Utc>) -> String {
    let mut body = String::new();
    for minute in 0..MINUTES {
        let ms = (start + TimeDelta::minutes(minute)).timestamp_millis();
        let after = minute >= PLANTED;
        let shift = 10.0 + wiggle(minute, 0) + if after { 8.0 } else { 0.0 };
        writeln!(
            body,
            r#"{job}_shift{{job="{job}",instance="a"}} {shift} {ms}"#
        )
        .unwrap();
        for host in 0..HOSTS {
            let lift = if after && host == OUTLIER { 5.0 } else { 0.0 };
            let value = wiggle(minute, host) + lift;
            writeln!(
                body,
                r#"{job}_fleet{{job="{job}",instance="h{host}"}} {value} {ms}"#
            )
            .unwrap();
        }
    }
    body
}

async fn import(url: &str, body: String) {
    let client = reqwest::Client::new();
    let answer = client
        .post(format!("{url}/api/v1/import/prometheus"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 204, "{:?}", answer.text().await);
    let flushed = client
        .get(format!("{url}/internal/force_flush"))
        .send()
        .await
        .unwrap();
    assert!(flushed.status().is_success());
}

fn metadata_of(record: &Record) -> &Metadata {
    let Payload::Metadata { metadata } = &record.payload else {
        unreachable!()
    };
    metadata
}

#[tokio::test]
async fn a_planted_level_shift_and_a_planted_outlier_host_reach_the_metadata_records() {
    // Arrange: 20 hours of history ending two minutes ago, both changes at its middle.
    let url = required_env("TEST_VICTORIA_METRICS_URL");
    let job = unique_name("anomaly_probe");
    let now = Utc::now().duration_trunc(TimeDelta::minutes(1)).unwrap();
    let start = now - TimeDelta::minutes(MINUTES + 2);
    let planted = start + TimeDelta::minutes(PLANTED);
    import(&url, histories(&job, start)).await;
    let sla_port = free_port();
    let _sla = SlaServer::start(sla_port, Vec::new()).await;
    let selector: &'static str = Box::leak(format!(r#"{{job="{job}"}}"#).into_boxed_str());
    let app = spawn_app(Options {
        prometheus_url: url,
        selector,
        ..Options::new(sla_port)
    })
    .await;

    // Act: the first slow cycle runs at start.
    let consumer = app.consumer();
    let records = records_until(&consumer, Duration::from_secs(120), |records| {
        records
            .iter()
            .filter(|r| r.kind() == Kind::Metadata)
            .count()
            > HOSTS
    })
    .await;

    // Assert: the shift is one level changepoint at its minute, of its size.
    let metadata: Vec<&Record> = records
        .iter()
        .filter(|r| r.kind() == Kind::Metadata)
        .collect();
    let shift = metadata
        .iter()
        .find(|r| r.name["__name__"] == format!("{job}_shift"))
        .expect("the shifted series' metadata");
    let anomalies = metadata_of(shift).anomalies.as_ref().expect("anomalies");
    assert_eq!(anomalies.changepoints.len(), 1, "{anomalies:?}");
    let changepoint = anomalies.changepoints[0];
    assert_eq!(changepoint.kind, ChangeKind::Level);
    assert!(
        (changepoint.timestamp - planted).num_minutes().abs() <= 2,
        "{changepoint:?} against {planted}"
    );
    assert!((changepoint.size - 8.0).abs() < 0.5, "{changepoint:?}");
    assert_eq!(
        anomalies.outlier, None,
        "a name with one series is not compared"
    );

    // ... and the lifted host, alone of the fleet, is an outlier since then.
    let fleet: Vec<&&Record> = metadata
        .iter()
        .filter(|r| r.name["__name__"] == format!("{job}_fleet"))
        .collect();
    assert_eq!(fleet.len(), HOSTS);
    for record in fleet {
        let host = &record.name["instance"];
        let status = metadata_of(record)
            .anomalies
            .as_ref()
            .and_then(|a| a.outlier.as_ref())
            .unwrap_or_else(|| panic!("{host}: not compared"));
        assert_eq!(status.compared, HOSTS as u64, "{host}");
        assert_eq!(
            status.outlying,
            *host == format!("h{OUTLIER}"),
            "{host}: {status:?}"
        );
        if status.outlying {
            let since = status.since.expect("since");
            assert!(
                (since - planted).num_minutes().abs() <= 10,
                "{since} against {planted}"
            );
            assert_eq!(status.until, None, "it lasts to the end");
        }
    }

    // The counts are exported per metric name.
    let fleet_name = format!("{job}_fleet");
    let shift_name = format!("{job}_shift");
    let metrics = app.metrics().await;
    assert_eq!(
        metrics.get("etl_outlier_series", &[("metric_name", &fleet_name)]),
        1.0
    );
    assert_eq!(
        metrics.get(
            "etl_anomalies_changepoints",
            &[("metric_name", &shift_name)]
        ),
        1.0
    );
    assert_eq!(
        metrics.get(
            "etl_anomalies_latest_changepoint_timestamp_seconds",
            &[("metric_name", &shift_name)]
        ),
        changepoint.timestamp.timestamp() as f64
    );
}
