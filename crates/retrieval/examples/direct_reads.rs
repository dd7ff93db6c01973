//! The baseline of the load benchmark (`bench/retrieval/run.sh`): reads the documents that
//! `GET /metrics/{id}/values` serves straight from the database, with the same driver settings
//! and repository as the service, at a fixed concurrency, rotating over the ids in `--ids-file`;
//! then prints throughput, p50/p99 latency and errors on one line.
//!
//! `cargo run --release -p retrieval --example direct_reads -- --ids-file ids.txt --concurrency 16 --duration 20s`
//! (database from `MONGO_URI` / `MONGO_DB`, as the service reads them).

use std::{
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use clap::Parser;
use common::{SeriesId, config::MongoArgs, store::MetricsRepository};
use tokio::task::JoinSet;

/// Reads documents straight from the database, as fast as `--concurrency` clients can.
#[derive(Debug, Parser)]
struct Args {
    /// The ids to read, one per line (read in rotation).
    #[arg(long)]
    ids_file: PathBuf,
    /// Clients reading at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// How long to read.
    #[arg(long, default_value = "20s", value_parser = common::config::parse_duration)]
    duration: Duration,
    #[command(flatten)]
    mongo: MongoArgs,
}

/// What one client saw.
#[derive(Debug, Default)]
struct Tally {
    latencies_us: Vec<u64>,
    errors: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Args = common::config::load();
    let text = std::fs::read_to_string(&args.ids_file).context("ids file")?;
    let ids: Arc<[SeriesId]> = text
        .lines()
        .map(str::parse)
        .collect::<Result<Vec<_>, _>>()
        .context("an id per line")?
        .into();
    anyhow::ensure!(!ids.is_empty(), "no ids in {}", args.ids_file.display());
    let repository =
        MetricsRepository::new(&args.mongo.database().await.context("database client")?);
    repository.ping().await.context("the database answers")?;

    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + args.duration;
    let mut clients = JoinSet::new();
    for _ in 0..args.concurrency {
        let (repository, ids, next) = (repository.clone(), ids.clone(), next.clone());
        clients.spawn(async move {
            let mut tally = Tally::default();
            while Instant::now() < deadline {
                let id = ids[next.fetch_add(1, Ordering::Relaxed) % ids.len()];
                let sent = Instant::now();
                let found = repository.find(id).await;
                tally.latencies_us.push(sent.elapsed().as_micros() as u64);
                if !matches!(found, Ok(Some(document)) if document.values.is_some()) {
                    tally.errors += 1;
                }
            }
            tally
        });
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    while let Some(tally) = clients.join_next().await {
        let tally = tally.context("a client panicked")?;
        latencies.extend(tally.latencies_us);
        errors += tally.errors;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let percentile = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p).ceil() as usize).saturating_sub(1))
            .map_or(0.0, |us| *us as f64 / 1000.0)
    };
    println!(
        "direct requests={} duration_s={elapsed:.2} rps={:.1} p50_ms={:.2} p99_ms={:.2} errors={errors}",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        percentile(0.50),
        percentile(0.99),
    );
    Ok(())
}
