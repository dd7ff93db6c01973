//! `GET /metrics/{id}/aggregate`: a request that can only hold valid parameters, built by
//! parsing, and the pure logic of the windowed aggregation (the PromQL it sends and how the
//! answer becomes windows).

use std::time::Duration;

use chrono::{DateTime, Utc};
use common::{
    Labels,
    params::{instant_schema, parse_instant},
    series::selector,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::clip;

/// The longest aggregation window: 31 days.
pub const MAX_WINDOW_SECS: u64 = 31 * 86_400;
/// The longest span `from..to` of an aggregation: 31 days.
pub const MAX_SPAN_SECS: i64 = 31 * 86_400;
/// The most windows one aggregation answers (one Prometheus range query's worth of points).
pub const MAX_WINDOWS: i64 = 11_000;
/// The span aggregated when neither `from` nor `to` is given, and the default distance between them.
pub const DEFAULT_SPAN_SECS: i64 = 3_600;

pub use common::window::AggregateOp;

/// The operation named `text`, or a message that names the known ones.
fn parse_op(text: &str) -> Result<AggregateOp, String> {
    AggregateOp::from_name(text).ok_or_else(|| {
        let known: Vec<&str> = AggregateOp::ALL.iter().map(|op| op.as_str()).collect();
        format!(
            "`op` must be one of {}, got {:?}",
            known.join(", "),
            clip(text)
        )
    })
}

/// The value of a window without samples: a count of zero; nothing for the others.
fn empty_value(op: AggregateOp) -> Option<f64> {
    (op == AggregateOp::Count).then_some(0.0)
}

/// The length of each aggregation window: whole seconds, from 1 to [`MAX_WINDOW_SECS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Window(u64);

impl Window {
    /// The length in seconds.
    pub fn secs(self) -> u64 {
        self.0
    }

    /// The length as a duration.
    pub fn duration(self) -> Duration {
        Duration::from_secs(self.0)
    }
}

impl TryFrom<&str> for Window {
    type Error = String;

    fn try_from(text: &str) -> Result<Self, Self::Error> {
        let secs: u64 = text.parse().map_err(|_| {
            format!(
                "`window` must be a whole number of seconds, got {:?}",
                clip(text)
            )
        })?;
        if (1..=MAX_WINDOW_SECS).contains(&secs) {
            Ok(Self(secs))
        } else {
            Err(format!(
                "`window` must be between 1 and {MAX_WINDOW_SECS} seconds, got {secs}"
            ))
        }
    }
}

/// The query string of `GET /metrics/{id}/aggregate`, as sent: every field is checked by
/// [`Aggregation::parse`], which names each problem.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AggregateParams {
    /// The aggregation: `avg`, `min`, `max`, `count` or `std_dev` (population).
    #[param(required = true, inline, value_type = AggregateOp)]
    pub op: Option<String>,
    /// The length of each window in whole seconds (1 to 2678400).
    #[param(required = true, value_type = u64, minimum = 1, maximum = 2678400, example = 300)]
    pub window: Option<String>,
    /// Start of the aggregated span, RFC 3339 or unix seconds, from 1970-01-01T00:00:00Z to
    /// 9999-12-31T23:59:59Z (default: `to` minus one hour).
    #[param(schema_with = instant_schema, example = "2026-11-22T05:00:00Z")]
    pub from: Option<String>,
    /// End of the aggregated span, RFC 3339 or unix seconds, from 1970-01-01T00:00:00Z to
    /// 9999-12-31T23:59:59Z (default: now, or `from` plus one hour). At most 31 days after
    /// `from`, and at most 11000 windows.
    #[param(schema_with = instant_schema, example = "2026-11-22T06:00:00Z")]
    pub to: Option<String>,
}

/// A valid aggregation request: `op` over windows of `window` that tile `from..to` from `from`
/// on (a last, partial window is left out). Built by [`Aggregation::parse`], which bounds
/// `from` and `to` to the years 1970 to 9999 (give or take the default hour) and `from..to` to
/// 31 days: the window arithmetic below stays far inside chrono's range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aggregation {
    /// The operation.
    pub op: AggregateOp,
    /// The window length.
    pub window: Window,
    /// Start of the first window.
    pub from: DateTime<Utc>,
    /// No window ends after this.
    pub to: DateTime<Utc>,
}

/// One aggregated window: the samples with `start < t <= end`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Bucket {
    /// Start of the window (excluded).
    pub start: DateTime<Utc>,
    /// End of the window (included).
    pub end: DateTime<Utc>,
    /// The aggregate; `null` when the window holds no samples (`0` for `count`).
    pub value: Option<f64>,
}

impl Aggregation {
    /// Checks every parameter and names every problem found; `now` is the default `to`.
    pub fn parse(params: &AggregateParams, now: DateTime<Utc>) -> Result<Self, Vec<String>> {
        let mut problems = Vec::new();
        let op = match params.op.as_deref() {
            Some(text) => parse_op(text).map_err(|p| problems.push(p)).ok(),
            None => {
                problems.push("`op` is required (avg, min, max, count or std_dev)".to_owned());
                None
            }
        };
        let window = match params.window.as_deref() {
            Some(text) => Window::try_from(text).map_err(|p| problems.push(p)).ok(),
            None => {
                problems.push("`window` is required (seconds)".to_owned());
                None
            }
        };
        let from = params
            .from
            .as_deref()
            .map(|t| parse_instant("from", t))
            .transpose()
            .map_err(|p| problems.push(p));
        let to = params
            .to
            .as_deref()
            .map(|t| parse_instant("to", t))
            .transpose()
            .map_err(|p| problems.push(p));
        let (Some(op), Some(window), Ok(from), Ok(to)) = (op, window, from, to) else {
            return Err(problems);
        };
        let default_span = chrono::Duration::seconds(DEFAULT_SPAN_SECS);
        // Checked although the bounds of `parse_instant` make an overflow impossible: an
        // unchecked sum here is how a timestamp in the query string once panicked the service.
        let span_from = |at: DateTime<Utc>| at.checked_add_signed(default_span);
        let span_to = |at: DateTime<Utc>| at.checked_sub_signed(default_span);
        let (from, to) = match (from, to) {
            (Some(from), Some(to)) => (Some(from), Some(to)),
            (Some(from), None) => (Some(from), span_from(from)),
            (None, Some(to)) => (span_to(to), Some(to)),
            (None, None) => (span_to(now), Some(now)),
        };
        let (Some(from), Some(to)) = (from, to) else {
            return Err(vec![
                "`from` or `to` is too close to the end of time for the default span".to_owned(),
            ]);
        };
        let span = (to - from).num_milliseconds();
        if span <= 0 {
            return Err(vec![format!("`from` ({from}) must be before `to` ({to})")]);
        }
        if span > MAX_SPAN_SECS * 1000 {
            return Err(vec![format!(
                "`from..to` spans more than {} days",
                MAX_SPAN_SECS / 86_400
            )]);
        }
        let windows = span / (window.secs() as i64 * 1000);
        if windows == 0 {
            return Err(vec![format!(
                "`window` ({} s) is longer than `from..to` ({} s)",
                window.secs(),
                span / 1000
            )]);
        }
        if windows > MAX_WINDOWS {
            return Err(vec![format!(
                "{windows} windows requested, at most {MAX_WINDOWS}: widen `window` or narrow `from..to`"
            )]);
        }
        Ok(Self {
            op,
            window,
            from,
            to,
        })
    }

    /// How many whole windows fit in `from..to`.
    pub fn window_count(&self) -> i64 {
        (self.to - self.from).num_milliseconds() / (self.window.secs() as i64 * 1000)
    }

    fn step(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.window.secs() as i64)
    }

    /// When the range query is evaluated: the end of the first and of the last window.
    pub fn evaluation_span(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            self.from + self.step(),
            self.from + self.step() * self.window_count() as i32,
        )
    }

    /// The PromQL evaluated at each window's end. The range is one millisecond shorter than the
    /// window, so each sample falls in exactly one window (`start < t <= end`) whichever way the
    /// Prometheus version treats the left edge of a range.
    pub fn promql(&self, labels: &Labels) -> String {
        let range_ms = self.window.secs() * 1000 - 1;
        format!(
            "{}({}[{range_ms}ms])",
            self.op.promql_function(),
            selector(labels)
        )
    }

    /// Every window, with the value Prometheus returned at its end (`points` as unix seconds).
    pub fn buckets(&self, points: &[(f64, f64)]) -> Vec<Bucket> {
        let step_ms = self.window.secs() as i64 * 1000;
        let first_end = self.evaluation_span().0.timestamp_millis();
        let count = self.window_count();
        let mut values: Vec<Option<f64>> = vec![empty_value(self.op); count as usize];
        for &(timestamp, value) in points {
            let offset = (timestamp * 1000.0).round() as i64 - first_end;
            if offset % step_ms == 0 && (0..count).contains(&(offset / step_ms)) {
                values[(offset / step_ms) as usize] = Some(value);
            }
        }
        values
            .into_iter()
            .enumerate()
            .map(|(i, value)| {
                let end = self.from + self.step() * (i as i32 + 1);
                Bucket {
                    start: end - self.step(),
                    end,
                    value,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap()
    }

    fn params(op: &str, window: &str, from: Option<&str>, to: Option<&str>) -> AggregateParams {
        AggregateParams {
            op: Some(op.to_owned()),
            window: Some(window.to_owned()),
            from: from.map(str::to_owned),
            to: to.map(str::to_owned),
        }
    }

    #[test]
    fn operations_parse_and_map_to_promql() {
        for op in AggregateOp::ALL {
            assert_eq!(parse_op(op.as_str()), Ok(op));
            assert!(op.promql_function().ends_with("_over_time"));
        }
        let error = parse_op("median").unwrap_err();
        assert!(
            error.contains("`op`") && error.contains("median"),
            "{error}"
        );
    }

    #[test]
    fn windows_are_positive_whole_and_bounded() {
        assert_eq!(Window::try_from("60").map(Window::secs), Ok(60));
        for bad in [
            "0",
            "-5",
            "1.5",
            "abc",
            "",
            "2678401",
            "99999999999999999999",
        ] {
            let error = Window::try_from(bad).unwrap_err();
            assert!(error.contains("`window`"), "{bad:?}: {error}");
        }
    }

    #[test]
    fn times_are_bounded_to_the_years_1970_to_9999() {
        // Each once panicked `parse` (chrono overflow while applying the default span).
        for (from, to) in [
            (Some("8210266876799"), None),
            (None, Some("-8210266876799")),
            (Some("253402300800"), Some("253402304400")),
        ] {
            let problems = Aggregation::parse(&params("avg", "60", from, to), at(0)).unwrap_err();
            assert!(
                problems.iter().any(|p| p.contains("9999-12-31T23:59:59Z")),
                "{from:?} {to:?}: {problems:?}"
            );
        }
        let last = Aggregation::parse(
            &params("avg", "3600", None, Some("9999-12-31T23:59:59Z")),
            at(0),
        )
        .unwrap();
        assert_eq!(last.window_count(), 1);
        assert_eq!(last.buckets(&[]).len(), 1);
    }

    #[test]
    fn the_span_defaults_to_the_last_hour() {
        let now = at(1_000_000);
        let aggregation = Aggregation::parse(&params("avg", "600", None, None), now).unwrap();
        assert_eq!(
            (aggregation.from, aggregation.to),
            (at(1_000_000 - 3600), now)
        );
        assert_eq!(aggregation.window_count(), 6);
        let aggregation = Aggregation::parse(&params("avg", "600", Some("0"), None), now).unwrap();
        assert_eq!((aggregation.from, aggregation.to), (at(0), at(3600)));
        let aggregation =
            Aggregation::parse(&params("avg", "600", None, Some("7200")), now).unwrap();
        assert_eq!((aggregation.from, aggregation.to), (at(3600), at(7200)));
    }

    #[test]
    fn every_problem_is_named_at_once() {
        let raw = params("median", "0", Some("later"), Some("x"));
        let problems = Aggregation::parse(&raw, at(0)).unwrap_err();
        assert_eq!(problems.len(), 4, "{problems:?}");
        let missing = Aggregation::parse(&AggregateParams::default(), at(0)).unwrap_err();
        assert_eq!(missing.len(), 2, "{missing:?}");
    }

    #[test]
    fn spans_must_be_ordered_bounded_and_hold_a_window() {
        let now = at(10_000_000);
        let reject = |from: &str, to: &str, window: &str| {
            Aggregation::parse(&params("max", window, Some(from), Some(to)), now).unwrap_err()
        };
        assert!(reject("7200", "3600", "60")[0].contains("before"));
        assert!(reject("3600", "3600", "60")[0].contains("before"));
        assert!(reject("0", &(MAX_SPAN_SECS + 1).to_string(), "3600")[0].contains("days"));
        assert!(reject("0", "100", "600")[0].contains("longer"));
        assert!(reject("0", "20000", "1")[0].contains("windows"));
    }

    #[test]
    fn promql_covers_each_window_once() {
        let labels: Labels = [("__name__".to_owned(), "up".to_owned())].into();
        let aggregation =
            Aggregation::parse(&params("std_dev", "300", Some("0"), Some("3600")), at(0)).unwrap();
        assert_eq!(
            aggregation.promql(&labels),
            r#"stddev_over_time({__name__="up"}[299999ms])"#
        );
        assert_eq!(aggregation.evaluation_span(), (at(300), at(3600)));
    }

    #[test]
    fn points_land_in_their_windows_and_gaps_stay_empty() {
        let aggregation =
            Aggregation::parse(&params("avg", "600", Some("0"), Some("2000")), at(0)).unwrap();
        let buckets = aggregation.buckets(&[(600.0, 1.5), (1800.0, 3.0), (900.0, 9.0)]);
        assert_eq!(buckets.len(), 3);
        assert_eq!(
            buckets[0],
            Bucket {
                start: at(0),
                end: at(600),
                value: Some(1.5)
            }
        );
        assert_eq!(buckets[1].value, None);
        assert_eq!(
            (buckets[2].start, buckets[2].end, buckets[2].value),
            (at(1200), at(1800), Some(3.0))
        );
        let count = Aggregation {
            op: AggregateOp::Count,
            ..aggregation
        };
        assert_eq!(count.buckets(&[])[1].value, Some(0.0));
    }
}
