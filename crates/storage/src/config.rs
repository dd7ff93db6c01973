//! `storage`'s configuration: its own options flattened over the shared argument groups.

use std::time::Duration;

use clap::Parser;
use common::config::{BindArgs, KafkaArgs, MongoArgs, TelemetryArgs, parse_duration};

/// Consumes the etl's results from Kafka and writes them into MongoDB.
#[derive(Debug, Clone, Parser)]
#[command(name = "storage", version, about)]
pub struct Config {
    /// The broker and the topic of the results.
    #[command(flatten)]
    pub kafka: KafkaArgs,
    /// The database the results are written to.
    #[command(flatten)]
    pub mongo: MongoArgs,
    /// Where the admin listener binds.
    #[command(flatten)]
    pub bind: BindArgs,
    /// Logging.
    #[command(flatten)]
    pub telemetry: TelemetryArgs,
    /// Port of the admin listener (`/metrics`, `/healthz`, `/readyz`); 0 picks a free one.
    #[arg(long, env = "STORAGE_ADMIN_PORT", default_value_t = 8009)]
    pub admin_port: u16,
    /// Most records written in one batch; a batch is written when it is full or when its
    /// linger has passed, whichever comes first.
    #[arg(long, env = "STORAGE_BATCH_SIZE", default_value_t = 500,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub batch_size: u32,
    /// How long a batch waits for more records after its first one arrived.
    #[arg(long, env = "STORAGE_BATCH_LINGER", default_value = "200ms", value_parser = parse_duration)]
    pub batch_linger: Duration,
    /// Consumer group; the replicas of one deployment share it, and so its partitions.
    #[arg(long, env = "STORAGE_GROUP_ID", default_value = "storage")]
    pub group_id: String,
    /// Topic that undecodable records are sent to; `<KAFKA_TOPIC>.dlq` when not set.
    #[arg(long, env = "STORAGE_DEAD_LETTER_TOPIC")]
    pub dead_letter_topic: Option<String>,
    /// Replication factor of the dead-letter topic when `storage` has to create it.
    #[arg(long, env = "STORAGE_DEAD_LETTER_REPLICATION", default_value_t = 1,
          value_parser = clap::value_parser!(i32).range(1..=16))]
    pub dead_letter_replication: i32,
    /// How long the broker waits for a silent consumer before it hands its partitions to
    /// another replica.
    #[arg(long, env = "STORAGE_SESSION_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub session_timeout: Duration,
    /// Most data the consumer prefetches from the broker, in KiB: bounds memory together with
    /// the batch size, also while the database is down.
    #[arg(long, env = "STORAGE_PREFETCH_KIB", default_value_t = 8192,
          value_parser = clap::value_parser!(u32).range(64..=1_048_576))]
    pub prefetch_kib: u32,
    /// How far in the future a record's `computed_at` may be (the etl's clock ahead of ours);
    /// a later record is dead-lettered (`future_computed_at`), so that it cannot make every
    /// real update of its series look stale.
    #[arg(long, env = "STORAGE_MAX_CLOCK_SKEW", default_value = "5m", value_parser = parse_duration)]
    pub max_clock_skew: Duration,
    /// Largest dead letter sent, in bytes (the broker's `message.max.bytes`, 1,000,000 by
    /// default in Kafka): a larger payload is cut to fit and marked `dlq.truncated`.
    #[arg(long, env = "STORAGE_DEAD_LETTER_MAX_BYTES", default_value_t = 1_000_000,
          value_parser = clap::value_parser!(u32).range(16_384..=100_000_000))]
    pub dead_letter_max_bytes: u32,
    /// Longest wait between two attempts to write a batch while the database is down.
    #[arg(long, env = "STORAGE_RETRY_MAX_DELAY", default_value = "5s", value_parser = parse_duration)]
    pub retry_max_delay: Duration,
}

impl Config {
    /// The bounds each record is checked against.
    pub fn limits(&self) -> crate::domain::Limits {
        crate::domain::Limits::with_skew(
            chrono::TimeDelta::from_std(self.max_clock_skew).unwrap_or(chrono::TimeDelta::MAX),
        )
    }

    /// The dead-letter topic: the configured one, or `<topic>.dlq`.
    pub fn dead_letter_topic(&self) -> String {
        self.dead_letter_topic
            .clone()
            .unwrap_or_else(|| format!("{}.dlq", self.kafka.kafka_topic))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn parse(args: &[&str]) -> Result<Config, clap::Error> {
        let args: Vec<OsString> = std::iter::once("storage")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        common::config::try_parse_from(&args, |_| None)
    }

    #[test]
    fn defaults_follow_the_design() {
        let config = parse(&[]).unwrap();
        assert_eq!(config.admin_port, 8009);
        assert_eq!(config.batch_size, 500);
        assert_eq!(config.batch_linger, Duration::from_millis(200));
        assert_eq!(config.group_id, "storage");
        assert_eq!(config.dead_letter_topic(), "prometheusdata.dlq");
        assert_eq!(config.max_clock_skew, Duration::from_secs(300));
        assert_eq!(config.dead_letter_max_bytes, 1_000_000);
    }

    #[test]
    fn a_zero_batch_size_is_refused() {
        let error = parse(&["--batch-size", "0"]).unwrap_err();
        assert!(error.to_string().contains("--batch-size"), "{error}");
    }
}
