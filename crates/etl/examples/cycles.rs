//! One fast and one slow cycle of the etl, timed, against a running Prometheus and broker, with
//! an in-process SLA server serving five SLA metrics of the synthetic history. Used by
//! `bench/etl/run.sh`; takes the options of `etl run` (its `--sla-manager-grpc` is ours).
//!
//! Prints `{"fast": {...}, "slow": {...}, "peak_rss_bytes": n}` with each cycle's series,
//! records, failures, seconds and seconds waiting on Prometheus (only `fast` with
//! `CYCLES_FAST_ONLY=1`), and the process' peak resident memory. With `--shards N --shard K`,
//! only shard K's series.

use std::sync::Arc;

use anyhow::Context;
use common::{
    config::LogFormat,
    proto::sla_service_server::SlaServiceServer,
    testing::{FixedSlaSet, synthetic_sla},
};
use etl::{
    config::{Cli, Command},
    schedule::Summary,
    startup::App,
};
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;

fn json(summary: &Summary) -> serde_json::Value {
    serde_json::json!({"series": summary.series, "records": summary.produced, "dropped": summary.dropped, "failures": summary.failures, "seconds": summary.seconds, "prometheus_seconds": summary.prometheus_seconds})
}

/// The process' peak resident memory so far (`VmHWM` of `/proc/self/status`), in bytes.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    common::telemetry::init(LogFormat::Text).context("logger")?;
    let set = vec![
        synthetic_sla("synthetic_seasonal", 1000.0, Some(60)),
        synthetic_sla("synthetic_mul_seasonal", 1000.0, Some(60)),
        synthetic_sla("synthetic_sla_latency", 1000.0, None),
        synthetic_sla("synthetic_trend", 1000.0, None),
        synthetic_sla("synthetic_noise", 1000.0, None),
    ];
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let sla_url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(SlaServiceServer::new(FixedSlaSet(Arc::new(set))))
            .serve_with_incoming(TcpListenerStream::new(listener)),
    );

    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    args.insert(1, "run".into());
    args.extend(["--sla-manager-grpc".into(), sla_url.into()]);
    let cli: Cli = common::config::try_parse_from(&args, |name| std::env::var_os(name))?;
    let Command::Run(config) = cli.into_command() else {
        anyhow::bail!("expected the options of `etl run`")
    };
    let app = App::build(*config).await.context("cannot build the etl")?;
    let mut report = if std::env::var_os("CYCLES_FAST_ONLY").is_some() {
        serde_json::json!({"fast": json(&app.run_fast_once().await)})
    } else {
        let (fast, slow) = app.run_once().await;
        serde_json::json!({"fast": json(&fast), "slow": json(&slow)})
    };
    report["peak_rss_bytes"] = peak_rss_bytes().into();
    println!("{report}");
    Ok(())
}
