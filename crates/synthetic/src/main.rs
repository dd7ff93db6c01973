//! `synthetic`: writes deterministic synthetic history as OpenMetrics plus a manifest.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
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
    /// OpenMetrics file to write; with --split-hours, a directory of files.
    #[arg(long, short, default_value = "synthetic.om")]
    out: PathBuf,
    /// Write one file `<out>/<window start>.om` per H-hour window aligned to the epoch
    /// (0: a single file). promtool 2.42 re-reads its whole input once per 2h block,
    /// so backfilling files split at 2h is about 37 times faster for 3 days.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=24))]
    split_hours: u32,
    /// Manifest file to write [default: <out without extension>.manifest.json,
    /// or <out>/manifest.json with --split-hours].
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
    /// Print the resolved configuration as JSON (as in the manifest's "config") and exit.
    #[arg(long)]
    print_config: bool,
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
    if args.print_config {
        println!("{}", serde_json::to_string(&config)?);
        return Ok(());
    }
    let data = Dataset::new(config);

    let (samples, files, default_manifest) = if args.split_hours == 0 {
        let samples = write_file(&data, &args.out, i64::MIN, i64::MAX)?;
        (samples, 1, args.out.with_extension("manifest.json"))
    } else {
        std::fs::create_dir_all(&args.out)?;
        let width = i64::from(args.split_hours) * 3600;
        let mut from = config.start() - config.start().rem_euclid(width);
        let (mut samples, mut files) = (0, 0);
        while from <= config.end {
            let path = args.out.join(format!("{from}.om"));
            samples += write_file(&data, &path, from, from + width)?;
            files += 1;
            from += width;
        }
        (samples, files, args.out.join("manifest.json"))
    };
    let manifest_path = args.manifest.clone().unwrap_or(default_manifest);
    let openmetrics = std::path::absolute(&args.out)?;
    let manifest = Manifest::of(&data, Some(openmetrics));
    let mut m = BufWriter::new(File::create(&manifest_path)?);
    serde_json::to_writer_pretty(&mut m, &manifest)?;
    m.write_all(b"\n")?;
    m.flush()?;

    eprintln!(
        "synthetic: {} series x {} samples = {samples} samples, {}..{} -> {} ({files} file(s), manifest {}) in {:.1?}",
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

fn write_file(data: &Dataset, path: &Path, from: i64, to: i64) -> std::io::Result<u64> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let samples = synthetic::write_openmetrics_between(data, from, to, &mut out)?;
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok(samples)
}
