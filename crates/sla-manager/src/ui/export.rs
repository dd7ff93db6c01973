//! The forecast as series for Grafana: each SLA's last value, its allowed range and its
//! forecast (value and 95% bounds at the next step and at the end of the horizon), as gauges
//! on the admin port, so that a dashboard of the internal Prometheus can draw them together.

use chrono::Utc;
use common::{
    promql::PromClient,
    record::{PredictedPoint, Prediction},
    series::{METRIC_NAME_LABEL, selector},
};
use prometheus::{GaugeVec, Opts, Registry};

use crate::{error::Error, instruments::registered, manager::Manager};

/// `sla_forecast{metric_name, id, bound, step}`, `sla_range{metric_name, id, bound}` and
/// `sla_value{metric_name, id}`.
#[derive(Debug, Clone)]
pub struct ForecastExport {
    forecast: GaugeVec,
    range: GaugeVec,
    value: GaugeVec,
}

/// One SLA's numbers, gathered before any gauge changes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Exported {
    pub(crate) metric_name: String,
    pub(crate) id: String,
    pub(crate) min: f64,
    pub(crate) max: f64,
    pub(crate) value: Option<f64>,
    /// The first point after now and the last one.
    pub(crate) forecast: Option<(PredictedPoint, PredictedPoint)>,
}

/// The first point after `now` and the last point, when the horizon has not passed.
pub(crate) fn next_and_last(
    prediction: &Prediction,
    now: i64,
) -> Option<(PredictedPoint, PredictedPoint)> {
    let next = prediction
        .values
        .iter()
        .find(|p| p.timestamp.timestamp() > now)?;
    let last = prediction.values.last()?;
    Some((*next, *last))
}

impl ForecastExport {
    /// Registers the gauges in `registry`.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let gauge = |name: &str, help: &str, labels: &[&str]| {
            registered(registry, GaugeVec::new(Opts::new(name, help), labels)?)
        };
        Ok(Self {
            forecast: gauge(
                "sla_forecast",
                "Each SLA's forecast: bound=value|lower|upper (95%), step=next (the first predicted point) or horizon (the last).",
                &["metric_name", "id", "bound", "step"],
            )?,
            range: gauge(
                "sla_range",
                "Each SLA's allowed range: bound=min|max.",
                &["metric_name", "id", "bound"],
            )?,
            value: gauge(
                "sla_value",
                "Each SLA series' last value in the target Prometheus.",
                &["metric_name", "id"],
            )?,
        })
    }

    /// Reads every SLA's value and stored forecast now, then replaces the gauges' series.
    pub async fn refresh(&self, manager: &Manager, prometheus: &PromClient) -> Result<(), Error> {
        let set = match manager.sla_set().await {
            Ok(set) => set,
            Err(Error::SlaSetNotDefined) => Vec::new(),
            Err(other) => return Err(other),
        };
        let now = Utc::now().timestamp();
        let mut exported = Vec::with_capacity(set.len());
        for stored in set {
            let prediction = manager
                .metrics()
                .find(stored.id)
                .await?
                .and_then(|d| d.prediction);
            let value = prometheus
                .instant(&selector(&stored.sla.name), None)
                .await?
                .into_iter()
                .find(|s| s.labels == stored.sla.name)
                .map(|s| s.value);
            exported.push(Exported {
                metric_name: stored
                    .sla
                    .name
                    .get(METRIC_NAME_LABEL)
                    .cloned()
                    .unwrap_or_default(),
                id: stored.id.to_string(),
                min: stored.sla.range.min,
                max: stored.sla.range.max,
                value,
                forecast: prediction.as_ref().and_then(|p| next_and_last(p, now)),
            });
        }
        self.set(&exported);
        Ok(())
    }

    /// Replaces every series with `exported`'s (SLAs that left the set disappear).
    pub(crate) fn set(&self, exported: &[Exported]) {
        self.forecast.reset();
        self.range.reset();
        self.value.reset();
        for e in exported {
            let (name, id) = (e.metric_name.as_str(), e.id.as_str());
            self.range.with_label_values(&[name, id, "min"]).set(e.min);
            self.range.with_label_values(&[name, id, "max"]).set(e.max);
            if let Some(v) = e.value {
                self.value.with_label_values(&[name, id]).set(v);
            }
            if let Some((next, last)) = e.forecast {
                for (step, p) in [("next", next), ("horizon", last)] {
                    for (bound, v) in [("value", p.value), ("lower", p.lower), ("upper", p.upper)] {
                        self.forecast
                            .with_label_values(&[name, id, bound, step])
                            .set(v);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instruments::exposition_text as text;
    use chrono::DateTime;

    fn point(t: i64, value: f64) -> PredictedPoint {
        PredictedPoint {
            timestamp: DateTime::from_timestamp(t, 0).unwrap(),
            value,
            lower: value - 1.0,
            upper: value + 1.0,
        }
    }

    fn prediction() -> Prediction {
        Prediction {
            model: "m".into(),
            rmse: 0.1,
            min: 1.0,
            max: 3.0,
            avg: 2.0,
            horizon_minutes: 3,
            candidates: Vec::new(),
            step_seconds: 60,
            values: vec![point(60, 1.0), point(120, 2.0), point(180, 3.0)],
        }
    }

    #[test]
    fn the_next_point_is_the_first_after_now_and_a_passed_horizon_has_none() {
        let p = prediction();
        assert_eq!(
            next_and_last(&p, 0),
            Some((point(60, 1.0), point(180, 3.0)))
        );
        assert_eq!(
            next_and_last(&p, 60),
            Some((point(120, 2.0), point(180, 3.0)))
        );
        assert_eq!(next_and_last(&p, 180), None);
    }

    #[test]
    fn every_bound_is_exported_and_slas_that_left_disappear() {
        let registry = Registry::new();
        let export = ForecastExport::register(&registry).unwrap();
        let one = |id: &str, forecast| Exported {
            metric_name: "node_load1".into(),
            id: id.into(),
            min: 0.0,
            max: 4.0,
            value: Some(0.5),
            forecast,
        };
        export.set(&[one("a", next_and_last(&prediction(), 0)), one("b", None)]);
        let out = text(&registry);
        for line in [
            r#"sla_forecast{bound="upper",id="a",metric_name="node_load1",step="horizon"} 4"#,
            r#"sla_forecast{bound="lower",id="a",metric_name="node_load1",step="next"} 0"#,
            r#"sla_forecast{bound="value",id="a",metric_name="node_load1",step="next"} 1"#,
            r#"sla_range{bound="max",id="b",metric_name="node_load1"} 4"#,
            r#"sla_value{id="b",metric_name="node_load1"} 0.5"#,
        ] {
            assert!(out.contains(line), "{line} in {out}");
        }
        assert!(
            !out.contains(r#"sla_forecast{bound="value",id="b""#),
            "{out}"
        );
        export.set(&[one("b", None)]);
        assert!(!text(&registry).contains(r#"id="a""#));
    }
}
