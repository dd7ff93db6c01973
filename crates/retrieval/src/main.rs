//! `retrieval`: configuration, telemetry, build, serve until SIGINT/SIGTERM.

use anyhow::Context;
use retrieval::{config::Config, startup::App};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config: Config = common::config::load();
    common::telemetry::init(config.telemetry.log_format)
        .context("cannot install the log subscriber")?;
    let app = App::build(config).await.context("cannot start retrieval")?;
    tracing::info!(api = %app.api_address(), admin = %app.admin_address(), "retrieval listening");
    app.run_until_stopped(common::shutdown::on_signal())
        .await
        .context("retrieval stopped with an error")?;
    tracing::info!("retrieval stopped");
    Ok(())
}
