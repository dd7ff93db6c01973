//! Why `storage` stops. Everything transient (the database or the broker going away) is
//! retried where it happens; what reaches this enum ends the process, and the orchestrator
//! restarts it.

use rdkafka::error::KafkaError;

/// A failure that stops the service.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The admin listener could not bind or serve.
    #[error("admin listener on {address} failed")]
    AdminListener {
        /// Where it was to listen.
        address: std::net::SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A Kafka client could not be created from the configuration.
    #[error("cannot create the Kafka {client}")]
    KafkaClient {
        /// Which client.
        client: &'static str,
        /// Why.
        #[source]
        source: KafkaError,
    },
    /// The database client could not be created from the configuration (a malformed URI).
    #[error("cannot create the database client")]
    DatabaseClient(#[source] mongodb::error::Error),
    /// Subscribing to the topic failed, or consuming failed in a way retrying cannot fix
    /// (authorization, invalid configuration, a fatal client error).
    #[error("cannot consume topic `{topic}`")]
    Subscription {
        /// The topic.
        topic: String,
        /// The broker's or the client's error.
        #[source]
        source: KafkaError,
    },
    /// The dead-letter topic could not be created and retrying cannot fix it.
    #[error("cannot create the dead-letter topic `{topic}`")]
    DeadLetterTopic {
        /// The topic.
        topic: String,
        /// The broker's error.
        #[source]
        source: KafkaError,
    },
    /// The database refuses this service for good (bad credentials, missing rights, a bad
    /// configuration): reported instead of retried forever.
    #[error("the database refuses this service")]
    DatabaseRefused(#[source] common::store::StoreError),
    /// The broker did not answer a readiness probe.
    #[error("the broker does not answer")]
    BrokerUnavailable(#[source] KafkaError),
}
