//! The service's configuration: its own options over the shared argument groups.

use std::time::Duration;

use clap::Parser;
use common::{
    config::{BindArgs, MongoArgs, PrometheusArgs, SecretToken, TelemetryArgs, parse_duration},
    grpc_tls::GrpcServerTlsArgs,
    http::EdgeArgs,
};

/// The SLA manager: REST API for the SLA set and its state, gRPC for the etl.
#[derive(Debug, Clone, Parser)]
#[command(name = "sla-manager", version, about)]
pub struct Config {
    /// Port of the REST API.
    #[arg(long, env = "SLA_MANAGER_PORT", default_value_t = 5001)]
    pub port: u16,
    /// Port of the gRPC API (`sla.SlaService`).
    #[arg(long, env = "SLA_GRPC_PORT", default_value_t = 50052)]
    pub grpc_port: u16,
    #[command(flatten)]
    pub grpc_tls: GrpcServerTlsArgs,
    /// Port of the admin listener (`/metrics`, `/healthz`, `/readyz`).
    #[arg(long, env = "SLA_MANAGER_ADMIN_PORT", default_value_t = 8011)]
    pub admin_port: u16,
    /// Number of metrics an SLA set must have.
    #[arg(long, env = "SLA_SET_SIZE", default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..))]
    pub sla_set_size: u16,
    /// Bearer token required to change the SLA set; unset, anyone may change it.
    #[arg(long, env = "SLA_API_TOKEN")]
    pub api_token: Option<SecretToken>,
    /// How often the SLA state is recomputed for the telemetry (`sla_status` and friends).
    #[arg(long, env = "SLA_REFRESH_INTERVAL", default_value = "60s", value_parser = parse_duration)]
    pub refresh_interval: Duration,
    #[command(flatten)]
    pub bind: BindArgs,
    #[command(flatten)]
    pub telemetry: TelemetryArgs,
    #[command(flatten)]
    pub prometheus: PrometheusArgs,
    #[command(flatten)]
    pub mongo: MongoArgs,
    #[command(flatten)]
    pub edge: EdgeArgs,
    #[command(flatten)]
    pub ui: crate::ui::UiArgs,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    #[test]
    fn defaults_match_the_design() {
        let config: Config =
            common::config::try_parse_from(&[OsString::from("sla-manager")], |_| None).unwrap();
        assert_eq!(
            (
                config.port,
                config.grpc_port,
                config.admin_port,
                config.sla_set_size
            ),
            (5001, 50052, 8011, 5)
        );
        assert_eq!(config.refresh_interval, Duration::from_secs(60));
    }

    #[test]
    fn an_empty_set_size_is_refused() {
        let args: Vec<OsString> = ["sla-manager", "--sla-set-size", "0"]
            .map(OsString::from)
            .to_vec();
        assert!(common::config::try_parse_from::<Config>(&args, |_| None).is_err());
    }
}
