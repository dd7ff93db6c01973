//! The per-minute values of an objective's SLI, kept so that a window's counts are sums over
//! stored minutes instead of PromQL subqueries over the whole window (issue 16). Pure: no I/O,
//! no clock.
//!
//! Minute `m` (a multiple of 60 seconds) holds, as a range query at a 60 s step (or a subquery
//! `[w:1m]`) evaluates it at `m`:
//! - for a range SLA, the in-range indicator: good, bad, or none (no sample within
//!   Prometheus' lookback). The counts of a window of `w` seconds at `at` are over the minutes
//!   `at - w <= m <= at`, the subquery's steps, so they equal `sum_over_time` /
//!   `count_over_time` of the indicator over `[w:1m]` at `at`;
//! - for a ratio SLI, its good and total events ([`events_of`]): with `counter: false` each
//!   expression's value at `m`, summed over `at - w <= m <= at` as `sum_over_time(...[w:1m])`
//!   sums it; with `counter: true` each expression's increase from `m - 60` to `m` (a value
//!   below the one before is a reset: the increase is the value, as `increase` counts it),
//!   summed over the steps of `[at - w, at]` but the first, which is `increase(...[w:1m])`
//!   when `at` is on a minute and the expression has a value every minute (Prometheus 2's
//!   subquery then holds steps at both ends, and `increase` extrapolates nothing). Off the
//!   minute, `increase` extrapolates the steps' increase to the window's ends (by up to
//!   `w / (w - 60)`: 300/240 for the 5-minute burn window) and the stored minutes do not: they
//!   count the events of the steps. A minute whose expression or the one before has no value
//!   counts no events of it (`increase` would count them across the gap).

use std::collections::VecDeque;

use super::{STEP_SECONDS, ratio::EventCounts, slo::Counts};
use crate::domain::slo::{Objective, Window};

/// One minute's value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Minute {
    /// The series was in range.
    Good,
    /// The series was out of range (or NaN).
    Bad,
    /// A ratio SLI's events in the minute (an expression without a value counts 0).
    Events {
        /// Good events.
        good: f64,
        /// All events.
        total: f64,
    },
    /// No value: the minute counts neither way.
    Missing,
}

impl Minute {
    /// The indicator's value (`1` in range, `0` out), as a range query answers it.
    pub fn of_indicator(value: f64) -> Self {
        if value >= 0.5 { Self::Good } else { Self::Bad }
    }

    /// The minute of a ratio's good and total events, each none without a value.
    pub fn of_events(good: Option<f64>, total: Option<f64>) -> Self {
        match (good, total) {
            (None, None) => Self::Missing,
            (good, total) => Self::Events {
                good: good.unwrap_or(0.0),
                total: total.unwrap_or(0.0),
            },
        }
    }
}

/// A ratio expression's events in the minute ending at a step whose value is `value`, the step
/// before having `previous`: with `counter`, the increase (the value itself after a reset);
/// else the value. None when a value it needs is missing.
pub fn events_of(previous: Option<f64>, value: Option<f64>, counter: bool) -> Option<f64> {
    if !counter {
        return value;
    }
    let (previous, value) = (previous?, value?);
    Some(if value >= previous {
        value - previous
    } else {
        value
    })
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
#[derive(Debug, Clone, PartialEq)]
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
                Minute::Events { .. } | Minute::Missing => counts,
            })
    }

    /// The good and total events of the window of `window_seconds` ending at `at`: the minutes
    /// `at - w <= m <= at`, or for a `counter`'s increases those after the first of them (the
    /// subquery's first step, whose increase is from before the window; see the module).
    pub fn events(&self, at: i64, window_seconds: i64, counter: bool) -> EventCounts {
        let first = minute_at_or_after(at - window_seconds);
        let from = if counter { first + 1 } else { first };
        self.iter_range(from, at)
            .fold(EventCounts::default(), |sum, (_, minute)| match minute {
                Minute::Events { good, total } => EventCounts {
                    good: sum.good + good,
                    total: sum.total + total,
                },
                _ => sum,
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
    fn a_counters_minutes_sum_to_its_increase_with_resets_and_a_gauges_to_its_sum() {
        // A counter sampled each minute 600 ..= 1200, reset once (35 to 5 at 780).
        let values = [
            10.0, 20.0, 35.0, 5.0, 15.0, 15.0, 40.0, 41.0, 50.0, 60.0, 61.0,
        ];
        let mut minutes = Minutes::missing(600, 1_200);
        for (i, m) in (600..=1_200).step_by(60).enumerate() {
            let previous = i.checked_sub(1).map(|p| values[p]);
            let good = events_of(previous, Some(values[i]), true);
            minutes.set(m, Minute::of_events(good, good.map(|g| 2.0 * g)));
        }
        // increase over the steps 660 ..= 1200: 61 - 20 + 35 (the reset) = 76; the step at 660
        // itself is the window's start, its own increase (from 600) is not in it.
        let window = minutes.events(1_200, 540, true);
        assert_eq!(
            window,
            EventCounts {
                good: 76.0,
                total: 152.0
            }
        );
        // The first minute has no step before it: no events, not a wrong count.
        assert_eq!(minutes.events(600, 0, true), EventCounts::default());
        // Off the minute: the steps 720 ..= 1140, the increase from 720 on (60 - 35, and 35 at the reset).
        assert_eq!(minutes.events(1_190, 500, true).good, 60.0);
        // Values per minute (counter: false) sum over both ends.
        let mut gauge = Minutes::missing(600, 720);
        for m in [600, 660, 720] {
            gauge.set(m, Minute::of_events(Some(1.0), None));
        }
        assert_eq!(
            gauge.events(720, 120, false),
            EventCounts {
                good: 3.0,
                total: 0.0
            }
        );
        assert_eq!(events_of(None, Some(3.0), true), None);
        assert_eq!(events_of(Some(4.0), Some(3.0), true), Some(3.0));
        assert_eq!(Minute::of_events(None, None), Minute::Missing);
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
