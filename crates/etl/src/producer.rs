//! The Kafka producer of the results: acks=all, idempotent, lz4, key = series id.
//!
//! A broker that is down pauses production: each record is retried for up to
//! `KAFKA_MESSAGE_TIMEOUT` in attempts of at most [`ATTEMPT_TIMEOUT`] (librdkafka's own retries
//! within each). After a failed attempt the topic is created again when it is missing (a broker
//! that came back empty), and the producer is rebuilt when an attempt timed out or librdkafka
//! declared it unusable, so that a fresh idempotent session starts. Only when the budget is
//! spent is the record dropped, logged and counted in `etl_records_dropped_total`.
//!
//! Every record carries, in its headers, who produced it under which lease: `etl-replica`,
//! `etl-shard` (`1/4`), `etl-term` (the lease's fencing term) and `etl-slot` (the scheduled
//! slot of the cycle, RFC 3339). A record whose lease has lapsed is not sent (nor retried): it
//! is counted in `etl_records_fenced_total`, and the shard's next leader produces it instead.

use std::{
    sync::{Arc, RwLock},
    time::Duration,
};

use chrono::{DateTime, SecondsFormat, Utc};
use common::{config::KafkaArgs, record::Record, retry::RetryPolicy};
use futures::{StreamExt, stream::FuturesUnordered};
use rdkafka::{
    ClientConfig,
    admin::{AdminClient, AdminOptions, NewTopic, TopicReplication},
    client::DefaultClientContext,
    error::{KafkaError, RDKafkaErrorCode},
    message::{Header, OwnedHeaders},
    producer::{FutureProducer, FutureRecord, Producer as _},
    util::Timeout,
};

use crate::{config::TopicArgs, instruments::Instruments, lease::Lease};

/// How long a metadata request or a topic creation may take.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest single delivery attempt (librdkafka's `message.timeout.ms`).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);

/// What one batch of records came to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sent {
    /// Acknowledged by the broker.
    pub produced: usize,
    /// Given up on.
    pub dropped: usize,
    /// Not sent because the lease had lapsed.
    pub fenced: usize,
}

/// Why a record was not delivered.
#[derive(Debug, thiserror::Error)]
enum Undelivered {
    /// The broker did not acknowledge it.
    #[error(transparent)]
    Broker(KafkaError),
    /// It could not be encoded (a bug: the record types always encode).
    #[error("the record cannot be encoded")]
    Encoding(#[source] serde_json::Error),
    /// The lease it was produced under had lapsed.
    #[error("the lease lapsed")]
    Fenced,
}

/// The results producer.
#[derive(Clone)]
pub struct Producer {
    /// The current producer and its generation (bumped at each rebuild).
    inner: Arc<RwLock<(u64, FutureProducer)>>,
    /// Creates the topic again after a failed attempt; made once, as every record that fails
    /// while the broker is away asks for it.
    admin: Arc<AdminClient<DefaultClientContext>>,
    topic: TopicArgs,
    message_timeout: Duration,
    instruments: Instruments,
}

impl std::fmt::Debug for Producer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer")
            .field("topic", &self.topic.kafka.kafka_topic)
            .finish_non_exhaustive()
    }
}

impl Producer {
    /// A producer to `topic`; it connects lazily, so a broker that is down does not stop it.
    ///
    /// # Errors
    /// An invalid client configuration.
    pub fn new(
        topic: TopicArgs,
        message_timeout: Duration,
        instruments: Instruments,
    ) -> Result<Self, KafkaError> {
        let inner = build(&topic.kafka, attempt_timeout(message_timeout))?;
        let admin = admin_client(&topic.kafka)?;
        Ok(Self {
            inner: Arc::new(RwLock::new((0, inner))),
            admin: Arc::new(admin),
            topic,
            message_timeout,
            instruments,
        })
    }

    /// The topic's name.
    pub fn topic(&self) -> &str {
        &self.topic.kafka.kafka_topic
    }

    /// Creates the topic when it is missing (see [`create_topic`]).
    ///
    /// # Errors
    /// The broker did not answer or refused.
    pub async fn ensure_topic(&self) -> Result<(), KafkaError> {
        create_topic_with(&self.admin, &self.topic).await
    }

    /// Answers when the broker gives the cluster's metadata.
    ///
    /// # Errors
    /// The broker did not answer in time.
    pub async fn ping(&self) -> Result<(), KafkaError> {
        let (_, producer) = self.current();
        tokio::task::spawn_blocking(move || {
            producer
                .client()
                .fetch_metadata(None, Timeout::After(ADMIN_TIMEOUT))
                .map(|_| ())
        })
        .await
        .unwrap_or(Err(KafkaError::Canceled))
    }

    /// Sends every record (key = its id) under `lease` for the cycle of `slot`, waiting for
    /// each acknowledgement; see the module docs for what happens while the broker is down or
    /// after the lease lapsed.
    pub async fn send_all(&self, records: &[Record], lease: &Lease, slot: DateTime<Utc>) -> Sent {
        let headers = headers(lease, slot);
        let mut deliveries: FuturesUnordered<_> = records
            .iter()
            .map(|record| self.send(record, lease, &headers))
            .collect();
        let mut sent = Sent::default();
        while let Some(outcome) = deliveries.next().await {
            match outcome {
                Ok(()) => sent.produced += 1,
                Err(Undelivered::Broker(_) | Undelivered::Encoding(_)) => sent.dropped += 1,
                Err(Undelivered::Fenced) => sent.fenced += 1,
            }
        }
        sent
    }

    /// Sends one record, retried while `lease` lasts and the delivery budget allows, and counts
    /// what became of it.
    #[tracing::instrument(name = "produce", skip_all, fields(series_id = %record.id, kind = %record.kind()))]
    async fn send(
        &self,
        record: &Record,
        lease: &Lease,
        headers: &OwnedHeaders,
    ) -> Result<(), Undelivered> {
        let outcome = match serde_json::to_vec(record) {
            Ok(payload) => {
                self.instruments.records_pending.inc();
                let delivered = self
                    .deliver(&record.id.to_string(), &payload, lease, headers)
                    .await;
                self.instruments.records_pending.dec();
                delivered
            }
            Err(error) => Err(Undelivered::Encoding(error)),
        };
        let counter = match &outcome {
            Ok(()) => &self.instruments.records_produced,
            Err(Undelivered::Fenced) => {
                // One per record of the cycle: the cycle's summary says how many.
                tracing::debug!(shard = %lease.shard, term = lease.term, "record not sent: the lease lapsed");
                &self.instruments.records_fenced
            }
            Err(error) => {
                tracing::error!(error = %common::admin::error_chain(error), "record dropped");
                &self.instruments.records_dropped
            }
        };
        counter.with_label_values(&[record.kind().as_str()]).inc();
        outcome
    }

    /// Delivers one encoded record, attempt after attempt (see the module docs).
    async fn deliver(
        &self,
        key: &str,
        payload: &[u8],
        lease: &Lease,
        headers: &OwnedHeaders,
    ) -> Result<(), Undelivered> {
        let policy = RetryPolicy {
            max_delay: Duration::from_secs(5),
            ..RetryPolicy::default()
        }
        .with_max_elapsed(Some(self.message_timeout))
        .counted(self.instruments.retries.clone());
        let attempt = attempt_timeout(self.message_timeout);
        policy
            .run(
                "kafka_produce",
                || async {
                    if !lease.tenure.is_valid() {
                        return Err(Undelivered::Fenced);
                    }
                    let (generation, producer) = self.current();
                    let record = FutureRecord::to(self.topic())
                        .key(key)
                        .payload(payload)
                        .headers(headers.clone());
                    match producer.send(record, Timeout::After(attempt)).await {
                        Ok(_) => Ok(()),
                        Err((error, _)) => {
                            self.recover(generation, &error).await;
                            Err(Undelivered::Broker(error))
                        }
                    }
                },
                |error| match error {
                    Undelivered::Broker(error) => !matches!(
                        error.rdkafka_error_code(),
                        Some(RDKafkaErrorCode::MessageSizeTooLarge)
                    ),
                    Undelivered::Encoding(_) | Undelivered::Fenced => false,
                },
            )
            .await
    }

    /// Waits up to `patience` for queued records, at shutdown.
    pub async fn flush(&self, patience: Duration) {
        let (_, producer) = self.current();
        let flushed =
            tokio::task::spawn_blocking(move || producer.flush(Timeout::After(patience))).await;
        if let Ok(Err(error)) = flushed {
            tracing::warn!(%error, "records still queued at shutdown");
        }
    }

    /// After a failed attempt of the producer of `generation`: creates the topic again when it
    /// is missing, and rebuilds the producer after a timeout or a fatal error (once per
    /// generation, however many records failed with it).
    async fn recover(&self, generation: u64, error: &KafkaError) {
        tracing::warn!(%error, "delivery attempt failed");
        if let Err(error) = self.ensure_topic().await {
            tracing::warn!(%error, "cannot create the topic yet");
        }
        let timed_out = matches!(
            error.rdkafka_error_code(),
            Some(RDKafkaErrorCode::MessageTimedOut)
        );
        let Ok(mut inner) = self.inner.write() else {
            return;
        };
        let fatal = inner.1.client().fatal_error();
        if inner.0 != generation || !(timed_out || fatal.is_some()) {
            return;
        }
        match build(&self.topic.kafka, attempt_timeout(self.message_timeout)) {
            Ok(fresh) => {
                tracing::warn!(?fatal, generation, "rebuilt the producer");
                *inner = (generation + 1, fresh);
            }
            Err(error) => tracing::error!(%error, "cannot rebuild the producer"),
        }
    }

    fn current(&self) -> (u64, FutureProducer) {
        match self.inner.read() {
            Ok(inner) => inner.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

/// The headers that say who produced a record under which lease, for which slot.
fn headers(lease: &Lease, slot: DateTime<Utc>) -> OwnedHeaders {
    let shard = lease.shard.to_string();
    let term = lease.term.to_string();
    let slot = slot.to_rfc3339_opts(SecondsFormat::Secs, true);
    [
        ("etl-replica", lease.replica.as_ref()),
        ("etl-shard", shard.as_str()),
        ("etl-term", term.as_str()),
        ("etl-slot", slot.as_str()),
    ]
    .into_iter()
    .fold(
        OwnedHeaders::new_with_capacity(4),
        |headers, (key, value)| {
            headers.insert(Header {
                key,
                value: Some(value),
            })
        },
    )
}

/// One attempt's timeout: a quarter of the budget, between 1 s and [`ATTEMPT_TIMEOUT`].
fn attempt_timeout(budget: Duration) -> Duration {
    (budget / 4).clamp(Duration::from_secs(1), ATTEMPT_TIMEOUT)
}

/// A client of `kafka`'s brokers with its security settings (common::kafka_security).
fn client_config(kafka: &KafkaArgs) -> ClientConfig {
    let mut config = ClientConfig::new();
    for (key, value) in kafka.client_properties() {
        config.set(key, value);
    }
    config
}

fn build(kafka: &KafkaArgs, attempt: Duration) -> Result<FutureProducer, KafkaError> {
    client_config(kafka)
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .set("compression.type", "lz4")
        .set("linger.ms", "20")
        .set("message.timeout.ms", attempt.as_millis().to_string())
        .set("topic.metadata.refresh.interval.ms", "10000")
        .create()
}

/// Creates the topic with its partitions and replication factor when it is missing; a topic
/// that already exists is success.
///
/// # Errors
/// The broker did not answer or refused.
pub async fn create_topic(topic: &TopicArgs) -> Result<(), KafkaError> {
    create_topic_with(&admin_client(&topic.kafka)?, topic).await
}

fn admin_client(kafka: &KafkaArgs) -> Result<AdminClient<DefaultClientContext>, KafkaError> {
    client_config(kafka).create()
}

async fn create_topic_with(
    admin: &AdminClient<DefaultClientContext>,
    topic: &TopicArgs,
) -> Result<(), KafkaError> {
    let new = NewTopic::new(
        &topic.kafka.kafka_topic,
        topic.partitions,
        TopicReplication::Fixed(topic.replication_factor),
    );
    let options = AdminOptions::new()
        .operation_timeout(Some(ADMIN_TIMEOUT))
        .request_timeout(Some(ADMIN_TIMEOUT));
    for result in admin.create_topics([&new], &options).await? {
        match result {
            Ok(name) => tracing::info!(
                topic = name,
                partitions = topic.partitions,
                replication_factor = topic.replication_factor,
                "topic created"
            ),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((_, code)) => return Err(KafkaError::AdminOp(code)),
        }
    }
    Ok(())
}
