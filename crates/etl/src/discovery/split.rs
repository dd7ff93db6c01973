//! Splitting one metric name with more series than a query may cover into several queries,
//! each narrowed to some values of the label that tells the name's series apart.
//!
//! PromQL cannot hash a series, so the parts are cut from the series the discovery listed: by
//! the values of one label (`synthetic_bulk{shard=~"0|1|10"}`), in sorted order, each part
//! holding at most the per-query limit of series and a regex short enough for the query-length
//! limit. A value's series stay together in one part, so the parts are disjoint and together
//! select every listed series of the name. A series that appears after the discovery with a new
//! value is in no part until the next cycle lists it.

use std::collections::{BTreeMap, BTreeSet};

use common::series::{Labels, METRIC_NAME_LABEL, label_name};

/// The label that tells most of the series `all` of a name apart (the most distinct values,
/// more than one) and that every series of `mine` has; none when no label does.
pub(super) fn distinguishing_label<'a>(
    all: &[(&'a Labels, bool)],
    mine: &[&Labels],
) -> Option<&'a str> {
    let mut distinct: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (labels, _) in all {
        for (label, value) in labels
            .iter()
            .filter(|(label, _)| *label != METRIC_NAME_LABEL)
        {
            distinct.entry(label).or_default().insert(value);
        }
    }
    distinct
        .into_iter()
        .filter(|(label, values)| values.len() > 1 && mine.iter().all(|l| l.contains_key(*label)))
        .max_by_key(|(_, values)| values.len())
        .map(|(label, _)| label)
}

/// `label=~"v1|v2|..."`: the series whose `label` is one of `values` (each matched literally).
pub(super) fn values_matcher<'a>(label: &str, values: impl IntoIterator<Item = &'a str>) -> String {
    let alternation: Vec<String> = values.into_iter().map(regex_escape).collect();
    let pattern = serde_json::Value::from(alternation.join("|"));
    // The label comes from the data: quoted unless it is a legacy name (Prometheus 3 UTF-8).
    format!("{}=~{pattern}", label_name(label))
}

/// The parts of the series `mine` of a name, split on `label` (which each of them has): per
/// part its matcher and how many series of `all` it selects. A part closes before it passes
/// `series_per_query` series of `all` or `matcher_bytes` of matcher; one value with more series
/// than that is a part of its own.
pub(super) fn split(
    label: &str,
    all: &[(&Labels, bool)],
    mine: &[&Labels],
    series_per_query: usize,
    matcher_bytes: usize,
) -> Vec<(String, usize)> {
    let wanted: BTreeSet<&str> = mine
        .iter()
        .filter_map(|l| l.get(label))
        .map(String::as_str)
        .collect();
    let mut selected: BTreeMap<&str, usize> = BTreeMap::new();
    for (labels, _) in all {
        if let Some(value) = labels.get(label).filter(|v| wanted.contains(v.as_str())) {
            *selected.entry(value).or_default() += 1;
        }
    }
    // The fixed part of a matcher: the quoted label, `=~` and the pattern's quotes.
    let fixed = label_name(label).len() + 4;
    let mut parts: Vec<(Vec<&str>, usize, usize)> = Vec::new();
    for (value, series) in selected {
        // Escaped for the regex, then for the string literal, and its `|`.
        let bytes = serde_json::Value::from(regex_escape(value))
            .to_string()
            .len()
            - 1;
        match parts.last_mut() {
            Some((values, count, length))
                if *count + series <= series_per_query && *length + bytes <= matcher_bytes =>
            {
                values.push(value);
                *count += series;
                *length += bytes;
            }
            _ => parts.push((vec![value], series, fixed + bytes)),
        }
    }
    parts
        .into_iter()
        .map(|(values, count, _)| (values_matcher(label, values), count))
        .collect()
}

/// `value` as a literal in a Prometheus (RE2) regular expression.
pub(super) fn regex_escape(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        if r"\.+*?()|[]{}^$".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::testing::labels;

    fn bulk(count: usize) -> Vec<Labels> {
        (0..count)
            .map(|n| {
                labels(&[
                    ("__name__", "bulk"),
                    ("job", "x"),
                    ("shard", &n.to_string()),
                ])
            })
            .collect()
    }

    /// The values a matcher `label=~"a|b"` lists, unescaped.
    fn values_of(matcher: &str) -> Vec<String> {
        let (_, pattern) = matcher.split_once("=~").expect("a regex matcher");
        let pattern: String = serde_json::from_str(pattern).expect("a string literal");
        pattern.split('|').map(|v| v.replace('\\', "")).collect()
    }

    #[test]
    fn a_big_name_splits_into_disjoint_parts_under_the_limit_that_cover_it() {
        let series = bulk(1_003);
        let all: Vec<(&Labels, bool)> = series.iter().map(|l| (l, true)).collect();
        let mine: Vec<&Labels> = series.iter().collect();
        let label = distinguishing_label(&all, &mine).expect("shard tells them apart");
        assert_eq!(label, "shard");
        let parts = split(label, &all, &mine, 100, 16_000);
        assert_eq!(parts.len(), 11, "ceil(1003 / 100) parts");
        let mut seen = BTreeSet::new();
        for (matcher, count) in &parts {
            let values = values_of(matcher);
            assert!(*count <= 100 && *count == values.len(), "{matcher}");
            for value in values {
                assert!(seen.insert(value.clone()), "{value} in two parts");
            }
        }
        let every: BTreeSet<String> = series.iter().map(|l| l["shard"].clone()).collect();
        assert_eq!(seen, every, "every series in one part");
        assert_eq!(parts.iter().map(|(_, n)| n).sum::<usize>(), 1_003);
    }

    #[test]
    fn parts_also_close_at_the_matcher_length() {
        let series = bulk(1_000);
        let all: Vec<(&Labels, bool)> = series.iter().map(|l| (l, true)).collect();
        let mine: Vec<&Labels> = series.iter().collect();
        let parts = split("shard", &all, &mine, 1_000, 500);
        assert!(parts.len() > 5, "{} parts", parts.len());
        for (matcher, _) in &parts {
            assert!(matcher.len() <= 500, "{} bytes", matcher.len());
        }
        // Not cut far below the length either.
        assert!(parts[0].0.len() > 450, "{}", parts[0].0);
        assert_eq!(parts.iter().map(|(_, n)| n).sum::<usize>(), 1_000);
    }

    #[test]
    fn a_shard_splits_only_its_own_values_and_a_value_stays_whole() {
        // Two series a value (`instance` twice), a shard holding half of the values.
        let series: Vec<Labels> = (0..40)
            .flat_map(|n| {
                ["a", "b"].map(|i| {
                    labels(&[
                        ("__name__", "m"),
                        ("shard", &n.to_string()),
                        ("instance", i),
                    ])
                })
            })
            .collect();
        let all: Vec<(&Labels, bool)> = series
            .iter()
            .map(|l| (l, l["shard"].parse::<u32>().unwrap() % 2 == 0))
            .collect();
        let mine: Vec<&Labels> = all.iter().filter(|(_, m)| *m).map(|(l, _)| *l).collect();
        let parts = split("shard", &all, &mine, 5, 16_000);
        // 20 values of two series each, two values (4 series) a part.
        assert_eq!(parts.len(), 10);
        for (matcher, count) in &parts {
            assert_eq!(*count, 4, "{matcher}");
            assert!(
                values_of(matcher)
                    .iter()
                    .all(|v| v.parse::<u32>().unwrap() % 2 == 0)
            );
        }
        // A value with more series than the limit is a part of its own.
        let parts = split("shard", &all, &mine, 1, 16_000);
        assert_eq!(parts.len(), 20);
        assert!(parts.iter().all(|(_, count)| *count == 2));
    }

    #[test]
    fn values_are_matched_literally() {
        assert_eq!(regex_escape("a.b|c$"), r"a\.b\|c\$");
        assert_eq!(values_matcher("shard", ["1", "a.b"]), r#"shard=~"1|a\\.b""#);
    }
}
