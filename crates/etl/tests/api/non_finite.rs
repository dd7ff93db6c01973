//! NaN through the whole data path: Prometheus' own summaries have NaN quantiles when nothing
//! was observed; the etl's aggregates of them are NaN, and storage must store them (as BSON
//! doubles) instead of dead-lettering them.

use std::{ffi::OsString, time::Duration};

use common::{
    record::{Kind, Payload, Record},
    store::MetricsRepository,
    testing::{free_port, mongo_uri, unique_name, wait_until},
};

use crate::helpers::{Options, SlaServer, records_until, spawn_app};

/// A summary of the test Prometheus (which scrapes itself) that observes nothing: it has no
/// rules, so every quantile is NaN.
const NAN_SUMMARY: &str = r#"{__name__="prometheus_rule_evaluation_duration_seconds"}"#;

fn has_nan_aggregate(record: &Record) -> bool {
    matches!(&record.payload, Payload::Values { values } if values.h1.is_some_and(|w| w.avg.is_nan()))
}

#[tokio::test]
async fn nan_aggregates_go_through_etl_and_storage_without_a_dead_letter() {
    let sla_port = free_port();
    let _sla = SlaServer::start(sla_port, vec![]).await;
    let etl = spawn_app(Options {
        selector: NAN_SUMMARY,
        fast_secs: 5,
        ..Options::new(sla_port)
    })
    .await;
    let consumer = etl.consumer();
    let records = records_until(&consumer, Duration::from_secs(60), |records| {
        records.iter().any(has_nan_aggregate)
    })
    .await;
    let nan = records
        .iter()
        .find(|r| has_nan_aggregate(r))
        .expect("a NaN aggregate")
        .clone();
    assert_eq!(nan.kind(), Kind::Values);

    // storage, on the etl's topic.
    let database = unique_name("etl_nan");
    let args = [
        "storage",
        "--kafka-brokers",
        &etl.brokers,
        "--kafka-topic",
        &etl.topic,
        "--mongo-uri",
        &mongo_uri(),
        "--mongo-db",
        &database,
        "--group-id",
        &unique_name("etl_nan_storage"),
        "--bind-address",
        "127.0.0.1",
        "--admin-port",
        "0",
        "--batch-linger",
        "50ms",
    ];
    let args: Vec<OsString> = args.iter().map(OsString::from).collect();
    let config: storage::config::Config =
        common::config::try_parse_from(&args, |_| None).expect("a valid storage configuration");
    let storage = storage::startup::App::build(config)
        .await
        .expect("storage builds");
    let admin = storage.admin_address();
    let token = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn(storage.run_until_stopped(token.clone()));

    let client = mongodb::Client::with_uri_str(mongo_uri()).await.unwrap();
    let repository = MetricsRepository::new(&client.database(&database));
    wait_until(
        "the NaN aggregate is stored",
        Duration::from_secs(60),
        || async {
            repository
                .find(nan.id)
                .await
                .ok()
                .flatten()
                .and_then(|d| d.values)
                .and_then(|v| v.h1)
                .is_some_and(|w| w.avg.is_nan())
        },
    )
    .await;
    let metrics = reqwest::get(format!("http://{admin}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let dead_letters: f64 = metrics
        .lines()
        .filter(|l| l.starts_with("storage_dead_letters_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert_eq!(dead_letters, 0.0, "{metrics}");
    let written: f64 = metrics
        .lines()
        .filter(|l| l.starts_with("storage_records_written_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(written >= 1.0, "{metrics}");
    token.cancel();
    task.await.unwrap().expect("storage stops cleanly");
}
