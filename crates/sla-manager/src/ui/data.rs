//! The adapter between the SLA logic and the pages: it reads the set, the history and the
//! stored prediction, calls the [`crate::domain`] functions and keeps only what the pages show,
//! in the UI's own types. The REST answers' shapes may change; only this file knows the
//! domain's types.

use chrono::{DateTime, Utc};
use common::Labels;
use futures::future::try_join_all;

use super::svg::Band;
use crate::{
    domain::{self, Sample, State},
    error::Error,
    manager::Manager,
    repository::StoredSla,
};

/// What the SLA's forecast says will happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Predicted {
    /// No prediction stored, or its horizon has passed.
    Unavailable,
    /// Predicted in range over the whole horizon.
    InRange,
    /// Predicted out of range, too briefly to fire.
    Pending,
    /// Predicted to fire (or keep firing).
    Firing,
}

impl Predicted {
    /// The word shown, also the CSS class of the state badge.
    pub(crate) fn word(&self) -> &'static str {
        match self {
            Predicted::Unavailable => "unknown",
            Predicted::InRange => "inactive",
            Predicted::Pending => "pending",
            Predicted::Firing => "firing",
        }
    }
}

/// One SLA as the overview shows it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SlaSummary {
    /// The series id.
    pub(crate) id: String,
    /// The series' labels.
    pub(crate) labels: Labels,
    /// Allowed range.
    pub(crate) min: f64,
    /// See `min`.
    pub(crate) max: f64,
    /// Minutes out of range before it fires.
    pub(crate) for_minutes: u32,
    /// `inactive`, `pending`, `firing` or `unknown`.
    pub(crate) state: &'static str,
    /// The state in words.
    pub(crate) description: String,
    /// Minutes out of range without interruption now.
    pub(crate) out_of_range_minutes: u32,
    /// Violations overlapping the last 1, 3 and 12 hours: (window, count, minutes).
    pub(crate) windows: Vec<(String, usize, u32)>,
    /// What the forecast says.
    pub(crate) predicted: Predicted,
    /// The objective's error budget, when the SLA has an objective.
    pub(crate) budget: Option<BudgetLeft>,
}

/// What is left of an objective's error budget, and when it runs out at the current burn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct BudgetLeft {
    /// The objective's target, e.g. 0.995.
    pub(crate) target: f64,
    /// The share of the window's budget not yet spent (negative when overspent).
    pub(crate) remaining_ratio: f64,
    /// Seconds until the budget is spent at the last hour's burn rate; none while nothing burns.
    pub(crate) time_to_exhaustion_seconds: Option<f64>,
}

/// One SLA with what its chart needs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SlaDetail {
    /// The overview's line.
    pub(crate) summary: SlaSummary,
    /// The last 12 hours (and `for` minutes) at a 1-minute step.
    pub(crate) samples: Vec<Sample>,
    /// Past violations: start and end, unix seconds.
    pub(crate) violations: Vec<(i64, i64)>,
    /// The stored forecast after the evaluation time.
    pub(crate) forecast: Vec<Band>,
    /// The forecasting model and its RMSE.
    pub(crate) model: Option<(String, f64)>,
    /// Predicted out-of-range runs: start, end, whether it fires, probability.
    pub(crate) future: Vec<(i64, i64, bool, f64)>,
    /// The evaluation time.
    pub(crate) at: i64,
}

fn state_word(state: State) -> &'static str {
    match state {
        State::Inactive => "inactive",
        State::Pending => "pending",
        State::Firing => "firing",
        State::Unknown => "unknown",
    }
}

/// Every SLA of the set evaluated at `at`; an empty list when no set is stored.
pub(crate) async fn overview(
    manager: &Manager,
    at: DateTime<Utc>,
) -> Result<Vec<SlaSummary>, Error> {
    let set = match manager.sla_set().await {
        Ok(set) => set,
        Err(Error::SlaSetNotDefined) => return Ok(Vec::new()),
        Err(other) => return Err(other),
    };
    let (details, budgets) = futures::try_join!(
        try_join_all(set.iter().map(|s| detail_of(manager, s, at))),
        budgets(manager, &set, at),
    )?;
    let mut summaries: Vec<SlaSummary> = details.into_iter().map(|d| d.summary).collect();
    with_budgets(&mut summaries, &budgets);
    Ok(summaries)
}

/// The error budget of each SLA of `set` that has an objective, by series id.
async fn budgets(
    manager: &Manager,
    set: &[StoredSla],
    at: DateTime<Utc>,
) -> Result<Vec<(String, BudgetLeft)>, Error> {
    if set.iter().all(|stored| stored.objective.is_none()) {
        return Ok(Vec::new());
    }
    Ok(manager
        .slo_of(set, at, crate::manager::CountsMode::Stored)
        .await?
        .into_iter()
        .map(|metric| {
            let budget = BudgetLeft {
                target: metric.slo.objective.target,
                remaining_ratio: metric.slo.budget.remaining_ratio,
                time_to_exhaustion_seconds: metric.slo.time_to_exhaustion_seconds,
            };
            (metric.sla.id, budget)
        })
        .collect())
}

/// Puts each budget of `budgets` on the summary of its series.
fn with_budgets<'a>(
    summaries: impl IntoIterator<Item = &'a mut SlaSummary>,
    budgets: &[(String, BudgetLeft)],
) {
    for summary in summaries {
        summary.budget = budgets
            .iter()
            .find(|(id, _)| *id == summary.id)
            .map(|(_, budget)| *budget);
    }
}

/// The SLA of series `id` evaluated at `at`, `None` when the set does not hold it.
pub(crate) async fn detail(
    manager: &Manager,
    id: &str,
    at: DateTime<Utc>,
) -> Result<Option<SlaDetail>, Error> {
    let set = match manager.sla_set().await {
        Ok(set) => set,
        Err(Error::SlaSetNotDefined) => return Ok(None),
        Err(other) => return Err(other),
    };
    match set.iter().find(|s| s.id.to_string() == id) {
        Some(stored) => {
            let one = std::slice::from_ref(stored);
            let (mut detail, budgets) =
                futures::try_join!(detail_of(manager, stored, at), budgets(manager, one, at),)?;
            with_budgets([&mut detail.summary], &budgets);
            Ok(Some(detail))
        }
        None => Ok(None),
    }
}

/// The labels of series `id` when the SLA set holds it.
pub(crate) async fn labels_of(manager: &Manager, id: &str) -> Option<Labels> {
    let set = manager.sla_set().await.ok()?;
    set.into_iter()
        .find(|s| s.id.to_string() == id)
        .map(|s| s.sla.name)
}

async fn detail_of(
    manager: &Manager,
    stored: &StoredSla,
    at: DateTime<Utc>,
) -> Result<SlaDetail, Error> {
    let sla = &stored.sla;
    let at_unix = at.timestamp();
    // The history the SLA logic judges, so the chart shows what the state was computed from.
    let samples = manager.history(sla, at).await?;
    let status = domain::status(&samples, sla, at_unix);
    let report = domain::violations(&samples, sla, at_unix);
    let prediction = manager
        .metrics()
        .find(stored.id)
        .await?
        .and_then(|d| d.prediction);
    let future = prediction
        .as_ref()
        .and_then(|p| domain::future_violations(p, &status, sla, at_unix));
    let predicted = match &future {
        None => Predicted::Unavailable,
        Some(f) if f.violations.iter().any(|r| r.description.fires()) => Predicted::Firing,
        Some(f) if !f.violations.is_empty() => Predicted::Pending,
        Some(_) => Predicted::InRange,
    };
    let forecast = match (&prediction, &future) {
        (Some(p), Some(_)) => p
            .values
            .iter()
            .filter(|v| v.timestamp.timestamp() > at_unix)
            .map(|v| Band {
                t: v.timestamp.timestamp(),
                value: v.value,
                lower: v.lower,
                upper: v.upper,
            })
            .collect(),
        _ => Vec::new(),
    };
    let summary = SlaSummary {
        id: stored.id.to_string(),
        labels: sla.name.clone(),
        min: sla.range.min,
        max: sla.range.max,
        for_minutes: sla.for_minutes,
        state: state_word(status.status),
        description: status.description.clone(),
        out_of_range_minutes: status.out_of_range_minutes,
        windows: report
            .windows()
            .iter()
            .map(|(window, w)| ((*window).to_owned(), w.count, w.minutes))
            .collect(),
        predicted,
        budget: None,
    };
    Ok(SlaDetail {
        summary,
        violations: report
            .violations
            .iter()
            .map(|v| (v.start.timestamp(), v.end.timestamp()))
            .collect(),
        future: future
            .map(|f| f.violations)
            .unwrap_or_default()
            .iter()
            .map(|r| {
                (
                    r.start.timestamp(),
                    r.end.timestamp(),
                    r.description.fires(),
                    r.probability,
                )
            })
            .collect(),
        model: prediction.map(|p| (p.model, p.rmse)),
        forecast,
        samples,
        at: at_unix,
    })
}
