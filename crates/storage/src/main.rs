//! `storage`: Kafka to MongoDB. Configuration comes from the environment (see `--help`).

use anyhow::Context;
use storage::{config::Config, startup::App};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config: Config = common::config::load();
    config.kafka.security.validate()?;
    common::telemetry::init(config.telemetry.log_format)
        .context("cannot install the log subscriber")?;
    tracing::info!(topic = %config.kafka.kafka_topic, group = %config.group_id, mongo = %config.mongo.mongo_uri, "starting");
    let app = App::build(config).await.context("storage cannot start")?;
    tracing::info!(admin = %app.admin_address(), "admin listener bound");
    let token = common::shutdown::on_signal();
    if let Err(error) = app.run_until_stopped(token).await {
        tracing::error!(error = %common::admin::error_chain(&error), "storage stopped");
        return Err(error).context("storage stopped");
    }
    Ok(())
}
