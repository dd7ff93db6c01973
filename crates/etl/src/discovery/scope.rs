//! Shard narrowing and batching: which metric names a shard queries, narrowed to its own series
//! where a label tells them apart, and how the names are grouped into queries.

use std::collections::{BTreeMap, BTreeSet};

use common::series::{Labels, METRIC_NAME_LABEL, label_name, replacement};

use super::selector::Selector;
use crate::shard::Shard;

/// The series an aggregate query covers at most when it batches several metric names; a name
/// with more series has queries of its own.
pub const SERIES_PER_QUERY: usize = 2_000;

/// The longest aggregate query of a batch of names, in bytes: VictoriaMetrics refuses queries
/// longer than its `-search.maxQueryLen` (16 KiB by default), which 200 names exceed; a name
/// whose one leg is longer still has queries of its own.
pub const QUERY_BYTES: usize = 16_000;

/// What a batch leg adds to its selector and its name's replacement literal, at most:
/// `label_replace(stddev_over_time(`, the longest slice, `), "__etl_name__", `, `, "", "")` and
/// ` or ` with its parentheses.
const LEG_OVERHEAD: usize = 100;

/// What the aggregate queries of one metric name cover.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Scope {
    /// The metric name.
    pub(super) name: String,
    /// A matcher narrowing the name's series to (a superset of) one shard's.
    pub(super) matcher: Option<String>,
    /// How many series the name's legs select.
    pub(super) series: usize,
}

/// The scopes of the names with series in `shard`: each narrowed, when the name's series are
/// not all in the shard, by the label that tells most of them apart (every series of the shard
/// must have it), to the values the shard's series have.
pub(super) fn scopes(series: &[Labels], shard: Shard) -> Vec<Scope> {
    let mut by_name: BTreeMap<&str, Vec<(&Labels, bool)>> = BTreeMap::new();
    for labels in series {
        if let Some(name) = labels.get(METRIC_NAME_LABEL) {
            by_name
                .entry(name)
                .or_default()
                .push((labels, shard.holds(labels)));
        }
    }
    let mut scopes = Vec::with_capacity(by_name.len());
    for (name, all) in by_name {
        let mine: Vec<&Labels> = all
            .iter()
            .filter(|(_, held)| *held)
            .map(|(labels, _)| *labels)
            .collect();
        if mine.is_empty() {
            continue;
        }
        let narrowed = if mine.len() < all.len() {
            narrowing(&all, &mine)
        } else {
            None
        };
        scopes.push(match narrowed {
            Some((matcher, series)) => Scope {
                name: name.to_owned(),
                matcher: Some(matcher),
                series,
            },
            None => Scope {
                name: name.to_owned(),
                matcher: None,
                series: all.len(),
            },
        });
    }
    scopes
}

/// The matcher that narrows the series `all` of a name to `mine` (and how many it selects):
/// on the label with the most distinct values that every one of `mine` has; none when no label
/// tells the series apart.
fn narrowing(all: &[(&Labels, bool)], mine: &[&Labels]) -> Option<(String, usize)> {
    let mut distinct: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (labels, _) in all {
        for (label, value) in labels
            .iter()
            .filter(|(label, _)| *label != METRIC_NAME_LABEL)
        {
            distinct.entry(label).or_default().insert(value);
        }
    }
    let label = distinct
        .into_iter()
        .filter(|(label, values)| values.len() > 1 && mine.iter().all(|l| l.contains_key(*label)))
        .max_by_key(|(_, values)| values.len())
        .map(|(label, _)| label)?;
    let values: BTreeSet<&str> = mine
        .iter()
        .filter_map(|l| l.get(label))
        .map(String::as_str)
        .collect();
    let selected = all
        .iter()
        .filter(|(l, _)| l.get(label).is_some_and(|v| values.contains(v.as_str())))
        .count();
    let alternation: Vec<String> = values.into_iter().map(regex_escape).collect();
    let pattern = serde_json::Value::from(alternation.join("|"));
    // The label comes from the data: quoted unless it is a legacy name (Prometheus 3 UTF-8).
    Some((format!("{}=~{pattern}", label_name(label)), selected))
}

/// `value` as a literal in a Prometheus (RE2) regular expression.
fn regex_escape(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        if r"\.+*?()|[]{}^$".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// `scopes` in batches of at most `names_per_query` names and, unless one name has more,
/// [`SERIES_PER_QUERY`] series and [`QUERY_BYTES`] of query.
pub(super) fn batch<'a>(
    scopes: &'a [Scope],
    names_per_query: usize,
    selector: &Selector,
) -> Vec<Vec<&'a Scope>> {
    let leg_bytes = |scope: &Scope| {
        selector
            .with_name(&scope.name, scope.matcher.as_deref())
            .len()
            + replacement(&scope.name).len()
            + LEG_OVERHEAD
    };
    let mut batches: Vec<Vec<&Scope>> = Vec::new();
    let (mut series, mut bytes) = (0, 0);
    for scope in scopes {
        let leg = leg_bytes(scope);
        match batches.last_mut() {
            Some(last)
                if last.len() < names_per_query
                    && series + scope.series <= SERIES_PER_QUERY
                    && bytes + leg <= QUERY_BYTES =>
            {
                last.push(scope);
                series += scope.series;
                bytes += leg;
            }
            _ => {
                batches.push(vec![scope]);
                series = scope.series;
                bytes = leg;
            }
        }
    }
    batches
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use common::testing::labels;

    pub(in crate::discovery) fn scope(name: &str, series: usize) -> Scope {
        Scope {
            name: name.to_owned(),
            matcher: None,
            series,
        }
    }

    #[test]
    fn batches_hold_few_series_and_big_names_alone() {
        let names = ["a", "big", "c", "d", "e"];
        let sized = names.map(|name| scope(name, if name == "big" { 5_000 } else { 600 }));
        let selector = Selector::parse(r#"{job="x"}"#);
        let batches: Vec<Vec<&str>> = batch(&sized, 200, &selector)
            .into_iter()
            .map(|b| b.into_iter().map(|scope| scope.name.as_str()).collect())
            .collect();
        assert_eq!(batches, [vec!["a"], vec!["big"], vec!["c", "d", "e"]]);
        let single = names.map(|name| scope(name, 1));
        let by_names: Vec<usize> = batch(&single, 2, &selector).iter().map(Vec::len).collect();
        assert_eq!(by_names, [2, 2, 1]);
    }

    #[test]
    fn a_shard_queries_its_own_series_where_a_label_tells_them_apart() {
        let mut series: Vec<Labels> = (0..40)
            .map(|n| {
                labels(&[
                    ("__name__", "bulk"),
                    ("job", "x"),
                    ("shard", &n.to_string()),
                ])
            })
            .collect();
        series.push(labels(&[("__name__", "alone"), ("job", "x")]));
        let shard = Shard { index: 1, count: 4 };
        let scopes = scopes(&series, shard);
        let bulk = scopes
            .iter()
            .find(|s| s.name == "bulk")
            .expect("bulk has series in the shard");
        let mine: Vec<String> = series
            .iter()
            .filter(|l| l["__name__"] == "bulk" && shard.holds(l))
            .map(|l| l["shard"].clone())
            .collect();
        let matcher = bulk
            .matcher
            .as_deref()
            .expect("narrowed by the shard label");
        assert!(matcher.starts_with("shard=~\""), "{matcher}");
        let pattern: Vec<&str> = matcher["shard=~\"".len()..matcher.len() - 1]
            .split('|')
            .collect();
        let mut expected: Vec<&str> = mine.iter().map(String::as_str).collect();
        expected.sort_unstable();
        assert_eq!(pattern, expected);
        assert_eq!(bulk.series, mine.len());
        // The one series of "alone" is in one shard only; the others do not query it.
        let alone_in = Shard::all(4)
            .filter(|shard| {
                self::scopes(&series, *shard)
                    .iter()
                    .any(|s| s.name == "alone")
            })
            .count();
        assert_eq!(alone_in, 1);
        // Unsharded, nothing is narrowed.
        assert!(
            self::scopes(&series, Shard::WHOLE)
                .iter()
                .all(|s| s.matcher.is_none())
        );
    }

    #[test]
    fn narrowing_needs_a_label_every_series_of_the_shard_has() {
        let all = [
            labels(&[("__name__", "m"), ("a", "1")]),
            labels(&[("__name__", "m"), ("b", "2")]),
        ];
        let with: Vec<(&Labels, bool)> = all.iter().map(|l| (l, true)).collect();
        assert_eq!(narrowing(&with, &[&all[0], &all[1]]), None);
        assert_eq!(regex_escape("a.b|c$"), r"a\.b\|c\$");
    }

    #[test]
    fn a_utf8_label_name_is_quoted_in_the_narrowing() {
        use common::testing::{Token, promql_tokens};
        let all = [
            labels(&[("__name__", "m"), ("shard.id", "1")]),
            labels(&[("__name__", "m"), ("shard.id", "2\"}")]),
        ];
        let with: Vec<(&Labels, bool)> = all.iter().map(|l| (l, true)).collect();
        let (matcher, selected) = narrowing(&with, &[&all[1]]).expect("narrowed");
        assert_eq!(selected, 1);
        assert_eq!(
            promql_tokens(&matcher),
            Ok(vec![
                Token::Str("shard.id".into()),
                Token::Punct("=~".into()),
                Token::Str("2\"\\}".into()),
            ]),
            "{matcher}"
        );
        let legacy = [
            labels(&[("__name__", "m"), ("shard", "1")]),
            labels(&[("__name__", "m"), ("shard", "2")]),
        ];
        let with: Vec<(&Labels, bool)> = legacy.iter().map(|l| (l, true)).collect();
        let (matcher, _) = narrowing(&with, &[&legacy[0]]).expect("narrowed");
        assert_eq!(matcher, r#"shard=~"1""#);
    }
}
