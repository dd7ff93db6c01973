//! Load tool for `bench/storage/run.sh`: fills a topic with deterministic records, writes the
//! same records straight into the database through the repository's batch upsert (the
//! baseline), and watches a running `storage` write them (its records per second).
//!
//! ```text
//! bench_storage fill   --brokers B --topic T --records N
//! bench_storage direct --mongo-uri U --database D --records N --batch-size S
//! bench_storage watch  --admin ADDR --records N --timeout-secs 600
//! ```
//! Each subcommand prints one JSON line with its figures.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use common::{
    Labels,
    record::{Payload, PredictedPoint, Prediction, Record, Window, Windows},
    store::MetricsRepository,
};
use rdkafka::{
    ClientConfig,
    admin::{AdminClient, AdminOptions, NewTopic, TopicReplication},
    client::DefaultClientContext,
    producer::{FutureProducer, FutureRecord, Producer},
};

#[derive(Debug, Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Creates the topic and fills it with the records.
    Fill {
        /// Bootstrap brokers.
        #[arg(long)]
        brokers: String,
        /// The topic to create and fill.
        #[arg(long)]
        topic: String,
        /// How many records.
        #[arg(long, default_value_t = 20_000)]
        records: usize,
        /// Partitions of the topic.
        #[arg(long, default_value_t = 3)]
        partitions: i32,
    },
    /// Upserts the same records straight into the database, in batches, from one client.
    Direct {
        /// The database server.
        #[arg(long)]
        mongo_uri: String,
        /// A fresh database name.
        #[arg(long)]
        database: String,
        /// How many records.
        #[arg(long, default_value_t = 20_000)]
        records: usize,
        /// Records per upsert.
        #[arg(long, default_value_t = 500)]
        batch_size: usize,
    },
    /// Polls a running storage's admin port until it has handled `records` records.
    Watch {
        /// The admin listener, `host:port`.
        #[arg(long)]
        admin: String,
        /// How many records to wait for.
        #[arg(long, default_value_t = 20_000)]
        records: usize,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 600)]
        timeout_secs: u64,
    },
}

/// Record `i` of the load: series `i % series`, round `i / series`; rounds cycle through the
/// three kinds and are produced one after the other, as the etl's loops would.
fn record(i: usize, total: usize) -> Record {
    let series = (total / 4).max(1);
    let (n, round) = (i % series, i / series);
    let labels: Labels = [
        ("__name__".to_owned(), format!("bench_metric_{}", n % 50)),
        ("instance".to_owned(), format!("host-{n}:9100")),
        ("job".to_owned(), "node".to_owned()),
    ]
    .into();
    let at: DateTime<Utc> = "2026-11-22T06:00:00Z"
        .parse::<DateTime<Utc>>()
        .expect("a time")
        + chrono::Duration::minutes(round as i64);
    let x = (i as f64).sin() * 10.0 + 20.0;
    let payload = match round % 3 {
        0 => {
            let w = Window {
                min: x - 5.0,
                max: x + 5.0,
                avg: x,
                std_dev: 1.5,
                count: 60,
            };
            Payload::Values {
                values: Windows {
                    h1: Some(w),
                    h3: Some(w),
                    h12: Some(w),
                },
            }
        }
        1 => {
            let values = (0..10)
                .map(|k| PredictedPoint {
                    timestamp: at + chrono::Duration::minutes(k),
                    value: x,
                    lower: x - 2.0,
                    upper: x + 2.0,
                })
                .collect();
            Payload::Prediction {
                prediction: Prediction {
                    model: "holt_winters_additive".to_owned(),
                    rmse: 0.3,
                    min: x,
                    max: x,
                    avg: x,
                    horizon_minutes: 10,
                    candidates: Vec::new(),
                    step_seconds: 60,
                    values,
                },
            }
        }
        _ => {
            let w = Window {
                min: x - 4.0,
                max: x + 4.0,
                avg: x,
                std_dev: 1.0,
                count: 180,
            };
            Payload::Values {
                values: Windows {
                    h1: Some(w),
                    h3: Some(w),
                    h12: None,
                },
            }
        }
    };
    Record::new(labels, at, payload)
}

fn records(total: usize) -> Vec<Record> {
    (0..total).map(|i| record(i, total)).collect()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Fill {
            brokers,
            topic,
            records: total,
            partitions,
        } => fill(&brokers, &topic, total, partitions).await,
        Command::Direct {
            mongo_uri,
            database,
            records: total,
            batch_size,
        } => direct(&mongo_uri, &database, total, batch_size).await,
        Command::Watch {
            admin,
            records: total,
            timeout_secs,
        } => watch(&admin, total, Duration::from_secs(timeout_secs)).await,
    }
}

async fn fill(brokers: &str, topic: &str, total: usize, partitions: i32) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()?;
    for result in admin
        .create_topics(
            &[NewTopic::new(topic, partitions, TopicReplication::Fixed(1))],
            &AdminOptions::new(),
        )
        .await?
    {
        result.map_err(|(topic, code)| anyhow::anyhow!("cannot create {topic}: {code}"))?;
    }
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("acks", "all")
        .set("linger.ms", "20")
        .set("queue.buffering.max.messages", "1000000")
        .create()?;
    let started = Instant::now();
    let mut deliveries = Vec::with_capacity(total);
    for record in records(total) {
        let payload = serde_json::to_vec(&record)?;
        let key = record.id.to_string();
        let delivery = producer
            .send_result(FutureRecord::to(topic).key(&key).payload(&payload))
            .map_err(|(error, _)| anyhow::anyhow!("cannot queue a record: {error}"))?;
        deliveries.push(delivery);
    }
    for delivery in deliveries {
        delivery
            .await?
            .map_err(|(error, _)| anyhow::anyhow!("a record was not delivered: {error}"))?;
    }
    producer.flush(Duration::from_secs(30))?;
    println!(
        "{{\"filled\": {total}, \"seconds\": {:.3}}}",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn direct(
    mongo_uri: &str,
    database: &str,
    total: usize,
    batch_size: usize,
) -> anyhow::Result<()> {
    let client = mongodb::Client::with_uri_str(mongo_uri).await?;
    let repository = MetricsRepository::new(&client.database(database));
    repository.ensure_indexes().await?;
    let records = records(total);
    let started = Instant::now();
    let mut written = 0;
    for batch in records.chunks(batch_size) {
        written += repository.upsert(batch).await?.written;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{{\"direct_written\": {written}, \"seconds\": {seconds:.3}, \"records_per_second\": {:.1}}}",
        total as f64 / seconds
    );
    Ok(())
}

/// Storage's rate over the records it handled: from the first scrape that shows progress to the
/// one that shows all of them, so that its start and group join are not counted.
async fn watch(admin: &str, total: usize, timeout: Duration) -> anyhow::Result<()> {
    let url = format!("http://{admin}/metrics");
    let client = reqwest::Client::new();
    let give_up = Instant::now() + timeout;
    let mut first: Option<(Instant, f64)> = None;
    loop {
        anyhow::ensure!(
            Instant::now() < give_up,
            "storage did not handle {total} records within {timeout:?}"
        );
        let handled = match client.get(&url).send().await {
            Ok(response) => {
                let text = response.text().await?;
                sum(&text, "storage_records_written_total")
                    + sum(&text, "storage_records_stale_total")
            }
            Err(_) => 0.0,
        };
        let now = Instant::now();
        if handled > 0.0 && first.is_none() {
            first = Some((now, handled));
        }
        if handled >= total as f64 {
            let (since, at_start) = first.unwrap_or((now, 0.0));
            let seconds = now.duration_since(since).as_secs_f64();
            let rate = if seconds > 0.0 {
                (handled - at_start) / seconds
            } else {
                f64::NAN
            };
            println!(
                "{{\"storage_handled\": {handled}, \"seconds\": {seconds:.3}, \"records_per_second\": {rate:.1}}}"
            );
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn sum(text: &str, metric: &str) -> f64 {
    text.lines()
        .filter(|line| {
            line.strip_prefix(metric)
                .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}
