//! Spawning the etl against the real Prometheus (synthetic history), the real broker and a real
//! tonic SLA server of the test's own; reading its records and metrics back.

use std::{
    collections::BTreeMap,
    net::{Ipv4Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use chrono::{DateTime, Utc};
use common::{
    proto::{SlaSetResponse, sla_service_server::SlaServiceServer},
    record::Record,
    testing::{FixedSlaSet, kafka_brokers, prometheus_url, synthetic_manifest, unique_name},
};
use etl::{
    config::{Cli, Command, Config},
    startup::App,
};
use rdkafka::{
    ClientConfig, Message, Offset, TopicPartitionList,
    consumer::{Consumer, StreamConsumer},
};
use synthetic::Manifest;
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::sync::CancellationToken;

/// The series the tests watch: the synthetic ones, not Prometheus' own.
pub(crate) const SELECTOR: &str = r#"{job="synthetic"}"#;

/// How the test wants the etl.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) prometheus_url: String,
    pub(crate) brokers: String,
    pub(crate) sla_port: u16,
    pub(crate) fast_secs: u64,
    pub(crate) slow_secs: u64,
    pub(crate) message_timeout: &'static str,
    /// The etl's "now"; the system clock when `None`.
    pub(crate) now: Option<DateTime<Utc>>,
    /// The topic; a fresh one when `None`.
    pub(crate) topic: Option<String>,
    /// Leader election; the etl runs alone when `None` (every shard itself).
    pub(crate) election: Option<Election>,
    /// Shards, when the etl runs alone.
    pub(crate) shards: u32,
    /// `ETL_SERIES_SELECTOR`.
    pub(crate) selector: &'static str,
}

/// How a test replica takes part in leader election.
#[derive(Debug, Clone)]
pub(crate) struct Election {
    pub(crate) mongo_uri: String,
    pub(crate) database: String,
    pub(crate) replica: String,
    pub(crate) shards: u32,
    pub(crate) ttl: &'static str,
}

impl Options {
    /// The shared Prometheus and broker, an SLA server port of the test's choosing.
    pub(crate) fn new(sla_port: u16) -> Self {
        Self {
            prometheus_url: prometheus_url().to_string(),
            brokers: kafka_brokers(),
            sla_port,
            fast_secs: 3600,
            slow_secs: 3600,
            message_timeout: "30s",
            now: None,
            topic: None,
            election: None,
            shards: 1,
            selector: SELECTOR,
        }
    }
}

/// A running etl.
pub(crate) struct TestApp {
    pub(crate) admin: SocketAddr,
    pub(crate) topic: String,
    pub(crate) brokers: String,
    token: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.token.cancel();
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

pub(crate) async fn spawn_app(options: Options) -> TestApp {
    common::telemetry::init_for_tests();
    let topic = options
        .topic
        .clone()
        .unwrap_or_else(|| unique_name("etl_test"));
    let mut args: Vec<String> = [
        "etl",
        "run",
        "--bind-address",
        "127.0.0.1",
        "--admin-port",
        "0",
        "--prometheus-url",
        &options.prometheus_url,
        "--prometheus-timeout",
        "5s",
        "--prometheus-retry",
        "500ms",
        "--kafka-brokers",
        &options.brokers,
        "--kafka-topic",
        &topic,
        "--partitions",
        "1",
        "--kafka-message-timeout",
        options.message_timeout,
        "--sla-manager-grpc",
        &format!("http://127.0.0.1:{}", options.sla_port),
        "--series-selector",
        options.selector,
        "--fast-loop-secs",
        &options.fast_secs.to_string(),
        "--slow-loop-secs",
        &options.slow_secs.to_string(),
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    match &options.election {
        None => args.extend(
            [
                "--leader-election",
                "false",
                "--shards",
                &options.shards.to_string(),
            ]
            .map(str::to_owned),
        ),
        Some(election) => args.extend(
            [
                "--mongo-uri",
                &election.mongo_uri,
                "--mongo-db",
                &election.database,
                "--replica-id",
                &election.replica,
                "--shards",
                &election.shards.to_string(),
                "--lease-ttl",
                election.ttl,
            ]
            .map(str::to_owned),
        ),
    }
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    let cli: Cli = common::config::try_parse_from(&args, |_| None).expect("valid test arguments");
    let Command::Run(config) = cli.into_command() else {
        panic!("run expected")
    };
    let config: Config = *config;
    let clock: etl::schedule::Clock = match options.now {
        Some(now) => Arc::new(move || now),
        None => etl::schedule::system_clock(),
    };
    let app = App::build_with_clock(config, clock)
        .await
        .expect("the etl builds");
    let admin = app.admin_address();
    let token = CancellationToken::new();
    let stop = token.clone();
    let task = tokio::spawn(async move {
        app.run_until_stopped(stop)
            .await
            .expect("the etl runs until stopped");
    });
    TestApp {
        admin,
        topic,
        brokers: options.brokers,
        token,
        task: Some(task),
    }
}

impl TestApp {
    /// Ends the etl as a crash would: its tasks are dropped, nothing is released.
    pub(crate) async fn crash(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }

    /// The admin port's `/metrics`, parsed.
    pub(crate) async fn metrics(&self) -> Metrics {
        let text = reqwest::get(format!("http://{}/metrics", self.admin))
            .await
            .expect("/metrics answers")
            .text()
            .await
            .expect("a body");
        Metrics::parse(&text)
    }

    /// A metric's value, 0 when absent.
    pub(crate) async fn metric(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.metrics().await.get(name, labels)
    }

    /// Waits until `name{labels}` reaches `at_least`.
    pub(crate) async fn wait_for_metric(
        &self,
        name: &str,
        labels: &[(&str, &str)],
        at_least: f64,
        deadline: Duration,
    ) {
        let what = format!("{name}{labels:?} >= {at_least}");
        common::testing::wait_until(&what, deadline, || async {
            self.metric(name, labels).await >= at_least
        })
        .await;
    }

    /// A consumer of the whole topic from its beginning (partitions assigned, no group join).
    pub(crate) fn consumer(&self) -> StreamConsumer {
        let consumer: StreamConsumer = ClientConfig::new()
            .set("bootstrap.servers", &self.brokers)
            .set("group.id", unique_name("etl_test_group"))
            .set("enable.auto.commit", "false")
            .create()
            .expect("a consumer");
        let mut partitions = TopicPartitionList::new();
        partitions
            .add_partition_offset(&self.topic, 0, Offset::Beginning)
            .expect("an assignment");
        consumer.assign(&partitions).expect("assigned");
        consumer
    }
}

/// Reads records until `done` holds for what was read, or panics after `deadline`.
pub(crate) async fn records_until(
    consumer: &StreamConsumer,
    deadline: Duration,
    done: impl Fn(&[Record]) -> bool,
) -> Vec<Record> {
    let give_up = tokio::time::Instant::now() + deadline;
    let mut records = Vec::new();
    while !done(&records) {
        let message = match tokio::time::timeout_at(give_up, consumer.recv()).await {
            Ok(Ok(message)) => message,
            Ok(Err(error)) => {
                // The topic may not exist yet (a restarted broker): try again.
                tracing::debug!(%error, "consumer error");
                tokio::time::sleep(Duration::from_millis(200)).await;
                assert!(
                    tokio::time::Instant::now() < give_up,
                    "timed out reading records; last error {error}"
                );
                continue;
            }
            Err(_) => panic!(
                "timed out after {deadline:?} with {} records: {:?}",
                records.len(),
                summary(&records)
            ),
        };
        let payload = message.payload().expect("a payload");
        let record: Record = serde_json::from_slice(payload)
            .expect("every record decodes as common::record::Record");
        let key = std::str::from_utf8(message.key().expect("a key")).unwrap();
        assert_eq!(key, record.id.to_string(), "the key is the series id");
        records.push(record);
    }
    records
}

fn summary(records: &[Record]) -> Vec<String> {
    records
        .iter()
        .map(|r| {
            format!(
                "{}:{}",
                r.kind(),
                r.name.get("__name__").cloned().unwrap_or_default()
            )
        })
        .collect()
}

/// The history loaded in the test Prometheus.
pub(crate) fn manifest() -> Manifest {
    Manifest::load(synthetic_manifest()).expect("the synthetic manifest loads")
}

/// Prometheus text exposition, parsed into (name, labels) -> value.
#[derive(Debug, Default)]
pub(crate) struct Metrics(Vec<(String, BTreeMap<String, String>, f64)>);

impl Metrics {
    fn parse(text: &str) -> Self {
        let mut samples = Vec::new();
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        {
            let Some((series, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let Ok(value) = value.parse::<f64>() else {
                continue;
            };
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => {
                    let inner = rest.trim_end_matches('}');
                    let labels = inner
                        .split("\",")
                        .filter(|p| !p.is_empty())
                        .filter_map(|pair| pair.split_once('='))
                        .map(|(k, v)| (k.to_owned(), v.trim_matches('"').to_owned()))
                        .collect();
                    (name.to_owned(), labels)
                }
                None => (series.to_owned(), BTreeMap::new()),
            };
            samples.push((name, labels, value));
        }
        Self(samples)
    }

    /// The sum over the samples of `name` whose labels include `labels`.
    pub(crate) fn get(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.0
            .iter()
            .filter(|(n, l, _)| {
                n == name
                    && labels
                        .iter()
                        .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|(_, _, v)| v)
            .sum()
    }

    /// Whether any sample of `name` has `label`.
    pub(crate) fn has_label(&self, name: &str, label: &str, value: &str) -> bool {
        self.0
            .iter()
            .any(|(n, l, _)| n == name && l.get(label).map(String::as_str) == Some(value))
    }
}

/// A real gRPC SLA server serving a fixed set, on a port of the test's choosing.
pub(crate) struct SlaServer {
    token: CancellationToken,
}

impl Drop for SlaServer {
    fn drop(&mut self) {
        self.token.cancel();
    }
}

impl SlaServer {
    /// Serves `set` on `port` until dropped.
    pub(crate) async fn start(port: u16, set: Vec<SlaSetResponse>) -> Self {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .await
            .expect("the SLA server's port is free");
        let token = CancellationToken::new();
        let stop = token.clone();
        tokio::spawn(async move {
            tonic::transport::Server::builder()
                .add_service(SlaServiceServer::new(FixedSlaSet(Arc::new(set))))
                .serve_with_incoming_shutdown(
                    TcpListenerStream::new(listener),
                    stop.cancelled_owned(),
                )
                .await
                .expect("the SLA server serves");
        });
        Self { token }
    }
}

/// One SLA on the synthetic series `name`, with a seasonal period.
pub(crate) fn sla_on(name: &str, period_minutes: Option<u32>) -> SlaSetResponse {
    common::testing::synthetic_sla(name, 200.0, period_minutes)
}

/// A loopback port held by the test from the start: closed (every connection dropped at once,
/// as by a dependency that is down) until `open` makes it forward to a real server. Holding the
/// port avoids the race of picking a free port now and binding it later.
pub(crate) struct Gate {
    port: u16,
    target: Arc<std::sync::Mutex<Option<SocketAddr>>>,
    token: CancellationToken,
    /// Cut by `close`: the connections forwarded since the last `open`.
    opened: Arc<std::sync::Mutex<CancellationToken>>,
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.token.cancel();
    }
}

impl Gate {
    pub(crate) async fn closed() -> Self {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("a loopback port");
        let port = listener.local_addr().expect("a bound address").port();
        let target: Arc<std::sync::Mutex<Option<SocketAddr>>> = Arc::default();
        let token = CancellationToken::new();
        let opened = Arc::new(std::sync::Mutex::new(token.child_token()));
        let (stop, forward_to, current) = (token.clone(), target.clone(), opened.clone());
        tokio::spawn(async move {
            loop {
                let (mut inbound, _) = tokio::select! {
                    _ = stop.cancelled() => break,
                    accepted = listener.accept() => match accepted { Ok(a) => a, Err(_) => continue },
                };
                let Some(target) = *forward_to.lock().expect("an unpoisoned lock") else {
                    continue; // closed: dropping the connection resets it
                };
                let stop = current.lock().expect("an unpoisoned lock").clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = stop.cancelled() => {}
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                    }
                });
            }
        });
        Self {
            port,
            target,
            token,
            opened,
        }
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// From now on, connections reach `target`.
    pub(crate) fn open(&self, target: SocketAddr) {
        *self.target.lock().expect("an unpoisoned lock") = Some(target);
    }

    /// Cuts every forwarded connection and refuses new ones, as a network partition would.
    pub(crate) fn close(&self) {
        *self.target.lock().expect("an unpoisoned lock") = None;
        let mut opened = self.opened.lock().expect("an unpoisoned lock");
        opened.cancel();
        *opened = self.token.child_token();
    }
}

/// The socket address of a `http://host:port` URL.
pub(crate) fn socket_of(url: &str) -> SocketAddr {
    let url: url::Url = url.parse().expect("a URL");
    let host = url.host_str().expect("a host");
    let host = if host == "localhost" {
        "127.0.0.1"
    } else {
        host
    };
    format!("{host}:{}", url.port_or_known_default().expect("a port"))
        .parse()
        .expect("an IP address")
}

/// The etl binary run with `args` and the variables `env` (no backtraces): its output and its
/// stdout and stderr as one text.
pub(crate) fn run_etl<'a>(
    args: &[&str],
    env: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> (std::process::Output, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_etl"))
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .envs(env)
        .output()
        .expect("the etl binary runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output, text)
}
