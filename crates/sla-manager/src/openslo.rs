//! OpenSLO v1 documents for the SLA set: `PUT /slaset` with `Content-Type: application/yaml`
//! reads a stream of `SLO` documents into the set's JSON (then checked like any set), and
//! `GET /slaset?format=openslo` writes the stored set as such a stream.
//!
//! One `SLO` per entry, its SLI inline (`spec.indicator`), its source `type: Prometheus`:
//! - `thresholdMetric` with `query` a series selector of exact labels (`name{label="value"}`)
//!   and `budgetingMethod: Timeslices` (`timeSliceWindow: 1m`) is a range SLA: `op: lte` gives
//!   the range's max, `op: gte` its min, the annotation `sla-monitor/range-min` (or `-max`) the
//!   other bound, and `sla-monitor/for` its `for` (1 minute when absent). With one sample a
//!   minute a slice is good exactly when its sample is in range, whatever `timeSliceTarget`.
//! - `ratioMetric` (`counter`, `good`, `total`) with `budgetingMethod: Occurrences` is a ratio
//!   SLI.
//! - `timeWindow`: rolling `7d`, `28d` (`4w`), `30d` (`1w` is `7d`), or calendar `1M` / `1w`
//!   with `calendar.timeZone` (its `startTime` is not kept: periods start on the 1st or on a
//!   Monday).
//!
//! Names, display names, descriptions and services are read and not kept: an export names each
//! SLO by its entry's id. Anything else (alert policies, `bad`, `raw`, `lt`, other budgeting
//! methods, other sources) is a problem naming the field. An entry without an objective is not
//! an SLO: the export leaves it out, with a comment.

use common::{Labels, series::METRIC_NAME_LABEL};
use serde_json::{Map, Value, json};

mod export;

pub use export::export;

/// The annotations that carry what OpenSLO has no field for.
pub(crate) const RANGE_MIN: &str = "sla-monitor/range-min";
pub(crate) const RANGE_MAX: &str = "sla-monitor/range-max";
pub(crate) const FOR: &str = "sla-monitor/for";

/// The set's JSON from an OpenSLO stream, or every problem (each naming its document and field).
pub fn import(text: &str) -> Result<Value, Vec<String>> {
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    for (index, document) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
        let who = format!("document {}", index + 1);
        let value: Value = match serde::Deserialize::deserialize(document) {
            Ok(value) => value,
            Err(error) => {
                // The stream cannot be read past a syntax error (its iterator would repeat it).
                problems.push(format!("{who}: not YAML: {error}"));
                break;
            }
        };
        if value.is_null() {
            continue;
        }
        let mut reader = Reader {
            who: &who,
            problems: Vec::new(),
        };
        let entry = reader.slo(&value);
        problems.extend(reader.problems);
        entries.extend(entry);
    }
    if entries.is_empty() && problems.is_empty() {
        problems.push("no OpenSLO document".to_owned());
    }
    if problems.is_empty() {
        Ok(Value::Array(entries))
    } else {
        Err(problems)
    }
}

struct Reader<'a> {
    who: &'a str,
    problems: Vec<String>,
}

impl Reader<'_> {
    fn problem(&mut self, text: String) {
        self.problems.push(format!("{}: {text}", self.who));
    }

    /// `value` as an object whose keys are among `allowed` (`path` names it); null is empty.
    fn object<'v>(
        &mut self,
        value: Option<&'v Value>,
        path: &str,
        allowed: &[&str],
    ) -> Option<&'v Map<String, Value>> {
        let object = match value {
            None | Some(Value::Null) => return None,
            Some(Value::Object(object)) => object,
            Some(_) => {
                self.problem(format!("{path} must be a mapping"));
                return None;
            }
        };
        for (key, field) in object {
            if !allowed.contains(&key.as_str()) && !field.is_null() {
                self.problem(format!("unsupported field {path}.{key}"));
            }
        }
        Some(object)
    }

    /// The one element of the list `spec.<field>`, a mapping with only `allowed` fields (`what`
    /// names an element in the problem when there are more or none).
    fn only_object<'v>(
        &mut self,
        spec: &'v Map<String, Value>,
        (field, what): (&str, &str),
        allowed: &[&str],
    ) -> Option<&'v Map<String, Value>> {
        let items = spec.get(field).and_then(Value::as_array);
        let [item] = items.map(Vec::as_slice).unwrap_or_default() else {
            self.problem(format!("spec.{field} must hold exactly one {what}"));
            return None;
        };
        self.object(Some(item), &format!("spec.{field}[0]"), allowed)
    }

    fn slo(&mut self, value: &Value) -> Option<Value> {
        let top = self.object(
            Some(value),
            "document",
            &["apiVersion", "kind", "metadata", "spec"],
        )?;
        if top.get("apiVersion") != Some(&json!("openslo/v1")) {
            self.problem("apiVersion must be openslo/v1".to_owned());
        }
        if top.get("kind") != Some(&json!("SLO")) {
            self.problem("kind must be SLO (with its SLI inline)".to_owned());
        }
        let metadata = self.object(
            top.get("metadata"),
            "metadata",
            &["name", "displayName", "annotations", "labels"],
        );
        // Annotations are free-form: the ones of ours are read, the rest left alone.
        let annotations = metadata
            .and_then(|m| m.get("annotations"))
            .and_then(Value::as_object);
        let spec = self.object(
            top.get("spec"),
            "spec",
            &[
                "description",
                "service",
                "indicator",
                "timeWindow",
                "budgetingMethod",
                "objectives",
            ],
        )?;
        let indicator = self.object(
            spec.get("indicator"),
            "spec.indicator",
            &["metadata", "spec"],
        );
        let sli = self.object(
            indicator.and_then(|i| i.get("spec")),
            "spec.indicator.spec",
            &["description", "thresholdMetric", "ratioMetric"],
        );
        let Some(sli) = sli else {
            self.problem("spec.indicator.spec is missing (the SLI must be inline)".to_owned());
            return None;
        };
        let objective = self.objective(spec);
        let method = spec.get("budgetingMethod").and_then(Value::as_str);
        let mut entry = match (sli.get("thresholdMetric"), sli.get("ratioMetric")) {
            (Some(threshold), None) => {
                if method != Some("Timeslices") {
                    self.problem(format!(
                        "spec.budgetingMethod must be Timeslices with a thresholdMetric (minutes in range), got {}",
                        spec.get("budgetingMethod").unwrap_or(&Value::Null)
                    ));
                }
                self.threshold(threshold, spec, annotations)?
            }
            (None, Some(ratio)) => {
                if method != Some("Occurrences") {
                    self.problem(format!(
                        "spec.budgetingMethod must be Occurrences with a ratioMetric (events), got {}",
                        spec.get("budgetingMethod").unwrap_or(&Value::Null)
                    ));
                }
                self.ratio(ratio)?
            }
            _ => {
                self.problem(
                    "spec.indicator.spec needs one of thresholdMetric or ratioMetric".to_owned(),
                );
                return None;
            }
        };
        entry.insert("objective".to_owned(), objective?);
        Some(Value::Object(entry))
    }

    /// The Prometheus query of a `metricSource`.
    fn query(&mut self, metric: Option<&Value>, path: &str) -> Option<String> {
        let metric = self.object(metric, path, &["metricSource"])?;
        let path = format!("{path}.metricSource");
        let source = self.object(
            metric.get("metricSource"),
            &path,
            &["type", "metricSourceRef", "spec"],
        )?;
        match source.get("type").and_then(Value::as_str) {
            Some(kind) if kind.eq_ignore_ascii_case("prometheus") => {}
            other => self.problem(format!(
                "{path}.type must be Prometheus, got {}",
                other.map_or("nothing".to_owned(), |t| format!("{t:?}"))
            )),
        }
        let spec = self.object(source.get("spec"), &format!("{path}.spec"), &["query"])?;
        match spec.get("query").and_then(Value::as_str) {
            Some(query) => Some(query.trim().to_owned()),
            None => {
                self.problem(format!("{path}.spec.query is missing"));
                None
            }
        }
    }

    fn ratio(&mut self, ratio: &Value) -> Option<Map<String, Value>> {
        let path = "spec.indicator.spec.ratioMetric";
        let ratio = self.object(Some(ratio), path, &["counter", "good", "total"])?;
        let good = self.query(ratio.get("good"), &format!("{path}.good"));
        let total = self.query(ratio.get("total"), &format!("{path}.total"));
        let mut entry = Map::new();
        entry.insert("good".into(), json!(good?));
        entry.insert("total".into(), json!(total?));
        entry.insert(
            "counter".into(),
            ratio.get("counter").cloned().unwrap_or(json!(true)),
        );
        Some(entry)
    }

    fn threshold(
        &mut self,
        threshold: &Value,
        spec: &Map<String, Value>,
        annotations: Option<&Map<String, Value>>,
    ) -> Option<Map<String, Value>> {
        let path = "spec.indicator.spec.thresholdMetric";
        let query = self.query(
            Some(&json!({"metricSource": threshold.get("metricSource")})),
            path,
        );
        let name = query.as_deref().and_then(|query| {
            let labels = parse_selector(query);
            if labels.is_none() {
                self.problem(format!(
                    "{path}.metricSource.spec.query must be a series selector with exact labels (name{{label=\"value\"}}), got {query:?}"
                ));
            }
            labels
        });
        let objective = spec.get("objectives").and_then(|o| o.get(0));
        let op = objective.and_then(|o| o.get("op")).and_then(Value::as_str);
        let value = objective
            .and_then(|o| o.get("value"))
            .and_then(Value::as_f64);
        let annotation = |key: &str| {
            annotations.and_then(|a| a.get(key)).and_then(|v| {
                v.as_str()
                    .and_then(|s| s.parse::<f64>().ok())
                    .or(v.as_f64())
            })
        };
        let (min, max) = match (op, value) {
            (Some("lte"), Some(value)) => (annotation(RANGE_MIN).unwrap_or(f64::MIN), value),
            (Some("gte"), Some(value)) => (value, annotation(RANGE_MAX).unwrap_or(f64::MAX)),
            (op, _) => {
                self.problem(format!(
                    "spec.objectives[0].op must be lte or gte with a numeric value (the range includes its bounds), got {}",
                    op.map_or("nothing".to_owned(), |o| format!("{o:?}"))
                ));
                return None;
            }
        };
        let for_minutes = annotation(FOR).unwrap_or(1.0);
        let mut entry = Map::new();
        entry.insert("name".into(), json!(name?));
        entry.insert("range".into(), json!({"min": min, "max": max}));
        entry.insert("for".into(), json!(for_minutes));
        Some(entry)
    }

    fn objective(&mut self, spec: &Map<String, Value>) -> Option<Value> {
        let objective = self.only_object(
            spec,
            ("objectives", "objective"),
            &[
                "displayName",
                "op",
                "value",
                "target",
                "targetPercent",
                "timeSliceTarget",
                "timeSliceWindow",
            ],
        )?;
        if let Some(window) = objective.get("timeSliceWindow")
            && !matches!(window.as_str(), Some("1m" | "60s"))
            && window.as_f64() != Some(1.0)
        {
            self.problem(format!(
                "spec.objectives[0].timeSliceWindow must be 1m (one sample a minute), got {window}"
            ));
        }
        let target = match (objective.get("target"), objective.get("targetPercent")) {
            (Some(target), None) => target.as_f64(),
            (None, Some(percent)) => percent.as_f64().map(|p| p / 100.0),
            _ => None,
        };
        let Some(target) = target else {
            self.problem("spec.objectives[0] needs target or targetPercent".to_owned());
            return None;
        };
        let window = self.only_object(
            spec,
            ("timeWindow", "window"),
            &["duration", "isRolling", "calendar"],
        )?;
        let duration = window
            .get("duration")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let rolling = window
            .get("isRolling")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let mut wire = json!({"target": target});
        if rolling {
            match duration {
                "7d" | "1w" => wire["window"] = json!("7d"),
                "28d" | "4w" => wire["window"] = json!("28d"),
                "30d" => wire["window"] = json!("30d"),
                other => self.problem(format!(
                    "spec.timeWindow[0].duration {other:?} is not supported for a rolling window (7d, 28d or 30d)"
                )),
            }
        } else {
            match duration {
                "1M" => wire["calendar"] = json!("month"),
                "1w" | "7d" => wire["calendar"] = json!("week"),
                other => self.problem(format!(
                    "spec.timeWindow[0].duration {other:?} is not supported for a calendar window (1M or 1w)"
                )),
            }
            let calendar = self.object(
                window.get("calendar"),
                "spec.timeWindow[0].calendar",
                &["startTime", "timeZone"],
            );
            if let Some(zone) = calendar.and_then(|c| c.get("timeZone")) {
                wire["time_zone"] = zone.clone();
            }
        }
        Some(wire)
    }
}

/// The labels of a selector with exact matchers only: `name{label="value",...}`.
pub fn parse_selector(text: &str) -> Option<Labels> {
    let text = text.trim();
    let (name, rest) = match text.find('{') {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    };
    let name = name.trim();
    let valid_name = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
    // `{__name__="x"}` names the metric among the labels.
    if !(valid_name || name.is_empty() && rest.is_some()) {
        return None;
    }
    let mut labels = Labels::new();
    if valid_name {
        labels.insert(METRIC_NAME_LABEL.to_owned(), name.to_owned());
    }
    let Some(rest) = rest else {
        return Some(labels);
    };
    let mut chars = rest.trim_end().strip_suffix('}')?.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        if chars.peek().is_none() {
            return labels.contains_key(METRIC_NAME_LABEL).then_some(labels);
        }
        let label: String =
            std::iter::from_fn(|| chars.next_if(|c| c.is_ascii_alphanumeric() || *c == '_'))
                .collect();
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if label.is_empty() || chars.next() != Some('=') || chars.peek() == Some(&'~') {
            return None;
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next() != Some('"') {
            return None;
        }
        let mut value = String::new();
        loop {
            match chars.next()? {
                '"' => break,
                // The escapes of PromQL strings, and JSON's (common::series::selector).
                '\\' => value.push(match chars.next()? {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    'u' => {
                        let hex: String = (0..4).filter_map(|_| chars.next()).collect();
                        char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?
                    }
                    other => other,
                }),
                other => value.push(other),
            }
        }
        labels.insert(label, value);
    }
}

#[cfg(test)]
#[path = "openslo_tests.rs"]
mod tests;
