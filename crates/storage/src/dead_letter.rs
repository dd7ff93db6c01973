//! The dead-letter topic: messages that can never be stored go there, with where they came
//! from and why, so one bad record never blocks its partition and nothing is silently lost.

use std::time::Duration;

use rdkafka::{
    ClientConfig,
    admin::{AdminClient, AdminOptions, NewTopic, TopicReplication},
    client::DefaultClientContext,
    error::KafkaError,
    message::{Header, OwnedHeaders},
    producer::{FutureProducer, FutureRecord, Producer},
    types::RDKafkaErrorCode,
};

use crate::{domain::Position, error::StorageError};

/// How long the producer keeps trying to deliver one dead letter before reporting a failure
/// (the caller then retries with backoff).
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a metadata request of the readiness probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// A message that cannot be stored.
#[derive(Debug)]
pub struct DeadLetter<'a> {
    /// Where it was consumed.
    pub position: Position,
    /// Its key, as received.
    pub key: Option<&'a [u8]>,
    /// Its value, as received.
    pub payload: Option<&'a [u8]>,
    /// The bounded reason (see [`crate::domain::Rejection::reason`]).
    pub reason: &'static str,
    /// The full error, for whoever inspects the topic.
    pub error: String,
}

/// A producer to the dead-letter topic.
#[derive(Clone)]
pub struct DeadLetters {
    producer: FutureProducer,
    brokers: String,
    source_topic: String,
    topic: String,
}

impl std::fmt::Debug for DeadLetters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeadLetters")
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}

impl DeadLetters {
    /// A producer for `topic`, the dead letters of `source_topic`.
    pub fn new(brokers: &str, source_topic: &str, topic: String) -> Result<Self, StorageError> {
        let producer = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .set("acks", "all")
            .set("enable.idempotence", "true")
            .set(
                "message.timeout.ms",
                DELIVERY_TIMEOUT.as_millis().to_string(),
            )
            .create()
            .map_err(|source| StorageError::KafkaClient {
                client: "dead-letter producer",
                source,
            })?;
        Ok(Self {
            producer,
            brokers: brokers.to_owned(),
            source_topic: source_topic.to_owned(),
            topic,
        })
    }

    /// The dead-letter topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Creates the topic unless it exists. Errors are the broker's; an existing topic is fine.
    pub async fn ensure_topic(&self, replication: i32) -> Result<(), KafkaError> {
        let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
            .set("bootstrap.servers", &self.brokers)
            .create()?;
        let topic = NewTopic::new(&self.topic, 1, TopicReplication::Fixed(replication));
        let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        for result in admin.create_topics(&[topic], &options).await? {
            match result {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((_, code)) => return Err(KafkaError::AdminOp(code)),
            }
        }
        Ok(())
    }

    /// Sends one dead letter and waits until the broker has it.
    #[tracing::instrument(name = "dead_letter", skip_all, fields(partition = letter.position.partition, offset = letter.position.offset, reason = letter.reason))]
    pub async fn send(&self, letter: &DeadLetter<'_>) -> Result<(), KafkaError> {
        let partition = letter.position.partition.to_string();
        let offset = letter.position.offset.to_string();
        let headers = OwnedHeaders::new()
            .insert(Header {
                key: "dlq.source.topic",
                value: Some(self.source_topic.as_bytes()),
            })
            .insert(Header {
                key: "dlq.source.partition",
                value: Some(partition.as_bytes()),
            })
            .insert(Header {
                key: "dlq.source.offset",
                value: Some(offset.as_bytes()),
            })
            .insert(Header {
                key: "dlq.reason",
                value: Some(letter.reason.as_bytes()),
            })
            .insert(Header {
                key: "dlq.error",
                value: Some(letter.error.as_bytes()),
            });
        let mut record: FutureRecord<'_, [u8], [u8]> =
            FutureRecord::to(&self.topic).headers(headers);
        if let Some(key) = letter.key {
            record = record.key(key);
        }
        if let Some(payload) = letter.payload {
            record = record.payload(payload);
        }
        self.producer
            .send(record, DELIVERY_TIMEOUT)
            .await
            .map(|_| ())
            .map_err(|(error, _)| error)
    }

    /// Answers when the broker returns the source topic's metadata.
    pub async fn ping(&self) -> Result<(), StorageError> {
        let producer = self.producer.clone();
        let topic = self.source_topic.clone();
        tokio::task::spawn_blocking(move || {
            producer
                .client()
                .fetch_metadata(Some(&topic), PROBE_TIMEOUT)
                .map(|_| ())
        })
        .await
        .unwrap_or(Err(KafkaError::Canceled))
        .map_err(StorageError::BrokerUnavailable)
    }

    /// Waits up to `patience` for messages still in the producer's queue.
    pub fn flush(&self, patience: Duration) {
        if let Err(error) = self.producer.flush(patience) {
            tracing::warn!(%error, "dead letters still queued at shutdown");
        }
    }
}
