//! The service's own metrics, served on the admin port: the SLA state for Grafana and alert
//! rules, and request latency per route.

use std::{collections::BTreeSet, sync::Mutex};

use common::http::HttpMetrics;
use prometheus::{IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, core::Collector};

mod slo;

pub use slo::{CountsSource, SloInstruments};

/// Labels of the per-SLA gauges: bounded by the SLA set size.
const SLA_LABELS: [&str; 2] = ["metric_name", "id"];

/// One SLA's labels: its metric name and its id.
pub type SlaKey = (String, String);

/// The metrics registered in the service's registry.
#[derive(Debug)]
pub struct Instruments {
    /// Request latency per method, route and status.
    pub http: HttpMetrics,
    status: TrackedGauge,
    violations_last_hour: TrackedGauge,
    predicted_violations: TrackedGauge,
    refreshes: IntCounterVec,
    api_token_configured: IntGauge,
    /// The objectives' gauges.
    pub slo: SloInstruments,
}

/// `collector`, registered in `registry`.
pub(crate) fn registered<C>(registry: &Registry, collector: C) -> Result<C, prometheus::Error>
where
    C: Collector + Clone + 'static,
{
    registry.register(Box::new(collector.clone()))?;
    Ok(collector)
}

/// A counter by one label, registered in `registry`.
pub(crate) fn counter_vec(
    registry: &Registry,
    name: &str,
    help: &str,
    label: &str,
) -> Result<IntCounterVec, prometheus::Error> {
    registered(
        registry,
        IntCounterVec::new(Opts::new(name, help), &[label])?,
    )
}

/// A gauge per SLA that forgets SLAs no longer in the set.
#[derive(Debug)]
struct TrackedGauge {
    gauge: IntGaugeVec,
    present: Mutex<BTreeSet<SlaKey>>,
}

impl TrackedGauge {
    fn register(registry: &Registry, name: &str, help: &str) -> Result<Self, prometheus::Error> {
        Ok(Self {
            gauge: registered(
                registry,
                IntGaugeVec::new(Opts::new(name, help), &SLA_LABELS)?,
            )?,
            present: Mutex::new(BTreeSet::new()),
        })
    }

    /// Sets the value of each SLA of the current set (`None`: no value, the series is removed)
    /// and removes the SLAs not in it.
    fn replace_all(&self, values: &[(SlaKey, Option<i64>)]) {
        let mut present = self
            .present
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let current: BTreeSet<SlaKey> = values
            .iter()
            .filter(|(_, v)| v.is_some())
            .map(|(k, _)| k.clone())
            .collect();
        for gone in present.difference(&current) {
            // Absent already is fine.
            let _ = self
                .gauge
                .remove_label_values(&[gone.0.as_str(), gone.1.as_str()]);
        }
        for ((name, id), value) in values {
            if let Some(value) = value {
                self.gauge
                    .with_label_values(&[name.as_str(), id.as_str()])
                    .set(*value);
            }
        }
        *present = current;
    }
}

impl Instruments {
    /// Registers every metric in `registry`.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        Ok(Self {
            http: HttpMetrics::register(registry)?,
            status: TrackedGauge::register(
                registry,
                "sla_status",
                "State of each SLA: 0 inactive, 1 pending, 2 firing; absent while unknown.",
            )?,
            violations_last_hour: TrackedGauge::register(
                registry,
                "sla_violations_last_hour",
                "Violations (runs out of range for at least `for` minutes) overlapping the last hour.",
            )?,
            predicted_violations: TrackedGauge::register(
                registry,
                "sla_predicted_violations",
                "Predicted out-of-range runs in the forecast horizon that make the SLA fire.",
            )?,
            refreshes: counter_vec(
                registry,
                "sla_refresh_total",
                "Periodic recomputations of the SLA state, by outcome (ok, error).",
                "outcome",
            )?,
            api_token_configured: registered(
                registry,
                IntGauge::new(
                    "sla_api_token_configured",
                    "1 when SLA_API_TOKEN is set (PUT /slaset needs the bearer token), 0 when anyone may change the SLA set.",
                )?,
            )?,
            slo: SloInstruments::register(registry)?,
        })
    }

    /// Records whether `PUT /slaset` requires a token.
    pub fn api_token_configured(&self, configured: bool) {
        self.api_token_configured.set(i64::from(configured));
    }

    /// Records each SLA's state level (`None` when unknown).
    pub fn record_status(&self, levels: &[(SlaKey, Option<i64>)]) {
        self.status.replace_all(levels);
    }

    /// Records each SLA's violations in the last hour.
    pub fn record_violations(&self, counts: &[(SlaKey, Option<i64>)]) {
        self.violations_last_hour.replace_all(counts);
    }

    /// Records each SLA's predicted firing runs (`None` without a prediction).
    pub fn record_predicted(&self, counts: &[(SlaKey, Option<i64>)]) {
        self.predicted_violations.replace_all(counts);
    }

    /// Counts one periodic refresh.
    pub fn refreshed(&self, ok: bool) {
        self.refreshes
            .with_label_values(&[if ok { "ok" } else { "error" }])
            .inc();
    }
}

/// The registry's `/metrics` text, for the tests of the instruments.
#[cfg(test)]
pub(crate) fn exposition_text(registry: &Registry) -> String {
    common::admin::exposition(registry).expect("the metrics encode")
}

#[cfg(test)]
mod tests {
    use super::{exposition_text as text, *};

    fn key(id: &str) -> SlaKey {
        ("latency".to_owned(), id.to_owned())
    }

    #[test]
    fn slas_leaving_the_set_or_becoming_unknown_disappear() {
        let registry = Registry::new();
        let instruments = Instruments::register(&registry).unwrap();
        instruments.record_status(&[(key("a"), Some(2)), (key("b"), Some(0))]);
        let before = text(&registry);
        assert!(
            before.contains(r#"sla_status{id="a",metric_name="latency"} 2"#),
            "{before}"
        );
        instruments.record_status(&[(key("a"), None), (key("c"), Some(1))]);
        let after = text(&registry);
        assert!(
            !after.contains(r#"id="a""#) && !after.contains(r#"id="b""#),
            "{after}"
        );
        assert!(
            after.contains(r#"sla_status{id="c",metric_name="latency"} 1"#),
            "{after}"
        );
    }
}
