//! The fast loop (`ETL_FAST_LOOP_SECS`): the 1h/3h/12h aggregates of every selected series, then
//! the forecast of the next 10 minutes of every SLA metric.

use std::time::Duration;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use common::{
    record::{Payload, Record},
    series::METRIC_NAME_LABEL,
};
use futures::{StreamExt, stream};

use crate::{
    analysis,
    discovery::{Discovery, WindowSpan},
    error::EtlError,
    instruments::Instruments,
    producer::Producer,
    schedule::{Clock, Cycle, Summary, Turn, spawn_blocking_in_span},
    sla_client::{SlaClient, SlaTarget},
    waiting::Waiting,
};

/// Forecast step.
const STEP: Duration = crate::config::FORECAST_STEP;

/// The fast loop's parts.
#[derive(Clone)]
pub struct FastLoop {
    /// The target Prometheus.
    pub discovery: Discovery,
    /// The sla-manager.
    pub sla: SlaClient,
    /// The results topic.
    pub producer: Producer,
    /// The metrics.
    pub instruments: Instruments,
    /// The time.
    pub clock: Clock,
    /// History of a forecast without a known period.
    pub forecast_lookback: Duration,
    /// Steps of `STEP` (the series step) a forecast reaches (`ETL_FORECAST_HORIZON`).
    pub forecast_horizon: usize,
    /// Forecasts in flight at once.
    pub concurrency: usize,
}

impl std::fmt::Debug for FastLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FastLoop")
            .field("discovery", &self.discovery)
            .finish_non_exhaustive()
    }
}

impl Cycle for FastLoop {
    const NAME: &'static str = "fast";

    #[tracing::instrument(name = "fast_cycle", skip_all, fields(r#loop = "fast", shard = %turn.lease.shard))]
    async fn run(&self, turn: &Turn) -> Summary {
        let mut summary = Summary::default();
        let waiting = Waiting::default();
        self.steps(turn, &waiting, &mut summary).await;
        summary.prometheus_seconds = waiting.total().as_secs_f64();
        self.instruments
            .prometheus_wait
            .with_label_values(&[Self::NAME])
            .observe(summary.prometheus_seconds);
        summary
    }
}

impl FastLoop {
    fn now(&self) -> DateTime<Utc> {
        let now = (self.clock)();
        now.duration_trunc(TimeDelta::seconds(1)).unwrap_or(now)
    }

    /// The cycle: the values of the turn's shard, then the forecasts of its SLA metrics.
    async fn steps(&self, turn: &Turn, waiting: &Waiting, summary: &mut Summary) {
        let now = self.now();
        if let Err(error) = self.values(turn, now, waiting, summary).await {
            summary.fail(&self.instruments, Self::NAME, &error);
        }
        let targets = match self.sla.sla_set(turn.deadline).await {
            Ok(targets) => targets,
            Err(error) => {
                summary.fail(&self.instruments, Self::NAME, &error);
                return;
            }
        };
        let shard = turn.lease.shard;
        let outcomes: Vec<Result<Record, EtlError>> = stream::iter(targets)
            .filter(|target| futures::future::ready(shard.contains(target.id)))
            .map(|target| self.prediction(target, now, waiting))
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        let mut records = Vec::new();
        for outcome in outcomes {
            match outcome {
                Ok(record) => records.push(record),
                Err(error) => summary.fail(&self.instruments, Self::NAME, &error),
            }
        }
        summary.add(
            self.producer
                .send_all(&records, &turn.lease, turn.slot)
                .await,
        );
    }

    /// The aggregates of every selected series of the turn's shard as `values` records.
    async fn values(
        &self,
        turn: &Turn,
        now: DateTime<Utc>,
        waiting: &Waiting,
        summary: &mut Summary,
    ) -> Result<(), EtlError> {
        let shard = turn.lease.shard;
        let series = waiting
            .on(self.discovery.series(now - WindowSpan::LONGEST, now))
            .await?;
        let in_shard = series.iter().filter(|labels| shard.holds(labels)).count();
        summary.series = in_shard;
        self.instruments
            .series_selected
            .with_label_values(&[Self::NAME])
            .set(in_shard as i64);
        // The answers are folded in between requests: with several in flight, that is waiting.
        let mut aggregates = waiting
            .on(self.discovery.aggregates(&series, shard, now))
            .await?;
        // A batch that failed lost only its own series; each counts as a failed step.
        for error in std::mem::take(&mut aggregates.failures) {
            summary.fail(&self.instruments, Self::NAME, &error.into());
        }
        for ((name, window), elapsed) in &aggregates.durations {
            let gauge = match window {
                WindowSpan::H1 => &self.instruments.executiontime_1h,
                WindowSpan::H3 => &self.instruments.executiontime_3h,
                WindowSpan::H12 => &self.instruments.executiontime_12h,
            };
            gauge.with_label_values(&[name]).set(elapsed.as_secs_f64());
        }
        let records: Vec<Record> = aggregates
            .series
            .into_values()
            .map(|(labels, windows)| Record::new(labels, now, Payload::Values { values: windows }))
            .collect();
        summary.add(
            self.producer
                .send_all(&records, &turn.lease, turn.slot)
                .await,
        );
        Ok(())
    }

    /// The forecast of one SLA metric, from at least two seasonal periods of history.
    #[tracing::instrument(name = "forecast", skip_all, fields(series_id = %target.id))]
    async fn prediction(
        &self,
        target: SlaTarget,
        now: DateTime<Utc>,
        waiting: &Waiting,
    ) -> Result<Record, EtlError> {
        let started = std::time::Instant::now();
        let end = now.duration_trunc(TimeDelta::minutes(1)).unwrap_or(now);
        // The held-out values of the model choice reach as far ahead as the forecast, after
        // each of its origins: four horizons of history at least.
        let held_out = STEP * (4 * self.forecast_horizon) as u32;
        let lookback = match target.period_minutes {
            Some(period) => self
                .forecast_lookback
                .max(Duration::from_secs(u64::from(period) * 120 + 3600)),
            None => self.forecast_lookback,
        }
        .max(held_out);
        let start = end - TimeDelta::from_std(lookback).unwrap_or(TimeDelta::hours(12));
        let history = waiting
            .on(self.discovery.history(&target.labels, start, end, STEP))
            .await?;
        let period_steps = target.period_minutes.map(|minutes| minutes as usize);
        let horizon = self.forecast_horizon;
        let prediction = spawn_blocking_in_span(move || {
            let last = history.end();
            analysis::prediction(
                &history.values,
                last,
                history.step_seconds,
                period_steps,
                horizon,
            )
        })
        .await??;
        let name = target
            .labels
            .get(METRIC_NAME_LABEL)
            .cloned()
            .unwrap_or_default();
        self.instruments
            .executiontime_prediction
            .with_label_values(&[&name])
            .set(started.elapsed().as_secs_f64());
        Ok(Record::new(
            target.labels,
            now,
            Payload::Prediction { prediction },
        ))
    }
}
