//! The objectives' figures for `GET /slo`: minute counts per window from the target Prometheus,
//! then the pure [`crate::domain::slo`].
//!
//! Cost: a range SLA's window counts are sums over its stored minutes ([`super::minutes`]):
//! per evaluation, one range query of the minutes since the last one held, and one upsert.
//! When the stored minutes do not cover the evaluation time (an objective not yet back-filled,
//! `?at=` further back than the retention), each window's good and measured minutes are two
//! instant PromQL subqueries (`sum_over_time` and `count_over_time` of the in-range indicator
//! at a 1-minute step), which Prometheus evaluates once per minute of the window (40,320 times
//! for 28 days). The two agree exactly: the stored minutes are the subqueries' steps. A ratio
//! SLI's events are sums of stored per-minute events the same way (each window's fallback:
//! two subqueries, `increase` or `sum_over_time` at a 1-minute step); they agree with the
//! subqueries exactly when the expressions have a value every minute of the window (see
//! [`crate::domain::minutes`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use common::{
    Labels,
    promql::PromError,
    series::{METRIC_NAME_LABEL, selector},
    sla::Sla,
};
use futures::{StreamExt, TryStreamExt, future::try_join_all, stream};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Manager, SlaView, minutes::MinuteSource};
use crate::{
    domain::{
        breach::breach_forecast,
        minutes::Minutes,
        ratio::{EventCounts, Events, RatioReport, RatioSli, ratio_report},
        slo::{self, Counts, Objective, SloReport},
    },
    error::Error,
    instruments::{CountsSource, SlaKey},
    repository::{StoredEntry, StoredRatio, StoredSla},
};

/// Windows of one objective queried at once (each is two instant queries).
const WINDOWS_AT_ONCE: usize = 4;

/// Where an evaluation takes a range SLA's window counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountsMode {
    /// The stored minutes when they cover the evaluation time (after reading the minutes since
    /// the last one held), else subqueries: what requests do.
    Stored,
    /// As [`Self::Stored`], back-filling an objective the store does not hold: the refresh.
    Backfill,
    /// Always subqueries (the path before the stored minutes; the bench's baseline).
    Subqueries,
}

/// An SLA with an objective and the objective's figures: an item of `GET /slo`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct MetricSlo {
    /// The SLA.
    #[serde(flatten)]
    pub sla: SlaView,
    /// The objective's figures at the evaluation time.
    #[serde(flatten)]
    pub slo: SloReport,
    /// The evaluation time (`at`, or now).
    pub evaluated_at: DateTime<Utc>,
}

/// A ratio SLI and its objective's figures (budget in events): an item of `GET /slo`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RatioSlo {
    /// The fingerprint of its two expressions.
    pub id: String,
    /// Its expressions.
    #[serde(flatten)]
    pub sli: RatioSli,
    /// The objective's figures at the evaluation time.
    #[serde(flatten)]
    pub slo: RatioReport,
    /// The evaluation time (`at`, or now).
    pub evaluated_at: DateTime<Utc>,
}

/// An item of `GET /slo`: a range SLA's objective (in minutes) or a ratio SLI's (in events).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum SloItem {
    /// A range SLA: a timeslice objective.
    Range(MetricSlo),
    /// A ratio SLI: an occurrences objective.
    Ratio(RatioSlo),
}

/// The telemetry's labels of an entry: a range SLA's metric name (none for a ratio) and id.
fn entry_key(stored: &StoredEntry) -> SlaKey {
    match stored {
        StoredEntry::Range(stored) => sla_key(stored),
        StoredEntry::Ratio(stored) => (String::new(), stored.id.to_string()),
    }
}

/// The telemetry's labels of an SLA: its metric name and id.
fn sla_key(stored: &StoredSla) -> SlaKey {
    (
        stored
            .sla
            .name
            .get(METRIC_NAME_LABEL)
            .cloned()
            .unwrap_or_default(),
        stored.id.to_string(),
    )
}

/// A PromQL float literal.
fn literal(value: f64) -> String {
    format!("{value:?}")
}

/// The PromQL 0/1 series of `sla`'s series being in range, one per matching series (the
/// comparisons drop `__name__`).
pub fn in_range_indicator(sla: &Sla) -> String {
    let series = selector(&sla.name);
    format!(
        "(({series} >= bool {min}) * ({series} <= bool {max}))",
        min = literal(sla.range.min),
        max = literal(sla.range.max)
    )
}

/// `function(indicator[window:1m])`: a subquery at the domain's 1-minute step.
pub fn subquery(function: &str, sla: &Sla, window_seconds: i64) -> String {
    format!(
        "{function}({indicator}[{window_seconds}s:1m])",
        indicator = in_range_indicator(sla)
    )
}

impl Manager {
    /// The figures of each entry of the set that has an objective, at `at`, in the set's order.
    #[tracing::instrument(name = "manager.slo", skip(self))]
    pub async fn slo(&self, at: DateTime<Utc>) -> Result<Vec<SloItem>, Error> {
        let set = self.set().await?;
        self.slo_items(&set, at, CountsMode::Stored).await
    }

    /// The figures of every objective of `set` at `at`, in the set's order.
    async fn slo_items(
        &self,
        set: &[StoredEntry],
        at: DateTime<Utc>,
        mode: CountsMode,
    ) -> Result<Vec<SloItem>, Error> {
        let ranges: Vec<StoredSla> = set.iter().filter_map(StoredEntry::range).cloned().collect();
        let ratios: Vec<&StoredRatio> = set
            .iter()
            .filter_map(|entry| match entry {
                StoredEntry::Ratio(ratio) => Some(ratio),
                StoredEntry::Range(_) => None,
            })
            .collect();
        let (range_slos, ratio_reports) =
            futures::try_join!(self.slo_of(&ranges, at, mode), async {
                try_join_all(ratios.iter().map(|r| self.ratio_slo(r, at, mode))).await
            })?;
        let mut range_slos = range_slos.into_iter();
        let mut ratio_reports = ratio_reports.into_iter();
        // Back in the set's order: each entry with an objective takes the next of its kind.
        Ok(set
            .iter()
            .filter_map(|entry| match entry {
                StoredEntry::Range(stored) if stored.objective.is_some() => {
                    range_slos.next().map(SloItem::Range)
                }
                StoredEntry::Range(_) => None,
                StoredEntry::Ratio(_) => ratio_reports.next().map(SloItem::Ratio),
            })
            .collect())
    }

    #[tracing::instrument(name = "manager.ratio_slo", skip_all, fields(id = %stored.id))]
    async fn ratio_slo(
        &self,
        stored: &StoredRatio,
        at: DateTime<Utc>,
        mode: CountsMode,
    ) -> Result<RatioSlo, Error> {
        let sli = &stored.sli;
        let by_window = self
            .window_counts(
                MinuteSource::Ratio(sli),
                &stored.objective,
                (at, mode),
                |minutes, at, window| minutes.events(at, window, sli.counter),
                |seconds| self.events(sli, seconds, at),
            )
            .await?;
        let slo = ratio_report(&stored.objective, at.timestamp(), |seconds| {
            by_window.get(&seconds).copied().unwrap_or_default()
        });
        Ok(RatioSlo {
            id: stored.id.to_string(),
            sli: stored.sli.clone(),
            slo,
            evaluated_at: at,
        })
    }

    /// The good and total events of `sli` in the window of `window_seconds` ending at `at`.
    async fn events(
        &self,
        sli: &RatioSli,
        window_seconds: i64,
        at: DateTime<Utc>,
    ) -> Result<EventCounts, PromError> {
        let one = |which| async move {
            let samples = self
                .prometheus
                .instant(&sli.events_query(which, window_seconds), Some(at))
                .await?;
            // `sum(...)` answers one sample, or none without data.
            Ok::<_, PromError>(samples.first().map_or(0.0, |s| s.value))
        };
        let (good, total) = futures::try_join!(one(Events::Good), one(Events::Total))?;
        Ok(EventCounts { good, total })
    }

    /// Records the figures of the objectives of `set` now in the telemetry (not those of
    /// requests, whose `at` may be in the past).
    pub(super) async fn refresh_slo(
        &self,
        set: &[StoredEntry],
        at: DateTime<Utc>,
    ) -> Result<(), Error> {
        let items = self.slo_items(set, at, CountsMode::Backfill).await?;
        // The minutes of objectives no longer in the set are not kept in memory.
        let keys = set
            .iter()
            .filter_map(|entry| match entry {
                StoredEntry::Range(s) => s
                    .objective
                    .map(|o| super::minutes_key(MinuteSource::Range(&s.sla), &o)),
                StoredEntry::Ratio(r) => Some(super::minutes_key(
                    MinuteSource::Ratio(&r.sli),
                    &r.objective,
                )),
            })
            .collect();
        self.minute_cache.retain(&keys);
        let keyed: Vec<_> = set
            .iter()
            .filter(|stored| stored.range().is_none_or(|s| s.objective.is_some()))
            .map(entry_key)
            .zip(items.iter().map(|item| match item {
                SloItem::Range(m) => m.slo.gauges(),
                SloItem::Ratio(r) => r.slo.gauges(),
            }))
            .collect();
        self.instruments.slo.record(&keyed);
        Ok(())
    }

    /// The figures of the objectives of `set` at `at` (the web UI's budgets too), with the
    /// window counts from `mode`.
    pub async fn slo_of(
        &self,
        set: &[StoredSla],
        at: DateTime<Utc>,
        mode: CountsMode,
    ) -> Result<Vec<MetricSlo>, Error> {
        let with_objectives: Vec<_> = set
            .iter()
            .filter_map(|stored| stored.objective.map(|objective| (stored, objective)))
            .collect();
        let reports = try_join_all(
            with_objectives
                .iter()
                .map(|(stored, objective)| self.slo_report(&stored.sla, objective, at, mode)),
        )
        .await?;
        Ok(with_objectives
            .into_iter()
            .zip(reports)
            .map(|((stored, _), slo)| MetricSlo {
                sla: SlaView::from(stored),
                slo,
                evaluated_at: at,
            })
            .collect())
    }

    #[tracing::instrument(name = "manager.slo_report", skip_all, fields(series = %selector(&sla.name)))]
    async fn slo_report(
        &self,
        sla: &Sla,
        objective: &Objective,
        at: DateTime<Utc>,
        mode: CountsMode,
    ) -> Result<SloReport, Error> {
        let prediction = self
            .metrics
            .find(sla.id())
            .await?
            .and_then(|document| document.prediction);
        let by_window = self
            .window_counts(
                MinuteSource::Range(sla),
                objective,
                (at, mode),
                |minutes, at, window| minutes.counts(at, window),
                |seconds| self.counts(sla, seconds, at),
            )
            .await?;
        let mut report = slo::report(objective, at.timestamp(), |seconds| {
            by_window.get(&seconds).copied().unwrap_or_default()
        });
        report.forecast = prediction.and_then(|prediction| {
            breach_forecast(
                &prediction,
                &sla.range,
                report.budget.remaining_minutes,
                at.timestamp(),
                report.window_end(at.timestamp()),
            )
        });
        Ok(report)
    }

    /// The good and measured minutes of `sla`'s series in the window of `window_seconds`
    /// ending at `at`.
    async fn counts(
        &self,
        sla: &Sla,
        window_seconds: i64,
        at: DateTime<Utc>,
    ) -> Result<Counts, PromError> {
        let good = subquery("sum_over_time", sla, window_seconds);
        let total = subquery("count_over_time", sla, window_seconds);
        let (good, total) = futures::try_join!(
            self.exact_value(&good, sla, at),
            self.exact_value(&total, sla, at),
        )?;
        Ok(Counts {
            good: good.unwrap_or(0.0).round() as u64,
            total: total.unwrap_or(0.0).round() as u64,
        })
    }

    /// The value of `query` at `at` for `sla`'s series exactly (the selector also matches
    /// series with more labels); none when the window has no sample.
    async fn exact_value(
        &self,
        query: &str,
        sla: &Sla,
        at: DateTime<Utc>,
    ) -> Result<Option<f64>, PromError> {
        let mut labels: Labels = sla.name.clone();
        labels.remove(METRIC_NAME_LABEL);
        let samples = self.prometheus.instant(query, Some(at)).await?;
        Ok(samples
            .into_iter()
            .find(|sample| sample.labels == labels)
            .map(|sample| sample.value))
    }
}

impl Manager {
    /// The counts of each of the objective's windows at `at`, keyed by its length in seconds:
    /// from the stored minutes (`from_minutes`) when the mode allows and they cover `at`, else
    /// from the subqueries (`by_subqueries`, a few windows at a time); either way counted in the
    /// telemetry.
    async fn window_counts<R, Fut>(
        &self,
        source: MinuteSource<'_>,
        objective: &Objective,
        (at, mode): (DateTime<Utc>, CountsMode),
        from_minutes: impl Fn(&Minutes, i64, i64) -> R,
        by_subqueries: impl Fn(i64) -> Fut,
    ) -> Result<BTreeMap<i64, R>, Error>
    where
        Fut: Future<Output = Result<R, PromError>>,
    {
        let windows = slo::windows(objective, at.timestamp());
        let stored = match mode {
            CountsMode::Subqueries => None,
            CountsMode::Stored | CountsMode::Backfill => {
                self.stored_windows(
                    source,
                    objective,
                    (at, &windows),
                    mode == CountsMode::Backfill,
                    from_minutes,
                )
                .await?
            }
        };
        let counts = match stored {
            Some(counts) => {
                self.instruments.slo.counted(CountsSource::Minutes);
                counts
            }
            None => {
                self.instruments.slo.counted(CountsSource::Subqueries);
                per_window(&windows, by_subqueries).await?
            }
        };
        Ok(windows.into_iter().zip(counts).collect())
    }
}

/// `count` of each of `windows` (seconds), by subqueries, a few windows at a time: each is two
/// subqueries, and the set's objectives run at once.
async fn per_window<T, Fut>(
    windows: &[i64],
    count: impl Fn(i64) -> Fut,
) -> Result<Vec<T>, PromError>
where
    Fut: Future<Output = Result<T, PromError>>,
{
    // (Collected first: a lazy iterator of borrowing futures is not `Send` in a stream.)
    let queries: Vec<Fut> = windows.iter().map(|seconds| count(*seconds)).collect();
    stream::iter(queries)
        .buffered(WINDOWS_AT_ONCE)
        .try_collect()
        .await
}
