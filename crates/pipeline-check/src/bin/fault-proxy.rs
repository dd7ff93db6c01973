//! `fault-proxy`: forwards TCP connections (`tcp`) or HTTP requests (`http`) to an upstream,
//! injecting the fault its control endpoint was last given (`PUT /fault`, see
//! `pipeline_check::fault::Fault`). The reliability scripts put it between a service and a part
//! of the stack (reliability/fault-classes.sh).

use std::net::SocketAddr;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use pipeline_check::{
    fault::Fault,
    proxy::{self, Switch},
};
use tokio::net::TcpListener;

/// Forward to an upstream with an injected fault.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// What is forwarded: TCP connections, or HTTP requests (whose answers it can corrupt).
    #[arg(value_enum)]
    mode: Mode,
    /// Where the proxy listens.
    #[arg(long)]
    listen: SocketAddr,
    /// Where it forwards: host:port (tcp), or a base URL (http).
    #[arg(long)]
    upstream: String,
    /// Where the control endpoint listens (`GET`/`PUT /fault`).
    #[arg(long)]
    control: SocketAddr,
    /// The fault in force at the start.
    #[arg(long, default_value = "none")]
    fault: Fault,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Mode {
    Tcp,
    Http,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cli = Cli::parse();
    let switch = Switch::new(cli.fault);
    let listener = TcpListener::bind(cli.listen)
        .await
        .with_context(|| format!("binding {}", cli.listen))?;
    let control = TcpListener::bind(cli.control)
        .await
        .with_context(|| format!("binding {}", cli.control))?;
    tracing::info!(listen = %cli.listen, upstream = %cli.upstream, control = %cli.control, mode = ?cli.mode, "fault-proxy up");
    let serving = async {
        match cli.mode {
            Mode::Tcp => proxy::serve_tcp(listener, cli.upstream, switch.clone()).await,
            Mode::Http => proxy::serve_http(listener, cli.upstream, switch.clone()).await,
        }
    };
    tokio::select! {
        served = serving => served.context("proxy")?,
        served = axum::serve(control, proxy::control(switch.clone())) => served.context("control")?,
    }
    Ok(())
}
