//! The Kafka producer of the results: acks=all, idempotent, lz4, key = series id.
//!
//! A broker that is down pauses production: librdkafka keeps each record queued and retries it
//! for `message.timeout.ms`, and a record that still fails (or fails at once, e.g. because the
//! topic vanished) is retried with backoff for as long again, the topic created again when it is
//! missing and the producer rebuilt after a fatal error. Only then is the record dropped, and
//! counted in `etl_records_dropped_total`.

use std::{
    sync::{Arc, RwLock},
    time::Duration,
};

use common::{record::Record, retry::RetryPolicy};
use futures::{StreamExt, stream::FuturesUnordered};
use rdkafka::{
    ClientConfig,
    admin::{AdminClient, AdminOptions, NewTopic, TopicReplication},
    client::DefaultClientContext,
    error::{KafkaError, RDKafkaErrorCode},
    producer::{FutureProducer, FutureRecord, Producer as _},
    util::Timeout,
};

use crate::{config::TopicArgs, instruments::Instruments};

/// How long a metadata request or a topic creation may take.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(5);

/// What one batch of records came to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sent {
    /// Acknowledged by the broker.
    pub produced: usize,
    /// Given up on.
    pub dropped: usize,
}

/// The results producer.
#[derive(Clone)]
pub struct Producer {
    inner: Arc<RwLock<FutureProducer>>,
    topic: TopicArgs,
    message_timeout: Duration,
    instruments: Instruments,
}

impl std::fmt::Debug for Producer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer").field("topic", &self.topic.kafka.kafka_topic).finish_non_exhaustive()
    }
}

impl Producer {
    /// A producer to `topic`; it connects lazily, so a broker that is down does not stop it.
    ///
    /// # Errors
    /// An invalid client configuration.
    pub fn new(topic: TopicArgs, message_timeout: Duration, instruments: Instruments) -> Result<Self, KafkaError> {
        let inner = build(&topic.kafka.kafka_brokers, message_timeout)?;
        Ok(Self { inner: Arc::new(RwLock::new(inner)), topic, message_timeout, instruments })
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
        create_topic(&self.topic).await
    }

    /// Answers when the broker gives the cluster's metadata.
    ///
    /// # Errors
    /// The broker did not answer in time.
    pub async fn ping(&self) -> Result<(), KafkaError> {
        let producer = self.current();
        tokio::task::spawn_blocking(move || producer.client().fetch_metadata(None, Timeout::After(ADMIN_TIMEOUT)).map(|_| ()))
            .await
            .unwrap_or(Err(KafkaError::Canceled))
    }

    /// Sends every record (key = its id), waiting for each acknowledgement; see the module docs
    /// for what happens while the broker is down.
    pub async fn send_all(&self, records: &[Record]) -> Sent {
        let mut deliveries: FuturesUnordered<_> = records.iter().map(|record| self.send(record)).collect();
        let mut sent = Sent::default();
        while let Some(delivered) = deliveries.next().await {
            if delivered {
                sent.produced += 1;
            } else {
                sent.dropped += 1;
            }
        }
        sent
    }

    /// Sends one record; `false` when it was dropped.
    #[tracing::instrument(name = "produce", skip_all, fields(series_id = %record.id, kind = %record.kind()))]
    async fn send(&self, record: &Record) -> bool {
        let kind = record.kind().as_str();
        let payload = match serde_json::to_vec(record) {
            Ok(payload) => payload,
            Err(error) => {
                tracing::error!(%error, "record cannot be encoded; dropped");
                self.instruments.records_dropped.with_label_values(&[kind]).inc();
                return false;
            }
        };
        let key = record.id.to_string();
        self.instruments.records_pending.inc();
        let policy = RetryPolicy::default()
            .with_max_elapsed(Some(self.message_timeout))
            .counted(self.instruments.retries.clone());
        let outcome = policy
            .run(
                "kafka_produce",
                || async {
                    let producer = self.current();
                    let record = FutureRecord::to(self.topic()).key(&key).payload(&payload);
                    let result = producer.send(record, Timeout::After(self.message_timeout)).await;
                    match result {
                        Ok(_) => Ok(()),
                        Err((error, _)) => {
                            self.recover(&error).await;
                            Err(error)
                        }
                    }
                },
                |error| !matches!(error.rdkafka_error_code(), Some(RDKafkaErrorCode::MessageSizeTooLarge)),
            )
            .await;
        self.instruments.records_pending.dec();
        match outcome {
            Ok(()) => {
                self.instruments.records_produced.with_label_values(&[kind]).inc();
                true
            }
            Err(error) => {
                tracing::error!(error = %common::admin::error_chain(&error), "record dropped after its delivery budget");
                self.instruments.records_dropped.with_label_values(&[kind]).inc();
                false
            }
        }
    }

    /// Waits up to `patience` for queued records, at shutdown.
    pub async fn flush(&self, patience: Duration) {
        let producer = self.current();
        let flushed = tokio::task::spawn_blocking(move || producer.flush(Timeout::After(patience))).await;
        if let Ok(Err(error)) = flushed {
            tracing::warn!(%error, "records still queued at shutdown");
        }
    }

    /// After a failed delivery: creates the topic again when it is missing, and rebuilds the
    /// producer when librdkafka declared it unusable (an idempotent producer whose broker lost
    /// its state).
    async fn recover(&self, error: &KafkaError) {
        if matches!(error.rdkafka_error_code(), Some(RDKafkaErrorCode::UnknownTopicOrPartition | RDKafkaErrorCode::UnknownTopic))
            && let Err(error) = self.ensure_topic().await
        {
            tracing::warn!(%error, "cannot create the topic yet");
        }
        let fatal = self.current().client().fatal_error();
        if let Some((code, reason)) = fatal {
            let Ok(mut inner) = self.inner.write() else { return };
            if inner.client().fatal_error().is_some() {
                match build(&self.topic.kafka.kafka_brokers, self.message_timeout) {
                    Ok(fresh) => {
                        tracing::warn!(?code, reason, "producer failed fatally; rebuilt it");
                        *inner = fresh;
                    }
                    Err(error) => tracing::error!(%error, "cannot rebuild the producer"),
                }
            }
        }
    }

    fn current(&self) -> FutureProducer {
        match self.inner.read() {
            Ok(inner) => inner.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

fn build(brokers: &str, message_timeout: Duration) -> Result<FutureProducer, KafkaError> {
    ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .set("compression.type", "lz4")
        .set("linger.ms", "20")
        .set("message.timeout.ms", message_timeout.as_millis().clamp(1000, i32::MAX as u128).to_string())
        .set("topic.metadata.refresh.interval.ms", "10000")
        .create()
}

/// Creates the topic with its partitions and replication factor when it is missing; a topic
/// that already exists is success.
///
/// # Errors
/// The broker did not answer or refused.
pub async fn create_topic(topic: &TopicArgs) -> Result<(), KafkaError> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new().set("bootstrap.servers", &topic.kafka.kafka_brokers).create()?;
    let new = NewTopic::new(&topic.kafka.kafka_topic, topic.partitions, TopicReplication::Fixed(topic.replication_factor));
    let options = AdminOptions::new().operation_timeout(Some(ADMIN_TIMEOUT)).request_timeout(Some(ADMIN_TIMEOUT));
    for result in admin.create_topics([&new], &options).await? {
        match result {
            Ok(name) => tracing::info!(topic = name, partitions = topic.partitions, replication_factor = topic.replication_factor, "topic created"),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((_, code)) => return Err(KafkaError::AdminOp(code)),
        }
    }
    Ok(())
}
