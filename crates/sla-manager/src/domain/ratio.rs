//! Ratio SLIs: an entry of the set that is `{"good": "<PromQL>", "total": "<PromQL>",
//! "objective": {...}}`, OpenSLO's `ratioMetric` with `Occurrences` budgeting, as Pyrra and
//! Sloth define them. The objective is the share of good events over the window; pure functions
//! over event counts, no I/O.
//!
//! - `counter: true` (the default, as OpenSLO's `counter`): each expression is a cumulative
//!   count of events (a counter, or a sum of counters), and the events of a window `W` ending
//!   at `at` are `sum(increase((expr)[W:1m]))` at `at`;
//! - `counter: false`: each expression's value at a minute is the number of events in that
//!   minute, and the events of a window are `sum(sum_over_time((expr)[W:1m]))`.
//!
//! Those PromQL forms define the figures; the manager reads them from the per-minute events it
//! stores (`domain::minutes`, equal to them when `at` is on a whole minute) and asks Prometheus
//! for the subqueries only where the stored minutes do not reach.
//!
//! Budget: `(1 - target) x` the events counted in the window so far (the window's own total,
//! as Occurrences budgeting has it: the budget grows with the traffic); consumed: the bad events
//! (`total - good`); burn rate over `w`: `(bad / total events in w) / (1 - target)`, so the
//! workbook's alerts read the same as for minutes; time to exhaustion: the remaining budget over
//! the bad events per second of the last hour.

use common::{Labels, SeriesId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::slo::{
    AlertState, BURN_WINDOWS, CURRENT_BURN_WINDOW, Gauges, Objective, WindowRate, alert_states,
    gauge_rates, rate_in,
};

/// The fields a ratio entry may have (`id` is what `GET /slaset` adds; it is recomputed).
pub const RATIO_FIELDS: [&str; 5] = ["good", "total", "counter", "objective", "id"];

/// A ratio SLI: the good and total events, each a PromQL expression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RatioSli {
    /// PromQL of the good events.
    #[schema(example = "sum(http_requests_total{code!~\"5..\"})")]
    pub good: String,
    /// PromQL of all events.
    #[schema(example = "sum(http_requests_total)")]
    pub total: String,
    /// Whether the expressions are cumulative counts (`increase`) or per-minute counts
    /// (`sum_over_time`); true when not given.
    #[serde(default = "yes")]
    pub counter: bool,
}

fn yes() -> bool {
    true
}

/// Which of a ratio's two expressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Events {
    /// The good events.
    Good,
    /// All events.
    Total,
}

impl RatioSli {
    /// Its id: the fingerprint of its two expressions, as a series id is of its labels (so a
    /// ratio's id is 16 hex digits too, and two entries with the same expressions collide).
    pub fn id(&self) -> SeriesId {
        let labels: Labels = [
            ("good".to_owned(), self.good.clone()),
            ("total".to_owned(), self.total.clone()),
        ]
        .into_iter()
        .collect();
        SeriesId::of(&labels)
    }

    /// The PromQL of the `which` events in the window of `window_seconds` ending at the query's
    /// evaluation time: one number (or nothing, without a sample).
    pub fn events_query(&self, which: Events, window_seconds: i64) -> String {
        let expression = match which {
            Events::Good => &self.good,
            Events::Total => &self.total,
        };
        let function = if self.counter {
            "increase"
        } else {
            "sum_over_time"
        };
        format!("sum({function}(({expression})[{window_seconds}s:1m]))")
    }
}

/// Reads the SLI fields of a ratio entry (`good`, `total`, `counter`); every problem is listed.
/// The rest of the entry (unknown fields, the objective) is the caller's.
pub fn parse_ratio(fields: &Map<String, Value>) -> Result<RatioSli, Vec<String>> {
    let expression = |key: &str| match fields.get(key) {
        None | Some(Value::Null) => Err(format!("{key} is missing (a PromQL expression)")),
        Some(Value::String(text)) if !text.trim().is_empty() => Ok(text.clone()),
        Some(other) => Err(format!(
            "{key} must be a non-empty PromQL expression, got {other}"
        )),
    };
    let counter = match fields.get("counter") {
        None | Some(Value::Null) => Ok(true),
        Some(Value::Bool(counter)) => Ok(*counter),
        Some(other) => Err(format!("counter must be true or false, got {other}")),
    };
    match (expression("good"), expression("total"), counter) {
        (Ok(good), Ok(total), Ok(counter)) => Ok(RatioSli {
            good,
            total,
            counter,
        }),
        (good, total, counter) => Err([good.err(), total.err(), counter.err()]
            .into_iter()
            .flatten()
            .collect()),
    }
}

/// Events of a window.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct EventCounts {
    /// Good events.
    pub good: f64,
    /// All events.
    pub total: f64,
}

impl EventCounts {
    /// Bad events: `total - good`, never negative (a `good` above `total` is counted as none bad).
    pub fn bad(self) -> f64 {
        (self.total - self.good).max(0.0)
    }
}

/// The error budget of a ratio objective, in events.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct EventBudget {
    /// `(1 - target) x` the events in the window.
    pub total_events: f64,
    /// Bad events in the window.
    pub consumed_events: f64,
    /// `total - consumed`; negative once overspent.
    pub remaining_events: f64,
    /// `consumed / total`; null without an event.
    pub consumed_ratio: Option<f64>,
    /// `remaining / total`; null without an event.
    pub remaining_ratio: Option<f64>,
}

/// The burn rate of a ratio objective over one window.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EventBurnRate {
    /// The window (`5m` ... `3d`).
    pub window: &'static str,
    /// (bad / total events) / `(1 - target)`; null without an event in the window.
    pub rate: Option<f64>,
    /// Bad events in the window.
    pub bad_events: f64,
    /// All events in the window.
    pub total_events: f64,
}

/// Everything a ratio objective's figures are at one time.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RatioReport {
    /// The objective.
    #[serde(flatten)]
    #[schema(value_type = super::slo::ObjectiveWire)]
    pub objective: Objective,
    /// Always `Occurrences`: the budget is in events.
    pub budgeting: &'static str,
    /// Good / total events in the window; null without an event.
    pub compliance: Option<f64>,
    /// Good events in the window.
    pub good_events: f64,
    /// All events in the window.
    pub total_events: f64,
    /// The error budget.
    pub budget: EventBudget,
    /// Over [`BURN_WINDOWS`].
    pub burn_rates: Vec<EventBurnRate>,
    /// The workbook's alerts.
    pub alerts: Vec<AlertState>,
    /// Seconds until the budget is spent at the bad events per second of the last hour (0:
    /// spent; null: nothing burns).
    pub time_to_exhaustion_seconds: Option<f64>,
}

/// The report of `objective` over a ratio at `at`: `counts` is asked the events of each window
/// length in seconds (the objective's span at `at`, and each of [`BURN_WINDOWS`]).
pub fn ratio_report(
    objective: &Objective,
    at: i64,
    counts: impl Fn(i64) -> EventCounts,
) -> RatioReport {
    let whole = counts(objective.window.span(at).elapsed_seconds);
    let total = objective.allowed_bad() * whole.total;
    let consumed = whole.bad();
    let remaining = total - consumed;
    let share = |part: f64| (total > 0.0).then(|| part / total);
    let burn_rates: Vec<EventBurnRate> = BURN_WINDOWS
        .iter()
        .map(|(name, seconds)| {
            let window = counts(*seconds);
            EventBurnRate {
                window: name,
                rate: (window.total > 0.0)
                    .then(|| window.bad() / window.total / objective.allowed_bad()),
                bad_events: window.bad(),
                total_events: window.total,
            }
        })
        .collect();
    let alerts = alert_states(|name| rate_in(&burn_rates, name));
    let time_to_exhaustion_seconds = if remaining <= 0.0 && whole.total > 0.0 {
        Some(0.0)
    } else {
        BURN_WINDOWS
            .iter()
            .zip(&burn_rates)
            .find(|((name, _), _)| *name == CURRENT_BURN_WINDOW)
            .and_then(|((_, seconds), burn)| {
                let per_second = burn.bad_events / *seconds as f64;
                (per_second > 0.0).then(|| remaining / per_second)
            })
    };
    RatioReport {
        objective: *objective,
        budgeting: "Occurrences",
        compliance: (whole.total > 0.0).then(|| whole.good.min(whole.total) / whole.total),
        good_events: whole.good,
        total_events: whole.total,
        budget: EventBudget {
            total_events: total,
            consumed_events: consumed,
            remaining_events: remaining,
            consumed_ratio: share(consumed),
            remaining_ratio: share(remaining),
        },
        burn_rates,
        alerts,
        time_to_exhaustion_seconds,
    }
}

impl WindowRate for EventBurnRate {
    fn window_rate(&self) -> (&'static str, Option<f64>) {
        (self.window, self.rate)
    }
}

impl RatioReport {
    /// What the gauges publish of it.
    pub fn gauges(&self) -> Gauges {
        Gauges {
            target: self.objective.target,
            compliance: self.compliance,
            remaining_ratio: self.budget.remaining_ratio,
            burn_rates: gauge_rates(&self.burn_rates),
            time_to_exhaustion_seconds: self.time_to_exhaustion_seconds,
            // The etl forecasts series, not ratios of expressions.
            forecast_exhaustion_seconds: None,
            breach_probability: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::slo::Window;
    use serde_json::json;

    fn objective(target: f64) -> Objective {
        Objective {
            target,
            window: Window::days(28).unwrap(),
        }
    }

    #[test]
    fn ratio_fields_parse_and_every_problem_is_listed() {
        let fields = |v: Value| v.as_object().unwrap().clone();
        assert_eq!(
            parse_ratio(&fields(json!({"good": "sum(a)", "total": "sum(b)"}))),
            Ok(RatioSli {
                good: "sum(a)".into(),
                total: "sum(b)".into(),
                counter: true
            })
        );
        assert!(
            !parse_ratio(&fields(
                json!({"good": "a", "total": "b", "counter": false})
            ))
            .unwrap()
            .counter
        );
        assert_eq!(
            parse_ratio(&fields(json!({"good": " ", "counter": "yes"}))).unwrap_err(),
            [
                r#"good must be a non-empty PromQL expression, got " ""#,
                "total is missing (a PromQL expression)",
                r#"counter must be true or false, got "yes""#,
            ]
        );
    }

    #[test]
    fn the_window_queries_count_events_by_kind() {
        let mut sli = RatioSli {
            good: "sum(ok_total)".into(),
            total: "sum(all_total)".into(),
            counter: true,
        };
        assert_eq!(
            sli.events_query(Events::Good, 3_600),
            "sum(increase((sum(ok_total))[3600s:1m]))"
        );
        sli.counter = false;
        assert_eq!(
            sli.events_query(Events::Total, 300),
            "sum(sum_over_time((sum(all_total))[300s:1m]))"
        );
        let other = RatioSli {
            good: "sum(all_total)".into(),
            total: "sum(ok_total)".into(),
            counter: false,
        };
        assert_ne!(sli.id(), other.id(), "the order of the two matters");
    }

    /// 1,000,000 events in 28 days at 99.9%: a budget of 1,000 events. 400 bad so far, 60 of
    /// them in the last hour out of 3,000 events: a burn rate of (60/3000)/0.001 = 20, and the
    /// 600 left go in 600 / (60/3600) = 36,000 seconds.
    #[test]
    fn the_budget_is_in_events() {
        let report = ratio_report(&objective(0.999), 0, |seconds| match seconds {
            3_600 => EventCounts {
                good: 2_940.0,
                total: 3_000.0,
            },
            s if s == 28 * 86_400 => EventCounts {
                good: 999_600.0,
                total: 1_000_000.0,
            },
            _ => EventCounts::default(),
        });
        assert!((report.budget.total_events - 1_000.0).abs() < 1e-6);
        assert_eq!(report.budget.consumed_events, 400.0);
        assert!((report.budget.remaining_ratio.unwrap() - 0.6).abs() < 1e-9);
        assert!((report.compliance.unwrap() - 0.9996).abs() < 1e-12);
        let hour = report.burn_rates.iter().find(|b| b.window == "1h").unwrap();
        assert!((hour.rate.unwrap() - 20.0).abs() < 1e-9);
        assert!((report.time_to_exhaustion_seconds.unwrap() - 36_000.0).abs() < 1e-6);
        // 20x over 1h but nothing in 5m: the fast page needs both.
        assert!(report.alerts.iter().all(|a| !a.firing));
        assert_eq!(report.burn_rates[0].rate, None);
    }

    #[test]
    fn no_event_is_no_figure_and_an_overspent_budget_is_spent() {
        let quiet = ratio_report(&objective(0.99), 0, |_| EventCounts::default());
        assert_eq!(
            (quiet.compliance, quiet.budget.remaining_ratio),
            (None, None)
        );
        assert_eq!(quiet.time_to_exhaustion_seconds, None);
        let spent = ratio_report(&objective(0.99), 0, |_| EventCounts {
            good: 80.0,
            total: 100.0,
        });
        assert_eq!(spent.time_to_exhaustion_seconds, Some(0.0));
        assert!(spent.budget.remaining_events < 0.0);
        assert!(spent.alerts.iter().all(|a| a.firing), "20x everywhere");
    }
}
