//! `storage`'s metrics, registered in the registry `startup` creates. Labels are bounded: the
//! record kind, the dead-letter reason, the retried operation and the partition number.

use prometheus::{
    Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};

/// The service's counters, gauges and histograms.
#[derive(Debug, Clone)]
pub struct Instruments {
    /// Records that created a document or replaced an older result, by kind.
    pub records_written: IntCounterVec,
    /// Records skipped because the stored (or a batched) result was as new or newer, by kind.
    pub records_stale: IntCounterVec,
    /// Messages sent to the dead-letter topic, by reason.
    pub dead_letters: IntCounterVec,
    /// Dead letters the broker refused for good (too large or malformed even when cut), skipped.
    pub dead_letters_failed: IntCounter,
    /// Times the database refused this service for good (credentials, rights), each stopping it.
    pub database_refusals: IntCounter,
    /// Batches written and committed.
    pub batches: IntCounter,
    /// Time to write a batch, retries included (its offset commit overlaps the next batch).
    pub batch_seconds: Histogram,
    /// Messages per batch.
    pub batch_messages: Histogram,
    /// Retries after a transient failure, by operation.
    pub retries: IntCounterVec,
    /// Offset commits the broker refused (the records are written; they will be redelivered
    /// and skipped as stale).
    pub commit_failures: IntCounter,
    /// 1 while consumption is paused because the database is down.
    pub paused: IntGauge,
    /// Per partition, messages between the committed offset and the partition's end.
    pub consumer_lag: IntGaugeVec,
}

impl Instruments {
    /// Creates the instruments and registers them in `registry`.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let instruments = Self {
            records_written: IntCounterVec::new(
                Opts::new("storage_records_written_total", "Records written to the database, by kind."),
                &["kind"],
            )?,
            records_stale: IntCounterVec::new(
                Opts::new("storage_records_stale_total", "Records skipped because a result as new or newer was stored, by kind."),
                &["kind"],
            )?,
            dead_letters: IntCounterVec::new(
                Opts::new("storage_dead_letters_total", "Messages sent to the dead-letter topic, by reason."),
                &["reason"],
            )?,
            dead_letters_failed: IntCounter::new("storage_dead_letters_failed_total", "Dead letters the broker refused for good, reported and skipped.")?,
            database_refusals: IntCounter::new("storage_database_refusals_total", "Times the database refused this service for good (credentials, rights), each stopping it.")?,
            batches: IntCounter::new("storage_batches_total", "Batches written and committed.")?,
            batch_seconds: Histogram::with_opts(
                HistogramOpts::new("storage_batch_duration_seconds", "Time to write a batch, retries included; its offset commit overlaps the next batch.")
                    .buckets(vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0]),
            )?,
            batch_messages: Histogram::with_opts(
                HistogramOpts::new("storage_batch_messages", "Messages per batch.")
                    .buckets(vec![1.0, 10.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 5000.0]),
            )?,
            retries: IntCounterVec::new(
                Opts::new("storage_retries_total", "Retries after a transient failure, by operation."),
                &["operation"],
            )?,
            commit_failures: IntCounter::new("storage_commit_failures_total", "Offset commits the broker refused.")?,
            paused: IntGauge::new("storage_consumption_paused", "1 while consumption is paused because the database is down.")?,
            consumer_lag: IntGaugeVec::new(
                Opts::new("storage_consumer_lag_records", "Messages between the committed offset and the end of the partition."),
                &["partition"],
            )?,
        };
        registry.register(Box::new(instruments.records_written.clone()))?;
        registry.register(Box::new(instruments.records_stale.clone()))?;
        registry.register(Box::new(instruments.dead_letters.clone()))?;
        registry.register(Box::new(instruments.dead_letters_failed.clone()))?;
        registry.register(Box::new(instruments.database_refusals.clone()))?;
        registry.register(Box::new(instruments.batches.clone()))?;
        registry.register(Box::new(instruments.batch_seconds.clone()))?;
        registry.register(Box::new(instruments.batch_messages.clone()))?;
        registry.register(Box::new(instruments.retries.clone()))?;
        registry.register(Box::new(instruments.commit_failures.clone()))?;
        registry.register(Box::new(instruments.paused.clone()))?;
        registry.register(Box::new(instruments.consumer_lag.clone()))?;
        Ok(instruments)
    }
}
