//! The etl's own metrics, served on the admin port. Labels come from bounded sets: the loop
//! (`fast`, `slow`), the record kind, the failure cause of [`crate::error::EtlError::cause`],
//! the shard (`ETL_SHARDS` of them), the lease change, and the seed's `metric_name` (the
//! target's metric names, not series).

use prometheus::{
    GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};

/// Every metric of the service.
#[derive(Debug, Clone)]
pub struct Instruments {
    /// `etl_executiontime_1h{metric_name}`: seconds the 1h aggregates of that metric took.
    pub executiontime_1h: GaugeVec,
    /// `etl_executiontime_3h{metric_name}`.
    pub executiontime_3h: GaugeVec,
    /// `etl_executiontime_12h{metric_name}`.
    pub executiontime_12h: GaugeVec,
    /// `etl_executiontime_metadata{metric_name}`: seconds the last metadata of that metric took.
    pub executiontime_metadata: GaugeVec,
    /// `etl_executiontime_prediction{metric_name}`: seconds the last forecast of that metric took.
    pub executiontime_prediction: GaugeVec,
    /// `etl_cycle_duration_seconds{loop}`.
    pub cycle_duration: HistogramVec,
    /// `etl_prometheus_wait_seconds{loop}`: per cycle, the wall-clock seconds during which at
    /// least one of its Prometheus requests was in flight (see [`crate::waiting`]).
    pub prometheus_wait: HistogramVec,
    /// `etl_records_produced_total{kind}`: records the broker acknowledged.
    pub records_produced: IntCounterVec,
    /// `etl_records_dropped_total{kind}`: records given up on after the delivery budget.
    pub records_dropped: IntCounterVec,
    /// `etl_records_pending`: records handed to the producer and not yet acknowledged.
    pub records_pending: IntGauge,
    /// `etl_failures_total{loop,cause}`: failed steps of a cycle or of one series.
    pub failures: IntCounterVec,
    /// `etl_series_selected{loop}`: series the last cycle of the loop found.
    pub series_selected: IntGaugeVec,
    /// `etl_last_successful_cycle_timestamp_seconds{loop}`: Unix time of the end of the last
    /// cycle without failures.
    pub last_success: GaugeVec,
    /// `etl_retries_total{operation}`: retries of calls to Prometheus, the sla-manager and the broker.
    pub retries: IntCounterVec,
    /// `etl_records_fenced_total{kind}`: records not produced because this replica's lease on
    /// their shard had lapsed (its successor produces them).
    pub records_fenced: IntCounterVec,
    /// `etl_shard_leader{shard}`: 1 while this replica leads the shard.
    pub shard_leader: IntGaugeVec,
    /// `etl_lease_changes_total{shard,change}`: leases `acquired`, `lost` or `released`.
    pub lease_changes: IntCounterVec,
    /// `etl_cycles_missed_total{loop,shard}`: scheduled slots no cycle completed, seen by the
    /// replica that ran the next one.
    pub cycles_missed: IntCounterVec,
    /// `etl_replicas_live`: replicas whose heartbeat is current.
    pub replicas_live: IntGauge,
    /// `etl_anomalies_changepoints{metric_name}`: changepoints within the lookback in the series
    /// of that metric, as the last slow cycle found them.
    pub anomalies_changepoints: IntGaugeVec,
    /// `etl_anomalies_latest_changepoint_timestamp_seconds{metric_name}`: Unix time of the
    /// newest of them (absent while there is none).
    pub anomalies_latest_changepoint: GaugeVec,
    /// `etl_outlier_series{metric_name}`: series of that metric outlying among the others, as
    /// the last slow cycle judged them.
    pub outlier_series: IntGaugeVec,
}

impl Instruments {
    /// Creates the metrics and registers them in `registry`.
    ///
    /// # Errors
    /// A name clash in `registry`.
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let execution = |name: &str, what: &str| {
            GaugeVec::new(
                Opts::new(name, format!("Seconds the last {what} of the metric took.")),
                &["metric_name"],
            )
        };
        let instruments = Self {
            executiontime_1h: execution("etl_executiontime_1h", "1h aggregates")?,
            executiontime_3h: execution("etl_executiontime_3h", "3h aggregates")?,
            executiontime_12h: execution("etl_executiontime_12h", "12h aggregates")?,
            executiontime_metadata: execution("etl_executiontime_metadata", "metadata")?,
            executiontime_prediction: execution("etl_executiontime_prediction", "forecast")?,
            cycle_duration: HistogramVec::new(
                HistogramOpts::new(
                    "etl_cycle_duration_seconds",
                    "Duration of one cycle of a loop.",
                )
                .buckets(vec![
                    0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
                ]),
                &["loop"],
            )?,
            prometheus_wait: HistogramVec::new(
                HistogramOpts::new(
                    "etl_prometheus_wait_seconds",
                    "Seconds of one cycle with at least one Prometheus request in flight.",
                )
                .buckets(vec![
                    0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
                ]),
                &["loop"],
            )?,
            records_produced: IntCounterVec::new(
                Opts::new(
                    "etl_records_produced_total",
                    "Records acknowledged by the broker.",
                ),
                &["kind"],
            )?,
            records_dropped: IntCounterVec::new(
                Opts::new(
                    "etl_records_dropped_total",
                    "Records dropped after their delivery budget was spent.",
                ),
                &["kind"],
            )?,
            records_pending: IntGauge::new(
                "etl_records_pending",
                "Records waiting for the broker's acknowledgement.",
            )?,
            failures: IntCounterVec::new(
                Opts::new(
                    "etl_failures_total",
                    "Failed steps of a cycle, by loop and cause.",
                ),
                &["loop", "cause"],
            )?,
            series_selected: IntGaugeVec::new(
                Opts::new("etl_series_selected", "Series found by the last cycle."),
                &["loop"],
            )?,
            last_success: GaugeVec::new(
                Opts::new(
                    "etl_last_successful_cycle_timestamp_seconds",
                    "Unix time of the last cycle without failures.",
                ),
                &["loop"],
            )?,
            retries: IntCounterVec::new(
                Opts::new("etl_retries_total", "Retried calls, by operation."),
                &["operation"],
            )?,
            records_fenced: IntCounterVec::new(
                Opts::new(
                    "etl_records_fenced_total",
                    "Records not produced because the lease on their shard had lapsed.",
                ),
                &["kind"],
            )?,
            shard_leader: IntGaugeVec::new(
                Opts::new("etl_shard_leader", "1 while this replica leads the shard."),
                &["shard"],
            )?,
            lease_changes: IntCounterVec::new(
                Opts::new(
                    "etl_lease_changes_total",
                    "Shard leases acquired, lost or released by this replica.",
                ),
                &["shard", "change"],
            )?,
            cycles_missed: IntCounterVec::new(
                Opts::new(
                    "etl_cycles_missed_total",
                    "Scheduled cycle slots that no cycle completed.",
                ),
                &["loop", "shard"],
            )?,
            replicas_live: IntGauge::new(
                "etl_replicas_live",
                "ETL replicas whose heartbeat is current.",
            )?,
            anomalies_changepoints: IntGaugeVec::new(
                Opts::new(
                    "etl_anomalies_changepoints",
                    "Changepoints within the lookback in the series of the metric, last slow cycle.",
                ),
                &["metric_name"],
            )?,
            anomalies_latest_changepoint: GaugeVec::new(
                Opts::new(
                    "etl_anomalies_latest_changepoint_timestamp_seconds",
                    "Unix time of the newest changepoint in the series of the metric.",
                ),
                &["metric_name"],
            )?,
            outlier_series: IntGaugeVec::new(
                Opts::new(
                    "etl_outlier_series",
                    "Series of the metric outlying among the others, last slow cycle.",
                ),
                &["metric_name"],
            )?,
        };
        let collectors: [Box<dyn prometheus::core::Collector>; 22] = [
            Box::new(instruments.executiontime_1h.clone()),
            Box::new(instruments.executiontime_3h.clone()),
            Box::new(instruments.executiontime_12h.clone()),
            Box::new(instruments.executiontime_metadata.clone()),
            Box::new(instruments.executiontime_prediction.clone()),
            Box::new(instruments.cycle_duration.clone()),
            Box::new(instruments.prometheus_wait.clone()),
            Box::new(instruments.records_produced.clone()),
            Box::new(instruments.records_dropped.clone()),
            Box::new(instruments.records_pending.clone()),
            Box::new(instruments.failures.clone()),
            Box::new(instruments.series_selected.clone()),
            Box::new(instruments.last_success.clone()),
            Box::new(instruments.retries.clone()),
            Box::new(instruments.records_fenced.clone()),
            Box::new(instruments.shard_leader.clone()),
            Box::new(instruments.lease_changes.clone()),
            Box::new(instruments.cycles_missed.clone()),
            Box::new(instruments.replicas_live.clone()),
            Box::new(instruments.anomalies_changepoints.clone()),
            Box::new(instruments.anomalies_latest_changepoint.clone()),
            Box::new(instruments.outlier_series.clone()),
        ];
        for collector in collectors {
            registry.register(collector)?;
        }
        Ok(instruments)
    }

    /// Counts one failure of `loop_name` with `cause`.
    pub fn fail(&self, loop_name: &str, cause: &str) {
        self.failures.with_label_values(&[loop_name, cause]).inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_once_per_registry() {
        let registry = Registry::new();
        let instruments = Instruments::register(&registry).unwrap();
        instruments.fail("fast", "prometheus");
        instruments
            .executiontime_1h
            .with_label_values(&["up"])
            .set(0.5);
        let names: Vec<String> = registry
            .gather()
            .iter()
            .map(|f| f.name().to_owned())
            .collect();
        assert!(
            names.contains(&"etl_failures_total".to_owned()),
            "{names:?}"
        );
        assert!(
            names.contains(&"etl_executiontime_1h".to_owned()),
            "{names:?}"
        );
        assert!(Instruments::register(&registry).is_err());
    }
}
