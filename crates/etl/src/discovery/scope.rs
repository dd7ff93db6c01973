//! Shard narrowing and batching: which metric names a shard queries, narrowed to its own series
//! where a label tells them apart, and how the names are grouped into queries.

use std::collections::{BTreeMap, BTreeSet};

use common::series::{Labels, METRIC_NAME_LABEL, replacement};

use super::{
    selector::Selector,
    split::{distinguishing_label, split, values_matcher},
};
use crate::shard::Shard;

/// The series an aggregate query covers at most by default (`ETL_SERIES_PER_QUERY`): names are
/// batched up to it, and a name with more series is split into queries of at most that many.
pub const SERIES_PER_QUERY: usize = 2_000;

/// The longest aggregate query of a batch of names, in bytes: VictoriaMetrics refuses queries
/// longer than its `-search.maxQueryLen` (16 KiB by default), which 200 names exceed; a name
/// whose one leg is longer still has queries of its own.
pub const QUERY_BYTES: usize = 16_000;

/// The least room a split part's matcher gets, whatever the name and selector take.
const MIN_MATCHER_BYTES: usize = 1_000;

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

/// The scopes of the names with series in `shard`. A name with more of the shard's series than
/// `series_per_query` is split into parts on the label that tells its series apart (see
/// [`super::split`]); else it is narrowed, when its series are not all in the shard, by that
/// label to the values the shard's series have. Either needs a label every series of the shard
/// has; without one the name is queried whole.
pub(super) fn scopes(
    series: &[Labels],
    shard: Shard,
    series_per_query: usize,
    selector: &Selector,
) -> Vec<Scope> {
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
        let scope = |matcher: Option<String>, series: usize| Scope {
            name: name.to_owned(),
            matcher,
            series,
        };
        let label = if mine.len() > series_per_query || mine.len() < all.len() {
            distinguishing_label(&all, &mine)
        } else {
            None
        };
        match label {
            Some(label) if mine.len() > series_per_query => {
                // The matcher may take what the leg's other parts leave of a query.
                let leg =
                    selector.with_name(name, None).len() + replacement(name).len() + LEG_OVERHEAD;
                let bytes = QUERY_BYTES.saturating_sub(leg).max(MIN_MATCHER_BYTES);
                scopes.extend(
                    split(label, &all, &mine, series_per_query, bytes)
                        .into_iter()
                        .map(|(matcher, series)| scope(Some(matcher), series)),
                );
            }
            Some(label) => {
                let values: BTreeSet<&str> = mine
                    .iter()
                    .filter_map(|l| l.get(label))
                    .map(String::as_str)
                    .collect();
                let selected = all
                    .iter()
                    .filter(|(l, _)| l.get(label).is_some_and(|v| values.contains(v.as_str())))
                    .count();
                scopes.push(scope(Some(values_matcher(label, values)), selected));
            }
            None => scopes.push(scope(None, all.len())),
        }
    }
    scopes
}

/// `scopes` in batches of at most `names_per_query` names and, unless one scope has more,
/// `series_per_query` series and [`QUERY_BYTES`] of query.
pub(super) fn batch<'a>(
    scopes: &'a [Scope],
    names_per_query: usize,
    series_per_query: usize,
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
                    && series + scope.series <= series_per_query
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
        let batches: Vec<Vec<&str>> = batch(&sized, 200, SERIES_PER_QUERY, &selector)
            .into_iter()
            .map(|b| b.into_iter().map(|scope| scope.name.as_str()).collect())
            .collect();
        assert_eq!(batches, [vec!["a"], vec!["big"], vec!["c", "d", "e"]]);
        let single = names.map(|name| scope(name, 1));
        let by_names: Vec<usize> = batch(&single, 2, SERIES_PER_QUERY, &selector)
            .iter()
            .map(Vec::len)
            .collect();
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
        let scopes = scopes(&series, shard, SERIES_PER_QUERY, &selector());
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
                self::scopes(&series, *shard, SERIES_PER_QUERY, &selector())
                    .iter()
                    .any(|s| s.name == "alone")
            })
            .count();
        assert_eq!(alone_in, 1);
        // Unsharded, nothing is narrowed.
        assert!(
            self::scopes(&series, Shard::WHOLE, SERIES_PER_QUERY, &selector())
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
        assert_eq!(distinguishing_label(&with, &[&all[0], &all[1]]), None);
        // Nor split without one: queried whole, however many series.
        let scopes = scopes(&all, Shard::WHOLE, 1, &selector());
        assert_eq!(scopes, [scope("m", 2)]);
    }

    #[test]
    fn a_name_over_the_limit_is_split_and_the_others_batched() {
        let mut series: Vec<Labels> = (0..25)
            .map(|n| labels(&[("__name__", "big"), ("job", "x"), ("shard", &n.to_string())]))
            .collect();
        series.push(labels(&[("__name__", "small"), ("job", "x")]));
        let scopes = scopes(&series, Shard::WHOLE, 10, &selector());
        let big: Vec<&Scope> = scopes.iter().filter(|s| s.name == "big").collect();
        assert_eq!(
            big.iter().map(|s| s.series).collect::<Vec<_>>(),
            [10, 10, 5]
        );
        assert!(big.iter().all(|s| s.matcher.is_some()));
        assert!(scopes.contains(&scope("small", 1)));
        // The last part of the big name shares a query with the small name.
        let batches: Vec<usize> = batch(&scopes, 200, 10, &selector())
            .iter()
            .map(|b| b.iter().map(|s| s.series).sum())
            .collect();
        assert_eq!(batches, [10, 10, 6]);
        // Split per shard: each shard's parts hold its own series only, and all of them.
        for shard in Shard::all(3) {
            let parts = self::scopes(&series, shard, 4, &selector());
            let held = series
                .iter()
                .filter(|l| l["__name__"] == "big" && shard.holds(l))
                .count();
            let covered: usize = parts
                .iter()
                .filter(|s| s.name == "big")
                .map(|s| s.series)
                .sum();
            assert_eq!(covered, held, "{shard}");
        }
    }

    #[test]
    fn a_utf8_label_name_is_quoted_in_the_narrowing() {
        use common::testing::{Token, promql_tokens};
        let all = [
            labels(&[("__name__", "m"), ("shard.id", "1")]),
            labels(&[("__name__", "m"), ("shard.id", "2\"}")]),
        ];
        let with: Vec<(&Labels, bool)> = all.iter().map(|l| (l, true)).collect();
        let label = distinguishing_label(&with, &[&all[1]]).expect("a label");
        let matcher = values_matcher(label, ["2\"}"]);
        assert_eq!(
            promql_tokens(&matcher),
            Ok(vec![
                Token::Str("shard.id".into()),
                Token::Punct("=~".into()),
                Token::Str("2\"\\}".into()),
            ]),
            "{matcher}"
        );
        assert_eq!(values_matcher("shard", ["1"]), r#"shard=~"1""#);
    }

    fn selector() -> Selector {
        Selector::parse(r#"{job="x"}"#)
    }
}
