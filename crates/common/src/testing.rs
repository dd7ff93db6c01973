//! Test support (feature `test-support`): where the real dependencies started by
//! `scripts/test.sh` listen, unique names so tests never share a topic or database, and guards
//! that launch private instances of the broker and the database for fault tests.

use std::{
    net::{Ipv4Addr, SocketAddr, TcpListener},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use url::Url;

pub use contracts::testing::{Token, full_metadata, full_prediction, promql_tokens};

pub mod pki;

/// The instant `secs` seconds after the Unix epoch (a test's shorthand).
///
/// # Panics
/// Outside the range chrono represents.
pub fn at(secs: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(secs, 0).expect("an instant chrono represents")
}

/// A label set from `(name, value)` pairs.
pub fn labels(pairs: &[(&str, &str)]) -> crate::Labels {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

/// A range-query series with `pairs` as its labels and one point, `value` at time 0: what a
/// selector matched, for the code that picks the right series among them.
pub fn one_point_series(pairs: &[(&str, &str)], value: f64) -> crate::promql::RangeSeries {
    crate::promql::RangeSeries {
        labels: labels(pairs),
        points: vec![(0.0, value)],
    }
}

/// The value of `name`, or a panic that says how to get one.
pub fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests through scripts/test.sh, which starts the real dependencies and sets it")
    })
}

/// The `/metrics` text of a service's admin listener at `admin`.
///
/// # Panics
/// The listener does not answer, or not with text.
pub async fn admin_metrics(admin: SocketAddr) -> String {
    reqwest::get(format!("http://{admin}/metrics"))
        .await
        .expect("the admin port answers")
        .text()
        .await
        .expect("a text body")
}

/// The target Prometheus with the synthetic history (`TEST_PROMETHEUS_URL`).
pub fn prometheus_url() -> Url {
    required_env("TEST_PROMETHEUS_URL")
        .parse()
        .expect("TEST_PROMETHEUS_URL is a URL")
}

/// The shared broker (`TEST_KAFKA_BROKERS`).
pub fn kafka_brokers() -> String {
    required_env("TEST_KAFKA_BROKERS")
}

/// The shared database server (`TEST_MONGO_URI`).
pub fn mongo_uri() -> String {
    required_env("TEST_MONGO_URI")
}

/// The manifest the synthetic history generator wrote (`TEST_SYNTHETIC_MANIFEST`).
pub fn synthetic_manifest() -> PathBuf {
    required_env("TEST_SYNTHETIC_MANIFEST").into()
}

/// `prefix` followed by random hex digits: a topic, group or database of one test's own.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}_{:016x}", rand::random::<u64>())
}

/// A loopback port nobody listens on right now, for a server that binds it a moment later.
///
/// Picked at random below Linux' ephemeral range (32768-60999): a port from `bind(0)` lies in
/// that range, where the kernel also picks the local port of every outgoing connection, so
/// between our check and the server's bind a client of another test could take it.
pub fn free_port() -> u16 {
    for _ in 0..1000 {
        let port = rand::random_range(20_000..32_000);
        if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port in 20000-31999")
}

/// Polls `condition` every 50 ms until it holds, or panics after `deadline` naming `what`.
pub async fn wait_until<F, Fut>(what: &str, deadline: Duration, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let give_up = tokio::time::Instant::now() + deadline;
    while !condition().await {
        assert!(
            tokio::time::Instant::now() < give_up,
            "timed out after {deadline:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn accepts_connections(port: u16) -> bool {
    tokio::net::TcpStream::connect(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        .await
        .is_ok()
}

/// A server process of the test's own on a fixed loopback port: killed on drop, and able to be
/// killed (SIGKILL) and started again on the same port and data, to test recovery.
#[derive(Debug)]
pub struct ServerProcess {
    name: &'static str,
    command: Vec<String>,
    port: u16,
    log: PathBuf,
    child: Option<Child>,
    _workdir: tempfile::TempDir,
}

impl ServerProcess {
    async fn launch(
        name: &'static str,
        binary_var: &str,
        args: impl FnOnce(u16, &Path) -> Vec<String>,
    ) -> Self {
        let workdir = tempfile::tempdir().expect("a temporary directory");
        let port = free_port();
        let mut command = vec![required_env(binary_var)];
        command.extend(args(port, workdir.path()));
        let log = workdir.path().join(format!("{name}.log"));
        let mut server = Self {
            name,
            command,
            port,
            log,
            child: None,
            _workdir: workdir,
        };
        server.start().await;
        server
    }

    /// Starts the process (again) and waits until it accepts connections.
    pub async fn start(&mut self) {
        assert!(self.child.is_none(), "{} is already running", self.name);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("a log file");
        let child = Command::new(&self.command[0])
            .args(&self.command[1..])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("a log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.command[0]));
        self.child = Some(child);
        let port = self.port;
        let what = format!("{} on port {port} (log: {})", self.name, self.log.display());
        wait_until(&what, Duration::from_secs(30), || accepts_connections(port)).await;
    }

    /// Kills the process at once (SIGKILL), as a crash would, and waits until it is gone.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let port = self.port;
        wait_until(
            "the port to close",
            Duration::from_secs(10),
            || async move { !accepts_connections(port).await },
        )
        .await;
    }

    /// The loopback port the process listens on.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A private SecantusDB (MongoDB wire) server whose data survives `kill` and `start`.
#[derive(Debug)]
pub struct DatabaseServer(ServerProcess);

impl DatabaseServer {
    /// Starts one on a free port (`SECANTUSD_BIN`).
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// Likewise, with `extra` arguments (`--auth`, `--enable-test-commands`).
    pub async fn start_with(extra: &[&str]) -> Self {
        Self(
            ServerProcess::launch("secantusd", "SECANTUSD_BIN", |port, dir| {
                let data = dir.join("data");
                let mut args: Vec<String> = vec![
                    "--host".into(),
                    "127.0.0.1".into(),
                    "--port".into(),
                    port.to_string(),
                    "--storage-path".into(),
                    data.display().to_string(),
                ];
                args.extend(extra.iter().map(|a| a.to_string()));
                args
            })
            .await,
        )
    }

    /// Its connection string.
    pub fn uri(&self) -> String {
        format!("mongodb://127.0.0.1:{}", self.0.port())
    }

    /// The process, to kill and restart it.
    pub fn process(&mut self) -> &mut ServerProcess {
        &mut self.0
    }
}

/// A private Tansu broker (memory storage: its data does not survive a restart).
#[derive(Debug)]
pub struct BrokerServer(ServerProcess);

impl BrokerServer {
    /// Starts one on a free port (`TANSU_BIN`).
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// Likewise, with `extra` arguments (`--authentication`).
    pub async fn start_with(extra: &[&str]) -> Self {
        Self(
            ServerProcess::launch("tansu", "TANSU_BIN", |port, _| {
                let mut args: Vec<String> = vec![
                    "broker".into(),
                    "--listener-url".into(),
                    format!("tcp://127.0.0.1:{port}"),
                    "--advertised-listener-url".into(),
                    format!("tcp://127.0.0.1:{port}"),
                    "--storage-engine".into(),
                    "memory://tansu/".into(),
                ];
                args.extend(extra.iter().map(|a| a.to_string()));
                args
            })
            .await,
        )
    }

    /// Its bootstrap address.
    pub fn brokers(&self) -> String {
        format!("127.0.0.1:{}", self.0.port())
    }

    /// The process, to kill and restart it.
    pub fn process(&mut self) -> &mut ServerProcess {
        &mut self.0
    }
}

/// An SLA service that answers every `GetSLASet` with the same set: the sla-manager's stand-in
/// in the etl's tests and its bench example.
#[derive(Debug, Clone)]
pub struct FixedSlaSet(pub std::sync::Arc<Vec<crate::proto::SlaSetResponse>>);

#[tonic::async_trait]
impl crate::proto::sla_service_server::SlaService for FixedSlaSet {
    type GetSLASetStream = std::pin::Pin<
        Box<dyn futures::Stream<Item = Result<crate::proto::SlaSetResponse, tonic::Status>> + Send>,
    >;

    async fn get_sla_set(
        &self,
        _: tonic::Request<crate::proto::SlaRequest>,
    ) -> Result<tonic::Response<Self::GetSLASetStream>, tonic::Status> {
        let set: Vec<Result<crate::proto::SlaSetResponse, tonic::Status>> =
            self.0.iter().cloned().map(Ok).collect();
        Ok(tonic::Response::new(Box::pin(futures::stream::iter(set))))
    }
}

/// An SLA as the sla-manager streams it, on the synthetic series `name`
/// (`job="synthetic"`, `instance="synthetic:0"`): in `[0, range_max]`, broken after 5 minutes
/// outside, with an additive seasonal period of `period_minutes` when given.
pub fn synthetic_sla(
    name: &str,
    range_max: f64,
    period_minutes: Option<u32>,
) -> crate::proto::SlaSetResponse {
    let labels: std::collections::HashMap<String, String> = [
        ("__name__", name),
        ("job", "synthetic"),
        ("instance", "synthetic:0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    crate::proto::SlaSetResponse {
        id: crate::SeriesId::of(&labels.clone().into_iter().collect()).to_string(),
        metric: labels,
        range_min: 0.0,
        range_max,
        for_minutes: 5,
        seasonality: period_minutes
            .map(|add| crate::proto::sla_set_response::Seasonality { add, mul: 0 }),
    }
}
