//! The slow loop (`ETL_SLOW_LOOP_SECS`): the metadata of every selected series over
//! `ETL_METADATA_LOOKBACK` at a one-minute step, with its anomalies: its changepoints, and
//! whether it behaves unlike the other series of its metric name.
//!
//! The outlier status needs every series of a name, so the series are analysed sorted by name
//! and the records of one name are held (with each history's small footprint) until the last
//! of its series is analysed; the name is then judged as a fleet and its records are sent. The
//! status goes in each series' own metadata rather than in a record per name: a record's key is
//! a series id, storage keeps one document per series, and `GET /metrics/{id}/anomalies` then
//! answers from one document.

use std::{collections::HashMap, time::Duration};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use common::{
    record::{Anomalies, Metadata, Payload, Record},
    series::{Labels, METRIC_NAME_LABEL},
};
use futures::{StreamExt, stream};

use crate::{
    analysis,
    anomalies::{self, Footprint},
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
        let mut fleets: HashMap<String, Fleet> = HashMap::new();
        for labels in &series {
            fleets.entry(name_of(labels)).or_default().expected += 1;
        }
        let mut series = series;
        series.sort_by_cached_key(name_of);
        let mut outcomes = stream::iter(series)
            .map(|labels| async move {
                let name = name_of(&labels);
                (name, self.metadata(labels, start, end).await)
            })
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
            let Some((name, outcome)) = next else { break };
            let fleet = fleets.entry(name.clone()).or_default();
            fleet.done += 1;
            match outcome {
                Ok(analysed) => fleet.members.push(analysed),
                Err(error) => summary.fail(&self.instruments, Self::NAME, &error),
            }
            if fleet.done >= fleet.expected
                && let Some(fleet) = fleets.remove(&name)
            {
                self.judge(&name, fleet, start, &mut batch, &mut summary)
                    .await;
            }
            if batch.len() >= BATCH {
                self.send(turn, &mut batch, &mut summary).await;
            }
        }
        // Past the deadline: the names begun are judged on the series analysed in time.
        for (name, fleet) in fleets.drain() {
            self.judge(&name, fleet, start, &mut batch, &mut summary)
                .await;
        }
        self.send(turn, &mut batch, &mut summary).await;
        summary
    }
}

/// The series of one metric name in a cycle: how many there are, how many are done, and the
/// records of those analysed, held until the name is judged as a fleet.
#[derive(Debug, Default)]
struct Fleet {
    expected: usize,
    done: usize,
    members: Vec<Analysed>,
}

/// One analysed series: its metadata record and the footprint of its history.
#[derive(Debug)]
struct Analysed {
    record: Record,
    footprint: Option<Footprint>,
}

/// The metric name of `labels` (empty without one).
fn name_of(labels: &Labels) -> String {
    labels.get(METRIC_NAME_LABEL).cloned().unwrap_or_default()
}

impl SlowLoop {
    /// The metadata of one series with its changepoints; a constant series skips the
    /// statistics (and has no changepoint).
    #[tracing::instrument(name = "metadata", skip_all, fields(series_id = %common::SeriesId::of(&labels)))]
    async fn metadata(
        &self,
        labels: Labels,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Analysed, EtlError> {
        let started = std::time::Instant::now();
        let history = self.discovery.history(&labels, start, end, STEP).await?;
        let (metadata, footprint) =
            spawn_blocking_in_span(move || analyse(&history, start)).await??;
        self.instruments
            .executiontime_metadata
            .with_label_values(&[&name_of(&labels)])
            .set(started.elapsed().as_secs_f64());
        let record = Record::new(labels, (self.clock)(), Payload::Metadata { metadata });
        Ok(Analysed { record, footprint })
    }

    /// Judges the series of `name` against each other, writes each one's outlier status into
    /// its record, exports the name's counts and queues the records.
    #[tracing::instrument(name = "fleet", skip_all, fields(metric_name = %name, series = fleet.members.len()))]
    async fn judge(
        &self,
        name: &str,
        fleet: Fleet,
        start: DateTime<Utc>,
        batch: &mut Vec<Record>,
        summary: &mut Summary,
    ) {
        let mut members = fleet.members;
        let footprints: Vec<Option<Footprint>> =
            members.iter_mut().map(|m| m.footprint.take()).collect();
        let step = STEP.as_secs();
        let judged =
            spawn_blocking_in_span(move || anomalies::outlier_statuses(&footprints, start, step))
                .await;
        let statuses = match judged.map_err(EtlError::from).and_then(|r| Ok(r?)) {
            Ok(statuses) => statuses,
            Err(error) => {
                summary.fail(&self.instruments, Self::NAME, &error);
                vec![None; members.len()]
            }
        };
        let (mut changepoints, mut outlying, mut latest) = (0, 0, None);
        for (member, status) in members.iter_mut().zip(statuses) {
            let Payload::Metadata { metadata } = &mut member.record.payload else {
                continue;
            };
            let anomalies = metadata.anomalies.get_or_insert_with(Default::default);
            changepoints += anomalies.changepoints.len();
            latest = anomalies
                .changepoints
                .iter()
                .map(|c| c.timestamp)
                .chain(latest)
                .max();
            outlying += usize::from(status.as_ref().is_some_and(|s| s.outlying));
            anomalies.outlier = status;
        }
        self.instruments
            .anomalies_changepoints
            .with_label_values(&[name])
            .set(changepoints as i64);
        self.instruments
            .outlier_series
            .with_label_values(&[name])
            .set(outlying as i64);
        let latest_changepoint = &self.instruments.anomalies_latest_changepoint;
        match latest {
            Some(at) => latest_changepoint
                .with_label_values(&[name])
                .set(at.timestamp() as f64),
            None => {
                let _absent = latest_changepoint.remove_label_values(&[name]);
            }
        }
        batch.extend(members.into_iter().map(|m| m.record));
    }

    async fn send(&self, turn: &Turn, batch: &mut Vec<Record>, summary: &mut Summary) {
        if batch.is_empty() {
            return;
        }
        summary.add(self.producer.send_all(batch, &turn.lease, turn.slot).await);
        batch.clear();
    }
}

/// The metadata of `history` (on the grid of a lookback that starts at `from`) with its
/// changepoints, and its footprint for the fleet comparison.
fn analyse(
    history: &analysis::History,
    from: DateTime<Utc>,
) -> Result<(Metadata, Option<Footprint>), EtlError> {
    let step = history.step_seconds;
    let mut metadata = if analysis::is_constant(&history.values) {
        Metadata {
            constant: true,
            samples: history.values.len() as u64,
            step_seconds: step,
            stationarity: None,
            autocorrelation: None,
            seasonality: None,
            anomalies: None,
        }
    } else {
        analysis::metadata(&history.values, step)?
    };
    let changepoints = if metadata.constant {
        Vec::new()
    } else {
        let period_steps = metadata
            .seasonality
            .as_ref()
            .and_then(|s| s.period)
            .map(|minutes| (minutes * 60.0 / step as f64).round() as usize);
        anomalies::changepoints(history, period_steps)?
    };
    metadata.anomalies = Some(Anomalies {
        changepoints,
        outlier: None,
    });
    Ok((metadata, Footprint::of(history, from)))
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
