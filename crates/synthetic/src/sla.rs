//! The SLA series: a range, a `for`, and known runs outside the range.

use std::f64::consts::TAU;

use serde::{Deserialize, Serialize};

use crate::series::{Config, STEP_SECONDS};

/// Metric name of the series that leaves its SLA range in known runs.
pub const SLA_NAME: &str = "synthetic_sla_latency";
/// The `for` (minutes) the runs are designed around: runs are shorter, equal and longer.
pub const SLA_FOR_MINUTES: u32 = 5;

/// `(minutes before the end of the first out-of-range sample, samples, direction)`.
///
/// Chosen around the 1h, 3h and 12h windows evaluated at the end:
/// a run still going on at the end (3 samples: pending), runs inside 1h of
/// 5, 6 and 8 samples, one crossing the 1h edge (first at -62m, last at -56m:
/// 5 of its 7 samples are inside `[1h]`), one crossing the 3h edge (-183m..-177m),
/// one crossing the 12h edge (-725m..-716m), and older ones outside 12h.
const RUNS: &[(i64, u32, Direction)] = &[
    (2, 3, Direction::Above),
    (20, 6, Direction::Above),
    (40, 5, Direction::Above),
    (50, 8, Direction::Above),
    (62, 7, Direction::Above),
    (100, 4, Direction::Below),
    (150, 10, Direction::Above),
    (183, 7, Direction::Above),
    (300, 5, Direction::Below),
    (500, 12, Direction::Above),
    (725, 10, Direction::Above),
    (1000, 6, Direction::Above),
    (2000, 8, Direction::Above),
    (3000, 3, Direction::Above),
];

/// Which side of the range a run is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Values above `range.max` (0.8 to 1.0).
    Above,
    /// Values below `range.min` (0.01).
    Below,
}

/// Consecutive out-of-range samples, one per minute, `first..=last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    /// Unix time of the first out-of-range sample.
    pub first: i64,
    /// Unix time of the last out-of-range sample (inclusive).
    pub last: i64,
    /// Number of out-of-range samples; `last - first == (samples - 1) * 60`.
    pub samples: u32,
    /// Above the max or below the min.
    pub direction: Direction,
}

impl Run {
    /// Whether the sample at `t` is in this run.
    pub fn contains(&self, t: i64) -> bool {
        (self.first..=self.last).contains(&t)
    }

    /// Whether the run reaches `for_minutes` when "held for" is measured from the
    /// first to the last sample, as a Prometheus alert evaluated each minute does
    /// (`last - first >= for`, i.e. at least `for + 1` samples).
    pub fn fires_like_prometheus(&self, for_minutes: u32) -> bool {
        self.last - self.first >= i64::from(for_minutes) * 60
    }

    /// Samples of this run with `at - range_secs <= t <= at`.
    pub fn samples_in_window(&self, at: i64, range_secs: i64) -> u32 {
        let lo = self.first.max(at - range_secs);
        let hi = self.last.min(at);
        if hi < lo {
            0
        } else {
            ((hi - lo) / STEP_SECONDS + 1) as u32
        }
    }
}

/// Inclusive SLA range.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SlaRange {
    /// Lowest value in range.
    pub min: f64,
    /// Highest value in range.
    pub max: f64,
}

/// The SLA series' range, `for` and runs outside the range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlaSpec {
    /// Metric name ([`SLA_NAME`]).
    pub name: String,
    /// Values outside the runs stay within `[0.06, 0.45]`, strictly inside this.
    pub range: SlaRange,
    /// [`SLA_FOR_MINUTES`].
    #[serde(rename = "for")]
    pub for_minutes: u32,
    /// Ascending by time; only runs that fit in the history.
    pub runs: Vec<Run>,
}

impl SlaSpec {
    /// The run containing the sample at `t`, if any.
    pub fn run_at(&self, t: i64) -> Option<&Run> {
        self.runs.iter().find(|r| r.contains(t))
    }

    pub(crate) fn value(&self, t: i64, tf: f64, n: f64) -> f64 {
        match self.run_at(t).map(|r| r.direction) {
            Some(Direction::Above) => 0.8 + 0.2 * (0.5 + 0.15 * n).clamp(0.0, 1.0),
            Some(Direction::Below) => 0.01,
            None => (0.2 + 0.05 * (TAU * tf / 3600.0).sin() + 0.02 * n).clamp(0.06, 0.45),
        }
    }
}

pub(crate) fn spec(config: &Config) -> SlaSpec {
    let mut runs: Vec<Run> = RUNS
        .iter()
        .map(|&(before, samples, direction)| {
            let first = config.end - before * 60;
            Run {
                first,
                last: first + (i64::from(samples) - 1) * 60,
                samples,
                direction,
            }
        })
        .filter(|r| r.first >= config.start() && r.last <= config.end)
        .collect();
    runs.sort_by_key(|r| r.first);
    SlaSpec {
        name: SLA_NAME.to_owned(),
        range: SlaRange {
            min: 0.05,
            max: 0.5,
        },
        for_minutes: SLA_FOR_MINUTES,
        runs,
    }
}

#[cfg(test)]
mod tests {
    use crate::{Config, Dataset};

    const END: i64 = 1_699_999_980;

    #[test]
    fn values_leave_the_range_exactly_during_runs() {
        let d = Dataset::new(Config::new(END));
        let spec = d.sla();
        let s = d.series_named(super::SLA_NAME).unwrap();
        for (t, v) in d.samples(s) {
            let out = v < spec.range.min || v > spec.range.max;
            assert_eq!(out, spec.run_at(t).is_some(), "t={t} v={v}");
        }
    }

    #[test]
    fn runs_cover_the_for_and_the_window_edges() {
        let d = Dataset::new(Config::new(END));
        let spec = d.sla();
        assert_eq!(spec.runs.len(), super::RUNS.len());
        let lengths: Vec<u32> = spec.runs.iter().map(|r| r.samples).collect();
        assert!(
            lengths.iter().any(|&n| n < 5)
                && lengths.contains(&5)
                && lengths.iter().any(|&n| n > 5)
        );
        for window in contracts::window::WindowSpan::ALL {
            let (hours, range) = (window.hours(), window.secs());
            let crossing = spec.runs.iter().filter(|r| {
                let inside = r.samples_in_window(END, range);
                inside > 0 && inside < r.samples
            });
            assert_eq!(crossing.count(), 1, "one run crosses the {hours}h edge");
        }
        let last = spec.runs.last().unwrap();
        assert_eq!(last.last, END, "a run is still going on at the end");
        assert!(!last.fires_like_prometheus(5));
        assert!(
            spec.runs.windows(2).all(|w| w[0].last + 60 < w[1].first),
            "runs are separate"
        );
    }

    #[test]
    fn short_history_keeps_only_runs_that_fit() {
        let d = Dataset::new(Config {
            days: 1,
            ..Config::new(END)
        });
        assert!(d.sla().runs.iter().all(|r| r.first >= END - 86_400));
        assert!(d.sla().runs.len() < super::RUNS.len());
    }
}
