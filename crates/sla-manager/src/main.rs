use anyhow::Context;
use sla_manager::{config::Config, startup::App};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `sla-manager rules ...` writes rule files and exits; the service's flags do not apply.
    if std::env::args_os().nth(1).is_some_and(|arg| arg == "rules") {
        return sla_manager::rules::run(std::env::args_os().skip(1))
            .context("cannot write the rules");
    }
    let config: Config = common::config::load();
    common::telemetry::init(config.telemetry.log_format)
        .context("cannot install the log subscriber")?;
    let stop = common::shutdown::on_signal();
    let app = App::build(&config)
        .await
        .context("cannot start the SLA manager")?;
    tracing::info!(
        api = %app.api_address(),
        grpc = %app.grpc_address(),
        admin = %app.admin_address(),
        prometheus = %common::config::redact_password(config.prometheus.prometheus_url.as_str()),
        database = %config.mongo.mongo_db,
        "SLA manager listening"
    );
    app.run_until_stopped(stop)
        .await
        .context("the SLA manager failed")?;
    tracing::info!("SLA manager stopped");
    Ok(())
}
