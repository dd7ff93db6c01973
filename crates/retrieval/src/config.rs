//! The service's configuration: its ports, over the shared argument groups of `common::config`.

use clap::Parser;
use common::{
    config::{BindArgs, MongoArgs, PrometheusArgs, TelemetryArgs},
    http::EdgeArgs,
};

/// `retrieval`: the stored results of the SLA monitor over REST.
#[derive(Debug, Clone, Parser)]
#[command(name = "retrieval", version, about)]
pub struct Config {
    /// Port of the REST API (`0` picks a free one).
    #[arg(long, env = "RETRIEVAL_PORT", default_value_t = 5000)]
    pub port: u16,
    /// Port of the admin listener: `/metrics` (telemetry), `/healthz`, `/readyz`.
    #[arg(long, env = "RETRIEVAL_ADMIN_PORT", default_value_t = 8010)]
    pub admin_port: u16,
    #[command(flatten)]
    pub bind: BindArgs,
    #[command(flatten)]
    pub mongo: MongoArgs,
    #[command(flatten)]
    pub prometheus: PrometheusArgs,
    #[command(flatten)]
    pub edge: EdgeArgs,
    #[command(flatten)]
    pub telemetry: TelemetryArgs,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::{ffi::OsString, time::Duration};

    #[test]
    fn defaults_match_the_design() {
        let args = [OsString::from("retrieval")];
        let config: Config = common::config::try_parse_from(&args, |_| None).unwrap();
        assert_eq!(config.port, 5000);
        assert_eq!(config.admin_port, 8010);
        assert_eq!(config.mongo.mongo_db, "sla_monitor");
        assert!(config.mongo.mongo_timeout <= Duration::from_secs(5));
    }
}
