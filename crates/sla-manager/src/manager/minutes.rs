//! An objective's window counts (a range SLA's minutes, a ratio's events) from the stored
//! minutes ([`crate::minute_store`]): held in
//! memory per objective, loaded from MongoDB once per process, brought up to date with a range
//! query of only the minutes since the last one held (and the few before it, which late samples
//! may still change), and back-filled from Prometheus once, by the refresh, when the store has
//! none for the objective's definition.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::Duration,
};

use chrono::{DateTime, Utc};
use common::{Labels, SeriesId, promql::PromError, series::METRIC_NAME_LABEL, sla::Sla};
use futures::future::try_join;
use tokio::sync::Mutex as AsyncMutex;

use super::{Manager, in_range_indicator};
use crate::{
    domain::{
        STEP_SECONDS,
        minutes::{
            Minute, Minutes, events_of, minute_at_or_after, minute_at_or_before, retention_seconds,
        },
        ratio::RatioSli,
        slo::Objective,
    },
    error::Error,
    minute_store::Written,
};

/// Minutes before the last one held that each catch-up reads again: a sample appended late
/// (a scrape finishing, remote write) or a staleness marker can still change them, and
/// Prometheus looks back 5 minutes for a value.
const SETTLE_SECONDS: i64 = 300;

/// Minutes read from Prometheus per range query and stored per step: a week, 10,080 points,
/// within Prometheus' 11,000 points per query.
const CHUNK_SECONDS: i64 = 7 * 86_400;

/// The last minute of the chunk read from `from`, at most `limit`.
fn chunk_end(from: i64, limit: i64) -> i64 {
    (from + CHUNK_SECONDS - STEP_SECONDS).min(limit)
}

/// The most a request catches up (a refresh catches up any gap): further behind, a request
/// answers from subqueries rather than wait for a long read.
const REQUEST_CATCH_UP_SECONDS: i64 = 86_400;

/// The minutes held in memory, per key (see [`minutes_key`]); each behind its own lock so that
/// one objective is caught up once at a time, and the others meanwhile.
#[derive(Debug, Default)]
pub(crate) struct MinuteCache {
    entries: Mutex<HashMap<String, Arc<AsyncMutex<Option<Minutes>>>>>,
}

impl MinuteCache {
    fn entry(&self, key: &str) -> Arc<AsyncMutex<Option<Minutes>>> {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.entry(key.to_owned()).or_default().clone()
    }

    /// Forgets every key but `keep` (an objective no longer in the set).
    pub(crate) fn retain(&self, keep: &HashSet<String>) {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .retain(|key, _| keep.contains(key));
    }
}

/// The SLI whose minutes are stored.
#[derive(Debug, Clone, Copy)]
pub enum MinuteSource<'a> {
    /// A range SLA: its in-range indicator.
    Range(&'a Sla),
    /// A ratio SLI: its good and total events.
    Ratio(&'a RatioSli),
}

/// The store's key of `source` under `objective`: its id and a fingerprint of what the minutes
/// depend on (the indicator's PromQL, so its range; a ratio's expressions and `counter`) and of
/// how far back they reach.
pub fn minutes_key(source: MinuteSource<'_>, objective: &Objective) -> String {
    let retention = (
        "retention".to_owned(),
        retention_seconds(objective).to_string(),
    );
    let (id, definition): (SeriesId, Vec<(String, String)>) = match source {
        MinuteSource::Range(sla) => (
            sla.id(),
            vec![("indicator".to_owned(), in_range_indicator(sla))],
        ),
        MinuteSource::Ratio(sli) => (
            sli.id(),
            vec![
                ("good".to_owned(), sli.good.clone()),
                ("total".to_owned(), sli.total.clone()),
                ("counter".to_owned(), sli.counter.to_string()),
            ],
        ),
    };
    let labels: Labels = definition.into_iter().chain([retention]).collect();
    format!("{id}-{}", SeriesId::of(&labels))
}

fn time(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}

impl Manager {
    /// `count(minutes, at, window)` of each of `windows` at `at` from the stored minutes, or
    /// `None` when they do not cover `at` (then the caller asks Prometheus' subqueries).
    /// Minutes after the last one held are read from Prometheus first (never past now); with
    /// `backfill`, an objective the store does not hold (or not that far back) is read in full.
    pub(super) async fn stored_windows<R>(
        &self,
        source: MinuteSource<'_>,
        objective: &Objective,
        (at, windows): (DateTime<Utc>, &[i64]),
        backfill: bool,
        count: impl Fn(&Minutes, i64, i64) -> R,
    ) -> Result<Option<Vec<R>>, Error> {
        let key = minutes_key(source, objective);
        let retention = retention_seconds(objective);
        let now = minute_at_or_before(Utc::now().timestamp());
        let oldest = minute_at_or_after(now - retention);
        let at = at.timestamp();
        let lo = at - windows.iter().copied().max().unwrap_or(0);
        let wanted = minute_at_or_before(at).min(now);

        let entry = self.minute_cache.entry(&key);
        let mut held = entry.lock().await;
        if held.is_none() {
            *held = self.load(&key, oldest).await?;
        }
        let stale = held
            .as_ref()
            .is_none_or(|m| m.first() > oldest || m.last() < oldest);
        if stale {
            if !backfill {
                return Ok(None);
            }
            // The first chunk starts the key afresh; the loop below reads the others, each
            // stored as it comes, so a refresh cut short resumes where it stopped.
            let run = self.fetch(source, oldest, chunk_end(oldest, now)).await?;
            self.minute_store
                .write(&key, &run, retention, Written::Fresh)
                .await?;
            self.instruments.slo.minutes_fetched(true, run.len());
            tracing::info!(%key, from = oldest, to = now, "back-filling an objective's minutes");
            *held = Some(run);
        }
        let Some(minutes) = held.as_mut() else {
            return Ok(None);
        };
        if !backfill && wanted - minutes.last() > REQUEST_CATCH_UP_SECONDS {
            return Ok(None);
        }
        // A refresh reads the last few minutes again even when it holds the current one: late
        // samples settle them (and it is what each refresh costs, whenever it runs).
        let mut settle =
            !stale && minutes.last() <= wanted && (backfill || minutes.last() < wanted);
        while settle || minutes.last() < wanted {
            let from = if settle {
                (minutes.last() - SETTLE_SECONDS).max(minutes.first())
            } else {
                minutes.last() + STEP_SECONDS
            };
            settle = false;
            let run = self.fetch(source, from, chunk_end(from, wanted)).await?;
            let written = if stale {
                Written::Extended
            } else {
                Written::Settled
            };
            self.minute_store
                .write(&key, &run, retention, written)
                .await?;
            self.instruments.slo.minutes_fetched(stale, run.len());
            minutes.extend_to(run.last());
            for (minute, value) in run.iter_range(run.first(), run.last()) {
                minutes.set(minute, value);
            }
        }
        minutes.trim_before(oldest);
        Ok(minutes
            .covers(lo, at)
            .then(|| windows.iter().map(|w| count(minutes, at, *w)).collect()))
    }

    /// The minutes of `key` the store holds from `oldest` on, if it holds any.
    async fn load(&self, key: &str, oldest: i64) -> Result<Option<Minutes>, Error> {
        let Some(coverage) = self.minute_store.coverage(key).await? else {
            return Ok(None);
        };
        let from = coverage.from.max(oldest);
        if coverage.to < from {
            return Ok(None);
        }
        Ok(Some(self.minute_store.read(key, from, coverage.to).await?))
    }

    /// The minutes `from ..= to` of `source` read from Prometheus.
    async fn fetch(
        &self,
        source: MinuteSource<'_>,
        from: i64,
        to: i64,
    ) -> Result<Minutes, PromError> {
        match source {
            MinuteSource::Range(sla) => self.fetch_indicator(sla, from, to).await,
            MinuteSource::Ratio(sli) => self.fetch_events(sli, from, to).await,
        }
    }

    /// The good and total events of `sli` each minute `from ..= to`: each expression summed,
    /// one range query at a 60 s step from the minute before `from` (a counter's increase
    /// into `from` needs it).
    async fn fetch_events(&self, sli: &RatioSli, from: i64, to: i64) -> Result<Minutes, PromError> {
        let values = |expression: &str| {
            let query = format!("sum(({expression}))");
            async move {
                let series = self
                    .prometheus
                    .range(
                        &query,
                        time(from - STEP_SECONDS),
                        time(to),
                        Duration::from_secs(STEP_SECONDS as u64),
                    )
                    .await?;
                // `sum(...)` answers one series, or none without data.
                Ok::<HashMap<i64, f64>, PromError>(
                    series
                        .into_iter()
                        .flat_map(|s| s.points)
                        .map(|(t, v)| (t.round() as i64, v))
                        .collect(),
                )
            }
        };
        let (good, total) = try_join(values(&sli.good), values(&sli.total)).await?;
        let mut run = Minutes::missing(from, to);
        for minute in (from..=to).step_by(STEP_SECONDS as usize) {
            let events = |values: &HashMap<i64, f64>| {
                let previous = values.get(&(minute - STEP_SECONDS)).copied();
                events_of(previous, values.get(&minute).copied(), sli.counter)
            };
            run.set(minute, Minute::of_events(events(&good), events(&total)));
        }
        Ok(run)
    }

    /// The in-range indicator of `sla`'s series (exactly its labels) each minute `from ..= to`,
    /// as one range query at a 60 s step (split by the client at Prometheus' point limit).
    async fn fetch_indicator(&self, sla: &Sla, from: i64, to: i64) -> Result<Minutes, PromError> {
        let mut labels = sla.name.clone();
        labels.remove(METRIC_NAME_LABEL);
        let series = self
            .prometheus
            .range(
                &in_range_indicator(sla),
                time(from),
                time(to),
                Duration::from_secs(STEP_SECONDS as u64),
            )
            .await?;
        let mut run = Minutes::missing(from, to);
        if let Some(series) = series.into_iter().find(|s| s.labels == labels) {
            for (t, value) in series.points {
                run.set(t.round() as i64, Minute::of_indicator(value));
            }
        }
        Ok(run)
    }
}
