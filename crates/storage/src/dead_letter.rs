//! The dead-letter topic: messages that can never be stored go there, with where they came
//! from and why, so one bad record never blocks its partition and nothing is silently lost.

use std::time::Duration;

use common::config::KafkaArgs;
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
/// Bytes kept for the key, the headers and Kafka's record framing when a payload is cut.
const ENVELOPE_BYTES: usize = 8 * 1024;
/// The longest `dlq.error` header.
const MAX_ERROR_BYTES: usize = 2 * 1024;

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
    /// Created once: `ensure_topic` is retried while the broker is away.
    admin: std::sync::Arc<AdminClient<DefaultClientContext>>,
    source_topic: String,
    topic: String,
    max_bytes: usize,
}

impl std::fmt::Debug for DeadLetters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeadLetters")
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}

/// A client of `kafka`'s brokers with its security settings (common::kafka_security).
pub(crate) fn client_config(kafka: &KafkaArgs) -> ClientConfig {
    let mut config = ClientConfig::new();
    for (key, value) in kafka.client_properties() {
        config.set(key, value);
    }
    config
}

impl DeadLetters {
    /// A producer for `topic`, the dead letters of `source_topic`, none larger than
    /// `max_bytes` (a larger payload is cut to fit).
    pub fn new(
        kafka: &KafkaArgs,
        source_topic: &str,
        topic: String,
        max_bytes: usize,
    ) -> Result<Self, StorageError> {
        let producer = client_config(kafka)
            .set("acks", "all")
            .set("enable.idempotence", "true")
            .set(
                "message.timeout.ms",
                DELIVERY_TIMEOUT.as_millis().to_string(),
            )
            .set("message.max.bytes", max_bytes.to_string())
            .create()
            .map_err(|source| StorageError::KafkaClient {
                client: "dead-letter producer",
                source,
            })?;
        let admin = client_config(kafka)
            .create()
            .map_err(|source| StorageError::KafkaClient {
                client: "admin client",
                source,
            })?;
        Ok(Self {
            producer,
            admin: std::sync::Arc::new(admin),
            source_topic: source_topic.to_owned(),
            topic,
            max_bytes,
        })
    }

    /// The dead-letter topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Creates the topic unless it exists. Errors are the broker's; an existing topic is fine.
    pub async fn ensure_topic(&self, replication: i32) -> Result<(), KafkaError> {
        let admin = &self.admin;
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

    /// Sends one dead letter and waits until the broker has it. A payload that would make the
    /// message larger than the bound is cut to fit, and the header `dlq.truncated` gives its
    /// original length; the error text is cut likewise.
    #[tracing::instrument(name = "dead_letter", skip_all, fields(partition = letter.position.partition, offset = letter.position.offset, reason = letter.reason))]
    pub async fn send(&self, letter: &DeadLetter<'_>) -> Result<(), KafkaError> {
        let partition = letter.position.partition.to_string();
        let offset = letter.position.offset.to_string();
        let error = truncate(letter.error.as_bytes(), MAX_ERROR_BYTES);
        let key = letter.key.map(|k| truncate(k, MAX_ERROR_BYTES));
        let room = self.max_bytes.saturating_sub(ENVELOPE_BYTES);
        let payload = letter.payload.map(|p| truncate(p, room));
        let original = letter.payload.map_or(0, <[u8]>::len);
        let truncated = (payload.map_or(0, <[u8]>::len) < original).then(|| original.to_string());
        if truncated.is_some() {
            tracing::warn!(
                bytes = original,
                bound = room,
                "dead letter too large; its payload is cut to fit"
            );
        }
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
                value: Some(error),
            });
        let headers = match &truncated {
            Some(length) => headers.insert(Header {
                key: "dlq.truncated",
                value: Some(length.as_bytes()),
            }),
            None => headers,
        };
        let mut record: FutureRecord<'_, [u8], [u8]> =
            FutureRecord::to(&self.topic).headers(headers);
        if let Some(key) = key {
            record = record.key(key);
        }
        if let Some(payload) = payload {
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

/// The first `bound` bytes (all of them when shorter).
fn truncate(bytes: &[u8], bound: usize) -> &[u8] {
    &bytes[..bytes.len().min(bound)]
}

/// Whether a failed delivery can never succeed however often it is retried (the message is
/// refused as it is, or this service may not write the topic): the caller reports it and moves
/// on instead of blocking its partition forever.
pub fn is_deterministic(error: &KafkaError) -> bool {
    matches!(
        error.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::MessageSizeTooLarge
                | RDKafkaErrorCode::InvalidMessageSize
                | RDKafkaErrorCode::InvalidMessage
                | RDKafkaErrorCode::InvalidRecord
                | RDKafkaErrorCode::TopicAuthorizationFailed
                | RDKafkaErrorCode::ClusterAuthorizationFailed
                | RDKafkaErrorCode::InvalidTopic
        )
    )
}
