//! Configuration from the environment: clap argument groups that each service flattens into its
//! own typed config. Every option has a long flag, an environment variable and a default that
//! works with the local stack (`scripts/up.sh`); `.env` at the working directory is read first.

use std::{error::Error as _, ffi::OsString, fmt, net::IpAddr, time::Duration};

use clap::{
    Args, Parser, ValueEnum,
    error::{ContextKind, ContextValue, ErrorKind},
};
use url::Url;

/// Parses `T` from the command line and the environment (after loading `.env`), and exits with
/// a message naming the flag or environment variable at fault when a value is invalid.
pub fn load<T: Parser>() -> T {
    // A missing `.env` is normal in containers; a malformed one is worth saying.
    if let Err(error) = dotenvy::dotenv()
        && !error.not_found()
    {
        eprintln!("warning: ignoring .env: {error}");
    }
    let args: Vec<OsString> = std::env::args_os().collect();
    match try_parse_from::<T>(&args, |name| std::env::var_os(name)) {
        Ok(config) => config,
        Err(error) => error.exit(),
    }
}

/// Parses `T` from `args`; on a value error, names the environment variable the value came from
/// (looked up with `env`) when the flag was not on the command line.
pub fn try_parse_from<T: Parser>(
    args: &[OsString],
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<T, clap::Error> {
    let mut command = T::command();
    let matches = command
        .try_get_matches_from_mut(args)
        .map_err(|e| name_env_variable(e, &command, args, &env))?;
    T::from_arg_matches(&matches).map_err(|e| e.format(&mut command))
}

fn name_env_variable(
    error: clap::Error,
    command: &clap::Command,
    args: &[OsString],
    env: &impl Fn(&str) -> Option<OsString>,
) -> clap::Error {
    if !matches!(
        error.kind(),
        ErrorKind::ValueValidation | ErrorKind::InvalidValue
    ) {
        return error;
    }
    let Some(ContextValue::String(invalid)) = error.get(ContextKind::InvalidArg) else {
        return error;
    };
    let flag = invalid
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .trim_start_matches("--")
        .to_owned();
    let on_command_line = args
        .iter()
        .any(|a| a.to_string_lossy().starts_with(&format!("--{flag}")));
    let from_env = all_args(command)
        .find(|arg| arg.get_long() == Some(flag.as_str()))
        .and_then(|arg| arg.get_env())
        .map(|name| name.to_string_lossy().into_owned())
        .filter(|name| !on_command_line && env(name).is_some());
    let Some(variable) = from_env else {
        return error;
    };
    let value = env(&variable).unwrap_or_default();
    let reason = error
        .source()
        .map(ToString::to_string)
        .unwrap_or_else(|| "invalid value".to_owned());
    let mut command = command.clone();
    command.error(
        ErrorKind::ValueValidation,
        format!("environment variable {variable}={value:?} is invalid: {reason}"),
    )
}

fn all_args(command: &clap::Command) -> Box<dyn Iterator<Item = &clap::Arg> + '_> {
    Box::new(
        command
            .get_arguments()
            .chain(command.get_subcommands().flat_map(all_args)),
    )
}

/// Parses a duration such as `30s`, `2m` or `1h 30m`.
pub fn parse_duration(text: &str) -> Result<Duration, humantime::DurationError> {
    humantime::parse_duration(text)
}

/// Where listeners bind.
#[derive(Debug, Clone, Args)]
pub struct BindArgs {
    /// Address every listener binds (API, gRPC, admin). `0.0.0.0` suits containers; use
    /// `127.0.0.1` to keep a local run private.
    #[arg(long, env = "BIND_ADDRESS", default_value = "0.0.0.0")]
    pub bind_address: IpAddr,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Logging options; the level filter is `RUST_LOG` (default `info`).
#[derive(Debug, Clone, Args)]
pub struct TelemetryArgs {
    /// Log format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// The target Prometheus, the one whose series are watched.
#[derive(Debug, Clone, Args)]
pub struct PrometheusArgs {
    /// Base URL of the target Prometheus.
    #[arg(long, env = "PROMETHEUS_URL", default_value = "http://localhost:9090")]
    pub prometheus_url: Url,
    /// Timeout of one request to it.
    #[arg(long, env = "PROMETHEUS_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub prometheus_timeout: Duration,
}

/// The Kafka cluster and topic the results travel through.
#[derive(Debug, Clone, Args)]
pub struct KafkaArgs {
    /// Bootstrap brokers, comma-separated `host:port`.
    #[arg(long, env = "KAFKA_BROKERS", default_value = "localhost:9092")]
    pub kafka_brokers: String,
    /// The topic of the results.
    #[arg(long, env = "KAFKA_TOPIC", default_value = "prometheusdata")]
    pub kafka_topic: String,
    /// TLS and SASL.
    #[command(flatten)]
    pub security: crate::kafka_security::KafkaSecurityArgs,
}

impl KafkaArgs {
    /// The librdkafka properties of every client of these brokers: `bootstrap.servers` and the
    /// security settings; each client adds its own (`ClientConfig::set` on each pair).
    pub fn client_properties(&self) -> Vec<(&'static str, String)> {
        let mut properties = vec![("bootstrap.servers", self.kafka_brokers.clone())];
        properties.extend(self.security.client_properties());
        properties
    }
}

/// The MongoDB database the results are stored in.
#[derive(Debug, Clone, Args)]
pub struct MongoArgs {
    /// Connection string; credentials in it are never logged.
    #[arg(long, env = "MONGO_URI", default_value = "mongodb://localhost:27017")]
    pub mongo_uri: SecretUri,
    /// Database name.
    #[arg(long, env = "MONGO_DB", default_value = "sla_monitor")]
    pub mongo_db: String,
    /// How long an operation may wait for the database before it counts as unavailable.
    #[arg(long, env = "MONGO_TIMEOUT", default_value = "5s", value_parser = parse_duration)]
    pub mongo_timeout: Duration,
}

impl MongoArgs {
    /// A client for the database: it connects lazily, so a database that is down at start-up
    /// does not stop the service; operations wait at most `mongo_timeout` for a server.
    pub async fn database(&self) -> Result<mongodb::Database, mongodb::error::Error> {
        let mut options = mongodb::options::ClientOptions::parse(self.mongo_uri.expose()).await?;
        options.server_selection_timeout = Some(self.mongo_timeout);
        options.connect_timeout = Some(self.mongo_timeout);
        options
            .app_name
            .get_or_insert_with(|| env!("CARGO_PKG_NAME").to_owned());
        Ok(mongodb::Client::with_options(options)?.database(&self.mongo_db))
    }
}

/// A URI that may hold credentials: `Debug` and `Display` hide the password.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUri(String);

impl SecretUri {
    /// The URI with its credentials, for the client that needs them.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for SecretUri {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

impl fmt::Display for SecretUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_password(&self.0))
    }
}

impl fmt::Debug for SecretUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", redact_password(&self.0))
    }
}

/// `scheme://user:secret@host` becomes `scheme://user:***@host`.
pub fn redact_password(uri: &str) -> String {
    let Some((scheme, rest)) = uri.split_once("://") else {
        return uri.to_owned();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{path}"),
            None => uri.to_owned(),
        },
        None => uri.to_owned(),
    }
}

/// A secret token: never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretToken(String);

impl SecretToken {
    /// The token, for comparison.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for SecretToken {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            Err("the token must not be empty")
        } else {
            Ok(Self(s.to_owned()))
        }
    }
}

impl fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretToken(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[derive(Debug, Parser)]
    struct Example {
        #[command(flatten)]
        prometheus: PrometheusArgs,
        #[command(flatten)]
        mongo: MongoArgs,
        /// A port.
        #[arg(long, env = "EXAMPLE_PORT", default_value_t = 5000)]
        port: u16,
    }

    fn args(list: &[&str]) -> Vec<OsString> {
        std::iter::once("example")
            .chain(list.iter().copied())
            .map(OsString::from)
            .collect()
    }

    #[test]
    fn defaults_work_without_any_environment() {
        let config: Example = try_parse_from(&args(&[]), |_| None).unwrap();
        assert_eq!(config.port, 5000);
        assert_eq!(
            config.prometheus.prometheus_url.as_str(),
            "http://localhost:9090/"
        );
        assert_eq!(config.mongo.mongo_timeout, Duration::from_secs(5));
    }

    #[test]
    fn an_invalid_value_from_the_command_line_names_the_flag() {
        let error = try_parse_from::<Example>(&args(&["--port", "http"]), |_| None).unwrap_err();
        assert!(error.to_string().contains("--port"), "{error}");
    }

    #[test]
    fn an_invalid_value_from_the_environment_names_the_variable() {
        // clap reads the real environment; the lookup only tells where the value came from.
        let error = try_parse_from::<Example>(&args(&["--port", "99999"]), |_| None).unwrap_err();
        let lookup = |name: &str| (name == "EXAMPLE_PORT").then(|| OsString::from("99999"));
        let command = Example::command();
        let renamed = name_env_variable(error, &command, &args(&[]), &lookup);
        let text = renamed.to_string();
        assert!(text.contains("EXAMPLE_PORT=\"99999\""), "{text}");
    }

    #[test]
    fn passwords_in_uris_are_redacted() {
        assert_eq!(
            redact_password("mongodb://root:hunter2@db:27017/x"),
            "mongodb://root:***@db:27017/x"
        );
        assert_eq!(redact_password("mongodb://db:27017"), "mongodb://db:27017");
        let uri: SecretUri = "mongodb://a:b@c".parse().unwrap();
        assert!(!format!("{uri:?} {uri}").contains(":b@"));
        let token: SecretToken = "s3cret".parse().unwrap();
        assert!(!format!("{token:?}").contains("s3cret"));
    }
}
