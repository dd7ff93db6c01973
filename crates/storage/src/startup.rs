//! How `storage` is wired: the database writer, the dead-letter producer, the consumer loop and
//! the admin listener, built once from the configuration and run until cancelled.

use std::{net::SocketAddr, time::Duration};

use axum::Router;
use common::{admin::Probe, retry::RetryPolicy, store::MetricsRepository};
use rdkafka::{error::KafkaError, types::RDKafkaErrorCode};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{
    config::Config, consumer::Pipeline, dead_letter::DeadLetters, error::StorageError,
    instruments::Instruments, repository::MetricsWriter,
};

/// The service, built and ready to run.
#[derive(Debug)]
pub struct App {
    admin_listener: TcpListener,
    admin_address: SocketAddr,
    admin_router: Router,
    writer: MetricsWriter,
    dead_letters: DeadLetters,
    dead_letter_replication: i32,
    retry: RetryPolicy,
    pipeline: Pipeline,
    /// The database client, shut down explicitly once consuming has ended.
    database_client: mongodb::Client,
}

/// How long the database client may take to close its connections at the end.
const DATABASE_SHUTDOWN_PATIENCE: Duration = Duration::from_secs(5);

impl App {
    /// Creates the clients (they connect lazily: a database or broker that is down does not
    /// stop the start) and binds the admin listener (port 0 picks a free port).
    pub async fn build(config: Config) -> Result<Self, StorageError> {
        let registry = common::telemetry::registry();
        let instruments = Instruments::register(&registry)
            .expect("a fresh registry accepts the storage instruments");
        let database = config
            .mongo
            .database()
            .await
            .map_err(StorageError::DatabaseClient)?;
        let writer = MetricsWriter::new(
            MetricsRepository::new(&database),
            config.limits().max_clock_skew,
        );
        let dead_letters = DeadLetters::new(
            &config.kafka,
            &config.kafka.kafka_topic,
            config.dead_letter_topic(),
            config.dead_letter_max_bytes as usize,
        )?;
        let retry = RetryPolicy {
            initial: Duration::from_millis(100),
            max_delay: config.retry_max_delay,
            multiplier: 2.0,
            max_elapsed: None,
            retries: None,
        }
        .counted(instruments.retries.clone());
        let pipeline = Pipeline::new(
            &config,
            writer.clone(),
            dead_letters.clone(),
            instruments,
            retry.clone(),
        )?;

        let probes = vec![
            Probe::new("database", {
                let writer = writer.clone();
                move || {
                    let writer = writer.clone();
                    async move { writer.ping().await }
                }
            }),
            Probe::new("broker", {
                let dead_letters = dead_letters.clone();
                move || {
                    let dead_letters = dead_letters.clone();
                    async move { dead_letters.ping().await }
                }
            }),
        ];
        let admin_router = common::admin::router(registry, probes);
        let address = SocketAddr::new(config.bind.bind_address, config.admin_port);
        let admin_listener = TcpListener::bind(address)
            .await
            .map_err(|source| StorageError::AdminListener { address, source })?;
        let admin_address = admin_listener
            .local_addr()
            .map_err(|source| StorageError::AdminListener { address, source })?;
        Ok(Self {
            admin_listener,
            admin_address,
            admin_router,
            writer,
            dead_letters,
            dead_letter_replication: config.dead_letter_replication,
            retry,
            pipeline,
            database_client: database.client().clone(),
        })
    }

    /// Where the admin listener listens.
    pub fn admin_address(&self) -> SocketAddr {
        self.admin_address
    }

    /// Serves the admin listener, waits for the database (indexes) and the broker (the
    /// dead-letter topic), then consumes until `token` is cancelled or consumption fails for
    /// good.
    pub async fn run_until_stopped(self, token: CancellationToken) -> Result<(), StorageError> {
        let admin_address = self.admin_address;
        let admin_stop = CancellationToken::new();
        let admin = axum::serve(self.admin_listener, self.admin_router)
            .with_graceful_shutdown(admin_stop.clone().cancelled_owned())
            .into_future();
        let mut admin = tokio::spawn(admin);
        let consuming = consume(
            self.writer,
            self.dead_letters,
            self.dead_letter_replication,
            self.retry,
            self.pipeline,
            token,
        );
        tokio::select! {
            result = consuming => {
                admin_stop.cancel();
                let _ = admin.await;
                shut_down_database_client(self.database_client).await;
                result
            }
            served = &mut admin => {
                let source = match served {
                    Ok(Err(error)) => error,
                    Ok(Ok(())) => std::io::Error::other("the admin listener stopped"),
                    Err(join) => std::io::Error::other(join),
                };
                Err(StorageError::AdminListener { address: admin_address, source })
            }
        }
    }
}

async fn consume(
    writer: MetricsWriter,
    dead_letters: DeadLetters,
    replication: i32,
    retry: RetryPolicy,
    pipeline: Pipeline,
    token: CancellationToken,
) -> Result<(), StorageError> {
    match writer.ensure_indexes(&retry, &token).await {
        Ok(true) => {}
        Ok(false) => return Ok(()),
        Err(error) => {
            tracing::error!(error = %common::admin::error_chain(&error), "the database refuses this service; stopping");
            return Err(StorageError::DatabaseRefused(error));
        }
    }
    tracing::info!("indexes ensured");
    let create_topic = retry.run(
        "create_dead_letter_topic",
        || dead_letters.ensure_topic(replication),
        is_retriable_admin_error,
    );
    tokio::select! {
        _ = token.cancelled() => return Ok(()),
        created = create_topic => created.map_err(|source| StorageError::DeadLetterTopic { topic: dead_letters.topic().to_owned(), source })?,
    }
    tracing::info!(topic = %dead_letters.topic(), "dead-letter topic ready");
    pipeline.run(token).await
}

/// Closes the database client's connections and monitors before the runtime ends. Left to the
/// runtime's drop, a connection request still in flight could find the pool's worker gone and
/// panic in the driver (RELIABILITY.md, finding 7). `immediate`: nothing of ours holds a cursor
/// or session by now, and a database that is away must not hold up the exit.
async fn shut_down_database_client(client: mongodb::Client) {
    match tokio::time::timeout(
        DATABASE_SHUTDOWN_PATIENCE,
        client.shutdown().immediate(true),
    )
    .await
    {
        Ok(()) => tracing::info!("database client closed"),
        Err(_) => tracing::warn!(
            patience = ?DATABASE_SHUTDOWN_PATIENCE,
            "the database client did not close in time; exiting anyway"
        ),
    }
}

/// Whether creating a topic may succeed later (the broker is away or busy), as opposed to
/// being refused for good (authorization, an invalid replication factor, a policy).
fn is_retriable_admin_error(error: &KafkaError) -> bool {
    match error {
        KafkaError::AdminOpCreation(_) => false,
        KafkaError::AdminOp(code) => !matches!(
            code,
            RDKafkaErrorCode::TopicAuthorizationFailed
                | RDKafkaErrorCode::ClusterAuthorizationFailed
                | RDKafkaErrorCode::InvalidReplicationFactor
                | RDKafkaErrorCode::InvalidPartitions
                | RDKafkaErrorCode::InvalidReplicaAssignment
                | RDKafkaErrorCode::InvalidConfig
                | RDKafkaErrorCode::InvalidTopic
                | RDKafkaErrorCode::PolicyViolation
        ),
        _ => true,
    }
}
