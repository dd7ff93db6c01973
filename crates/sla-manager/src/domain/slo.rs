//! Service level objectives over the SLAs: a timeslice SLO (OpenSLO's `Timeslices` budgeting)
//! where each minute is good when the series is in its range, and the objective is the share
//! of good minutes over a rolling window or a calendar period (see [`Window`]). Pure functions
//! over minute counts: no I/O, no clock.
//!
//! The model, with the conventions of [`crate::domain`] (a window of `W` seconds at `at` holds
//! the minutes `at - W <= t <= at`):
//! - compliance = good minutes / minutes with a value in the objective's window (a minute
//!   without a sample counts neither way, as `avg_over_time` over a subquery does);
//! - error budget = `(1 - target) x` the window's minutes; consumed = bad minutes in the window;
//!   remaining = budget - consumed (negative once overspent);
//! - burn rate over `w` = (bad / measured minutes in `w`) / `(1 - target)`: 1 spends the budget
//!   exactly over the objective's window, 14.4 spends 2% of a 30-day budget in one hour;
//! - the SRE workbook's multi-window, multi-burn-rate alerts ([`ALERTS`]) fire when both their
//!   long and short windows burn faster than their factor;
//! - time to exhaustion at a burn rate: remaining budget / (rate x `(1 - target)`) minutes.
//!
//! Example: target 0.995 over 28 days is a budget of 0.005 x 40,320 = 201.6 minutes. With 94
//! bad minutes in the window 107.6 remain (53.4%); 12 bad minutes in the last hour are a burn
//! rate of (12/60)/0.005 = 40, which pages, and spends the rest in 107.6 / (40 x 0.005) = 538
//! minutes.

use serde::Serialize;
use utoipa::ToSchema;

use super::{STEP_SECONDS, breach::BreachForecast};
use common::sla::SlaRange;

pub use super::objective::{
    CalendarPeriod, Objective, ObjectiveWire, Span, WINDOW_DAYS, Window, parse_objective,
};

/// Minutes of a window: how many had a value, and how many of those were in range.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Minutes in range.
    pub good: u64,
    /// Minutes with a value.
    pub total: u64,
}

impl Counts {
    /// Minutes out of range.
    pub fn bad(self) -> u64 {
        self.total.saturating_sub(self.good)
    }
}

/// The minutes of `samples` (one per minute, see [`crate::domain`]) in the window of
/// `window_seconds` ending at `at`, judged against `range`.
pub fn counts(samples: &[super::Sample], range: &SlaRange, at: i64, window_seconds: i64) -> Counts {
    samples
        .iter()
        .filter(|(t, _)| at - window_seconds <= *t && *t <= at)
        .fold(Counts::default(), |counts, (_, value)| Counts {
            good: counts.good + u64::from(range.contains(*value)),
            total: counts.total + 1,
        })
}

/// The windows burn rates are given over: `(name, seconds)`. 2h is the ticket's short window.
pub const BURN_WINDOWS: [(&str, i64); 7] = [
    ("5m", 300),
    ("30m", 1_800),
    ("1h", 3_600),
    ("2h", 7_200),
    ("6h", 21_600),
    ("1d", 86_400),
    ("3d", 259_200),
];

/// The burn-rate window whose rate is "the current burn rate" of the time to exhaustion.
pub const CURRENT_BURN_WINDOW: &str = "1h";

/// Page or ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Wakes someone up.
    Page,
    /// Handled in working hours.
    Ticket,
}

/// One multi-window, multi-burn-rate alert of the SRE workbook (chapter 5, table 5-8).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BurnAlert {
    /// Page or ticket.
    pub severity: Severity,
    /// The burn rate both windows must exceed.
    pub factor: f64,
    /// The long window, a name of [`BURN_WINDOWS`].
    pub long: &'static str,
    /// The short window, which makes the alert stop soon after the burn does.
    pub short: &'static str,
}

/// The workbook's four alerts.
pub const ALERTS: [BurnAlert; 4] = [
    BurnAlert {
        severity: Severity::Page,
        factor: 14.4,
        long: "1h",
        short: "5m",
    },
    BurnAlert {
        severity: Severity::Page,
        factor: 6.0,
        long: "6h",
        short: "30m",
    },
    BurnAlert {
        severity: Severity::Ticket,
        factor: 3.0,
        long: "1d",
        short: "2h",
    },
    BurnAlert {
        severity: Severity::Ticket,
        factor: 1.0,
        long: "3d",
        short: "6h",
    },
];

/// Every window length a report at `at` needs counts for: the objective's and
/// [`BURN_WINDOWS`].
pub fn windows(objective: &Objective, at: i64) -> Vec<i64> {
    std::iter::once(objective.window.span(at).elapsed_seconds)
        .chain(BURN_WINDOWS.iter().map(|(_, seconds)| *seconds))
        .collect()
}

/// The error budget of the objective's window, in minutes and as shares of the budget.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct Budget {
    /// `(1 - target) x` the window's minutes.
    pub total_minutes: f64,
    /// Bad minutes in the window.
    pub consumed_minutes: f64,
    /// `total - consumed`; negative once overspent.
    pub remaining_minutes: f64,
    /// `consumed / total`.
    pub consumed_ratio: f64,
    /// `remaining / total`.
    pub remaining_ratio: f64,
}

/// The burn rate over one window.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct BurnRate {
    /// The window (`5m` ... `3d`).
    pub window: &'static str,
    /// (bad / measured minutes) / `(1 - target)`; null without a value in the window.
    pub rate: Option<f64>,
    /// Bad minutes in the window.
    pub bad_minutes: u64,
    /// Minutes with a value in the window.
    pub measured_minutes: u64,
    /// Seconds until the remaining budget is spent at this rate: 0 when already spent, null
    /// when nothing burns.
    pub time_to_exhaustion_seconds: Option<f64>,
}

/// The state of one burn-rate alert.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AlertState {
    /// Page or ticket.
    pub severity: Severity,
    /// The burn rate both windows must exceed.
    pub factor: f64,
    /// The long window.
    pub long_window: &'static str,
    /// The short window.
    pub short_window: &'static str,
    /// Both windows burn faster than `factor`.
    pub firing: bool,
}

/// Everything an objective's figures are at one time.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SloReport {
    /// The objective: `target` and `window`, or `calendar` and `time_zone`.
    #[serde(flatten)]
    #[schema(value_type = ObjectiveWire)]
    pub objective: Objective,
    /// Good / measured minutes in the window; null without a value in it.
    pub compliance: Option<f64>,
    /// Minutes in range in the window.
    pub good_minutes: u64,
    /// Minutes with a value in the window.
    pub measured_minutes: u64,
    /// The error budget.
    pub budget: Budget,
    /// Over [`BURN_WINDOWS`].
    pub burn_rates: Vec<BurnRate>,
    /// The workbook's alerts.
    pub alerts: Vec<AlertState>,
    /// Seconds until the budget is spent at the 1h burn rate (0: spent; null: nothing burns).
    pub time_to_exhaustion_seconds: Option<f64>,
    /// What the stored forecast of the series says of the budget; null without a prediction
    /// reaching past the evaluation time.
    pub forecast: Option<BreachForecast>,
}

/// What the gauges publish of an objective's report, whatever its budgeting.
#[derive(Debug, Clone, PartialEq)]
pub struct Gauges {
    /// The target.
    pub target: f64,
    /// The compliance, when there is a value.
    pub compliance: Option<f64>,
    /// The share of the budget left, when there is a budget.
    pub remaining_ratio: Option<f64>,
    /// The burn rate over each window with a value.
    pub burn_rates: Vec<(&'static str, f64)>,
    /// Seconds to exhaustion at the 1h burn rate.
    pub time_to_exhaustion_seconds: Option<f64>,
    /// Seconds to exhaustion by the forecast.
    pub forecast_exhaustion_seconds: Option<f64>,
    /// The probability that the objective is missed over the forecast's horizon.
    pub breach_probability: Option<f64>,
}

impl SloReport {
    /// What the gauges publish of it.
    pub fn gauges(&self) -> Gauges {
        Gauges {
            target: self.objective.target,
            compliance: self.compliance,
            remaining_ratio: Some(self.budget.remaining_ratio),
            burn_rates: gauge_rates(&self.burn_rates),
            time_to_exhaustion_seconds: self.time_to_exhaustion_seconds,
            forecast_exhaustion_seconds: self
                .forecast
                .as_ref()
                .and_then(|f| f.time_to_exhaustion_seconds),
            breach_probability: self.forecast.as_ref().map(|f| f.breach_probability),
        }
    }

    /// The end of the objective's window at `at`: a calendar period's end (a rolling window
    /// has none).
    pub fn window_end(&self, at: i64) -> Option<i64> {
        match self.objective.window {
            Window::Rolling { .. } => None,
            Window::Calendar { .. } => {
                let span = self.objective.window.span(at);
                Some(at - span.elapsed_seconds + span.length_seconds)
            }
        }
    }

    /// The burn rate over the window named `name`.
    pub fn burn_rate(&self, name: &str) -> Option<f64> {
        self.burn_rates
            .iter()
            .find(|b| b.window == name)
            .and_then(|b| b.rate)
    }
}

/// The burn rate of `counts` against `objective`; none without a measured minute.
pub fn burn_rate(objective: &Objective, counts: Counts) -> Option<f64> {
    (counts.total > 0).then(|| counts.bad() as f64 / counts.total as f64 / objective.allowed_bad())
}

/// Seconds until `remaining_minutes` of budget are spent at `rate`.
pub fn time_to_exhaustion(
    objective: &Objective,
    remaining_minutes: f64,
    rate: Option<f64>,
) -> Option<f64> {
    if remaining_minutes <= 0.0 {
        return Some(0.0);
    }
    let rate = rate.filter(|rate| *rate > 0.0)?;
    Some(remaining_minutes / (rate * objective.allowed_bad()) * STEP_SECONDS as f64)
}

/// A burn rate over one of [`BURN_WINDOWS`], in minutes ([`BurnRate`]) or in events (a ratio
/// objective's): what the alerts and the gauges read of it.
pub(super) trait WindowRate {
    /// The window's name and the rate over it (none without a value in the window).
    fn window_rate(&self) -> (&'static str, Option<f64>);
}

impl WindowRate for BurnRate {
    fn window_rate(&self) -> (&'static str, Option<f64>) {
        (self.window, self.rate)
    }
}

/// The rate over the window `name` among `burn_rates`.
pub(super) fn rate_in(burn_rates: &[impl WindowRate], name: &str) -> Option<f64> {
    burn_rates
        .iter()
        .map(WindowRate::window_rate)
        .find(|(window, _)| *window == name)
        .and_then(|(_, rate)| rate)
}

/// The windows of `burn_rates` that have a rate, with it: what the gauges publish.
pub(super) fn gauge_rates(burn_rates: &[impl WindowRate]) -> Vec<(&'static str, f64)> {
    burn_rates
        .iter()
        .filter_map(|b| match b.window_rate() {
            (window, Some(rate)) => Some((window, rate)),
            (_, None) => None,
        })
        .collect()
}

/// The state of each of the workbook's [`ALERTS`], given the burn rate over each window name.
pub(super) fn alert_states(rate_of: impl Fn(&str) -> Option<f64>) -> Vec<AlertState> {
    ALERTS
        .iter()
        .map(|alert| AlertState {
            severity: alert.severity,
            factor: alert.factor,
            long_window: alert.long,
            short_window: alert.short,
            firing: [alert.long, alert.short]
                .iter()
                .all(|w| rate_of(w).is_some_and(|rate| rate > alert.factor)),
        })
        .collect()
}

/// The report of `objective` at `at`, from the counts of each window of [`windows`] ending at
/// `at` (`counts` is asked each length in seconds).
pub fn report(objective: &Objective, at: i64, counts: impl Fn(i64) -> Counts) -> SloReport {
    let span = objective.window.span(at);
    let whole = counts(span.elapsed_seconds);
    let total = objective.allowed_bad() * (span.length_seconds / STEP_SECONDS) as f64;
    let consumed = whole.bad() as f64;
    let remaining = total - consumed;
    let budget = Budget {
        total_minutes: total,
        consumed_minutes: consumed,
        remaining_minutes: remaining,
        consumed_ratio: consumed / total,
        remaining_ratio: remaining / total,
    };
    let burn_rates: Vec<BurnRate> = BURN_WINDOWS
        .iter()
        .map(|(name, seconds)| {
            let window = counts(*seconds);
            let rate = burn_rate(objective, window);
            BurnRate {
                window: name,
                rate,
                bad_minutes: window.bad(),
                measured_minutes: window.total,
                time_to_exhaustion_seconds: time_to_exhaustion(objective, remaining, rate),
            }
        })
        .collect();
    let rate_of = |name: &str| rate_in(&burn_rates, name);
    let alerts = alert_states(rate_of);
    let time_to_exhaustion_seconds =
        time_to_exhaustion(objective, remaining, rate_of(CURRENT_BURN_WINDOW));
    SloReport {
        objective: *objective,
        compliance: (whole.total > 0).then(|| whole.good as f64 / whole.total as f64),
        good_minutes: whole.good,
        measured_minutes: whole.total,
        budget,
        burn_rates,
        alerts,
        time_to_exhaustion_seconds,
        forecast: None,
    }
}

#[cfg(test)]
#[path = "slo_tests.rs"]
mod tests;
