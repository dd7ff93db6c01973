//! The consumer's librdkafka callbacks: logs, errors, rebalances and statistics.

use prometheus::IntGaugeVec;
use rdkafka::{
    ClientContext, Statistics, TopicPartitionList,
    config::RDKafkaLogLevel,
    consumer::{BaseConsumer, ConsumerContext, Rebalance},
    error::KafkaError,
};

/// The consumer's callbacks: librdkafka's logs and errors go to tracing, rebalances are
/// logged, and the statistics feed the consumer-lag gauge.
#[derive(Debug)]
pub struct StorageContext {
    pub(super) topic: String,
    pub(super) lag: IntGaugeVec,
}

impl ClientContext for StorageContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error => {
                tracing::error!(target: "librdkafka", facility, message)
            }
            RDKafkaLogLevel::Warning => tracing::warn!(target: "librdkafka", facility, message),
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
                tracing::info!(target: "librdkafka", facility, message)
            }
            RDKafkaLogLevel::Debug => tracing::debug!(target: "librdkafka", facility, message),
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        tracing::warn!(target: "librdkafka", %error, reason, "broker client error");
    }

    fn stats(&self, statistics: Statistics) {
        let Some(topic) = statistics.topics.get(&self.topic) else {
            return;
        };
        for partition in topic.partitions.values() {
            // -1 is librdkafka's internal "unassigned" partition; a negative lag is unknown.
            if partition.partition >= 0 && partition.desired && partition.consumer_lag >= 0 {
                self.lag
                    .with_label_values(&[partition.partition.to_string().as_str()])
                    .set(partition.consumer_lag);
            }
        }
    }
}

impl ConsumerContext for StorageContext {
    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(partitions) => {
                tracing::info!(partitions = ?partition_numbers(partitions), "partitions assigned");
            }
            Rebalance::Revoke(partitions) => {
                tracing::info!(partitions = ?partition_numbers(partitions), "partitions revoked");
                for partition in partition_numbers(partitions) {
                    let _ = self
                        .lag
                        .remove_label_values(&[partition.to_string().as_str()]);
                }
            }
            Rebalance::Error(error) => tracing::warn!(%error, "rebalance failed"),
        }
    }
}

pub(super) fn partition_numbers(list: &TopicPartitionList) -> Vec<i32> {
    list.elements().iter().map(|e| e.partition()).collect()
}
