//! How the etl is wired: the Prometheus client, the sla-manager client and the producer are
//! built once and shared by the fast and slow loops; the admin listener serves the metrics and
//! the readiness of all three.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use common::{
    admin::{Probe, router},
    promql::{PromClient, PromError},
    retry::RetryPolicy,
    shutdown::drain,
};
use rdkafka::error::KafkaError;
use tokio::{net::TcpListener, task::JoinSet};
use tokio_util::sync::CancellationToken;

use crate::{
    config::Config,
    discovery::Discovery,
    fast_loop::FastLoop,
    instruments::Instruments,
    producer::Producer,
    schedule::{Clock, Summary, once, run_every, system_clock},
    sla_client::SlaClient,
    slow_loop::SlowLoop,
};

/// How long tasks get to finish at shutdown.
const DRAIN_PATIENCE: Duration = Duration::from_secs(10);

/// Why the service could not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The admin listener could not bind or serve.
    #[error("admin listener failed")]
    Admin(#[source] std::io::Error),
    /// The Prometheus client could not be built.
    #[error("invalid Prometheus client configuration")]
    Prometheus(#[from] PromError),
    /// The producer could not be built.
    #[error("invalid Kafka producer configuration")]
    Kafka(#[from] KafkaError),
    /// The sla-manager endpoint is not a valid URI.
    #[error("invalid sla-manager endpoint")]
    SlaManager(#[from] tonic::transport::Error),
    /// With `--once`: a cycle had failures (see the log).
    #[error("a cycle failed")]
    CycleFailed,
    /// The metrics could not be registered.
    #[error("metrics registration failed")]
    Metrics(#[from] prometheus::Error),
}

/// The built service, listening on its admin port.
#[derive(Debug)]
pub struct App {
    admin: TcpListener,
    admin_address: SocketAddr,
    registry: prometheus::Registry,
    fast: Arc<FastLoop>,
    slow: Arc<SlowLoop>,
    producer: Producer,
    instruments: Instruments,
    config: Config,
}

impl App {
    /// Builds the service on the system clock.
    ///
    /// # Errors
    /// See [`StartupError`].
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        Self::build_with_clock(config, system_clock()).await
    }

    /// Builds the service reading the time from `clock`. Creates the topic when it is missing
    /// (a broker that is down only delays that to the first delivery).
    ///
    /// # Errors
    /// See [`StartupError`].
    pub async fn build_with_clock(config: Config, clock: Clock) -> Result<Self, StartupError> {
        let registry = common::telemetry::registry();
        let instruments = Instruments::register(&registry)?;
        let retry = RetryPolicy::default()
            .with_max_elapsed(Some(config.prometheus_retry))
            .counted(instruments.retries.clone());
        let prometheus = PromClient::new(
            config.prometheus.prometheus_url.clone(),
            config.prometheus.prometheus_timeout,
        )?
        .with_retry(retry);
        let concurrency = config.max_concurrency as usize;
        let discovery = Discovery::new(
            prometheus,
            &config.series_selector,
            config.names_per_query as usize,
            concurrency,
        );
        let sla = SlaClient::new(&config.sla_manager_grpc, instruments.retries.clone())?;
        let producer = Producer::new(
            config.topic.clone(),
            config.kafka_message_timeout,
            instruments.clone(),
        )?;
        if let Err(error) = producer.ensure_topic().await {
            tracing::warn!(topic = producer.topic(), error = %common::admin::error_chain(&error), "cannot create the topic at start; will retry on delivery");
        }
        let fast = Arc::new(FastLoop {
            discovery: discovery.clone(),
            sla,
            producer: producer.clone(),
            instruments: instruments.clone(),
            clock: clock.clone(),
            forecast_lookback: config.forecast_lookback,
            concurrency,
        });
        let slow = Arc::new(SlowLoop {
            discovery,
            producer: producer.clone(),
            instruments: instruments.clone(),
            clock,
            lookback: config.metadata_lookback,
            concurrency,
        });
        let admin = TcpListener::bind((config.bind.bind_address, config.admin_port))
            .await
            .map_err(StartupError::Admin)?;
        let admin_address = admin.local_addr().map_err(StartupError::Admin)?;
        tracing::info!(%admin_address, prometheus = %config.prometheus.prometheus_url, topic = producer.topic(), "etl built");
        Ok(Self {
            admin,
            admin_address,
            registry,
            fast,
            slow,
            producer,
            instruments,
            config,
        })
    }

    /// Where the admin listener listens.
    pub fn admin_address(&self) -> SocketAddr {
        self.admin_address
    }

    /// Runs one fast cycle and then one slow cycle (without the admin listener), and returns
    /// their summaries; what `--once` does.
    pub async fn run_once(self) -> (Summary, Summary) {
        let fast = once(
            self.fast.as_ref(),
            self.config.fast_period(),
            &self.instruments,
        )
        .await;
        let slow = once(
            self.slow.as_ref(),
            self.config.slow_period(),
            &self.instruments,
        )
        .await;
        self.producer.flush(DRAIN_PATIENCE).await;
        (fast, slow)
    }

    /// Runs the admin listener and both loops until `token` is cancelled (or, with `--once`,
    /// one cycle of each).
    ///
    /// # Errors
    /// The admin listener failed.
    pub async fn run_until_stopped(self, token: CancellationToken) -> Result<(), StartupError> {
        if self.config.once {
            let (fast, slow) = self.run_once().await;
            return if fast.failures + slow.failures == 0 {
                Ok(())
            } else {
                Err(StartupError::CycleFailed)
            };
        }
        let probes = vec![
            Probe::new("prometheus", {
                let client = self.fast.discovery.client().clone();
                move || {
                    let client = client.clone();
                    async move { client.ping().await }
                }
            }),
            Probe::new("broker", {
                let producer = self.producer.clone();
                move || {
                    let producer = producer.clone();
                    async move { producer.ping().await }
                }
            }),
            Probe::new("sla_manager", {
                let sla = self.fast.sla.clone();
                move || {
                    let sla = sla.clone();
                    async move { sla.ping().await }
                }
            }),
        ];
        let mut tasks: JoinSet<Result<(), StartupError>> = JoinSet::new();
        let admin = axum::serve(self.admin, router(self.registry, probes))
            .with_graceful_shutdown(token.clone().cancelled_owned());
        tasks.spawn(async move { admin.await.map_err(StartupError::Admin) });
        let fast = run_every(
            self.fast,
            self.config.fast_period(),
            self.instruments.clone(),
            token.clone(),
        );
        tasks.spawn(async move {
            fast.await;
            Ok(())
        });
        let slow = run_every(
            self.slow,
            self.config.slow_period(),
            self.instruments,
            token.clone(),
        );
        tasks.spawn(async move {
            slow.await;
            Ok(())
        });
        // The first task to end (normally at cancellation) stops the others.
        let first = tasks.join_next().await;
        token.cancel();
        let outcome = drain(tasks, DRAIN_PATIENCE).await;
        self.producer.flush(DRAIN_PATIENCE).await;
        match first {
            Some(Ok(Err(error))) => Err(error),
            _ => outcome,
        }
    }
}
