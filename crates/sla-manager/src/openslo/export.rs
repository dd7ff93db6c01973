//! The stored set as OpenSLO v1 documents (see [`super`] for the mapping).

use common::{
    Labels,
    series::{METRIC_NAME_LABEL, selector},
};
use serde_json::{Map, Value, json};

use super::{FOR, RANGE_MIN};
use crate::{
    domain::slo::{CalendarPeriod, Objective, ObjectiveWire, Window},
    repository::StoredEntry,
};

/// The stored set as an OpenSLO stream (the entries with an objective).
pub fn export(set: &[StoredEntry]) -> String {
    let mut text = String::new();
    for (index, entry) in set.iter().enumerate() {
        let document = match entry {
            StoredEntry::Range(stored) => stored.objective.map(|objective| {
                let range = stored.sla.range;
                let mut annotations = Map::new();
                annotations.insert(FOR.into(), json!(stored.sla.for_minutes.to_string()));
                let (op, value) = if range.max == f64::MAX && range.min != f64::MIN {
                    ("gte", range.min)
                } else {
                    if range.min != f64::MIN {
                        annotations.insert(RANGE_MIN.into(), json!(range.min.to_string()));
                    }
                    ("lte", range.max)
                };
                let sli = json!({"thresholdMetric": {"metricSource": {
                    "type": "Prometheus", "spec": {"query": query_of(&stored.sla.name)}}}});
                let mut objective_doc = objective_fields(objective);
                objective_doc["op"] = json!(op);
                objective_doc["value"] = json!(value);
                objective_doc["timeSliceTarget"] = json!(1.0);
                objective_doc["timeSliceWindow"] = json!("1m");
                slo(
                    format!("sla-{}", stored.id),
                    annotations,
                    sli,
                    "Timeslices",
                    objective,
                    objective_doc,
                )
            }),
            StoredEntry::Ratio(stored) => {
                let source = |query: &str| json!({"metricSource": {"type": "Prometheus", "spec": {"query": query}}});
                let sli = json!({"ratioMetric": {"counter": stored.sli.counter,
                    "good": source(&stored.sli.good), "total": source(&stored.sli.total)}});
                let objective = stored.objective;
                Some(slo(
                    format!("ratio-{}", stored.id),
                    Map::new(),
                    sli,
                    "Occurrences",
                    objective,
                    objective_fields(objective),
                ))
            }
        };
        match document {
            Some(document) => {
                text.push_str("---\n");
                text.push_str(&serde_yaml_ng::to_string(&document).unwrap_or_default());
            }
            None => text.push_str(&format!(
                "# metric {} has no objective: not an SLO, left out\n",
                index + 1
            )),
        }
    }
    text
}

/// A series' selector as people write it: `name{label="value",...}`.
fn query_of(labels: &Labels) -> String {
    let mut rest = labels.clone();
    let name = rest.remove(METRIC_NAME_LABEL).unwrap_or_default();
    if rest.is_empty() {
        name
    } else {
        format!("{name}{}", selector(&rest))
    }
}

fn objective_fields(objective: Objective) -> Value {
    json!({"target": objective.target})
}

fn slo(
    name: String,
    annotations: Map<String, Value>,
    sli: Value,
    method: &str,
    objective: Objective,
    objective_doc: Value,
) -> Value {
    let wire = ObjectiveWire::from(objective);
    let window = match objective.window {
        Window::Rolling { days } => json!({"duration": format!("{days}d"), "isRolling": true}),
        Window::Calendar { period, .. } => json!({
            "duration": if period == CalendarPeriod::Month { "1M" } else { "1w" },
            "isRolling": false,
            // A Monday and a 1st: the start of every period.
            "calendar": {"startTime": "2024-01-01 00:00:00", "timeZone": wire.time_zone},
        }),
    };
    let mut metadata = json!({"name": name});
    if !annotations.is_empty() {
        metadata["annotations"] = Value::Object(annotations);
    }
    json!({
        "apiVersion": "openslo/v1",
        "kind": "SLO",
        "metadata": metadata,
        "spec": {
            "indicator": {"spec": sli},
            "timeWindow": [window],
            "budgetingMethod": method,
            "objectives": [objective_doc],
        },
    })
}
