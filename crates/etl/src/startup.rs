//! How the etl is wired: the Prometheus client, the sla-manager client and the producer are
//! built once and shared by the fast and slow loops of every shard this replica runs; with
//! leader election (the default) the [`Coordinator`] decides which shards those are, without it
//! this replica runs them all (or `ETL_SHARD`). The admin listener serves the metrics and the
//! readiness of the dependencies.

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
    config::{Config, InvalidConfig},
    discovery::Discovery,
    fast_loop::FastLoop,
    instruments::Instruments,
    leadership::{Coordinator, LastSlots, Loops},
    lease::{Lease, LeaseStore},
    producer::Producer,
    schedule::{Clock, Summary, Turn, offset_clock, once, slot_start, system_clock},
    shard::Shard,
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
    /// The gRPC TLS settings (`SLA_MANAGER_GRPC_CA`, `SLA_MANAGER_GRPC_CLIENT_*`) do not make
    /// a client.
    #[error("invalid sla-manager TLS configuration")]
    SlaManagerTls(#[from] common::grpc_tls::GrpcTlsError),
    /// With `--once`: a cycle had failures (see the log).
    #[error("a cycle failed")]
    CycleFailed,
    /// The metrics could not be registered.
    #[error("metrics registration failed")]
    Metrics(#[from] prometheus::Error),
    /// The options do not fit together.
    #[error("invalid configuration")]
    Config(#[from] InvalidConfig),
    /// The lease database's client could not be built.
    #[error("invalid MongoDB configuration")]
    Database(#[from] mongodb::error::Error),
}

/// The built service, listening on its admin port.
#[derive(Debug)]
pub struct App {
    admin: TcpListener,
    admin_address: SocketAddr,
    registry: prometheus::Registry,
    loops: Loops,
    /// The leases, when this replica takes part in an election.
    leases: Option<LeaseStore>,
    replica: Arc<str>,
    producer: Producer,
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
        config.leadership.validate()?;
        let clock = offset_clock(clock, config.query_offset);
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
        )
        .with_series_per_query(config.series_per_query as usize);
        let sla_tls = config
            .sla_manager_tls
            .client_config(&config.sla_manager_grpc)?;
        tracing::info!(
            endpoint = %config.sla_manager_grpc,
            tls = sla_tls.is_some(),
            ca = ?config.sla_manager_tls.sla_manager_grpc_ca,
            client_certificate = config.sla_manager_tls.sla_manager_grpc_client_cert.is_some(),
            "sla-manager gRPC client"
        );
        let sla = SlaClient::new(
            &config.sla_manager_grpc,
            sla_tls,
            instruments.retries.clone(),
        )?;
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
            forecast_horizon: config.forecast_horizon_steps(),
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
        let loops = Loops {
            fast,
            slow,
            fast_period: config.fast_period(),
            slow_period: config.slow_period(),
            instruments,
        };
        let leadership = &config.leadership;
        let replica: Arc<str> = leadership.replica().into();
        let leases = if leadership.leader_election && leadership.shard.is_none() && !config.once {
            // A lease operation must not hang longer than a renewal period.
            let mut mongo = leadership.mongo.clone();
            mongo.mongo_timeout = mongo.mongo_timeout.min(leadership.lease_ttl / 3);
            let database = mongo.database().await?;
            Some(LeaseStore::new(
                &database,
                replica.clone(),
                leadership.lease_ttl,
            ))
        } else {
            None
        };
        let admin = TcpListener::bind((config.bind.bind_address, config.admin_port))
            .await
            .map_err(StartupError::Admin)?;
        let admin_address = admin.local_addr().map_err(StartupError::Admin)?;
        tracing::info!(
            %admin_address,
            prometheus = %config.prometheus.prometheus_url,
            topic = producer.topic(),
            %replica,
            shards = leadership.shards,
            election = leases.is_some(),
            "etl built"
        );
        Ok(Self {
            admin,
            admin_address,
            registry,
            loops,
            leases,
            replica,
            producer,
            config,
        })
    }

    /// The shards this replica runs without election: `ETL_SHARD`, or all of them.
    fn unelected_leases(&self) -> Vec<Lease> {
        let leadership = &self.config.leadership;
        let shards: Vec<Shard> = match leadership.shard {
            Some(index) => vec![Shard {
                index,
                count: leadership.shards,
            }],
            None => Shard::all(leadership.shards).collect(),
        };
        shards
            .into_iter()
            .map(|shard| Lease::unelected(self.replica.clone(), shard))
            .collect()
    }

    /// Where the admin listener listens.
    pub fn admin_address(&self) -> SocketAddr {
        self.admin_address
    }

    /// Runs one fast cycle and then one slow cycle of every shard this replica runs without
    /// election (without the admin listener), and returns their summaries summed over the
    /// shards; what `--once` does.
    pub async fn run_once(self) -> (Summary, Summary) {
        let fast = self
            .every_shard_once(self.loops.fast.as_ref(), self.loops.fast_period)
            .await;
        let slow = self
            .every_shard_once(self.loops.slow.as_ref(), self.loops.slow_period)
            .await;
        self.producer.flush(DRAIN_PATIENCE).await;
        (fast, slow)
    }

    /// Runs one fast cycle of every shard this replica runs without election, and returns
    /// their summary; for benchmarks of the fast loop alone (`bench/etl/shards.sh`).
    pub async fn run_fast_once(self) -> Summary {
        let fast = self
            .every_shard_once(self.loops.fast.as_ref(), self.loops.fast_period)
            .await;
        self.producer.flush(DRAIN_PATIENCE).await;
        fast
    }

    /// One cycle of `cycle` for each shard this replica runs without election, in the current
    /// slot with a period's deadline, summed over the shards.
    async fn every_shard_once<C: crate::schedule::Cycle>(
        &self,
        cycle: &C,
        period: Duration,
    ) -> Summary {
        let mut summary = Summary::default();
        for lease in self.unelected_leases() {
            let turn = Turn {
                slot: slot_start(chrono::Utc::now(), period),
                deadline: tokio::time::Instant::now() + period,
                lease,
            };
            summary.absorb(once(cycle, &turn, &self.loops.instruments).await);
        }
        summary
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
        let fast = &self.loops.fast;
        let mut probes = vec![
            Probe::new("prometheus", {
                let client = fast.discovery.client().clone();
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
                let sla = fast.sla.clone();
                move || {
                    let sla = sla.clone();
                    async move { sla.ping().await }
                }
            }),
        ];
        if let Some(leases) = &self.leases {
            probes.push(Probe::new("database", {
                let leases = leases.clone();
                move || {
                    let leases = leases.clone();
                    async move { leases.ping().await }
                }
            }));
        }
        let unelected = self.unelected_leases();
        let mut tasks: JoinSet<Result<(), StartupError>> = JoinSet::new();
        let admin = axum::serve(self.admin, router(self.registry, probes))
            .with_graceful_shutdown(token.clone().cancelled_owned());
        tasks.spawn(async move { admin.await.map_err(StartupError::Admin) });
        match self.leases {
            Some(leases) => {
                let coordinator =
                    Coordinator::new(leases, self.config.leadership.shards, self.loops);
                let token = token.clone();
                tasks.spawn(async move {
                    coordinator.run(token).await;
                    Ok(())
                });
            }
            None => {
                let mut loops = JoinSet::new();
                for lease in &unelected {
                    self.loops
                        .spawn(&mut loops, lease, LastSlots::default(), None, &token);
                }
                tasks.spawn(async move {
                    loops.join_all().await;
                    Ok(())
                });
            }
        }
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
