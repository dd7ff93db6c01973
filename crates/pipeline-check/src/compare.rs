//! The comparison rules, as pure functions, and the [`Tally`] of assertions and mismatches.
//!
//! - `min`, `max` and `count` of a window are equal only when they are the same number: the
//!   document, PromQL and the generator all see the same raw samples.
//! - `avg` and `std_dev` may differ by [`RELATIVE_TOLERANCE`] of the larger magnitude
//!   (magnitudes below [`SMALLEST_MAGNITUDE`] count as that), since summation order differs.
//! - A detected seasonal period matches when it is within [`PERIOD_TOLERANCE`] of one of the
//!   generator's periods.

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};
use common::record::{Prediction, Window};

/// Relative tolerance of averages and standard deviations.
pub const RELATIVE_TOLERANCE: f64 = 1e-9;
/// Magnitudes below this count as this in relative comparisons, so that 0 and 1e-18 are equal.
pub const SMALLEST_MAGNITUDE: f64 = 1e-6;
/// Relative tolerance of a detected seasonal period.
pub const PERIOD_TOLERANCE: f64 = 0.01;
/// Points a prediction holds (DESIGN.md: 10 minutes at a one-minute step).
pub const PREDICTION_POINTS: usize = 10;

/// One assertion that did not hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    /// The series (or document) it is about.
    pub subject: String,
    /// What was asserted.
    pub what: String,
    /// What was found.
    pub got: String,
    /// What was expected.
    pub expected: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: got {}, expected {}",
            self.subject, self.what, self.got, self.expected
        )
    }
}

/// Assertions counted and the mismatches among them.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    assertions: usize,
    mismatches: Vec<Mismatch>,
}

impl Tally {
    /// Assertions made.
    pub fn assertions(&self) -> usize {
        self.assertions
    }

    /// The assertions that did not hold, in the order they were made.
    pub fn mismatches(&self) -> &[Mismatch] {
        &self.mismatches
    }

    /// Adds the assertions and mismatches of `other`.
    pub fn extend(&mut self, other: Tally) {
        self.assertions += other.assertions;
        self.mismatches.extend(other.mismatches);
    }

    /// Counts one assertion, recording a mismatch unless it `holds`; returns `holds`.
    pub fn assert(
        &mut self,
        holds: bool,
        subject: &str,
        what: impl Into<String>,
        got: impl fmt::Display,
        expected: impl fmt::Display,
    ) -> bool {
        self.assertions += 1;
        if !holds {
            self.mismatches.push(Mismatch {
                subject: subject.to_owned(),
                what: what.into(),
                got: got.to_string(),
                expected: expected.to_string(),
            });
        }
        holds
    }

    /// `got` is exactly `expected` (NaN equals NaN).
    pub fn exact(
        &mut self,
        subject: &str,
        what: impl Into<String>,
        got: f64,
        expected: f64,
    ) -> bool {
        self.assert(same_number(got, expected), subject, what, got, expected)
    }

    /// `got` is within [`RELATIVE_TOLERANCE`] of `expected`.
    pub fn close(
        &mut self,
        subject: &str,
        what: impl Into<String>,
        got: f64,
        expected: f64,
    ) -> bool {
        self.assert(
            relatively_close(got, expected, RELATIVE_TOLERANCE),
            subject,
            what,
            got,
            expected,
        )
    }

    /// The window of a document against the expected one (`against` names where it comes
    /// from): both absent, or min/max/count exact and avg/std_dev close.
    pub fn window(
        &mut self,
        subject: &str,
        what: &str,
        against: &str,
        got: Option<&Window>,
        expected: Option<&Window>,
    ) {
        match (got, expected) {
            (Some(got), Some(expected)) => {
                self.exact(
                    subject,
                    format!("{what} min vs {against}"),
                    got.min,
                    expected.min,
                );
                self.exact(
                    subject,
                    format!("{what} max vs {against}"),
                    got.max,
                    expected.max,
                );
                self.close(
                    subject,
                    format!("{what} avg vs {against}"),
                    got.avg,
                    expected.avg,
                );
                self.close(
                    subject,
                    format!("{what} std_dev vs {against}"),
                    got.std_dev,
                    expected.std_dev,
                );
                self.assert(
                    got.count == expected.count,
                    subject,
                    format!("{what} count vs {against}"),
                    got.count,
                    expected.count,
                );
            }
            (got, expected) => {
                let shown = |w: Option<&Window>| if w.is_some() { "a window" } else { "no window" };
                self.assert(
                    got.is_none() && expected.is_none(),
                    subject,
                    format!("{what} vs {against}"),
                    shown(got),
                    shown(expected),
                );
            }
        }
    }

    /// `at` is at most `max_age` before `now` (and not in the future, beyond a second of clock
    /// skew).
    pub fn fresh(
        &mut self,
        subject: &str,
        what: &str,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
        max_age: TimeDelta,
    ) -> bool {
        let holds = at >= now - max_age && at <= now + TimeDelta::seconds(1);
        self.assert(
            holds,
            subject,
            format!("{what} fresh"),
            at.to_rfc3339(),
            format!(
                "within {}s before {}",
                max_age.num_seconds(),
                now.to_rfc3339()
            ),
        )
    }

    /// A forecast of [`PREDICTION_POINTS`] finite points with `lower <= value <= upper`, one step
    /// apart in time, and a summary (min/avg/max) that is that of its points.
    pub fn prediction(&mut self, subject: &str, prediction: &Prediction) {
        let points = &prediction.values;
        self.assert(
            points.len() == PREDICTION_POINTS,
            subject,
            "prediction points",
            points.len(),
            PREDICTION_POINTS,
        );
        for (k, point) in points.iter().enumerate() {
            let finite =
                point.value.is_finite() && point.lower.is_finite() && point.upper.is_finite();
            let ordered = finite && point.lower <= point.value && point.value <= point.upper;
            self.assert(
                ordered,
                subject,
                format!("prediction point {k}: lower <= value <= upper, all finite"),
                format!("{} <= {} <= {}", point.lower, point.value, point.upper),
                "finite and ordered",
            );
        }
        let step = TimeDelta::seconds(i64::try_from(prediction.step_seconds).unwrap_or(i64::MAX));
        let evenly_spaced = points
            .windows(2)
            .all(|pair| pair[1].timestamp - pair[0].timestamp == step);
        self.assert(
            evenly_spaced,
            subject,
            "prediction points one step apart",
            format!(
                "{:?}",
                points
                    .iter()
                    .map(|p| p.timestamp.to_rfc3339())
                    .collect::<Vec<_>>()
            ),
            format!("{}s apart", prediction.step_seconds),
        );
        if let (Some(min), Some(max)) = (
            points.iter().map(|p| p.value).reduce(f64::min),
            points.iter().map(|p| p.value).reduce(f64::max),
        ) {
            let avg = points.iter().map(|p| p.value).sum::<f64>() / points.len() as f64;
            self.exact(subject, "prediction min of the points", prediction.min, min);
            self.exact(subject, "prediction max of the points", prediction.max, max);
            self.close(subject, "prediction avg of the points", prediction.avg, avg);
        }
    }

    /// The detected seasonal period (minutes) matches one of the generator's `periods`.
    pub fn period(&mut self, subject: &str, detected: Option<f64>, periods: &[f64]) -> bool {
        let holds = detected.is_some_and(|d| period_matches(d, periods));
        let got = detected.map_or_else(|| "no period".to_owned(), |d| format!("{d} minutes"));
        self.assert(
            holds,
            subject,
            "seasonal period vs the generator",
            got,
            format!(
                "one of {periods:?} minutes, within {}%",
                PERIOD_TOLERANCE * 100.0
            ),
        )
    }
}

/// Whether two numbers are the same (NaN is the same as NaN).
pub fn same_number(got: f64, expected: f64) -> bool {
    got == expected || (got.is_nan() && expected.is_nan())
}

/// Whether `got` is within `tolerance` of `expected`, relative to the larger magnitude (at least
/// [`SMALLEST_MAGNITUDE`]).
pub fn relatively_close(got: f64, expected: f64, tolerance: f64) -> bool {
    if same_number(got, expected) {
        return true;
    }
    let scale = got.abs().max(expected.abs()).max(SMALLEST_MAGNITUDE);
    (got - expected).abs() <= tolerance * scale
}

/// Whether `detected` is within [`PERIOD_TOLERANCE`] of one of `periods`.
pub fn period_matches(detected: f64, periods: &[f64]) -> bool {
    periods
        .iter()
        .any(|p| (detected - p).abs() <= PERIOD_TOLERANCE * p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::record::PredictedPoint;

    fn window() -> Window {
        Window {
            min: 0.5,
            max: 2.0,
            avg: 1.25,
            std_dev: 0.4,
            count: 61,
        }
    }

    #[test]
    fn equal_windows_pass_and_count_five_assertions() {
        let mut tally = Tally::default();
        tally.window("s", "values 1h", "PromQL", Some(&window()), Some(&window()));
        assert_eq!(tally.assertions(), 5);
        assert!(tally.mismatches().is_empty());
    }

    #[test]
    fn min_max_and_count_must_be_exact() {
        for corrupt in [
            |w: &mut Window| w.min = f64::from_bits(w.min.to_bits() + 1),
            |w: &mut Window| w.max += 1e-12,
            |w: &mut Window| w.count += 1,
        ] {
            let mut got = window();
            corrupt(&mut got);
            let mut tally = Tally::default();
            tally.window("s", "values 1h", "PromQL", Some(&got), Some(&window()));
            assert_eq!(tally.mismatches().len(), 1, "{got:?}");
        }
    }

    #[test]
    fn avg_and_std_dev_allow_a_relative_error_of_1e_9() {
        let mut got = window();
        got.avg *= 1.0 + 5e-10;
        got.std_dev *= 1.0 - 5e-10;
        let mut tally = Tally::default();
        tally.window(
            "s",
            "values 3h",
            "the generator",
            Some(&got),
            Some(&window()),
        );
        assert!(tally.mismatches().is_empty());
        got.avg = window().avg * (1.0 + 2e-9);
        tally.window(
            "s",
            "values 3h",
            "the generator",
            Some(&got),
            Some(&window()),
        );
        let mismatch = &tally.mismatches()[0];
        assert_eq!(mismatch.what, "values 3h avg vs the generator");
        assert!(
            mismatch
                .to_string()
                .starts_with("s: values 3h avg vs the generator: got 1.25"),
            "{mismatch}"
        );
    }

    #[test]
    fn zero_and_a_rounding_residue_are_close_but_not_zero_and_a_real_spread() {
        assert!(relatively_close(0.0, 1e-18, RELATIVE_TOLERANCE));
        assert!(!relatively_close(0.0, 1e-3, RELATIVE_TOLERANCE));
        assert!(relatively_close(f64::NAN, f64::NAN, RELATIVE_TOLERANCE));
        assert!(!relatively_close(f64::NAN, 1.0, RELATIVE_TOLERANCE));
    }

    #[test]
    fn a_missing_window_on_one_side_only_is_a_mismatch() {
        let mut tally = Tally::default();
        tally.window("s", "values 12h", "PromQL", None, None);
        assert!(tally.mismatches().is_empty());
        tally.window("s", "values 12h", "PromQL", None, Some(&window()));
        assert_eq!(tally.mismatches()[0].got, "no window");
        assert_eq!(tally.assertions(), 2);
    }

    #[test]
    fn periods_match_within_one_percent() {
        assert!(period_matches(60.5, &[1440.0, 60.0]));
        assert!(period_matches(1430.0, &[1440.0, 60.0]));
        assert!(!period_matches(61.0, &[1440.0, 60.0]));
        let mut tally = Tally::default();
        assert!(!tally.period("s", None, &[60.0]));
        assert_eq!(tally.mismatches()[0].got, "no period");
    }

    #[test]
    fn freshness_has_two_sides() {
        let now: DateTime<Utc> = "2026-11-22T09:00:00Z".parse().unwrap();
        let mut tally = Tally::default();
        // Within the allowed age, too old, and from the future.
        for (offset, fresh) in [(-39, true), (-41, false), (5, false)] {
            let computed_at = now + TimeDelta::seconds(offset);
            assert_eq!(
                tally.fresh("s", "values", computed_at, now, TimeDelta::seconds(40)),
                fresh,
                "{computed_at}"
            );
        }
    }

    fn prediction() -> Prediction {
        let at: DateTime<Utc> = "2026-11-22T09:00:00Z".parse().unwrap();
        let values: Vec<PredictedPoint> = (0..10)
            .map(|k| {
                let value = 1.0 + f64::from(k);
                PredictedPoint {
                    timestamp: at + TimeDelta::minutes(i64::from(k) + 1),
                    value,
                    lower: value - 0.5,
                    upper: value + 0.5,
                }
            })
            .collect();
        Prediction {
            model: "holt_winters_additive".to_owned(),
            rmse: 0.1,
            min: 1.0,
            max: 10.0,
            avg: 5.5,
            horizon_minutes: 10,
            candidates: Vec::new(),
            step_seconds: 60,
            values,
        }
    }

    #[test]
    fn a_sound_prediction_passes() {
        let mut tally = Tally::default();
        tally.prediction("s", &prediction());
        assert!(tally.mismatches().is_empty(), "{:?}", tally.mismatches());
        assert_eq!(tally.assertions(), 1 + 10 + 1 + 3);
    }

    #[test]
    fn bounds_out_of_order_nan_and_missing_points_are_caught() {
        let mut swapped = prediction();
        swapped.values[3].lower = swapped.values[3].value + 1.0;
        let mut nan = prediction();
        nan.values[0].upper = f64::NAN;
        let mut short = prediction();
        short.values.pop();
        short.max = 9.0;
        short.avg = 5.0;
        for (broken, expected) in [
            (swapped, "prediction point 3"),
            (nan, "prediction point 0"),
            (short, "prediction points"),
        ] {
            let mut tally = Tally::default();
            tally.prediction("s", &broken);
            assert_eq!(tally.mismatches().len(), 1, "{:?}", tally.mismatches());
            assert!(
                tally.mismatches()[0].what.starts_with(expected),
                "{:?}",
                tally.mismatches()
            );
        }
    }
}
