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
    let longest = json!([{"name": {"__name__": "a"}, "range": {"min": 0, "max": 1}, "for": 720}]);
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
