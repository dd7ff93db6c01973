//! The command line: `etl [run]` (the service), `etl init-topic` and `etl analyze`. Every option
//! of the service has an environment variable and a default that works with the local stack.

use std::{path::PathBuf, time::Duration};

use clap::{Args, Parser, Subcommand};
use common::{
    config::{BindArgs, KafkaArgs, MongoArgs, PrometheusArgs, TelemetryArgs, parse_duration},
    grpc_tls::GrpcClientTlsArgs,
};
use url::Url;

/// Prometheus to Kafka, on schedule: aggregates, metadata and forecasts of every series.
#[derive(Debug, Parser)]
#[command(name = "etl", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do; without a subcommand, `run`.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The service's options when no subcommand is given.
    #[command(flatten)]
    pub run: Config,
}

impl Cli {
    /// The subcommand, `run` when none was named.
    pub fn into_command(self) -> Command {
        self.command.unwrap_or(Command::Run(Box::new(self.run)))
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service (the default).
    Run(Box<Config>),
    /// Create the topic when it is missing, then exit (for init containers).
    InitTopic(TopicArgs),
    /// Analyse one `timestamp,value` CSV file and print aggregates, metadata, a forecast and the changepoints as JSON.
    Analyze(AnalyzeArgs),
}

/// The service's configuration.
#[derive(Debug, Clone, Args)]
pub struct Config {
    #[command(flatten)]
    pub bind: BindArgs,
    #[command(flatten)]
    pub telemetry: TelemetryArgs,
    #[command(flatten)]
    pub prometheus: PrometheusArgs,
    #[command(flatten)]
    pub topic: TopicArgs,
    /// Port of the admin listener (`/metrics`, `/healthz`, `/readyz`); 0 picks a free one.
    #[arg(long, env = "ETL_ADMIN_PORT", default_value_t = 8008)]
    pub admin_port: u16,
    /// gRPC endpoint of the sla-manager: http:// for plain text, https:// for TLS.
    #[arg(
        long,
        env = "SLA_MANAGER_GRPC",
        default_value = "http://localhost:50052"
    )]
    pub sla_manager_grpc: Url,
    #[command(flatten)]
    pub sla_manager_tls: GrpcClientTlsArgs,
    /// PromQL selector of the series to watch.
    #[arg(
        long,
        env = "ETL_SERIES_SELECTOR",
        default_value = r#"{__name__=~".+"}"#
    )]
    pub series_selector: String,
    /// Seconds between the starts of two fast cycles (aggregates and forecasts).
    #[arg(long, env = "ETL_FAST_LOOP_SECS", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..))]
    pub fast_loop_secs: u64,
    /// Seconds between the starts of two slow cycles (metadata).
    #[arg(long, env = "ETL_SLOW_LOOP_SECS", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..))]
    pub slow_loop_secs: u64,
    /// History analysed by the slow loop, at a one-minute step.
    #[arg(long, env = "ETL_METADATA_LOOKBACK", default_value = "3d", value_parser = parse_duration)]
    pub metadata_lookback: Duration,
    /// History a forecast is fitted on when the series has no known seasonal period; with one,
    /// at least two periods (and an hour more) are used.
    #[arg(long, env = "ETL_FORECAST_LOOKBACK", default_value = "12h", value_parser = parse_duration)]
    pub forecast_lookback: Duration,
    /// How far ahead a forecast reaches, in whole minutes (the forecast's step) from 1m to 24h;
    /// the history fetched grows to four times this when the lookback is shorter, so that the
    /// models are chosen on held-out values as far ahead.
    #[arg(long, env = "ETL_FORECAST_HORIZON", default_value = "10m", value_parser = parse_forecast_horizon)]
    pub forecast_horizon: Duration,
    /// How far behind now the loops evaluate their queries (and date their records): the
    /// ingestion delay of the engine, so that a sample scraped just before the cycle is already
    /// searchable. 0s suits Prometheus, which serves a scraped sample at once; set it to
    /// VictoriaMetrics' `-search.latencyOffset` (30s by default) or to a remote-write delay.
    #[arg(long, env = "ETL_QUERY_OFFSET", default_value = "0s", value_parser = parse_query_offset)]
    pub query_offset: Duration,
    /// Most Prometheus queries and analyses in flight at once per loop.
    #[arg(long, env = "ETL_MAX_CONCURRENCY", default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub max_concurrency: u64,
    /// Metric names per aggregate query (each query covers every series of these names), at most:
    /// a batch also closes at ETL_SERIES_PER_QUERY series and 16,000 bytes of query
    /// (VictoriaMetrics refuses queries over 16 KiB).
    #[arg(long, env = "ETL_NAMES_PER_QUERY", default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub names_per_query: u64,
    /// Series per aggregate query, at most: names are batched up to it, and a name with more
    /// series is split into several queries on the label that tells its series apart, so that
    /// one slow or failed query costs only its own series.
    #[arg(long, env = "ETL_SERIES_PER_QUERY", default_value_t = 2_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub series_per_query: u64,
    /// How long a failing Prometheus request is retried before the step counts as failed.
    #[arg(long, env = "ETL_PROMETHEUS_RETRY", default_value = "30s", value_parser = parse_duration)]
    pub prometheus_retry: Duration,
    /// Run one fast and one slow cycle, then exit (benchmarks, one-off backfills).
    #[arg(long, env = "ETL_ONCE", default_value_t = false)]
    pub once: bool,
    /// How long a record may wait for the broker (in attempts of at most 30 s) before it is
    /// dropped and counted in `etl_records_dropped_total`.
    #[arg(long, env = "KAFKA_MESSAGE_TIMEOUT", default_value = "5m", value_parser = parse_duration)]
    pub kafka_message_timeout: Duration,
    #[command(flatten)]
    pub leadership: LeadershipArgs,
}

/// How replicas share the work: shards, and a leader per shard elected through MongoDB.
#[derive(Debug, Clone, Args)]
pub struct LeadershipArgs {
    /// Shards the series are split into by id (as Prometheus' hashmod); each shard has one
    /// leader among the replicas, so the loops scale with the replicas.
    #[arg(long, env = "ETL_SHARDS", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub shards: u32,
    /// Elect a leader per shard through leases in MongoDB (`MONGO_URI`, collection
    /// `etl_leases`). `false`: this replica runs every shard alone (one replica only!).
    #[arg(long, env = "ETL_LEADER_ELECTION", default_value_t = true, action = clap::ArgAction::Set)]
    pub leader_election: bool,
    /// Run only this shard (0-based, below `ETL_SHARDS`), without election: for `--once` runs
    /// and static assignments such as a StatefulSet's ordinal.
    #[arg(long, env = "ETL_SHARD")]
    pub shard: Option<u32>,
    /// How long a shard's lease lasts unless renewed (every third of it): a dead leader's
    /// shards are taken over within about this long. At least 1s.
    #[arg(long, env = "ETL_LEASE_TTL", default_value = "6s", value_parser = parse_duration)]
    pub lease_ttl: Duration,
    /// This replica's id in leases, the cycle journal and record headers; by default the host
    /// name and the process id.
    #[arg(long, env = "ETL_REPLICA_ID")]
    pub replica_id: Option<String>,
    #[command(flatten)]
    pub mongo: MongoArgs,
}

/// Why the options do not fit together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidConfig {
    /// `ETL_SHARD` is not below `ETL_SHARDS`.
    #[error("ETL_SHARD={shard} must be below ETL_SHARDS={shards}")]
    ShardOutOfRange {
        /// The shard asked for.
        shard: u32,
        /// The shard count.
        shards: u32,
    },
    /// `ETL_LEASE_TTL` is too short to renew in time.
    #[error("ETL_LEASE_TTL must be at least 1s")]
    LeaseTooShort,
}

impl LeadershipArgs {
    /// Checks what clap cannot check alone.
    ///
    /// # Errors
    /// See [`InvalidConfig`].
    pub fn validate(&self) -> Result<(), InvalidConfig> {
        if let Some(shard) = self.shard.filter(|&shard| shard >= self.shards) {
            return Err(InvalidConfig::ShardOutOfRange {
                shard,
                shards: self.shards,
            });
        }
        if self.lease_ttl < Duration::from_secs(1) {
            return Err(InvalidConfig::LeaseTooShort);
        }
        Ok(())
    }

    /// This replica's id: `ETL_REPLICA_ID`, or the host name and the process id.
    pub fn replica(&self) -> String {
        self.replica_id.clone().unwrap_or_else(|| {
            let host = std::env::var("HOSTNAME")
                .ok()
                .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
                .map(|host| host.trim().to_owned())
                .filter(|host| !host.is_empty())
                .unwrap_or_else(|| "etl".to_owned());
            format!("{host}-{}", std::process::id())
        })
    }
}

/// The forecast's step: one predicted point a minute.
pub const FORECAST_STEP: Duration = Duration::from_secs(60);

/// The longest forecast horizon (a day: the SLOs' time to breach looks that far).
pub const MAX_FORECAST_HORIZON: Duration = Duration::from_secs(24 * 3600);

/// `ETL_FORECAST_HORIZON`: a duration that is a whole number of [`FORECAST_STEP`]s, from one
/// step to [`MAX_FORECAST_HORIZON`].
fn parse_forecast_horizon(text: &str) -> Result<Duration, String> {
    let horizon = parse_duration(text).map_err(|e| format!("not a duration ({e}): {text:?}"))?;
    let step = FORECAST_STEP.as_secs();
    if horizon < FORECAST_STEP || horizon > MAX_FORECAST_HORIZON || horizon.as_secs() % step != 0 {
        return Err(format!(
            "the forecast horizon must be whole minutes from 1m to 24h, got {text:?}"
        ));
    }
    Ok(horizon)
}

/// The largest `ETL_QUERY_OFFSET`: past it the 1h window would mostly describe another hour.
pub const MAX_QUERY_OFFSET: Duration = Duration::from_secs(15 * 60);

/// `ETL_QUERY_OFFSET`: a duration from 0s to [`MAX_QUERY_OFFSET`].
fn parse_query_offset(text: &str) -> Result<Duration, String> {
    let offset = parse_duration(text).map_err(|e| format!("not a duration ({e}): {text:?}"))?;
    if offset > MAX_QUERY_OFFSET {
        return Err(format!(
            "the query offset must be from 0s to 15m, got {text:?}"
        ));
    }
    Ok(offset)
}

impl Config {
    /// The forecast horizon in steps of [`FORECAST_STEP`].
    pub fn forecast_horizon_steps(&self) -> usize {
        (self.forecast_horizon.as_secs() / FORECAST_STEP.as_secs()) as usize
    }

    /// The fast loop's period.
    pub fn fast_period(&self) -> Duration {
        Duration::from_secs(self.fast_loop_secs)
    }

    /// The slow loop's period.
    pub fn slow_period(&self) -> Duration {
        Duration::from_secs(self.slow_loop_secs)
    }
}

/// The results topic and how to create it.
#[derive(Debug, Clone, Args)]
pub struct TopicArgs {
    #[command(flatten)]
    pub kafka: KafkaArgs,
    /// Partitions of the topic when the etl creates it.
    #[arg(long, env = "KAFKA_TOPIC_PARTITIONS", default_value_t = 4, value_parser = clap::value_parser!(i32).range(1..))]
    pub partitions: i32,
    /// Replication factor of the topic when the etl creates it.
    #[arg(long, env = "KAFKA_REPLICATION_FACTOR", default_value_t = 1, value_parser = clap::value_parser!(i32).range(1..))]
    pub replication_factor: i32,
}

/// `etl analyze`.
#[derive(Debug, Clone, Args)]
pub struct AnalyzeArgs {
    /// A CSV file of `timestamp,value` lines (RFC 3339 or Unix seconds, constant step, optional header).
    #[arg(long)]
    pub input: PathBuf,
    /// Seasonal period in minutes for the forecast; by default the one the metadata finds.
    #[arg(long)]
    pub period: Option<u32>,
    /// Steps to forecast.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub horizon: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn parse(args: &[&str]) -> Command {
        let args: Vec<OsString> = std::iter::once("etl")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        common::config::try_parse_from::<Cli>(&args, |_| None)
            .unwrap()
            .into_command()
    }

    #[test]
    fn no_subcommand_runs_the_service_with_defaults() {
        let Command::Run(config) = parse(&[]) else {
            panic!("not run")
        };
        assert_eq!(config.fast_period(), Duration::from_secs(120));
        assert_eq!(config.slow_period(), Duration::from_secs(3600));
        assert_eq!(config.metadata_lookback, Duration::from_secs(3 * 86_400));
        assert_eq!(config.admin_port, 8008);
        assert_eq!(config.topic.partitions, 4);
        assert_eq!(config.topic.replication_factor, 1);
        let leadership = &config.leadership;
        assert_eq!((leadership.shards, leadership.shard), (1, None));
        assert!(leadership.leader_election);
        assert_eq!(leadership.lease_ttl, Duration::from_secs(6));
        assert!(leadership.validate().is_ok());
        assert!(
            leadership
                .replica()
                .ends_with(&format!("-{}", std::process::id()))
        );
    }

    #[test]
    fn leadership_options_are_checked_together() {
        let Command::Run(config) = parse(&["--shards", "4", "--shard", "4"]) else {
            panic!("not run")
        };
        assert_eq!(
            config.leadership.validate(),
            Err(InvalidConfig::ShardOutOfRange {
                shard: 4,
                shards: 4
            })
        );
        let Command::Run(config) = parse(&["--lease-ttl", "500ms", "--leader-election", "false"])
        else {
            panic!("not run")
        };
        assert!(!config.leadership.leader_election);
        assert_eq!(
            config.leadership.validate(),
            Err(InvalidConfig::LeaseTooShort)
        );
        let Command::Run(config) = parse(&["--replica-id", "etl-0"]) else {
            panic!("not run")
        };
        assert_eq!(config.leadership.replica(), "etl-0");
    }

    #[test]
    fn subcommands_parse() {
        assert!(
            matches!(parse(&["run", "--fast-loop-secs", "5"]), Command::Run(c) if c.fast_loop_secs == 5)
        );
        assert!(
            matches!(parse(&["init-topic", "--partitions", "2"]), Command::InitTopic(t) if t.partitions == 2)
        );
        let Command::Analyze(a) = parse(&["analyze", "--input", "x.csv", "--period", "60"]) else {
            panic!("not analyze")
        };
        assert_eq!((a.period, a.horizon), (Some(60), 10));
    }

    #[test]
    fn the_forecast_horizon_defaults_to_ten_minutes_and_takes_up_to_a_day() {
        let Command::Run(config) = parse(&[]) else {
            panic!("run")
        };
        assert_eq!(config.forecast_horizon_steps(), 10);
        let Command::Run(config) = parse(&["--forecast-horizon", "24h"]) else {
            panic!("run")
        };
        assert_eq!(config.forecast_horizon_steps(), 1440);
        for bad in ["25h", "30s", "90s", "0m", "soon"] {
            let args: Vec<OsString> = ["etl", "--forecast-horizon", bad]
                .into_iter()
                .map(OsString::from)
                .collect();
            let error = common::config::try_parse_from::<Cli>(&args, |_| None).unwrap_err();
            let text = error.to_string();
            assert!(text.contains("forecast-horizon"), "{bad}: {text}");
        }
    }

    #[test]
    fn the_query_offset_defaults_to_none_and_takes_up_to_fifteen_minutes() {
        let Command::Run(config) = parse(&[]) else {
            panic!("run")
        };
        assert_eq!(config.query_offset, Duration::ZERO);
        let Command::Run(config) = parse(&["--query-offset", "30s"]) else {
            panic!("run")
        };
        assert_eq!(config.query_offset, Duration::from_secs(30));
        for bad in ["16m", "-1s", "soon"] {
            let args = [
                OsString::from("etl"),
                format!("--query-offset={bad}").into(),
            ];
            let error = common::config::try_parse_from::<Cli>(&args, |_| None).unwrap_err();
            assert!(error.to_string().contains("query-offset"), "{bad}: {error}");
        }
    }
}
