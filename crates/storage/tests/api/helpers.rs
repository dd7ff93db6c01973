//! `spawn_app()` and what the tests need around it: a topic, a database and a consumer group
//! of their own, a producer, and reads of the stored documents and of the admin port.

use std::{collections::HashMap, ffi::OsString, net::SocketAddr, time::Duration};

use chrono::{DateTime, Utc};
use common::{
    Labels, SeriesId,
    record::{
        Anomalies, ChangeKind, Changepoint, Kind, Metadata, OutlierStatus, Payload, PredictedPoint,
        Prediction, Record, Window, Windows,
    },
    store::{MetricDocument, MetricsRepository},
    testing::{admin_metrics, kafka_brokers, mongo_uri, unique_name, wait_until},
};
use futures::TryStreamExt;
use rdkafka::{
    ClientConfig, Offset, TopicPartitionList,
    admin::{AdminClient, AdminOptions, NewTopic, TopicReplication},
    client::DefaultClientContext,
    consumer::{BaseConsumer, Consumer},
    producer::{FutureProducer, FutureRecord, Producer},
};
use storage::{config::Config, error::StorageError, startup::App};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Where one test's `storage` reads and writes.
#[derive(Debug, Clone)]
pub(crate) struct Setup {
    pub(crate) brokers: String,
    pub(crate) topic: String,
    pub(crate) group: String,
    pub(crate) mongo_uri: String,
    pub(crate) database: String,
}

impl Setup {
    /// A fresh topic (created now), group and database on the shared broker and database.
    pub(crate) async fn new(partitions: i32) -> Self {
        Self::on_database(mongo_uri(), partitions).await
    }

    /// Likewise, with the database at `mongo_uri`.
    pub(crate) async fn on_database(mongo_uri: String, partitions: i32) -> Self {
        let setup = Self::without_topic(mongo_uri);
        setup.create_topic(partitions).await;
        setup
    }

    /// Names of its own, but the topic is not created yet.
    pub(crate) fn without_topic(mongo_uri: String) -> Self {
        common::telemetry::init_for_tests();
        Self {
            brokers: kafka_brokers(),
            topic: unique_name("storage_test"),
            group: unique_name("storage_group"),
            mongo_uri,
            database: unique_name("storage_test"),
        }
    }

    /// Creates the topic.
    pub(crate) async fn create_topic(&self, partitions: i32) {
        let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
            .set("bootstrap.servers", &self.brokers)
            .create()
            .expect("an admin client");
        let topic = NewTopic::new(&self.topic, partitions, TopicReplication::Fixed(1));
        for result in admin
            .create_topics(&[topic], &AdminOptions::new())
            .await
            .expect("the broker answers")
        {
            result.expect("the topic is created");
        }
    }

    fn config(&self) -> Config {
        let args = [
            "storage",
            "--kafka-brokers",
            &self.brokers,
            "--kafka-topic",
            &self.topic,
            "--mongo-uri",
            &self.mongo_uri,
            "--mongo-db",
            &self.database,
            "--mongo-timeout",
            "2s",
            "--group-id",
            &self.group,
            "--bind-address",
            "127.0.0.1",
            "--admin-port",
            "0",
            "--batch-linger",
            "50ms",
            "--session-timeout",
            "10s",
            "--retry-max-delay",
            "1s",
        ];
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        common::config::try_parse_from(&args, |_| None).expect("a valid test configuration")
    }

    /// The `metrics` collection, for reads the repository does not offer.
    pub(crate) async fn collection<T: Send + Sync>(&self) -> mongodb::Collection<T> {
        let client = mongodb::Client::with_uri_str(&self.mongo_uri)
            .await
            .expect("a database client");
        client
            .database(&self.database)
            .collection(common::store::METRICS_COLLECTION)
    }

    /// The database `storage` writes to, read through the same repository the readers use.
    pub(crate) async fn repository(&self) -> MetricsRepository {
        let client = mongodb::Client::with_uri_str(&self.mongo_uri)
            .await
            .expect("a database client");
        MetricsRepository::new(&client.database(&self.database))
    }
}

/// A running `storage` and the means to feed and inspect it.
pub(crate) struct TestApp {
    pub(crate) admin: SocketAddr,
    pub(crate) setup: Setup,
    pub(crate) repository: MetricsRepository,
    pub(crate) producer: FutureProducer,
    token: CancellationToken,
    task: JoinHandle<Result<(), StorageError>>,
}

/// Starts `storage` on a fresh topic, group and database of the shared servers.
pub(crate) async fn spawn_app() -> TestApp {
    spawn_app_with(Setup::new(1).await).await
}

/// Starts `storage` for `setup`.
pub(crate) async fn spawn_app_with(setup: Setup) -> TestApp {
    let app = App::build(setup.config()).await.expect("storage builds");
    let admin = app.admin_address();
    let token = CancellationToken::new();
    let task = tokio::spawn(app.run_until_stopped(token.clone()));
    let producer = ClientConfig::new()
        .set("bootstrap.servers", &setup.brokers)
        .set("acks", "all")
        .set("linger.ms", "5")
        .create()
        .expect("a producer");
    TestApp {
        admin,
        repository: setup.repository().await,
        setup,
        producer,
        token,
        task,
    }
}

impl TestApp {
    /// Sends `records` (key = series id) and waits until the broker has them all.
    pub(crate) async fn produce(&self, records: &[Record]) {
        let payloads: Vec<(String, Vec<u8>)> = records
            .iter()
            .map(|r| {
                (
                    r.id.to_string(),
                    serde_json::to_vec(r).expect("a record serialises"),
                )
            })
            .collect();
        self.produce_raw(&payloads).await;
    }

    /// Sends raw `(key, payload)` messages and waits until the broker has them all.
    pub(crate) async fn produce_raw(&self, messages: &[(String, Vec<u8>)]) {
        let deliveries: Vec<_> = messages
            .iter()
            .map(|(key, payload)| {
                self.producer
                    .send_result(
                        FutureRecord::to(&self.setup.topic)
                            .key(key)
                            .payload(payload),
                    )
                    .expect("the producer queue has room")
            })
            .collect();
        for delivery in deliveries {
            delivery
                .await
                .expect("the delivery is reported")
                .expect("the broker acknowledges the message");
        }
        self.producer
            .flush(Duration::from_secs(10))
            .expect("the producer flushes");
    }

    /// The offset the group has committed for `partition`, asked of the broker without joining
    /// the group.
    pub(crate) async fn committed(&self, partition: i32) -> Option<i64> {
        let (brokers, group, topic) = (
            self.setup.brokers.clone(),
            self.setup.group.clone(),
            self.setup.topic.clone(),
        );
        tokio::task::spawn_blocking(move || {
            let reader: BaseConsumer = ClientConfig::new()
                .set("bootstrap.servers", &brokers)
                .set("group.id", &group)
                .set("enable.auto.commit", "false")
                .create()
                .expect("a consumer");
            let mut list = TopicPartitionList::new();
            list.add_partition(&topic, partition);
            let committed = reader
                .committed_offsets(list, Duration::from_secs(10))
                .ok()?;
            match committed.find_partition(&topic, partition)?.offset() {
                Offset::Offset(offset) => Some(offset),
                _ => None,
            }
        })
        .await
        .expect("the lookup does not panic")
    }

    /// The admin port's `/metrics` text.
    pub(crate) async fn metrics(&self) -> String {
        admin_metrics(self.admin).await
    }

    /// The sum of the samples of `metric` (all label sets) on the admin port, 0 when absent.
    pub(crate) async fn metric(&self, metric: &str) -> f64 {
        sum_metric(&self.metrics().await, metric)
    }

    /// The stored document of a series.
    pub(crate) async fn document(&self, id: SeriesId) -> Option<MetricDocument> {
        self.repository
            .find(id)
            .await
            .expect("the database answers")
    }

    /// Waits up to `within` until `record`'s series has a stored document (`what` names the
    /// wait in the failure).
    pub(crate) async fn wait_stored(&self, what: &str, record: &Record, within: Duration) {
        wait_until(what, within, || async {
            self.document(record.id).await.is_some()
        })
        .await;
    }

    /// Waits up to `within` until the group has committed `offset` on partition 0.
    pub(crate) async fn wait_committed(&self, what: &str, offset: i64, within: Duration) {
        wait_until(what, within, || async {
            self.committed(0).await == Some(offset)
        })
        .await;
    }

    /// Sends `record` and waits up to `within` until its series has a stored document.
    pub(crate) async fn produce_stored(&self, what: &str, record: &Record, within: Duration) {
        self.produce(std::slice::from_ref(record)).await;
        self.wait_stored(what, record, within).await;
    }

    /// Waits up to a minute until `record`'s series holds a result of `kind` whose marker (see
    /// [`record`]) is `value`.
    pub(crate) async fn wait_marker(&self, what: &str, record: &Record, kind: Kind, value: f64) {
        wait_until(what, Duration::from_secs(60), || async {
            self.document(record.id)
                .await
                .is_some_and(|d| marker(&d, kind) == Some(value))
        })
        .await;
    }

    /// Every stored document, by id; empty while the database is down.
    pub(crate) async fn documents(&self) -> HashMap<SeriesId, MetricDocument> {
        let collection = self.setup.collection::<MetricDocument>().await;
        let Ok(cursor) = collection.find(mongodb::bson::doc! {}).await else {
            return HashMap::new();
        };
        let Ok(documents) = cursor.try_collect::<Vec<_>>().await else {
            return HashMap::new();
        };
        documents.into_iter().map(|d| (d.id, d)).collect()
    }

    /// Stops it as a signal would and returns how it ended.
    pub(crate) async fn stop(self) -> Result<(), StorageError> {
        self.token.cancel();
        tokio::time::timeout(Duration::from_secs(30), self.task)
            .await
            .expect("storage stops in time")
            .expect("storage does not panic")
    }

    /// How it ended by itself within `patience`; `None` while it still runs.
    pub(crate) async fn ended_within(
        &mut self,
        patience: Duration,
    ) -> Option<Result<(), StorageError>> {
        match tokio::time::timeout(patience, &mut self.task).await {
            Ok(ended) => Some(ended.expect("storage does not panic")),
            Err(_) => None,
        }
    }

    /// Kills it mid-work, as a crash would: nothing in hand is written or committed.
    pub(crate) async fn kill(self) -> Setup {
        self.task.abort();
        let _ = self.task.await;
        self.setup
    }
}

/// The sum of the samples of `metric` in a Prometheus text exposition.
pub(crate) fn sum_metric(text: &str, metric: &str) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| {
            line.strip_prefix(metric)
                .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// The labels of test series number `n`.
pub(crate) fn labels(n: usize) -> Labels {
    [
        ("__name__", "storage_test_metric".to_owned()),
        ("job", "storage-test".to_owned()),
        ("instance", format!("host-{n}")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// A base time for records.
pub(crate) fn epoch() -> DateTime<Utc> {
    "2026-11-22T06:00:00Z".parse().expect("a valid time")
}

/// A record of `kind` for series `n`, computed `minute` minutes after [`epoch`], whose
/// content is recognisable by `marker`.
pub(crate) fn record(n: usize, kind: Kind, minute: i64, marker: f64) -> Record {
    let at = epoch() + chrono::Duration::minutes(minute);
    let payload = match kind {
        Kind::Values => {
            let window = Window {
                min: 0.0,
                max: marker,
                avg: marker / 2.0,
                std_dev: 1.0,
                count: 60,
            };
            Payload::Values {
                values: Windows {
                    h1: Some(window),
                    h3: Some(window),
                    h12: None,
                },
            }
        }
        Kind::Metadata => Payload::Metadata {
            metadata: Metadata {
                constant: true,
                samples: marker as u64,
                step_seconds: 60,
                stationarity: None,
                autocorrelation: None,
                seasonality: None,
                // A changepoint and an outlier status, so that a test sees them stored.
                anomalies: Some(Anomalies {
                    changepoints: vec![Changepoint {
                        timestamp: at,
                        kind: ChangeKind::Level,
                        size: marker,
                        score: 9.0,
                    }],
                    outlier: Some(OutlierStatus {
                        method: "mad".to_owned(),
                        compared: 4,
                        outlying: true,
                        since: Some(at),
                        until: None,
                        score: Some(marker),
                    }),
                }),
            },
        },
        Kind::Prediction => {
            let point = PredictedPoint {
                timestamp: at,
                value: marker,
                lower: marker - 1.0,
                upper: marker + 1.0,
            };
            Payload::Prediction {
                prediction: Prediction {
                    model: "holt_winters_additive".to_owned(),
                    rmse: 0.5,
                    min: marker,
                    max: marker,
                    avg: marker,
                    horizon_minutes: 10,
                    candidates: vec![common::record::CandidateScore {
                        model: "mstl_ets".to_owned(),
                        holdout_rmse: marker,
                    }],
                    step_seconds: 60,
                    values: vec![point; 10],
                },
            }
        }
    };
    Record::new(labels(n), at, payload)
}

/// Asserts that the `/metrics` text `metrics` holds each of `lines`.
pub(crate) fn assert_holds(metrics: &str, lines: &[&str]) {
    for line in lines {
        assert!(metrics.contains(line), "no {line:?} in {metrics}");
    }
}

/// The marker a stored result of `kind` carries (see [`record`]).
pub(crate) fn marker(document: &MetricDocument, kind: Kind) -> Option<f64> {
    match kind {
        Kind::Values => document.values.and_then(|v| v.h1).map(|w| w.max),
        Kind::Metadata => document.metadata.as_ref().map(|m| m.samples as f64),
        Kind::Prediction => document.prediction.as_ref().map(|p| p.max),
    }
}
