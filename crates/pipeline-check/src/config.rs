//! The command line: where the pipeline's database and target Prometheus are, and what the etl
//! was told (its selector and loop periods), each with the etl's own environment variable.

use std::{path::PathBuf, time::Duration};

use chrono::TimeDelta;
use clap::{Args, Parser};
use common::config::{KafkaArgs, MongoArgs, PrometheusArgs, parse_duration};

/// Check every document of a running pipeline's `metrics` collection against PromQL
/// (`*_over_time` at the document's computed_at), the synthetic generator's known values and
/// the stored SLA set. Prints a summary; exits 0 when all holds, 1 on any mismatch, 2 when the
/// check could not run.
#[derive(Debug, Parser)]
#[command(version)]
pub struct Config {
    /// The target Prometheus the etl reads.
    #[command(flatten)]
    pub prometheus: PrometheusArgs,
    /// The database storage writes.
    #[command(flatten)]
    pub mongo: MongoArgs,
    /// The etl's series selector: exactly the series it selects must have documents.
    #[arg(
        long,
        env = "ETL_SERIES_SELECTOR",
        default_value = r#"{__name__=~".+"}"#
    )]
    pub series_selector: String,
    /// The manifest of the synthetic history backfilled into the target Prometheus.
    #[arg(long, env = "TEST_SYNTHETIC_MANIFEST")]
    pub manifest: PathBuf,
    /// The etl's fast loop period: values and predictions must be younger than two of them.
    #[arg(long, env = "ETL_FAST_LOOP_SECS", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..))]
    pub fast_loop_secs: u64,
    /// The etl's slow loop period: metadata must be younger than two of them.
    #[arg(long, env = "ETL_SLOW_LOOP_SECS", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..))]
    pub slow_loop_secs: u64,
    /// The etl's query offset: its records are dated that far behind now, so they may be that
    /// much older than two loop periods.
    #[arg(long, env = "ETL_QUERY_OFFSET", default_value = "0s", value_parser = parse_duration)]
    pub query_offset: Duration,
    /// The etl's metadata lookback (a series whose raw samples over it are all equal must be
    /// reported constant).
    #[arg(long, env = "ETL_METADATA_LOOKBACK", default_value = "3d", value_parser = parse_duration)]
    pub metadata_lookback: Duration,
    /// Series queried at once from Prometheus.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub concurrency: u64,
}

impl Config {
    /// How old a document of a loop of `loop_secs` may be: two of its periods, and the etl's
    /// query offset (its records are dated that far behind the time they were made).
    pub fn max_age(&self, loop_secs: u64) -> TimeDelta {
        let offset = TimeDelta::from_std(self.query_offset).unwrap_or(TimeDelta::zero());
        TimeDelta::seconds(i64::try_from(loop_secs).unwrap_or(i64::MAX / 4_000) * 2) + offset
    }
}

/// The pipeline the topic readers account for (`record-audit loss`, `record-inject`): the
/// topic, the database storage writes and storage's consumer group.
#[derive(Debug, Clone, Args)]
pub struct PipelineArgs {
    /// The topic the etl produces to.
    #[command(flatten)]
    pub kafka: KafkaArgs,
    /// The database storage writes.
    #[command(flatten)]
    pub mongo: MongoArgs,
    /// Storage's consumer group and dead-letter topic.
    #[command(flatten)]
    pub storage: StorageGroupArgs,
}

/// The storage consumer the topic readers account for: its group and its dead-letter topic, as
/// storage itself names them (`record-audit loss`, `record-inject`).
#[derive(Debug, Clone, Args)]
pub struct StorageGroupArgs {
    /// The storage consumer group.
    #[arg(long, env = "STORAGE_GROUP_ID", default_value = "storage")]
    pub group: String,
    /// The dead-letter topic; `<KAFKA_TOPIC>.dlq` when not set.
    #[arg(long, env = "STORAGE_DEAD_LETTER_TOPIC")]
    pub dead_letter_topic: Option<String>,
}

impl StorageGroupArgs {
    /// The dead-letter topic of `topic`: the one given, else `<topic>.dlq`, as storage's default.
    pub fn dead_letter_topic(&self, topic: &str) -> String {
        self.dead_letter_topic
            .clone()
            .unwrap_or_else(|| format!("{topic}.dlq"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_may_be_two_periods_and_the_query_offset_old() {
        let config = Config::try_parse_from([
            "pipeline-check",
            "--manifest",
            "m.json",
            "--query-offset",
            "30s",
        ])
        .unwrap();
        assert_eq!(config.max_age(20), TimeDelta::seconds(70));
        let config = Config::try_parse_from(["pipeline-check", "--manifest", "m.json"]).unwrap();
        assert_eq!(config.max_age(20), TimeDelta::seconds(40));
    }
}
