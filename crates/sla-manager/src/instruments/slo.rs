//! The objectives' gauges: `slo_objective_ratio`, `slo_compliance_ratio`,
//! `slo_error_budget_remaining_ratio`, `slo_burn_rate{window}` and
//! `slo_time_to_exhaustion_seconds{method="burn_rate|forecast"}` and `slo_breach_probability`,
//! labelled by SLA (`metric_name`, `id`; a ratio SLI has no metric name).

use std::{collections::BTreeSet, sync::Mutex};

use prometheus::{GaugeVec, IntCounterVec, Opts, Registry};

use super::{SlaKey, counter_vec, registered};
use crate::domain::slo::Gauges;

/// A float gauge that forgets the label sets not recorded last time.
#[derive(Debug)]
struct TrackedFloat {
    gauge: GaugeVec,
    present: Mutex<BTreeSet<Vec<String>>>,
}

impl TrackedFloat {
    fn register(
        registry: &Registry,
        name: &str,
        help: &str,
        labels: &[&str],
    ) -> Result<Self, prometheus::Error> {
        Ok(Self {
            gauge: registered(registry, GaugeVec::new(Opts::new(name, help), labels)?)?,
            present: Mutex::new(BTreeSet::new()),
        })
    }

    /// Sets these values and removes every other label set.
    fn replace_all(&self, values: &[(Vec<String>, f64)]) {
        let mut present = self
            .present
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let current: BTreeSet<Vec<String>> = values.iter().map(|(k, _)| k.clone()).collect();
        for gone in present.difference(&current) {
            let labels: Vec<&str> = gone.iter().map(String::as_str).collect();
            // Absent already is fine.
            let _ = self.gauge.remove_label_values(&labels);
        }
        for (labels, value) in values {
            let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
            self.gauge.with_label_values(&labels).set(*value);
        }
        *present = current;
    }
}

/// The objectives' gauges.
#[derive(Debug)]
pub struct SloInstruments {
    objective: TrackedFloat,
    compliance: TrackedFloat,
    remaining: TrackedFloat,
    burn_rate: TrackedFloat,
    exhaustion: TrackedFloat,
    breach: TrackedFloat,
    minutes_fetched: IntCounterVec,
    counts: IntCounterVec,
}

/// Where a window's counts came from, for `slo_counts_total{source}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountsSource {
    /// Summed over the stored minutes (`slo_minutes`).
    Minutes,
    /// Two PromQL subqueries per window (the stored minutes do not cover the evaluation).
    Subqueries,
}

impl SloInstruments {
    /// Registers the gauges in `registry`.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let sla = ["metric_name", "id"];
        Ok(Self {
            minutes_fetched: counter_vec(
                registry,
                "slo_minutes_fetched_total",
                "Minutes of the in-range indicator read from Prometheus into slo_minutes, by kind: backfill (an objective new to the store, or a gap longer than its retention) or catch_up (the minutes since the last stored one).",
                "kind",
            )?,
            counts: counter_vec(
                registry,
                "slo_counts_total",
                "Objective evaluations of range SLAs, by where the window counts came from: minutes (summed from slo_minutes) or subqueries (PromQL, when the stored minutes do not cover the evaluation time).",
                "source",
            )?,
            objective: TrackedFloat::register(
                registry,
                "slo_objective_ratio",
                "Target share of minutes in range over the objective's window.",
                &sla,
            )?,
            compliance: TrackedFloat::register(
                registry,
                "slo_compliance_ratio",
                "Share of measured minutes in range over the objective's window; absent without a value.",
                &sla,
            )?,
            remaining: TrackedFloat::register(
                registry,
                "slo_error_budget_remaining_ratio",
                "Share of the error budget left over the objective's window; negative once overspent.",
                &sla,
            )?,
            burn_rate: TrackedFloat::register(
                registry,
                "slo_burn_rate",
                "Error budget burn rate over a window: (bad / measured minutes) / (1 - target).",
                &["metric_name", "id", "window"],
            )?,
            exhaustion: TrackedFloat::register(
                registry,
                "slo_time_to_exhaustion_seconds",
                "Seconds until the error budget is spent, by method (burn_rate: at the 1h burn rate; forecast: by the stored forecast's expected bad minutes); absent while nothing burns, or when the forecast does not get there.",
                &["metric_name", "id", "method"],
            )?,
            breach: TrackedFloat::register(
                registry,
                "slo_breach_probability",
                "Probability that the objective is missed over the stored forecast's horizon (from its 95% intervals); absent without a forecast.",
                &sla,
            )?,
        })
    }

    /// Counts `minutes` read from Prometheus, by a back-fill or a catch-up.
    pub fn minutes_fetched(&self, backfill: bool, minutes: u64) {
        let kind = if backfill { "backfill" } else { "catch_up" };
        self.minutes_fetched
            .with_label_values(&[kind])
            .inc_by(minutes);
    }

    /// Counts one evaluation of an objective's windows from `source`.
    pub fn counted(&self, source: CountsSource) {
        let source = match source {
            CountsSource::Minutes => "minutes",
            CountsSource::Subqueries => "subqueries",
        };
        self.counts.with_label_values(&[source]).inc();
    }

    /// Records the figures of the current set's objectives; SLAs not among them disappear.
    pub fn record(&self, reports: &[(SlaKey, Gauges)]) {
        let sla = |(name, id): &SlaKey| vec![name.clone(), id.clone()];
        let with = |key: &SlaKey, extra: &str| {
            let mut labels = sla(key);
            labels.push(extra.to_owned());
            labels
        };
        let objective: Vec<_> = reports.iter().map(|(k, r)| (sla(k), r.target)).collect();
        let compliance: Vec<_> = reports
            .iter()
            .filter_map(|(k, r)| r.compliance.map(|c| (sla(k), c)))
            .collect();
        let remaining: Vec<_> = reports
            .iter()
            .filter_map(|(k, r)| r.remaining_ratio.map(|ratio| (sla(k), ratio)))
            .collect();
        let burn: Vec<_> = reports
            .iter()
            .flat_map(|(k, r)| {
                r.burn_rates
                    .iter()
                    .map(move |(window, rate)| (with(k, window), *rate))
            })
            .collect();
        let exhaustion: Vec<_> = reports
            .iter()
            .flat_map(|(k, r)| {
                [
                    ("burn_rate", r.time_to_exhaustion_seconds),
                    ("forecast", r.forecast_exhaustion_seconds),
                ]
                .into_iter()
                .filter_map(move |(method, seconds)| seconds.map(|s| (with(k, method), s)))
            })
            .collect();
        let breach: Vec<_> = reports
            .iter()
            .filter_map(|(k, r)| r.breach_probability.map(|p| (sla(k), p)))
            .collect();
        self.objective.replace_all(&objective);
        self.compliance.replace_all(&compliance);
        self.remaining.replace_all(&remaining);
        self.burn_rate.replace_all(&burn);
        self.exhaustion.replace_all(&exhaustion);
        self.breach.replace_all(&breach);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::slo::{Counts, Objective, Window, report};
    use crate::instruments::exposition_text as text;

    #[test]
    fn each_objective_is_published_and_forgotten_when_it_goes() {
        let objective = Objective {
            target: 0.75,
            window: Window::days(7).unwrap(),
        };
        // Half of the last hour bad (2x at 75%), nothing measured elsewhere.
        let burning = report(&objective, 0, |seconds| match seconds {
            3_600 => Counts {
                good: 30,
                total: 60,
            },
            _ => Counts::default(),
        });
        let key = |id: &str| ("latency".to_owned(), id.to_owned());
        let mut forecast = burning.gauges();
        forecast.forecast_exhaustion_seconds = Some(120.0);
        forecast.breach_probability = Some(0.25);
        let registry = Registry::new();
        let slo = SloInstruments::register(&registry).unwrap();
        slo.record(&[(key("a"), forecast), (key("b"), burning.gauges())]);
        let before = text(&registry);
        for line in [
            r#"slo_objective_ratio{id="a",metric_name="latency"} 0.75"#,
            r#"slo_burn_rate{id="a",metric_name="latency",window="1h"} 2"#,
            r#"slo_error_budget_remaining_ratio{id="b",metric_name="latency"} 1"#,
            r#"slo_time_to_exhaustion_seconds{id="a",method="forecast",metric_name="latency"} 120"#,
            r#"slo_breach_probability{id="a",metric_name="latency"} 0.25"#,
        ] {
            assert!(before.contains(line), "{line} not in\n{before}");
        }
        // No value in 5m: no burn rate, and no compliance without a value in the window.
        assert!(!before.contains(r#"window="5m""#) && !before.contains("slo_compliance_ratio{"));
        slo.record(&[(key("b"), burning.gauges())]);
        let after = text(&registry);
        assert!(!after.contains(r#"id="a""#), "{after}");
        assert!(!after.contains("slo_breach_probability{"), "none for b");
        assert!(after.contains(r#"slo_objective_ratio{id="b",metric_name="latency"} 0.75"#));
    }
}
