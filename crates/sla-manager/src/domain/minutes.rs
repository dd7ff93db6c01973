//! The per-minute in-range indicator of a range SLA, kept so that a window's counts are sums
//! over stored minutes instead of PromQL subqueries over the whole window (issue 16). Pure: no
//! I/O, no clock.
//!
//! Minute `m` (a multiple of 60 seconds) holds the value of the in-range indicator evaluated at
//! `m`, as a range query at a 60 s step (or a subquery `[w:1m]`) evaluates it: good, bad, or
//! none (no sample within Prometheus' lookback). The counts of a window of `w` seconds at `at`
//! are over the minutes `at - w <= m <= at`, the subquery's steps, so they equal the counts of
//! `sum_over_time` / `count_over_time` of the indicator over `[w:1m]` at `at`.

use std::collections::VecDeque;

use super::{STEP_SECONDS, slo::Counts};
use crate::domain::slo::{Objective, Window};

/// One minute's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Minute {
    /// The series was in range.
    Good,
    /// The series was out of range (or NaN).
    Bad,
    /// No value: the minute counts neither way.
    Missing,
}

impl Minute {
    /// The indicator's value (`1` in range, `0` out), as a range query answers it.
    pub fn of_indicator(value: f64) -> Self {
        if value >= 0.5 { Self::Good } else { Self::Bad }
    }

    /// The stored code: 1 good, 0 bad (a missing minute is not stored).
    pub fn code(self) -> Option<i32> {
        match self {
            Self::Good => Some(1),
            Self::Bad => Some(0),
            Self::Missing => None,
        }
    }

    /// The minute of a stored code.
    pub fn from_code(code: i32) -> Self {
        if code == 1 { Self::Good } else { Self::Bad }
    }
}

/// The first minute at or after `t`.
pub fn minute_at_or_after(t: i64) -> i64 {
    t.div_euclid(STEP_SECONDS) * STEP_SECONDS
        + if t.rem_euclid(STEP_SECONDS) == 0 {
            0
        } else {
            STEP_SECONDS
        }
}

/// The last minute at or before `t`.
pub fn minute_at_or_before(t: i64) -> i64 {
    t.div_euclid(STEP_SECONDS) * STEP_SECONDS
}

/// How far back the minutes of an objective are kept: its longest window (a calendar month is
/// at most 31 days and an hour of DST) or the longest burn-rate window (3 days), whichever is
/// longer, plus a day so that `?at=` up to a day back still reads stored minutes.
pub fn retention_seconds(objective: &Objective) -> i64 {
    let longest = match objective.window {
        Window::Rolling { days } => i64::from(days) * 86_400,
        Window::Calendar { period, .. } => match period {
            super::slo::CalendarPeriod::Month => 31 * 86_400 + 3_600,
            super::slo::CalendarPeriod::Week => 7 * 86_400 + 3_600,
        },
    };
    longest.max(3 * 86_400) + 86_400
}

/// A contiguous run of minutes: `first`, `first + 60`, ... `last()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Minutes {
    first: i64,
    values: VecDeque<Minute>,
}

impl Minutes {
    /// The minutes from `first` to `last` (multiples of 60), every one missing.
    pub fn missing(first: i64, last: i64) -> Self {
        let len = ((last - first) / STEP_SECONDS + 1).max(0) as usize;
        Self {
            first,
            values: std::iter::repeat_n(Minute::Missing, len).collect(),
        }
    }

    /// The first minute held.
    pub fn first(&self) -> i64 {
        self.first
    }

    /// How many minutes it holds.
    pub fn len(&self) -> u64 {
        self.values.len() as u64
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The last minute held (before `first` when empty).
    pub fn last(&self) -> i64 {
        self.first + (self.values.len() as i64 - 1) * STEP_SECONDS
    }

    fn index(&self, minute: i64) -> Option<usize> {
        let offset = minute - self.first;
        (offset >= 0 && offset % STEP_SECONDS == 0)
            .then_some((offset / STEP_SECONDS) as usize)
            .filter(|i| *i < self.values.len())
    }

    /// Sets minute `minute` (ignored outside the run).
    pub fn set(&mut self, minute: i64, value: Minute) {
        if let Some(i) = self.index(minute) {
            self.values[i] = value;
        }
    }

    /// Extends the run up to `last` with missing minutes (nothing when it reaches that far).
    pub fn extend_to(&mut self, last: i64) {
        while self.last() < last {
            self.values.push_back(Minute::Missing);
        }
    }

    /// Forgets the minutes before `first`.
    pub fn trim_before(&mut self, first: i64) {
        while self.first < first && !self.values.is_empty() {
            self.values.pop_front();
            self.first += STEP_SECONDS;
        }
    }

    /// Whether every minute of `lo ..= hi` is held.
    pub fn covers(&self, lo: i64, hi: i64) -> bool {
        self.first <= minute_at_or_after(lo) && minute_at_or_before(hi) <= self.last()
    }

    /// The minutes `from ..= to` that are held, with their values.
    pub fn iter_range(&self, from: i64, to: i64) -> impl Iterator<Item = (i64, Minute)> + '_ {
        self.values
            .iter()
            .enumerate()
            .map(|(i, v)| (self.first + i as i64 * STEP_SECONDS, *v))
            .skip_while(move |(m, _)| *m < from)
            .take_while(move |(m, _)| *m <= to)
    }

    /// The good and measured minutes of the window of `window_seconds` ending at `at`.
    pub fn counts(&self, at: i64, window_seconds: i64) -> Counts {
        self.iter_range(at - window_seconds, at)
            .fold(Counts::default(), |counts, (_, minute)| match minute {
                Minute::Good => Counts {
                    good: counts.good + 1,
                    total: counts.total + 1,
                },
                Minute::Bad => Counts {
                    good: counts.good,
                    total: counts.total + 1,
                },
                Minute::Missing => counts,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::slo;

    fn run() -> Minutes {
        // 600 .. 1200: good, bad, missing, good, ... (11 minutes).
        let mut minutes = Minutes::missing(600, 1_200);
        for (i, m) in (600..=1_200).step_by(60).enumerate() {
            minutes.set(m, [Minute::Good, Minute::Bad, Minute::Missing][i % 3]);
        }
        minutes
    }

    #[test]
    fn a_window_counts_the_minutes_of_both_ends() {
        // 600 G, 660 B, 720 -, 780 G, 840 B, 900 -, 960 G, 1020 B, 1080 -, 1140 G, 1200 B.
        let minutes = run();
        assert_eq!(minutes.last(), 1_200);
        // 900 ..= 1200, both ends: G B G B and two missing.
        assert_eq!(minutes.counts(1_200, 300), Counts { good: 2, total: 4 });
        // Not minute-aligned: 930 ..= 1190 holds 960 ..= 1140.
        assert_eq!(minutes.counts(1_190, 260), Counts { good: 2, total: 3 });
        assert_eq!(minutes.counts(1_200, 10_000), Counts { good: 4, total: 8 });
        assert_eq!(minutes.counts(10_000, 60), Counts::default());
    }

    #[test]
    fn coverage_trimming_and_extension_keep_the_run_contiguous() {
        let mut minutes = run();
        assert!(minutes.covers(600, 1_200));
        assert!(minutes.covers(590, 1_259), "590 rounds up, 1259 down");
        assert!(!minutes.covers(540, 1_200));
        assert!(!minutes.covers(600, 1_260));
        minutes.extend_to(1_320);
        assert_eq!(minutes.last(), 1_320);
        assert_eq!(
            minutes.counts(1_320, 0),
            Counts::default(),
            "extended as missing"
        );
        minutes.trim_before(700);
        assert_eq!(minutes.first(), 720);
        assert_eq!(minutes.last(), 1_320);
        minutes.set(0, Minute::Good);
        assert_eq!(minutes.first(), 720, "a minute outside the run is ignored");
    }

    #[test]
    fn retention_covers_the_longest_window_and_a_day() {
        let objective = |window| Objective {
            target: 0.99,
            window,
        };
        assert_eq!(
            retention_seconds(&objective(Window::Rolling { days: 30 })),
            31 * 86_400
        );
        assert_eq!(
            retention_seconds(&objective(Window::Rolling { days: 7 })),
            8 * 86_400
        );
        let month = slo::parse_objective(Some(
            &serde_json::json!({"target": 0.99, "calendar": "month"}),
        ))
        .unwrap()
        .unwrap();
        assert_eq!(retention_seconds(&month), 32 * 86_400 + 3_600);
    }
}
