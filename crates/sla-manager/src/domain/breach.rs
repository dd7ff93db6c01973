//! Time to breach by forecast: from the prediction the etl stores for a range SLA's series
//! (point forecasts with 95% bounds at its step), the chance that the objective is missed
//! before the forecast ends, when the budget runs out by the forecast, and when the series is
//! forecast to leave its range.
//!
//! The model:
//! - each predicted point after `at` stands for `step` seconds, and is out of range with the
//!   probability [`out_of_range_probability`] gives (normal errors whose central 95% interval
//!   is the stored bounds);
//! - the points are taken as independent, so the number of bad points is Poisson-binomial;
//!   the objective is missed when the bad minutes exceed the remaining budget:
//!   `breach_probability = P(bad points x step/60 > remaining minutes)`, computed exactly.
//!   (Forecast errors are positively correlated in truth, which widens the distribution: the
//!   probability is then understated far in the tail and overstated near the mean.)
//! - the budget runs out by the forecast at the first point where the expected bad minutes
//!   (the sum of the probabilities, times step/60) reach the remaining budget;
//! - the series leaves its range at the first point whose point forecast is outside it (its
//!   probability of being out of range is then above one half).
//!
//! Only the points before the window's end count (a calendar period's end; a rolling window
//! has none). The forecast reaches as far as the etl predicts: 10 one-minute steps as it is
//! configured, so this says what the next 10 minutes do to the budget, not the rest of a
//! 28-day window.

use chrono::{DateTime, Utc};
use common::{record::Prediction, sla::SlaRange};
use serde::Serialize;
use utoipa::ToSchema;

use super::probability::out_of_range_probability;

/// The forecast's view of an objective at a time.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct BreachForecast {
    /// The model that made the forecast.
    pub model: String,
    /// Seconds past the evaluation time that the forecast covers (its last counted point).
    pub horizon_seconds: i64,
    /// Expected bad minutes over the horizon.
    pub expected_bad_minutes: f64,
    /// The probability that the bad minutes over the horizon exceed the remaining budget
    /// (1 when it is already spent).
    pub breach_probability: f64,
    /// Seconds until the expected bad minutes reach the remaining budget: 0 when it is spent,
    /// null when the forecast does not get there.
    pub time_to_exhaustion_seconds: Option<f64>,
    /// The first predicted point outside the range, if any.
    pub leaves_range: Option<RangeExit>,
}

/// When the series is forecast to leave its range.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RangeExit {
    /// The predicted point.
    pub at: DateTime<Utc>,
    /// Seconds from the evaluation time.
    pub in_seconds: i64,
    /// The probability that the series is out of range then.
    pub probability: f64,
}

/// The forecast of an objective over a range SLA whose series has `prediction`, at `at`, with
/// `remaining_minutes` of budget left and the window ending at `window_end` (none for a
/// rolling window). None when the prediction has no point after `at` (it is out of date).
pub fn breach_forecast(
    prediction: &Prediction,
    range: &SlaRange,
    remaining_minutes: f64,
    at: i64,
    window_end: Option<i64>,
) -> Option<BreachForecast> {
    let step = i64::try_from(prediction.step_seconds)
        .ok()
        .filter(|s| *s > 0)
        .unwrap_or(60);
    let minutes_per_point = step as f64 / 60.0;
    let points: Vec<(i64, f64, &common::record::PredictedPoint)> = prediction
        .values
        .iter()
        .map(|p| (p.timestamp.timestamp(), p))
        .filter(|(t, _)| *t > at && window_end.is_none_or(|end| *t <= end))
        .map(|(t, p)| {
            let probability =
                out_of_range_probability(p.value, p.lower, p.upper, range.min, range.max);
            (t, probability, p)
        })
        .collect();
    let last = points.last()?.0;
    let probabilities: Vec<f64> = points.iter().map(|(_, p, _)| *p).collect();
    let expected_bad_minutes = probabilities.iter().sum::<f64>() * minutes_per_point;
    let breach_probability = if remaining_minutes < 0.0 {
        1.0
    } else {
        // Missed when more than this many points are bad.
        let allowed = (remaining_minutes / minutes_per_point).floor() as usize;
        1.0 - at_most(&probabilities, allowed)
    };
    let time_to_exhaustion_seconds = if remaining_minutes <= 0.0 {
        Some(0.0)
    } else {
        let mut expected = 0.0;
        points.iter().find_map(|(t, p, _)| {
            expected += p * minutes_per_point;
            (expected >= remaining_minutes).then_some((t - at) as f64)
        })
    };
    let leaves_range = points
        .iter()
        .find(|(_, _, point)| !range.contains(point.value))
        .map(|(t, p, point)| RangeExit {
            at: point.timestamp,
            in_seconds: t - at,
            probability: *p,
        });
    Some(BreachForecast {
        model: prediction.model.clone(),
        horizon_seconds: last - at,
        expected_bad_minutes,
        breach_probability: breach_probability.clamp(0.0, 1.0),
        time_to_exhaustion_seconds,
        leaves_range,
    })
}

/// `P(B <= k)` for `B` the number of successes of independent trials with these
/// probabilities (the Poisson-binomial distribution), by dynamic programming over counts up
/// to `k`: `O(n k)`.
pub fn at_most(probabilities: &[f64], k: usize) -> f64 {
    if k >= probabilities.len() {
        return 1.0;
    }
    // distribution[j] = P(j successes so far), for j <= k (more is dropped: it is not "at most").
    let mut distribution = vec![0.0; k + 1];
    distribution[0] = 1.0;
    for &p in probabilities {
        let p = p.clamp(0.0, 1.0);
        for j in (0..=k).rev() {
            let from_below = if j > 0 { distribution[j - 1] * p } else { 0.0 };
            distribution[j] = distribution[j] * (1.0 - p) + from_below;
        }
    }
    distribution.iter().sum::<f64>().clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::record::PredictedPoint;

    const AT: i64 = 1_700_000_040;

    fn prediction(points: &[(f64, f64, f64)]) -> Prediction {
        Prediction {
            model: "holt_winters".into(),
            rmse: 0.1,
            min: 0.0,
            max: 0.0,
            avg: 0.0,
            horizon_minutes: points.len() as u64,
            step_seconds: 60,
            values: points
                .iter()
                .enumerate()
                .map(|(i, &(value, lower, upper))| PredictedPoint {
                    timestamp: DateTime::from_timestamp(AT + 60 * (i as i64 + 1), 0).unwrap(),
                    value,
                    lower,
                    upper,
                })
                .collect(),
            candidates: Vec::new(),
        }
    }

    const RANGE: SlaRange = SlaRange { min: 0.0, max: 1.0 };

    #[test]
    fn the_poisson_binomial_tail_is_exact() {
        // Three fair coins: P(at most 1 head) = 4/8.
        assert!((at_most(&[0.5, 0.5, 0.5], 1) - 0.5).abs() < 1e-12);
        assert!((at_most(&[0.5, 0.5, 0.5], 0) - 0.125).abs() < 1e-12);
        assert_eq!(at_most(&[0.5, 0.5], 2), 1.0);
        // 0.1, 0.2, 0.3: P(none) = 0.9 x 0.8 x 0.7 = 0.504; P(one) = 0.1 x 0.56 + 0.2 x 0.63
        // + 0.3 x 0.72 = 0.398.
        assert!((at_most(&[0.1, 0.2, 0.3], 1) - 0.902).abs() < 1e-12);
        // Certain trials.
        assert_eq!(at_most(&[1.0, 1.0, 0.0], 1), 0.0);
    }

    #[test]
    fn a_forecast_out_of_range_spends_the_budget_and_names_the_exit() {
        // In range for two minutes, then on the max exactly (p = 1/2) for two, then far out.
        let p = prediction(&[
            (0.5, 0.4, 0.6),
            (0.5, 0.4, 0.6),
            (1.0, 0.8, 1.2),
            (1.0, 0.8, 1.2),
            (5.0, 4.0, 6.0),
            (5.0, 4.0, 6.0),
        ]);
        let f = breach_forecast(&p, &RANGE, 1.5, AT, None).unwrap();
        assert_eq!(f.horizon_seconds, 360);
        assert!((f.expected_bad_minutes - 3.0).abs() < 1e-6, "{f:?}");
        // Bad minutes: 2 certain + Binomial(2, 1/2) > 1.5 always.
        assert!((f.breach_probability - 1.0).abs() < 1e-9);
        // Expected bad: 0, 0, 0.5, 1.0, 2.0: the 1.5 minutes go at the fifth point.
        assert_eq!(f.time_to_exhaustion_seconds, Some(300.0));
        let exit = f.leaves_range.unwrap();
        assert_eq!((exit.in_seconds, exit.at.timestamp()), (300, AT + 300));
        assert!(exit.probability > 0.999);
        // With 3.5 minutes left, the objective is missed only when both coin tosses come up
        // bad: 1/4; the expected 3 bad minutes never reach 3.5.
        let f = breach_forecast(&p, &RANGE, 3.5, AT, None).unwrap();
        assert!((f.breach_probability - 0.25).abs() < 1e-6, "{f:?}");
        assert_eq!(f.time_to_exhaustion_seconds, None);
    }

    #[test]
    fn a_spent_budget_is_missed_and_a_quiet_forecast_is_not() {
        let quiet = prediction(&[(0.5, 0.45, 0.55); 10]);
        let f = breach_forecast(&quiet, &RANGE, 10.0, AT, None).unwrap();
        assert!(f.breach_probability < 1e-9 && f.leaves_range.is_none());
        assert_eq!(f.time_to_exhaustion_seconds, None);
        let spent = breach_forecast(&quiet, &RANGE, -2.0, AT, None).unwrap();
        assert_eq!(
            (spent.breach_probability, spent.time_to_exhaustion_seconds),
            (1.0, Some(0.0))
        );
    }

    #[test]
    fn only_points_after_at_and_inside_the_window_count() {
        let p = prediction(&[(5.0, 4.0, 6.0); 10]);
        // Past the whole forecast: nothing to say.
        assert_eq!(breach_forecast(&p, &RANGE, 1.0, AT + 600, None), None);
        // A calendar period ending after the third point: three certain bad minutes.
        let f = breach_forecast(&p, &RANGE, 5.0, AT, Some(AT + 180)).unwrap();
        assert_eq!(f.horizon_seconds, 180);
        assert!((f.expected_bad_minutes - 3.0).abs() < 1e-9);
        assert!(f.breach_probability < 1e-9, "3 of the 5 minutes left");
    }
}
