//! Checking a proposed SLA set in full, so that every problem is reported at once.

use common::{
    Labels,
    series::{METRIC_NAME_LABEL, selector},
    sla::{Sla, SlaRange},
};
use serde_json::{Map, Value};

use super::{
    ratio::{RATIO_FIELDS, RatioSli, parse_ratio},
    slo::{self, Objective},
};

/// One valid entry of a set: a range SLA (the original's) or a ratio SLI.
#[derive(Debug, Clone, PartialEq)]
pub enum SetEntry {
    /// A series and its allowed range.
    Range(Sla),
    /// Good and total events (it always has an objective).
    Ratio(RatioSli),
}

/// The longest `for`: 12 hours, the longest window the reports look at. Each evaluation reads
/// the 12 hours before `at` plus `for` minutes at a 1-minute step; with this bound that is at
/// most 1,441 points, one Prometheus range query per SLA (its limit is 11,000 points) over 24
/// hours at most, well inside Prometheus' default 15-day retention, and an answer well within
/// the request timeout. (Unbounded, `"for": 4294967295` asked for 8,000 years of history and
/// timed out.)
pub const MAX_FOR_MINUTES: u32 = 720;

/// The fields an SLA entry may have (`id` is what `GET /slaset` adds; it is recomputed).
const FIELDS: [&str; 5] = ["name", "range", "for", "objective", "id"];

/// A proposed set after the checks that need nothing but the body.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedSet {
    /// Each entry whose name is well formed (first occurrence only), by position (0-based):
    /// the ones to look up in Prometheus.
    pub names: Vec<(usize, Labels)>,
    /// Each ratio entry whose expressions are well formed (first occurrence only), by
    /// position: the expressions to check in Prometheus.
    pub ratios: Vec<(usize, RatioSli)>,
    /// Each entry that passed every check, by position.
    slas: Vec<Option<SetEntry>>,
    /// Each entry's objective, by position (none when it has none or did not parse).
    objectives: Vec<Option<Objective>>,
    /// Everything wrong so far.
    pub problems: Vec<String>,
}

/// Checks `body` as an SLA set of `size` metrics: a JSON list of
/// `{"name": {labels}, "range": {"min", "max"}, "for": minutes}`.
pub fn parse_sla_set(body: &Value, size: usize) -> ParsedSet {
    let mut parsed = ParsedSet {
        names: Vec::new(),
        ratios: Vec::new(),
        slas: Vec::new(),
        objectives: Vec::new(),
        problems: Vec::new(),
    };
    let Some(entries) = body.as_array() else {
        parsed
            .problems
            .push(format!("The SLA set must be a JSON list of {size} metrics"));
        return parsed;
    };
    if entries.len() != size {
        parsed.problems.push(format!(
            "SLA set must consist of {size} metrics. {} provided",
            entries.len()
        ));
    }
    for (index, entry) in entries.iter().enumerate() {
        let ratio = entry.as_object().filter(|fields| is_ratio(fields));
        let who = match ratio {
            Some(_) => format!("{} (ratio)", subject(index, None)),
            None => subject(index, parse_name(entry.get("name")).ok().as_ref()),
        };
        let sla = match ratio {
            Some(fields) => {
                parse_ratio_entry(index, fields, &who, &mut parsed).map(SetEntry::Ratio)
            }
            None => parse_entry(index, entry, &mut parsed).map(SetEntry::Range),
        };
        let objective = slo::parse_objective(entry.get("objective")).unwrap_or_else(|list| {
            parsed
                .problems
                .extend(list.into_iter().map(|p| format!("{who}: {p}")));
            None
        });
        let sla = if ratio.is_some() && entry.get("objective").is_none_or(Value::is_null) {
            parsed.problems.push(format!(
                "{who}: objective is missing (a ratio entry needs one)"
            ));
            None
        } else {
            sla
        };
        parsed.slas.push(sla);
        parsed.objectives.push(objective);
    }
    parsed
}

/// The problem of a ratio entry whose expression the target Prometheus rejects.
pub fn bad_expression(index: usize, which: &str, message: &str) -> String {
    format!(
        "{} (ratio): {which} is not a valid PromQL expression: {message}",
        subject(index, None)
    )
}

/// The problem of an entry whose series the target Prometheus does not have.
pub fn not_in_prometheus(index: usize, labels: &Labels) -> String {
    format!(
        "{}: not found in the target Prometheus (no series with exactly these labels)",
        subject(index, Some(labels))
    )
}

impl ParsedSet {
    /// The objective of each entry, in the set's order (call before [`finish_validation`]).
    pub fn objectives(&self) -> Vec<Option<Objective>> {
        self.objectives.clone()
    }
}

/// The valid set, or every problem: those found in the body and `more` (found elsewhere).
pub fn finish_validation(
    parsed: ParsedSet,
    more: Vec<String>,
) -> Result<Vec<SetEntry>, Vec<String>> {
    let mut problems = parsed.problems;
    problems.extend(more);
    if problems.is_empty() {
        // No problem means every entry parsed.
        Ok(parsed.slas.into_iter().flatten().collect())
    } else {
        Err(problems)
    }
}

/// How a problem names an entry: its 1-based position and, when known, its selector.
fn subject(index: usize, labels: Option<&Labels>) -> String {
    match labels {
        Some(labels) => format!("metric {} ({})", index + 1, selector(labels)),
        None => format!("metric {}", index + 1),
    }
}

/// Whether an entry is a ratio SLI: it has `good` or `total`.
fn is_ratio(fields: &Map<String, Value>) -> bool {
    fields.contains_key("good") || fields.contains_key("total")
}

fn parse_ratio_entry(
    index: usize,
    fields: &Map<String, Value>,
    who: &str,
    parsed: &mut ParsedSet,
) -> Option<RatioSli> {
    let mut problems: Vec<String> = fields
        .keys()
        .filter(|key| !RATIO_FIELDS.contains(&key.as_str()))
        .map(|key| {
            format!("{who}: unknown field {key:?} (a ratio entry has good, total, counter and objective)")
        })
        .collect();
    let sli = parse_ratio(fields)
        .map_err(|list| problems.extend(list.into_iter().map(|p| format!("{who}: {p}"))))
        .ok();
    if let Some(sli) = &sli {
        match parsed
            .ratios
            .iter()
            .find(|(_, other)| other.id() == sli.id())
        {
            Some((first, _)) => problems.push(format!(
                "{who}: the same good and total as metric {}",
                first + 1
            )),
            None => parsed.ratios.push((index, sli.clone())),
        }
    }
    let clean = problems.is_empty();
    parsed.problems.extend(problems);
    sli.filter(|_| clean)
}

fn parse_entry(index: usize, entry: &Value, parsed: &mut ParsedSet) -> Option<Sla> {
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

fn parse_name(value: Option<&Value>) -> Result<Labels, String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(name: &str, min: f64, max: f64, for_minutes: u32) -> Value {
        json!({"name": {"__name__": name, "job": "j"}, "range": {"min": min, "max": max}, "for": for_minutes})
    }

    fn problems(body: Value, size: usize) -> Vec<String> {
        finish_validation(parse_sla_set(&body, size), vec![]).unwrap_err()
    }

    /// The range SLAs of a valid set.
    fn ranges(entries: Vec<SetEntry>) -> Vec<Sla> {
        entries
            .into_iter()
            .filter_map(|e| match e {
                SetEntry::Range(sla) => Some(sla),
                SetEntry::Ratio(_) => None,
            })
            .collect()
    }

    #[test]
    fn ratio_entries_sit_beside_range_ones_and_are_checked_with_them() {
        let ratio = json!({"good": "sum(ok_total)", "total": "sum(all_total)",
            "objective": {"target": 0.99, "window": "7d"}});
        let body = json!([entry("a", 0.0, 1.0, 5), ratio.clone()]);
        let parsed = parse_sla_set(&body, 2);
        assert_eq!(parsed.ratios.len(), 1);
        let entries = finish_validation(parsed, vec![]).unwrap();
        assert!(
            matches!(&entries[1], SetEntry::Ratio(sli) if sli.counter && sli.good == "sum(ok_total)")
        );
        assert_eq!(ranges(entries).len(), 1);

        let body = json!([
            ratio.clone(),
            ratio,
            {"good": "sum(ok_total)", "total": 3, "for": 5},
            {"good": "a", "total": "b", "objective": {"target": 2, "window": "7d"}},
        ]);
        assert_eq!(
            problems(body, 4),
            [
                "metric 2 (ratio): the same good and total as metric 1",
                r#"metric 3 (ratio): unknown field "for" (a ratio entry has good, total, counter and objective)"#,
                "metric 3 (ratio): total must be a non-empty PromQL expression, got 3",
                "metric 3 (ratio): objective is missing (a ratio entry needs one)",
                "metric 4 (ratio): objective.target must be a number between 0 and 1 (exclusive), got 2",
            ]
        );
        let without = json!([{"good": "a", "total": "b"}]);
        assert_eq!(
            problems(without, 1),
            ["metric 1 (ratio): objective is missing (a ratio entry needs one)"]
        );
        assert_eq!(
            bad_expression(0, "good", "parse error"),
            "metric 1 (ratio): good is not a valid PromQL expression: parse error"
        );
    }

    #[test]
    fn a_valid_set_parses_in_order() {
        let body = json!([entry("a", 0.0, 1.0, 5), entry("b", -1.0, 1.0, 1)]);
        let parsed = parse_sla_set(&body, 2);
        assert_eq!(parsed.names.len(), 2);
        let slas = ranges(finish_validation(parsed, vec![]).unwrap());
        assert_eq!(
            slas.iter()
                .map(|s| s.name["__name__"].as_str())
                .collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!((slas[1].range.min, slas[1].for_minutes), (-1.0, 1));
    }

    #[test]
    fn the_count_is_checked_with_the_seed_message() {
        let body = json!([entry("a", 0.0, 1.0, 5)]);
        assert_eq!(
            problems(body, 5),
            vec!["SLA set must consist of 5 metrics. 1 provided"]
        );
        assert_eq!(
            problems(json!({"a": 1}), 5),
            vec!["The SLA set must be a JSON list of 5 metrics"]
        );
    }

    #[test]
    fn every_problem_is_listed() {
        let body = json!([
            {"name": {"__name__": "a"}, "range": {"min": "low", "max": 1}, "for": 5},
            {"name": {"__name__": "b"}, "range": {"max": 1}, "for": 0},
            {"name": {"__name__": "c"}, "for": -2},
            {"name": {"__name__": "d"}, "range": {"min": 3, "max": 1}},
            {"name": {"__name__": "a"}, "range": {"min": 0, "max": 1}, "for": 5.5},
            {"range": {"min": 0, "max": 1}, "for": 5},
            {"name": {"job": "x"}, "range": {"min": 0}, "for": "5", "renge": {}},
            "nope"
        ]);
        let found = problems(body, 8);
        let expected = [
            r#"metric 1 ({__name__="a"}): range.min must be a number, got "low""#,
            r#"metric 2 ({__name__="b"}): range.min is missing"#,
            r#"metric 2 ({__name__="b"}): for must be a positive number of minutes, got 0"#,
            r#"metric 3 ({__name__="c"}): range is missing"#,
            r#"metric 3 ({__name__="c"}): for must be a positive number of minutes, got -2"#,
            r#"metric 4 ({__name__="d"}): range.min (3) is greater than range.max (1)"#,
            r#"metric 4 ({__name__="d"}): for is missing"#,
            r#"metric 5 ({__name__="a"}): the same metric as metric 1"#,
            r#"metric 5 ({__name__="a"}): for must be a whole number of minutes, got 5.5"#,
            "metric 6: name is missing",
            r#"metric 7: name must include the metric name as "__name__""#,
            r#"metric 7: unknown field "renge" (expected name, range and for)"#,
            "metric 7: range.max is missing",
            r#"metric 7: for must be a positive number of minutes, got "5""#,
            "metric 8: must be an object with name, range and for",
        ];
        assert_eq!(found, expected);
    }

    #[test]
    fn names_are_looked_up_once_and_prometheus_problems_join_the_list() {
        let body = json!([
            entry("a", 0.0, 1.0, 5),
            entry("a", 0.0, 1.0, 5),
            entry("b", 0.0, 1.0, 5)
        ]);
        let parsed = parse_sla_set(&body, 3);
        assert_eq!(
            parsed.names.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
            [0, 2]
        );
        let missing = not_in_prometheus(2, &parsed.names[1].1);
        assert_eq!(
            missing,
            r#"metric 3 ({__name__="b",job="j"}): not found in the target Prometheus (no series with exactly these labels)"#
        );
        let all = finish_validation(parsed, vec![missing]).unwrap_err();
        assert_eq!(all.len(), 2);
    }

    #[test]
    fn for_is_bounded_to_twelve_hours() {
        let body = |minutes: Value| {
            json!([
                {"name": {"__name__": "a"}, "range": {"min": 0, "max": 1}, "for": minutes},
                {"name": {"__name__": "b"}, "range": {"min": 2, "max": 1}, "for": 5}
            ])
        };
        for (minutes, shown) in [
            (json!(4_294_967_295_u64), "4294967295"),
            (json!(721), "721"),
            (json!(1e300), "1e+300"),
        ] {
            let found = problems(body(minutes), 2);
            assert_eq!(
                found,
                [
                    format!(
                        r#"metric 1 ({{__name__="a"}}): for must be between 1 and 720 minutes, got {shown}"#
                    ),
                    r#"metric 2 ({__name__="b"}): range.min (2) is greater than range.max (1)"#
                        .to_owned(),
                ],
                "every problem in one list"
            );
        }
        let longest =
            json!([{"name": {"__name__": "a"}, "range": {"min": 0, "max": 1}, "for": 720}]);
        let slas = ranges(finish_validation(parse_sla_set(&longest, 1), vec![]).unwrap());
        assert_eq!(slas[0].for_minutes, MAX_FOR_MINUTES);
    }

    #[test]
    fn an_id_from_get_slaset_is_accepted() {
        let mut e = entry("a", 0.0, 1.0, 5);
        e["id"] = json!("0123456789abcdef");
        assert!(finish_validation(parse_sla_set(&json!([e]), 1), vec![]).is_ok());
    }

    #[test]
    fn objectives_are_checked_with_the_rest() {
        let mut a = entry("a", 0.0, 1.0, 5);
        a["objective"] = json!({"target": 0.995, "window": "28d"});
        let mut b = entry("b", 2.0, 1.0, 5);
        b["objective"] = json!({"target": 99.5, "window": "28d"});
        let found = problems(json!([a.clone(), b]), 2);
        assert_eq!(
            found,
            [
                r#"metric 2 ({__name__="b",job="j"}): range.min (2) is greater than range.max (1)"#,
                r#"metric 2 ({__name__="b",job="j"}): objective.target must be a number between 0 and 1 (exclusive), got 99.5"#,
            ]
        );
        let parsed = parse_sla_set(&json!([a, entry("c", 0.0, 1.0, 5)]), 2);
        let objectives = parsed.objectives();
        assert!(finish_validation(parsed, vec![]).is_ok());
        assert_eq!(objectives[0].map(|o| o.target), Some(0.995));
        assert_eq!(objectives[1], None);
    }
}
