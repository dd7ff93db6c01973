//! `record-audit`: accounts for a running pipeline's records by identity, from the topic to the
//! database (`loss`), and reads from the records' headers who led which shard (`leaders`).
//! Exits 0 when the property held, 1 when it did not, 2 when the audit could not run.

use std::{collections::BTreeMap, path::PathBuf, process::ExitCode, time::Duration};

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use common::config::{KafkaArgs, parse_duration};
use pipeline_check::{
    audit::{self, Identity, Ledger},
    config::PipelineArgs,
    topic,
};

/// Account for a running pipeline's records by identity (series id, kind, computed_at).
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Every record of the topic must be written, superseded by a newer one of its series and
    /// kind, or dead-lettered; with --watch-until, every record the storage group has committed
    /// must be so at every look too.
    Loss(LossArgs),
    /// No two replicas may lead one shard: in each partition a shard's terms never go back, and
    /// one term is one replica.
    Leaders(LeaderArgs),
    /// Print each partition's log end offset (`partition high`, one a line, and `total N`): a
    /// broker restarted with its data keeps them (reliability/fault-classes.sh).
    Ends(LeaderArgs),
}

#[derive(Debug, Args)]
struct LossArgs {
    #[command(flatten)]
    pipeline: PipelineArgs,
    /// Look again every --interval until this file exists, then give the balance.
    #[arg(long)]
    watch_until: Option<PathBuf>,
    /// Time between looks.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    interval: Duration,
}

#[derive(Debug, Args)]
struct LeaderArgs {
    #[command(flatten)]
    kafka: KafkaArgs,
}

#[tokio::main]
async fn main() -> ExitCode {
    let outcome = match Cli::parse().command {
        Command::Loss(args) => loss(args).await.context("the loss audit could not run"),
        Command::Leaders(args) => leaders(args)
            .await
            .context("the leader audit could not run"),
        Command::Ends(args) => ends(args)
            .await
            .context("the topic's ends could not be read"),
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

async fn ends(args: LeaderArgs) -> anyhow::Result<bool> {
    let ends = topic::ends(&args.kafka.kafka_brokers, &args.kafka.kafka_topic).await?;
    for (partition, high) in &ends {
        println!("partition {partition} {high}");
    }
    println!("total {}", ends.values().sum::<i64>());
    Ok(true)
}

async fn leaders(args: LeaderArgs) -> anyhow::Result<bool> {
    let records = topic::read_topic(&args.kafka.kafka_brokers, &args.kafka.kafka_topic).await?;
    let report = audit::leaders(&records);
    print!("{report}");
    Ok(report.passed())
}

async fn loss(args: LossArgs) -> anyhow::Result<bool> {
    let database = args.pipeline.mongo.database().await?;
    let mut ledger = Ledger::default();
    if let Some(stop) = &args.watch_until {
        while !stop.exists() {
            if let Err(error) = look(&args, &database, &mut ledger).await {
                eprintln!("record-audit: look skipped: {error:#}");
            }
            tokio::time::sleep(args.interval).await;
        }
    }
    // The last look must succeed: it is the balance.
    let mut attempt = 0;
    let stored = loop {
        match look(&args, &database, &mut ledger).await {
            Ok(stored) => break stored,
            Err(error) if attempt < 10 => {
                attempt += 1;
                eprintln!("record-audit: last look failed, retrying: {error:#}");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(error) => return Err(error),
        }
    };
    let report = ledger.report(&stored);
    print!("{report}");
    Ok(report.passed())
}

/// One look: the committed offsets, then the dead letters, the database and the topic (each
/// read after the offsets, so a committed record has had its write acknowledged by then).
async fn look(
    args: &LossArgs,
    database: &mongodb::Database,
    ledger: &mut Ledger,
) -> anyhow::Result<audit::Stored> {
    let brokers = &args.pipeline.kafka.kafka_brokers;
    let committed: BTreeMap<i32, i64> = topic::committed(
        brokers,
        &args.pipeline.kafka.kafka_topic,
        &args.pipeline.storage.group,
    )
    .await?;
    let dead_letter_topic = args
        .pipeline
        .storage
        .dead_letter_topic(&args.pipeline.kafka.kafka_topic);
    let dead: Vec<Identity> = topic::read_topic(brokers, &dead_letter_topic)
        .await?
        .into_iter()
        .filter_map(|record| record.identity)
        .collect();
    let stored = topic::stored(database).await?;
    let records = topic::read_topic(brokers, &args.pipeline.kafka.kafka_topic).await?;
    ledger.observe(&records, &committed, &dead, &stored);
    Ok(stored)
}
