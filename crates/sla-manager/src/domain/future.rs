//! Predicted violations over the forecast horizon.

use chrono::{DateTime, Utc};
use common::{
    record::{PredictedPoint, Prediction},
    sla::Sla,
};
use serde::Serialize;
use utoipa::ToSchema;

use super::{State, Status, out_of_range_probability};

/// What a predicted out-of-range run means, given the state now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub enum FutureKind {
    /// Firing now, and predicted to stay out of range from the next point on.
    #[serde(rename = "Was already firing, continuing firing")]
    ContinuingFiring,
    /// Pending now; staying out of range makes it reach `for` minutes.
    #[serde(rename = "Was pending, will fire")]
    PendingWillFire,
    /// A new run lasting at least `for` minutes.
    #[serde(rename = "Will fire")]
    WillFire,
    /// A run (new, or continuing a pending one) too short to reach `for` minutes.
    #[serde(rename = "Will be pending")]
    WillBePending,
}

impl FutureKind {
    /// Whether the SLA fires during the run.
    pub fn fires(self) -> bool {
        !matches!(self, FutureKind::WillBePending)
    }
}

/// One predicted run of out-of-range values. `start_time`, `end_time`, `duration` and
/// `description` are the original's keys; the others are additions.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FutureViolation {
    /// When the violation starts: the first predicted out-of-range point, or, when the run
    /// continues the one going on now, the first out-of-range sample of that run (in the past),
    /// as in the original.
    #[serde(rename = "start_time")]
    pub start: DateTime<Utc>,
    /// One step after the last predicted out-of-range point.
    #[serde(rename = "end_time")]
    pub end: DateTime<Utc>,
    /// Minutes out of range from `start_time`: the predicted ones, plus those of the run going
    /// on now when the prediction continues it.
    #[serde(rename = "duration")]
    pub duration_minutes: u32,
    /// What the run means.
    pub description: FutureKind,
    /// Minutes out of range in the prediction alone (one step per point).
    pub predicted_minutes: u32,
    /// Whether the run continues the one going on now (pending or firing at the evaluation time).
    pub continuing: bool,
    /// Mean predicted value in the run.
    pub avg: f64,
    /// Largest predicted value in the run.
    pub max: f64,
    /// Smallest predicted value in the run.
    pub min: f64,
    /// Probability that the whole run happens, assuming the forecast error persists over the
    /// run (fully correlated errors): the smallest per-point probability of being out of range.
    pub probability: f64,
    /// The same assuming independent errors from point to point: the product of the per-point
    /// probabilities (a lower bound).
    pub probability_independent: f64,
}

/// The forecast's values after the evaluation time, under the original's keys: the last
/// element of the original's `violations` list.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct ForecastSummary {
    /// Mean predicted value.
    pub avg_value: f64,
    /// Largest predicted value.
    pub max_value: f64,
    /// Smallest predicted value.
    pub min_value: f64,
}

/// An element of the original's `violations` list of `/future-violations`: the runs, then the
/// forecast's summary as the last element.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum FutureItem {
    /// A predicted run.
    Violation(FutureViolation),
    /// The predicted values' statistics (always the last element).
    Summary(ForecastSummary),
}

impl FutureForecast {
    /// The original's list: every run, then the summary.
    pub fn original_list(&self) -> Vec<FutureItem> {
        self.violations
            .iter()
            .cloned()
            .map(FutureItem::Violation)
            .chain(std::iter::once(FutureItem::Summary(self.summary)))
            .collect()
    }
}

/// What a prediction tells about an SLA after the evaluation time.
#[derive(Debug, Clone, PartialEq)]
pub struct FutureForecast {
    /// The predicted out-of-range runs, in time order.
    pub violations: Vec<FutureViolation>,
    /// The predicted values' statistics.
    pub summary: ForecastSummary,
}

/// The predicted out-of-range runs of `sla` after unix time `at`, when the state at `at` is
/// `now`, and the statistics of the predicted values after `at`. Only points after `at`
/// count; a run starting at the first of them, no more than a step after `at`, continues the
/// current out-of-range run. `None` when the prediction has no point after `at`: it is out of
/// date, and tells nothing about the future.
pub fn future_violations(
    prediction: &Prediction,
    now: &Status,
    sla: &Sla,
    at: i64,
) -> Option<FutureForecast> {
    let step = i64::try_from(prediction.step_seconds)
        .ok()
        .filter(|&s| s > 0)
        .unwrap_or(60);
    let points: Vec<_> = prediction
        .values
        .iter()
        .filter(|p| p.timestamp.timestamp() > at)
        .collect();
    if points.is_empty() {
        return None;
    }
    let overall = summary(points.iter().map(|p| p.value));
    let next_step = points
        .first()
        .map(|p| p.timestamp.timestamp())
        .filter(|&t| t - at <= step + step / 2);
    let mut runs: Vec<Vec<&PredictedPoint>> = Vec::new();
    // The time of the previous point, when it was out of range.
    let mut previous_out: Option<i64> = None;
    for point in points {
        let t = point.timestamp.timestamp();
        if sla.range.contains(point.value) {
            previous_out = None;
            continue;
        }
        match (runs.last_mut(), previous_out) {
            (Some(run), Some(previous)) if t - previous <= step + step / 2 => run.push(point),
            _ => runs.push(vec![point]),
        }
        previous_out = Some(t);
    }
    let violations = runs
        .into_iter()
        .map(|run| {
            let first = run[0].timestamp.timestamp();
            let last = run[run.len() - 1].timestamp.timestamp();
            let minutes = (run.len() as i64 * step / 60) as u32;
            let continuing =
                Some(first) == next_step && matches!(now.status, State::Pending | State::Firing);
            let description = match (continuing, now.status) {
                (true, State::Firing) => FutureKind::ContinuingFiring,
                (true, _) if now.out_of_range_minutes + minutes >= sla.for_minutes => {
                    FutureKind::PendingWillFire
                }
                (false, _) if minutes >= sla.for_minutes => FutureKind::WillFire,
                _ => FutureKind::WillBePending,
            };
            let chances: Vec<f64> = run
                .iter()
                .map(|p| {
                    out_of_range_probability(
                        p.value,
                        p.lower,
                        p.upper,
                        sla.range.min,
                        sla.range.max,
                    )
                })
                .collect();
            let stats = summary(run.iter().map(|p| p.value));
            let (start, duration_minutes) = match (continuing, now.out_of_range_since) {
                (true, Some(since)) => (since, now.out_of_range_minutes + minutes),
                _ => (run[0].timestamp, minutes),
            };
            FutureViolation {
                start,
                end: DateTime::from_timestamp(last + step, 0).unwrap_or(run[0].timestamp),
                duration_minutes,
                description,
                predicted_minutes: minutes,
                continuing,
                avg: stats.avg_value,
                max: stats.max_value,
                min: stats.min_value,
                probability: chances.iter().copied().fold(1.0, f64::min),
                probability_independent: chances.iter().product(),
            }
        })
        .collect();
    Some(FutureForecast {
        violations,
        summary: overall,
    })
}

/// Mean, largest and smallest of `values` (not empty).
fn summary(values: impl Iterator<Item = f64> + Clone) -> ForecastSummary {
    let (sum, n) = values
        .clone()
        .fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    ForecastSummary {
        avg_value: sum / n as f64,
        max_value: values.clone().fold(f64::NEG_INFINITY, f64::max),
        min_value: values.fold(f64::INFINITY, f64::min),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::sla::SlaRange;

    // A whole minute.
    const AT: i64 = 1_800_000_000;

    fn sla() -> Sla {
        Sla {
            name: [("__name__".to_owned(), "x".to_owned())].into(),
            range: SlaRange { min: 0.0, max: 1.0 },
            for_minutes: 5,
        }
    }

    /// Points one minute apart from `AT + 60`, each with bounds `value +- 0.2`.
    fn prediction(values: &[f64]) -> Prediction {
        let values = values
            .iter()
            .enumerate()
            .map(|(i, &value)| PredictedPoint {
                timestamp: DateTime::from_timestamp(AT + 60 * (i as i64 + 1), 0).unwrap(),
                value,
                lower: value - 0.2,
                upper: value + 0.2,
            })
            .collect();
        Prediction {
            model: "m".to_owned(),
            rmse: 0.1,
            min: 0.0,
            max: 0.0,
            avg: 0.0,
            horizon_minutes: 10,
            candidates: Vec::new(),
            step_seconds: 60,
            values,
        }
    }

    /// The state at `AT`: out of range for the last `minutes` samples, when pending or firing.
    fn now(status: State, minutes: u32) -> Status {
        let out = matches!(status, State::Pending | State::Firing);
        Status {
            status,
            description: String::new(),
            last_values: vec![],
            out_of_range_minutes: minutes,
            out_of_range_since: out
                .then(|| DateTime::from_timestamp(AT - 60 * (i64::from(minutes) - 1), 0).unwrap()),
        }
    }

    fn runs(values: &[f64], state: Status) -> Vec<FutureViolation> {
        future_violations(&prediction(values), &state, &sla(), AT)
            .unwrap()
            .violations
    }

    fn kinds(values: &[f64], state: Status) -> Vec<(FutureKind, u32)> {
        runs(values, state)
            .iter()
            .map(|v| (v.description, v.predicted_minutes))
            .collect()
    }

    #[test]
    fn labels_follow_the_state_now() {
        // Two minutes out, then in: labelled from the state now (and its minutes out).
        let out_then_in = [2.0, 2.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5];
        for (state, minutes_out, kind) in [
            (State::Firing, 7, FutureKind::ContinuingFiring),
            (State::Pending, 3, FutureKind::PendingWillFire),
            (State::Pending, 2, FutureKind::WillBePending),
            (State::Inactive, 0, FutureKind::WillBePending),
        ] {
            assert_eq!(
                kinds(&out_then_in, now(state, minutes_out)),
                vec![(kind, 2)],
                "{state:?} for {minutes_out} minutes"
            );
        }
        let later = [0.5, 2.0, 2.0, 2.0, 2.0, 2.0, 0.5, -1.0, 0.5, 0.5];
        assert_eq!(
            kinds(&later, now(State::Firing, 9)),
            vec![(FutureKind::WillFire, 5), (FutureKind::WillBePending, 1)]
        );
        assert!(kinds(&[0.5; 10], now(State::Firing, 9)).is_empty());
    }

    #[test]
    fn a_continuing_run_starts_when_the_run_began_and_counts_from_there() {
        let out_then_in = [2.0, 2.0, 0.5, 0.5];
        let v = &runs(&out_then_in, now(State::Pending, 3))[0];
        assert!(v.continuing);
        // Out since 2 minutes before AT (3 samples up to AT), 2 more predicted.
        assert_eq!(v.start.timestamp(), AT - 120);
        assert_eq!((v.duration_minutes, v.predicted_minutes), (5, 2));
        assert_eq!(v.end.timestamp(), AT + 180);
        let v = &runs(&out_then_in, now(State::Firing, 7))[0];
        assert_eq!((v.start.timestamp(), v.duration_minutes), (AT - 360, 9));
        // A new run starts at its first predicted point.
        let v = &runs(&out_then_in, now(State::Inactive, 0))[0];
        assert!(!v.continuing);
        assert_eq!((v.start.timestamp(), v.duration_minutes), (AT + 60, 2));
    }

    #[test]
    fn the_summary_is_over_the_points_after_the_evaluation_time() {
        let p = prediction(&[5.0, 2.0, 0.5, 0.5]);
        let forecast = future_violations(&p, &now(State::Inactive, 0), &sla(), AT + 60).unwrap();
        assert_eq!(
            forecast.summary,
            ForecastSummary {
                avg_value: 1.0,
                max_value: 2.0,
                min_value: 0.5
            }
        );
    }

    #[test]
    fn points_at_or_before_the_evaluation_time_are_ignored() {
        let p = prediction(&[2.0, 2.0, 2.0, 0.5]);
        let violations = future_violations(&p, &now(State::Inactive, 0), &sla(), AT + 120)
            .unwrap()
            .violations;
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].start.timestamp(), AT + 180);
        assert_eq!(violations[0].description, FutureKind::WillBePending);
    }

    #[test]
    fn a_prediction_that_ended_tells_nothing() {
        let p = prediction(&[2.0, 2.0]);
        assert_eq!(
            future_violations(&p, &now(State::Firing, 9), &sla(), AT + 120),
            None
        );
        assert_eq!(
            future_violations(&p, &now(State::Firing, 9), &sla(), AT + 60)
                .map(|f| f.violations.len()),
            Some(1)
        );
    }

    #[test]
    fn statistics_and_probabilities_are_over_the_run() {
        let violations = runs(&[0.5, 1.1, 1.3, 1.2, 0.5], now(State::Inactive, 0));
        let v = &violations[0];
        assert_eq!(
            (v.start.timestamp(), v.end.timestamp()),
            (AT + 120, AT + 300)
        );
        assert_eq!((v.max, v.min), (1.3, 1.1));
        assert!((v.avg - 1.2).abs() < 1e-12);
        let p = |value: f64| out_of_range_probability(value, value - 0.2, value + 0.2, 0.0, 1.0);
        assert!((v.probability - p(1.1)).abs() < 1e-12);
        assert!((v.probability_independent - p(1.1) * p(1.3) * p(1.2)).abs() < 1e-12);
        assert!(v.probability_independent <= v.probability);
    }
}
