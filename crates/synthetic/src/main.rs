//! `synthetic`: writes deterministic synthetic history as OpenMetrics plus a manifest.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use synthetic::{Config, DEFAULT_DAYS, DEFAULT_SEED, Dataset, Manifest};

/// Write deterministic synthetic Prometheus history (1-minute samples) as OpenMetrics text,
/// ready for `promtool tsdb create-blocks-from openmetrics`, and a JSON manifest next to it.
///
/// Series (labels job="synthetic", instance="synthetic:0"): synthetic_seasonal (daily+hourly),
/// synthetic_trend, synthetic_noise, synthetic_constant, synthetic_sla_latency (range 0.05..0.5,
/// for 5m, known out-of-range runs), synthetic_mul_seasonal, and --bulk synthetic_bulk{shard="i"}.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// OpenMetrics file to write.
    #[arg(long, short, default_value = "synthetic.om")]
    out: PathBuf,
    /// Manifest file to write [default: <out without extension>.manifest.json].
    #[arg(long)]
    manifest: Option<PathBuf>,
    /// Unix time (seconds) of the last sample, rounded down to the minute [default: now].
    #[arg(long, env = "SYNTHETIC_END")]
    end: Option<i64>,
    /// Days of history.
    #[arg(long, default_value_t = DEFAULT_DAYS, value_parser = clap::value_parser!(u32).range(1..=365))]
    days: u32,
    /// Extra synthetic_bulk{shard="i"} series, for load benchmarks.
    #[arg(long, default_value_t = 0)]
    bulk: u32,
    /// Seed of the noise.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    seed: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("synthetic: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> std::io::Result<()> {
    let started = Instant::now();
    let end = match args.end {
        Some(end) => end,
        None => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64),
    };
    let config = Config {
        days: args.days,
        bulk: args.bulk,
        seed: args.seed,
        ..Config::new(end)
    };
    let data = Dataset::new(config);

    let mut out = BufWriter::with_capacity(1 << 20, File::create(&args.out)?);
    let samples = synthetic::write_openmetrics(&data, &mut out)?;
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;

    let manifest_path = args
        .manifest
        .clone()
        .unwrap_or_else(|| args.out.with_extension("manifest.json"));
    let openmetrics = std::path::absolute(&args.out)?;
    let manifest = Manifest::of(&data, Some(openmetrics));
    let mut m = BufWriter::new(File::create(&manifest_path)?);
    serde_json::to_writer_pretty(&mut m, &manifest)?;
    m.write_all(b"\n")?;
    m.flush()?;

    eprintln!(
        "synthetic: {} series x {} samples = {samples} samples, {}..{} -> {} (+ {}) in {:.1?}",
        data.series().len(),
        config.samples_per_series(),
        config.start(),
        config.end,
        args.out.display(),
        manifest_path.display(),
        started.elapsed()
    );
    Ok(())
}
