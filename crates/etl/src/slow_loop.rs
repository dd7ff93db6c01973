//! The slow loop (`ETL_SLOW_LOOP_SECS`): the metadata of every selected series over
//! `ETL_METADATA_LOOKBACK` at a one-minute step.

use std::time::Duration;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use common::{
    record::{Metadata, Payload, Record},
    series::{Labels, METRIC_NAME_LABEL},
};
use futures::{StreamExt, stream};

use crate::{
    analysis,
    discovery::Discovery,
    error::EtlError,
    instruments::Instruments,
    producer::Producer,
    schedule::{Clock, Cycle, Summary, Turn, spawn_blocking_in_span},
};

/// Step of the analysed history.
const STEP: Duration = Duration::from_secs(60);
/// Records sent to the broker at once while the cycle goes on.
const BATCH: usize = 500;

/// The slow loop's parts.
#[derive(Clone)]
pub struct SlowLoop {
    /// The target Prometheus.
    pub discovery: Discovery,
    /// The results topic.
    pub producer: Producer,
    /// The metrics.
    pub instruments: Instruments,
    /// The time.
    pub clock: Clock,
    /// History analysed.
    pub lookback: Duration,
    /// Series fetched and analysed at once.
    pub concurrency: usize,
}

impl std::fmt::Debug for SlowLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlowLoop")
            .field("discovery", &self.discovery)
            .field("lookback", &self.lookback)
            .finish_non_exhaustive()
    }
}

impl Cycle for SlowLoop {
    const NAME: &'static str = "slow";

    #[tracing::instrument(name = "slow_cycle", skip_all, fields(r#loop = "slow", shard = %turn.lease.shard))]
    async fn run(&self, turn: &Turn) -> Summary {
        let mut summary = Summary::default();
        let now = (self.clock)();
        let end = now.duration_trunc(TimeDelta::minutes(1)).unwrap_or(now);
        let start = end - TimeDelta::from_std(self.lookback).unwrap_or(TimeDelta::days(3));
        let shard = turn.lease.shard;
        let series = match self.discovery.series(start, end).await {
            Ok(mut series) => {
                series.retain(|labels| shard.holds(labels));
                series
            }
            Err(error) => {
                summary.fail(&self.instruments, Self::NAME, &error.into());
                return summary;
            }
        };
        summary.series = series.len();
        self.instruments
            .series_selected
            .with_label_values(&[Self::NAME])
            .set(series.len() as i64);
        let mut outcomes = stream::iter(series)
            .map(|labels| self.metadata(labels, start, end))
            .buffer_unordered(self.concurrency);
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            let next = tokio::select! {
                next = outcomes.next() => next,
                _ = tokio::time::sleep_until(turn.deadline) => {
                    summary.fail(&self.instruments, Self::NAME, &EtlError::Deadline);
                    None
                }
            };
            match next {
                Some(Ok(record)) => batch.push(record),
                Some(Err(error)) => summary.fail(&self.instruments, Self::NAME, &error),
                None => break,
            }
            if batch.len() >= BATCH {
                self.send(turn, &mut batch, &mut summary).await;
            }
        }
        self.send(turn, &mut batch, &mut summary).await;
        summary
    }
}

impl SlowLoop {
    /// The metadata of one series; a constant series skips the statistics.
    #[tracing::instrument(name = "metadata", skip_all, fields(series_id = %common::SeriesId::of(&labels)))]
    async fn metadata(
        &self,
        labels: Labels,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Record, EtlError> {
        let started = std::time::Instant::now();
        let history = self.discovery.history(&labels, start, end, STEP).await?;
        let step = history.step_seconds;
        let metadata = if analysis::is_constant(&history.values) {
            let samples = history.values.len() as u64;
            Metadata {
                constant: true,
                samples,
                step_seconds: step,
                stationarity: None,
                autocorrelation: None,
                seasonality: None,
                anomalies: None,
            }
        } else {
            spawn_blocking_in_span(move || analysis::metadata(&history.values, step)).await??
        };
        let name = labels.get(METRIC_NAME_LABEL).cloned().unwrap_or_default();
        self.instruments
            .executiontime_metadata
            .with_label_values(&[&name])
            .set(started.elapsed().as_secs_f64());
        Ok(Record::new(
            labels,
            (self.clock)(),
            Payload::Metadata { metadata },
        ))
    }

    async fn send(&self, turn: &Turn, batch: &mut Vec<Record>, summary: &mut Summary) {
        if batch.is_empty() {
            return;
        }
        summary.add(self.producer.send_all(batch, &turn.lease, turn.slot).await);
        batch.clear();
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use synthetic::{Config, Dataset, Shape};

    use super::*;
    use crate::discovery::grid;

    /// Prometheus' lookback for an instant sample: a grid point takes the latest raw sample
    /// at most this old.
    const STALENESS_SECS: i64 = 300;

    /// A CI run of the e2e: one day of history, analysed over the default three-day lookback
    /// four minutes after the history ended. The two days before the series began once became
    /// a flat stretch that hid the hourly period.
    #[test]
    fn a_day_of_history_in_a_three_day_lookback_keeps_its_seasonal_period() {
        let data = Dataset::new(Config {
            days: 1,
            ..Config::new(1_795_347_000)
        });
        let end = DateTime::from_timestamp(data.config().end + 240, 0).expect("in range");
        let start = end - TimeDelta::days(3);
        let seasonal = data
            .series()
            .iter()
            .filter(|s| matches!(s.shape(), Shape::Seasonal | Shape::MulSeasonal));
        for series in seasonal {
            let raw: BTreeMap<i64, f64> = data.samples(series).collect();
            let points = (start.timestamp()..=end.timestamp())
                .step_by(60)
                .filter_map(|t| {
                    let (&at, &value) = raw.range(..=t).next_back()?;
                    (t - at < STALENESS_SECS).then_some((t as f64, value))
                });
            let history = grid(points, start, end, STEP);
            assert_eq!(history.values.len(), 1_441 + 4, "{}", series.name());

            let metadata =
                analysis::metadata(&history.values, history.step_seconds).expect("analysed");
            let period = metadata.seasonality.and_then(|s| s.period);
            let periods = series.shape().periods_minutes();
            assert!(
                period.is_some_and(|p| periods.iter().any(|q| (p - q).abs() <= 0.01 * q)),
                "{}: period {period:?}, expected one of {periods:?}",
                series.name()
            );
        }
    }
}
