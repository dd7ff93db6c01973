//! `storage`'s metrics, registered in the registry `startup` creates. Labels are bounded: the
//! record kind, the dead-letter reason, the retried operation and the partition number.

use prometheus::{
    Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    core::Collector,
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
        Ok(Self {
            records_written: registered(registry, counter_vec("storage_records_written_total", "Records written to the database, by kind.", "kind")?)?,
            records_stale: registered(registry, counter_vec("storage_records_stale_total", "Records skipped because a result as new or newer was stored, by kind.", "kind")?)?,
            dead_letters: registered(registry, counter_vec("storage_dead_letters_total", "Messages sent to the dead-letter topic, by reason.", "reason")?)?,
            dead_letters_failed: registered(registry, IntCounter::new("storage_dead_letters_failed_total", "Dead letters the broker refused for good, reported and skipped.")?)?,
            database_refusals: registered(registry, IntCounter::new("storage_database_refusals_total", "Times the database refused this service for good (credentials, rights), each stopping it.")?)?,
            batches: registered(registry, IntCounter::new("storage_batches_total", "Batches written and committed.")?)?,
            batch_seconds: registered(registry, Histogram::with_opts(
                HistogramOpts::new("storage_batch_duration_seconds", "Time to write a batch, retries included; its offset commit overlaps the next batch.")
                    .buckets(vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0]),
            )?)?,
            batch_messages: registered(registry, Histogram::with_opts(
                HistogramOpts::new("storage_batch_messages", "Messages per batch.")
                    .buckets(vec![1.0, 10.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 5000.0]),
            )?)?,
            retries: registered(registry, counter_vec("storage_retries_total", "Retries after a transient failure, by operation.", "operation")?)?,
            commit_failures: registered(registry, IntCounter::new("storage_commit_failures_total", "Offset commits the broker refused.")?)?,
            paused: registered(registry, IntGauge::new("storage_consumption_paused", "1 while consumption is paused because the database is down.")?)?,
            consumer_lag: registered(registry, IntGaugeVec::new(
                Opts::new("storage_consumer_lag_records", "Messages between the committed offset and the end of the partition."),
                &["partition"],
            )?)?,
        })
    }
}

/// An integer counter named `name`, one series per value of `label`.
fn counter_vec(name: &str, help: &str, label: &str) -> Result<IntCounterVec, prometheus::Error> {
    IntCounterVec::new(Opts::new(name, help), &[label])
}

/// `collector`, registered in `registry`.
fn registered<C: Collector + Clone + 'static>(
    registry: &Registry,
    collector: C,
) -> Result<C, prometheus::Error> {
    registry.register(Box::new(collector.clone()))?;
    Ok(collector)
}
