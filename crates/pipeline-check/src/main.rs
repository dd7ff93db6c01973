//! `pipeline-check`: configuration, one check, a summary. Exits 0 when every assertion held, 1 on
//! any mismatch, 2 when the check could not run (database, Prometheus or manifest unreachable).

use std::process::ExitCode;

use anyhow::Context;
use pipeline_check::{check, config::Config};

#[tokio::main]
async fn main() -> ExitCode {
    let config: Config = common::config::load();
    match check::run(&config)
        .await
        .context("pipeline-check could not run")
    {
        Ok(report) => {
            print!("{report}");
            if report.passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
