//! One range SLA entry, the original's `{"name": {labels}, "range": {"min", "max"}, "for":
//! minutes}`: its fields, its label set and its bounds.

use common::{
    Labels,
    series::METRIC_NAME_LABEL,
    sla::{Sla, SlaRange},
};
use serde_json::{Map, Value};

use super::{ParsedSet, subject};

/// The longest `for`: 12 hours, the longest window the reports look at. Each evaluation reads
/// the 12 hours before `at` plus `for` minutes at a 1-minute step; with this bound that is at
/// most 1,441 points, one Prometheus range query per SLA (its limit is 11,000 points) over 24
/// hours at most, well inside Prometheus' default 15-day retention, and an answer well within
/// the request timeout. (Unbounded, `"for": 4294967295` asked for 8,000 years of history and
/// timed out.)
pub const MAX_FOR_MINUTES: u32 = 720;

/// The fields an SLA entry may have (`id` is what `GET /slaset` adds; it is recomputed).
const FIELDS: [&str; 5] = ["name", "range", "for", "objective", "id"];

pub(super) fn parse_entry(index: usize, entry: &Value, parsed: &mut ParsedSet) -> Option<Sla> {
    let Some(fields) = entry.as_object() else {
        parsed.problems.push(format!(
            "{}: must be an object with name, range and for",
            subject(index, None)
        ));
        return None;
    };
    let name = parse_name(fields.get("name"));
    let who = subject(index, name.as_ref().ok());
    let mut problems = Vec::new();
    if let Err(problem) = &name {
        problems.push(format!("{who}: {problem}"));
    }
    for key in fields.keys().filter(|key| !FIELDS.contains(&key.as_str())) {
        problems.push(format!(
            "{who}: unknown field {key:?} (expected name, range and for)"
        ));
    }
    if let Ok(labels) = &name {
        match parsed.names.iter().find(|(_, other)| other == labels) {
            Some((first, _)) => {
                problems.push(format!("{who}: the same metric as metric {}", first + 1))
            }
            None => parsed.names.push((index, labels.clone())),
        }
    }
    let range = parse_range(fields.get("range"))
        .map_err(|list| problems.extend(list.into_iter().map(|p| format!("{who}: {p}"))));
    let for_minutes =
        parse_for(fields.get("for")).map_err(|p| problems.push(format!("{who}: {p}")));
    let clean = problems.is_empty();
    parsed.problems.extend(problems);
    match (name, range, for_minutes) {
        (Ok(name), Ok(range), Ok(for_minutes)) if clean => Some(Sla {
            name,
            range,
            for_minutes,
        }),
        _ => None,
    }
}

pub(super) fn parse_name(value: Option<&Value>) -> Result<Labels, String> {
    let Some(value) = value else {
        return Err("name is missing".to_owned());
    };
    let Some(object) = value.as_object() else {
        return Err("name must be an object of label names to string values".to_owned());
    };
    let mut labels = Labels::new();
    for (label, value) in object {
        if !is_label_name(label) {
            return Err(format!("name has an invalid label name {label:?}"));
        }
        let Some(text) = value.as_str() else {
            return Err(format!("name label {label:?} must be a string"));
        };
        labels.insert(label.clone(), text.to_owned());
    }
    match labels.get(METRIC_NAME_LABEL) {
        Some(metric) if !metric.is_empty() => Ok(labels),
        _ => Err(format!(
            "name must include the metric name as {METRIC_NAME_LABEL:?}"
        )),
    }
}

fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn parse_range(value: Option<&Value>) -> Result<SlaRange, Vec<String>> {
    let Some(value) = value else {
        return Err(vec!["range is missing".to_owned()]);
    };
    let Some(object) = value.as_object() else {
        return Err(vec!["range must be an object with min and max".to_owned()]);
    };
    let min = bound(object, "min");
    let max = bound(object, "max");
    match (min, max) {
        (Ok(min), Ok(max)) if min > max => Err(vec![format!(
            "range.min ({min}) is greater than range.max ({max})"
        )]),
        (Ok(min), Ok(max)) => Ok(SlaRange { min, max }),
        (min, max) => Err([min.err(), max.err()].into_iter().flatten().collect()),
    }
}

fn bound(range: &Map<String, Value>, which: &str) -> Result<f64, String> {
    match range.get(which) {
        None | Some(Value::Null) => Err(format!("range.{which} is missing")),
        Some(value) => value
            .as_f64()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("range.{which} must be a number, got {value}")),
    }
}

fn parse_for(value: Option<&Value>) -> Result<u32, String> {
    let value = match value {
        None | Some(Value::Null) => return Err("for is missing".to_owned()),
        Some(value) => value,
    };
    let out_of_range =
        || format!("for must be between 1 and {MAX_FOR_MINUTES} minutes, got {value}");
    let Some(minutes) = value.as_f64() else {
        return Err(format!(
            "for must be a positive number of minutes, got {value}"
        ));
    };
    if minutes <= 0.0 {
        return Err(format!(
            "for must be a positive number of minutes, got {value}"
        ));
    }
    if minutes.fract() != 0.0 {
        return Err(format!(
            "for must be a whole number of minutes, got {value}"
        ));
    }
    if minutes > f64::from(MAX_FOR_MINUTES) {
        return Err(out_of_range());
    }
    Ok(minutes as u32)
}
