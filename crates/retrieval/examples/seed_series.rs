//! Seeds `--series` documents with `values` into the `metrics` collection, in the shape
//! `storage` writes (`MetricDocument`), and writes their ids, one per line, to `--ids-file` (for the load benchmark,
//! `bench/retrieval/run.sh`).
//!
//! `cargo run --release -p retrieval --example seed_series -- --series 10000 --ids-file ids.txt`
//! (database from `MONGO_URI` / `MONGO_DB`, as the service reads them).

use std::{io::Write, path::PathBuf, time::Instant};

use anyhow::Context;
use clap::Parser;
use common::{
    Labels, SeriesId,
    config::MongoArgs,
    record::{Window, Windows},
    store::{METRICS_COLLECTION, MetricDocument},
};

/// Seeds the database for the load benchmark.
#[derive(Debug, Parser)]
struct Args {
    /// How many series.
    #[arg(long, default_value_t = 10_000)]
    series: u32,
    /// Where to write their ids.
    #[arg(long)]
    ids_file: PathBuf,
    #[command(flatten)]
    mongo: MongoArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Args = common::config::load();
    let database = args.mongo.database().await.context("database client")?;
    let collection = database.collection::<MetricDocument>(METRICS_COLLECTION);
    collection.drop().await.context("emptying the collection")?;
    let started = Instant::now();
    let records: Vec<MetricDocument> = (0..args.series).map(document).collect();
    // One insert per batch: an upsert per series (what `storage` does) is slow on SecantusDB
    // at this size, and the documents are the same.
    for batch in records.chunks(1000) {
        collection.insert_many(batch).await.context("seeding")?;
    }
    let mut ids =
        std::io::BufWriter::new(std::fs::File::create(&args.ids_file).context("ids file")?);
    for record in &records {
        writeln!(ids, "{}", record.id)?;
    }
    ids.flush()?;
    println!(
        "seeded {} series in {:.1} s",
        records.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A document with `values` of realistic size for `bench_series{shard=i}`.
fn document(shard: u32) -> MetricDocument {
    let name: Labels = [
        ("__name__", "bench_series".to_owned()),
        ("instance", format!("host-{}:9100", shard % 100)),
        ("job", "bench".to_owned()),
        ("shard", shard.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let f = f64::from(shard);
    let window = |count| Window {
        min: f,
        max: f + 10.0,
        avg: f + 5.0,
        std_dev: 2.5,
        count,
    };
    let values = Windows {
        h1: Some(window(60)),
        h3: Some(window(180)),
        h12: Some(window(720)),
    };
    MetricDocument {
        id: SeriesId::of(&name),
        name,
        values: Some(values),
        values_at: Some(bson::DateTime::now()),
        metadata: None,
        metadata_at: None,
        prediction: None,
        prediction_at: None,
    }
}
