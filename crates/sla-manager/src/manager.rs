//! The SLA manager's work, between the handlers and the pure [`crate::domain`]: it reads the
//! stored set, the target Prometheus and the stored predictions, calls the domain functions, and
//! keeps the telemetry up to date. Every answer type of the REST API is here.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use common::{
    promql::{PromClient, PromError},
    record::Prediction,
    series::{METRIC_NAME_LABEL, selector},
    sla::Sla,
    store::MetricsRepository,
};
use futures::{StreamExt, TryStreamExt, future::try_join_all, stream};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

mod minutes;
mod slo;
mod views;

pub use minutes::{MinuteSource, minutes_key};
pub use slo::{CountsMode, MetricSlo, RatioSlo, SloItem, in_range_indicator, subquery};
pub use views::{RangeInput, RangeItem, RangeView, RatioView, SlaInput, SlaSetItem, SlaView};

use crate::{
    domain::{
        self, ForecastSummary, FutureItem, STEP_SECONDS, Sample, State, Status, ViolationReport,
        ratio::RatioSli,
    },
    error::Error,
    instruments::{Instruments, SlaKey},
    minute_store::MinuteStore,
    repository::{Replaced, SlaSetRepository, StoredEntry, StoredSla},
};

/// An SLA and its state: an item of `GET /status`, the original's keys (`name`, `status`,
/// `description`, `last-values`) and additions.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct MetricStatus {
    /// The SLA.
    #[serde(flatten)]
    pub sla: SlaView,
    /// Its state.
    #[serde(flatten)]
    pub status: Status,
    /// The evaluation time (`at`, or now).
    pub evaluated_at: DateTime<Utc>,
}

/// An SLA and its violations: an item of `GET /violations`, the original's keys (`name`, `1h`,
/// `3h`, `12h`, `violation_list`) and additions.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct MetricViolations {
    /// The SLA.
    #[serde(flatten)]
    pub sla: SlaView,
    /// Its violations.
    #[serde(flatten)]
    pub report: ViolationReport,
    /// The evaluation time (`at`, or now).
    pub evaluated_at: DateTime<Utc>,
}

/// An SLA and its predicted violations, or why there are none to tell: an item of
/// `GET /future-violations`, the original's keys (`name` and either `violations` and
/// `prediction_rmse`, or `error`) and additions.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct MetricFuture {
    /// The SLA.
    #[serde(flatten)]
    pub sla: SlaView,
    /// The evaluation time (`at`, or now).
    pub evaluated_at: DateTime<Utc>,
    /// Its state now, which the labels of the predicted runs start from.
    pub status: State,
    /// The predicted out-of-range runs after the evaluation time, in time order, then (the
    /// last element, as in the original) `{avg_value, max_value, min_value}` of the forecast.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub violations: Option<Vec<FutureItem>>,
    /// The model's in-sample RMSE.
    #[serde(rename = "prediction_rmse", skip_serializing_if = "Option::is_none")]
    pub rmse: Option<f64>,
    /// The last element of `violations` again, under its own key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<ForecastSummary>,
    /// The forecasting model, when a prediction is stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// "Prediction not available" when none is stored for this series, or its horizon has passed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl MetricFuture {
    /// The predicted runs in which the SLA fires; none without a prediction.
    pub fn firing_runs(&self) -> Option<usize> {
        self.violations.as_ref().map(|items| {
            items
                .iter()
                .filter(|item| matches!(item, FutureItem::Violation(v) if v.description.fires()))
                .count()
        })
    }
}

/// The message of a metric without a stored prediction.
pub const NO_PREDICTION: &str = "Prediction not available";

/// Series lookups in Prometheus in flight at once while checking a proposed set.
const LOOKUPS_AT_ONCE: usize = 8;

/// An SLA with its history up to the evaluation time.
struct Evaluated {
    stored: StoredSla,
    samples: Vec<Sample>,
}

impl Evaluated {
    fn key(&self) -> SlaKey {
        (
            self.stored
                .sla
                .name
                .get(METRIC_NAME_LABEL)
                .cloned()
                .unwrap_or_default(),
            self.stored.id.to_string(),
        )
    }
}

/// The service's state and dependencies, shared by the REST and gRPC handlers and the refresh task.
#[derive(Debug, Clone)]
pub struct Manager {
    slaset: SlaSetRepository,
    metrics: MetricsRepository,
    prometheus: PromClient,
    instruments: Arc<Instruments>,
    set_size: usize,
    minute_store: MinuteStore,
    minute_cache: Arc<minutes::MinuteCache>,
}

impl Manager {
    /// A manager over these repositories and this Prometheus, for SLA sets of `set_size` metrics.
    pub fn new(
        slaset: SlaSetRepository,
        metrics: MetricsRepository,
        prometheus: PromClient,
        instruments: Arc<Instruments>,
        set_size: usize,
    ) -> Self {
        Self {
            minute_store: MinuteStore::new(slaset.database()),
            slaset,
            metrics,
            prometheus,
            instruments,
            set_size,
            minute_cache: Default::default(),
        }
    }

    /// The stored set, every entry, or [`Error::SlaSetNotDefined`].
    pub async fn set(&self) -> Result<Vec<StoredEntry>, Error> {
        let set = self.slaset.find_all().await?;
        if set.is_empty() {
            Err(Error::SlaSetNotDefined)
        } else {
            Ok(set)
        }
    }

    /// The range SLAs of the stored set (what `/status`, `/violations`, `/future-violations`,
    /// the UI and the etl's stream are about: a ratio SLI has no series of its own), or
    /// [`Error::SlaSetNotDefined`] when no set is stored.
    pub async fn sla_set(&self) -> Result<Vec<StoredSla>, Error> {
        Ok(ranges(&self.set().await?))
    }

    /// Counts one periodic refresh.
    pub fn refreshed(&self, ok: bool) {
        self.instruments.refreshed(ok);
    }

    /// The stored results of one series (its metadata and prediction).
    pub fn metrics(&self) -> &MetricsRepository {
        &self.metrics
    }

    /// Checks `body` in full (shape, values, and each series in Prometheus) and, when valid,
    /// replaces the stored set with it.
    #[tracing::instrument(name = "manager.replace_set", skip_all)]
    pub async fn replace_set(&self, body: &Value) -> Result<(Replaced, Vec<SlaSetItem>), Error> {
        let parsed = domain::parse_sla_set(body, self.set_size);
        // Prometheus "has" a series when any of the data it keeps holds it: a series that is
        // quiet now is still a valid SLA metric (its state is then unknown).
        let now = Utc::now();
        let since = DateTime::UNIX_EPOCH;
        let lookups: Vec<_> = parsed
            .names
            .iter()
            .map(|(index, labels)| async move {
                let found = self
                    .prometheus
                    .series(&selector(labels), since, now)
                    .await?;
                Ok::<_, PromError>(
                    (!found.contains(labels)).then(|| domain::not_in_prometheus(*index, labels)),
                )
            })
            .collect();
        // A body holds at most a few hundred entries; a few lookups at a time spare Prometheus.
        let missing: Vec<Option<String>> = stream::iter(lookups)
            .buffered(LOOKUPS_AT_ONCE)
            .try_collect()
            .await?;
        let mut missing: Vec<String> = missing.into_iter().flatten().collect();
        missing.extend(self.rejected_expressions(&parsed.ratios).await?);
        let objectives = parsed.objectives();
        let entries = domain::finish_validation(parsed, missing).map_err(Error::InvalidSlaSet)?;
        let documents: Vec<StoredEntry> = entries
            .iter()
            .enumerate()
            .filter_map(|(position, entry)| {
                StoredEntry::new(entry, position, objectives.get(position).copied().flatten())
            })
            .collect();
        let replaced = self.slaset.replace(&documents).await?;
        tracing::info!(?replaced, metrics = documents.len(), "SLA set replaced");
        Ok((replaced, documents.iter().map(SlaSetItem::from).collect()))
    }

    /// The problems of the ratio expressions the target Prometheus rejects as bad queries.
    async fn rejected_expressions(
        &self,
        ratios: &[(usize, RatioSli)],
    ) -> Result<Vec<String>, Error> {
        let checks: Vec<_> = ratios
            .iter()
            .flat_map(|(index, sli)| [(*index, "good", &sli.good), (*index, "total", &sli.total)])
            .map(|(index, which, expression)| async move {
                match self.prometheus.instant(expression, None).await {
                    Ok(_) => Ok(None),
                    Err(PromError::Rejected {
                        error_type,
                        message,
                        ..
                    }) if error_type == "bad_data" => {
                        Ok(Some(domain::bad_expression(index, which, &message)))
                    }
                    Err(other) => Err(other),
                }
            })
            .collect();
        let found: Vec<Option<String>> = stream::iter(checks)
            .buffered(LOOKUPS_AT_ONCE)
            .try_collect()
            .await?;
        Ok(found.into_iter().flatten().collect())
    }

    /// Each SLA's state at `at`.
    #[tracing::instrument(name = "manager.status", skip(self))]
    pub async fn status(&self, at: DateTime<Utc>) -> Result<Vec<MetricStatus>, Error> {
        let evaluated = self.evaluate(self.sla_set().await?, at).await?;
        Ok(self.statuses(&evaluated, at))
    }

    /// Each SLA's violations in the 12 hours before `at`.
    #[tracing::instrument(name = "manager.violations", skip(self))]
    pub async fn violations(&self, at: DateTime<Utc>) -> Result<Vec<MetricViolations>, Error> {
        let evaluated = self.evaluate(self.sla_set().await?, at).await?;
        Ok(self.violation_reports(&evaluated, at))
    }

    /// Each SLA's predicted violations after `at`, from its stored prediction.
    #[tracing::instrument(name = "manager.future_violations", skip(self))]
    pub async fn future_violations(&self, at: DateTime<Utc>) -> Result<Vec<MetricFuture>, Error> {
        let evaluated = self.evaluate(self.sla_set().await?, at).await?;
        let statuses = self.statuses(&evaluated, at);
        self.futures(&evaluated, statuses, at).await
    }

    /// Recomputes every SLA's state, violations and predicted violations now, for the telemetry.
    #[tracing::instrument(name = "manager.refresh", skip(self))]
    pub async fn refresh(&self) -> Result<(), Error> {
        let at = Utc::now();
        let set = self.slaset.find_all().await?;
        let evaluated = self.evaluate(ranges(&set), at).await?;
        let statuses = self.statuses(&evaluated, at);
        self.violation_reports(&evaluated, at);
        self.futures(&evaluated, statuses, at).await?;
        self.refresh_slo(&set, at).await?;
        Ok(())
    }

    async fn evaluate(
        &self,
        set: Vec<StoredSla>,
        at: DateTime<Utc>,
    ) -> Result<Vec<Evaluated>, Error> {
        let histories =
            try_join_all(set.iter().map(|stored| self.history(&stored.sla, at))).await?;
        Ok(set
            .into_iter()
            .zip(histories)
            .map(|(stored, samples)| Evaluated { stored, samples })
            .collect())
    }

    /// The series' values at a 1-minute step up to `at`, reaching back 12 hours and `for` minutes.
    #[tracing::instrument(name = "manager.history", skip_all, fields(series = %selector(&sla.name)))]
    pub(crate) async fn history(
        &self,
        sla: &Sla,
        at: DateTime<Utc>,
    ) -> Result<Vec<Sample>, PromError> {
        let end = at.timestamp();
        let start =
            DateTime::from_timestamp(domain::history_start(end, sla.for_minutes), 0).unwrap_or(at);
        let end = DateTime::from_timestamp(end, 0).unwrap_or(at);
        let series = self
            .prometheus
            .range(
                &selector(&sla.name),
                start,
                end,
                Duration::from_secs(STEP_SECONDS as u64),
            )
            .await?;
        // The selector also matches series with more labels: keep the one that is exactly this.
        Ok(series
            .into_iter()
            .find(|s| s.labels == sla.name)
            .map(|s| {
                s.points
                    .into_iter()
                    .map(|(t, v)| (t.round() as i64, v))
                    .collect()
            })
            .unwrap_or_default())
    }

    fn statuses(&self, evaluated: &[Evaluated], at: DateTime<Utc>) -> Vec<MetricStatus> {
        self.answer_each(
            evaluated,
            Instruments::record_status,
            |s: &MetricStatus| s.status.status.level(),
            |e| MetricStatus {
                sla: SlaView::from(&e.stored),
                status: domain::status(&e.samples, &e.stored.sla, at.timestamp()),
                evaluated_at: at,
            },
        )
    }

    fn violation_reports(
        &self,
        evaluated: &[Evaluated],
        at: DateTime<Utc>,
    ) -> Vec<MetricViolations> {
        self.answer_each(
            evaluated,
            Instruments::record_violations,
            |r: &MetricViolations| Some(r.report.last_hour() as i64),
            |e| MetricViolations {
                sla: SlaView::from(&e.stored),
                report: domain::violations(&e.samples, &e.stored.sla, at.timestamp()),
                evaluated_at: at,
            },
        )
    }

    /// Each evaluated SLA's answer; `record` publishes each SLA's gauge, the value `gauge`
    /// reads in its answer.
    fn answer_each<T>(
        &self,
        evaluated: &[Evaluated],
        record: GaugeRecorder,
        gauge: impl Fn(&T) -> Option<i64>,
        answer: impl Fn(&Evaluated) -> T,
    ) -> Vec<T> {
        let (answers, values): (Vec<T>, Vec<(SlaKey, Option<i64>)>) = evaluated
            .iter()
            .map(|e| {
                let answer = answer(e);
                let value = gauge(&answer);
                (answer, (e.key(), value))
            })
            .unzip();
        record(&self.instruments, &values);
        answers
    }

    async fn futures(
        &self,
        evaluated: &[Evaluated],
        statuses: Vec<MetricStatus>,
        at: DateTime<Utc>,
    ) -> Result<Vec<MetricFuture>, Error> {
        let documents =
            try_join_all(evaluated.iter().map(|e| self.metrics.find(e.stored.id))).await?;
        let futures: Vec<MetricFuture> = evaluated
            .iter()
            .zip(statuses)
            .zip(documents)
            .map(|((e, status), document)| {
                future_of(e, status.status, document.and_then(|d| d.prediction), at)
            })
            .collect();
        let counts: Vec<_> = evaluated
            .iter()
            .zip(&futures)
            .map(|(e, f)| (e.key(), f.firing_runs().map(|n| n as i64)))
            .collect();
        self.instruments.record_predicted(&counts);
        Ok(futures)
    }
}

/// One of the per-SLA gauges of [`Instruments`].
type GaugeRecorder = fn(&Instruments, &[(SlaKey, Option<i64>)]);

/// The range SLAs of `set`.
fn ranges(set: &[StoredEntry]) -> Vec<StoredSla> {
    set.iter().filter_map(StoredEntry::range).cloned().collect()
}

fn future_of(
    evaluated: &Evaluated,
    now: Status,
    prediction: Option<Prediction>,
    at: DateTime<Utc>,
) -> MetricFuture {
    let sla = SlaView::from(&evaluated.stored);
    let forecast = prediction.as_ref().and_then(|prediction| {
        domain::future_violations(prediction, &now, &evaluated.stored.sla, at.timestamp())
    });
    match (prediction, forecast) {
        (Some(prediction), Some(forecast)) => MetricFuture {
            sla,
            evaluated_at: at,
            status: now.status,
            violations: Some(forecast.original_list()),
            rmse: Some(prediction.rmse),
            summary: Some(forecast.summary),
            model: Some(prediction.model),
            error: None,
        },
        // None stored, or one whose horizon has passed.
        _ => MetricFuture {
            sla,
            evaluated_at: at,
            status: now.status,
            violations: None,
            rmse: None,
            summary: None,
            model: None,
            error: Some(NO_PREDICTION.to_owned()),
        },
    }
}
