use anyhow::Context;
use common::{config::LogFormat, shutdown, telemetry};
use etl::{
    analyze,
    config::{Cli, Command},
    producer,
    startup::App,
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli: Cli = common::config::load();
    match cli.into_command() {
        Command::Run(config) => {
            telemetry::init(config.telemetry.log_format).context("cannot install the logger")?;
            config.topic.kafka.security.validate()?;
            let app = App::build(*config).await.context("cannot start the etl")?;
            app.run_until_stopped(shutdown::on_signal())
                .await
                .context("the etl stopped abnormally")?;
        }
        Command::InitTopic(topic) => {
            telemetry::init(LogFormat::Text).context("cannot install the logger")?;
            topic.kafka.security.validate()?;
            producer::create_topic(&topic)
                .await
                .with_context(|| format!("cannot create topic {}", topic.kafka.kafka_topic))?;
        }
        Command::Analyze(args) => {
            let report = analyze::run(&args)?;
            println!("{}", serde_json::to_string(&report)?);
        }
    }
    Ok(())
}
