//! Violations in the last 1, 3 and 12 hours.

use chrono::{DateTime, Utc};
use common::sla::Sla;
use serde::Serialize;
use utoipa::ToSchema;

use super::{HISTORY_SECONDS, STEP_SECONDS, Sample, out_of_range_runs};

/// The windows violations are counted in: name and length in seconds.
pub const WINDOWS: [(&str, i64); 3] = [("1h", 3600), ("3h", 3 * 3600), ("12h", HISTORY_SECONDS)];

/// One violation: a maximal run of out-of-range samples lasting at least `for` minutes. The
/// keys are the original's, with `ongoing` added.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Violation {
    /// Time of the first out-of-range sample.
    #[serde(rename = "start_time")]
    pub start: DateTime<Utc>,
    /// One step after the last out-of-range sample.
    #[serde(rename = "end_time")]
    pub end: DateTime<Utc>,
    /// Minutes out of range (one per sample), a float as in the original (`76.0`).
    #[serde(rename = "duration", serialize_with = "minutes_as_float")]
    #[schema(value_type = f64)]
    pub duration_minutes: u32,
    /// Mean value during the violation.
    #[serde(rename = "avg_value")]
    pub avg: f64,
    /// Largest value.
    #[serde(rename = "max_value")]
    pub max: f64,
    /// Smallest value.
    #[serde(rename = "min_value")]
    pub min: f64,
    /// Still going on at the evaluation time (an addition).
    pub ongoing: bool,
}

/// Violations that overlap one window, and the minutes of violation inside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct WindowCount {
    /// Violations with at least one sample in the window.
    #[serde(rename = "n")]
    pub count: usize,
    /// Their minutes in the window (one per sample), a float as in the original (`60.0`).
    #[serde(rename = "time", serialize_with = "minutes_as_float")]
    #[schema(value_type = f64)]
    pub minutes: u32,
}

/// The violations of one SLA, under the original's keys.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ViolationReport {
    /// The last hour.
    #[serde(rename = "1h")]
    pub last_1h: WindowCount,
    /// The last 3 hours.
    #[serde(rename = "3h")]
    pub last_3h: WindowCount,
    /// The last 12 hours.
    #[serde(rename = "12h")]
    pub last_12h: WindowCount,
    /// Every violation that overlaps the last 12 hours, oldest first.
    #[serde(rename = "violation_list")]
    pub violations: Vec<Violation>,
}

impl ViolationReport {
    /// The count in the last hour.
    pub fn last_hour(&self) -> usize {
        self.last_1h.count
    }

    /// The windows, shortest first, with their names.
    pub fn windows(&self) -> [(&'static str, &WindowCount); 3] {
        [
            (WINDOWS[0].0, &self.last_1h),
            (WINDOWS[1].0, &self.last_3h),
            (WINDOWS[2].0, &self.last_12h),
        ]
    }
}

/// Whole minutes written as a JSON float, the original's type for durations.
fn minutes_as_float<S: serde::Serializer>(minutes: &u32, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(f64::from(*minutes))
}

/// The violations of `sla` at unix time `at`, from its history up to `at` (which should reach
/// back `for` minutes beyond 12 hours, see [`super::history_start`]).
pub fn violations(samples: &[Sample], sla: &Sla, at: i64) -> ViolationReport {
    let last_sample = samples.last().map(|s| s.0);
    let runs: Vec<_> = out_of_range_runs(samples, sla.range)
        .into_iter()
        .filter(|run| {
            run.minutes() >= sla.for_minutes && run.samples_in_window(at, HISTORY_SECONDS) > 0
        })
        .collect();
    let [last_1h, last_3h, last_12h] = WINDOWS.map(|(_, seconds)| {
        let inside: Vec<u32> = runs
            .iter()
            .map(|run| run.samples_in_window(at, seconds))
            .filter(|&n| n > 0)
            .collect();
        WindowCount {
            count: inside.len(),
            minutes: inside.iter().sum(),
        }
    });
    let violations = runs
        .iter()
        .map(|run| Violation {
            start: time(run.first),
            end: time(run.last + STEP_SECONDS),
            duration_minutes: run.minutes(),
            avg: run.avg(),
            max: run.max(),
            min: run.min(),
            ongoing: Some(run.last) == last_sample && at - run.last <= STEP_SECONDS / 2,
        })
        .collect();
    ViolationReport {
        last_1h,
        last_3h,
        last_12h,
        violations,
    }
}

fn time(unix: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(unix, 0).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::sla::SlaRange;

    fn sla(for_minutes: u32) -> Sla {
        Sla {
            name: [("__name__".to_owned(), "x".to_owned())].into(),
            range: SlaRange { min: 0.0, max: 1.0 },
            for_minutes,
        }
    }

    /// A history ending at `at` with the runs `(minutes before at of the first sample, samples)`.
    fn history(at: i64, runs: &[(i64, i64)]) -> Vec<Sample> {
        let start = super::super::history_start(at, 5);
        (start / 60..=at / 60)
            .map(|m| m * 60)
            .map(|t| {
                let out = runs.iter().any(|&(before, n)| {
                    let first = at - before * 60;
                    t >= first && t < first + n * 60
                });
                (t, if out { 5.0 } else { 0.5 })
            })
            .collect()
    }

    // A whole minute.
    const AT: i64 = 1_800_000_000;

    #[test]
    fn only_runs_of_at_least_for_minutes_count() {
        let report = violations(&history(AT, &[(30, 4), (20, 5), (10, 6)]), &sla(5), AT);
        let durations: Vec<u32> = report
            .violations
            .iter()
            .map(|v| v.duration_minutes)
            .collect();
        assert_eq!(durations, vec![5, 6]);
        assert_eq!(
            report.windows()[0].1,
            &WindowCount {
                count: 2,
                minutes: 11
            }
        );
        let first = &report.violations[0];
        assert_eq!(first.start.timestamp(), AT - 20 * 60);
        assert_eq!(first.end.timestamp(), AT - 15 * 60);
        assert!(!first.ongoing);
    }

    #[test]
    fn windows_count_overlap_and_minutes_inside() {
        // A run crossing the 1h edge: first sample 62 minutes before, 7 samples: 5 inside [1h].
        let report = violations(&history(AT, &[(62, 7), (183, 7), (725, 10)]), &sla(5), AT);
        assert_eq!(
            report.windows()[0].1,
            &WindowCount {
                count: 1,
                minutes: 5
            }
        );
        // The one crossing the 3h edge (-183m..-177m) has 4 samples inside.
        assert_eq!(
            report.windows()[1].1,
            &WindowCount {
                count: 2,
                minutes: 7 + 4
            }
        );
        assert_eq!(
            report.windows()[2].1,
            &WindowCount {
                count: 3,
                minutes: 7 + 7 + 5
            }
        );
        // The run crossing the 12-hour edge is judged and listed by its whole length.
        assert_eq!(report.violations[0].duration_minutes, 10);
        assert_eq!(report.last_hour(), 1);
    }

    #[test]
    fn a_run_reaching_the_evaluation_time_is_ongoing() {
        let report = violations(&history(AT, &[(5, 6)]), &sla(5), AT);
        assert_eq!(report.violations.len(), 1);
        assert!(report.violations[0].ongoing);
        assert_eq!(report.violations[0].end.timestamp(), AT + 60);
    }

    #[test]
    fn runs_before_the_12_hours_are_left_out() {
        let report = violations(&history(AT, &[(727, 6)]), &sla(5), AT);
        assert!(report.violations.is_empty());
        assert!(
            report
                .windows()
                .iter()
                .all(|(_, w)| w.count == 0 && w.minutes == 0)
        );
    }

    #[test]
    fn the_report_has_the_original_keys_and_types() {
        let report = violations(&history(AT, &[(10, 6)]), &sla(5), AT);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["1h"], serde_json::json!({"n": 1, "time": 6.0}));
        assert!(json["12h"]["time"].is_f64());
        let v = &json["violation_list"][0];
        assert_eq!(v["duration"], serde_json::json!(6.0));
        for key in [
            "start_time",
            "end_time",
            "avg_value",
            "max_value",
            "min_value",
        ] {
            assert!(v.get(key).is_some(), "{key} in {v}");
        }
    }

    #[test]
    fn statistics_are_over_the_run() {
        let samples = vec![(0, 0.5), (60, 2.0), (120, 4.0), (180, 3.0), (240, 0.5)];
        let report = violations(&samples, &sla(2), 240);
        let v = &report.violations[0];
        assert_eq!(
            (v.avg, v.max, v.min, v.duration_minutes),
            (3.0, 4.0, 2.0, 3)
        );
    }
}
