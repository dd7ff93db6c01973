//! The PromQL text of the aggregate queries: the disjoint slices of the windows, one leg per
//! metric name joined by a balanced `or`, and the answers turned back into windows.

use analytics::Aggregates;
use common::{
    range_semantics::RangeSemantics,
    record::Window,
    series::{Labels, METRIC_NAME_LABEL, replacement},
    window::{AggregateOp, WindowSpan},
};

use super::{scope::Scope, selector::Selector};
use crate::slicing::Slice;

/// The label each leg of an aggregate query carries its metric name in.
const NAME_LABEL: &str = "__etl_name__";

/// The five aggregates of one window of one series as they arrive, in [`Window`]'s order.
pub(super) type Operations = [Option<f64>; 5];

/// The five aggregates of a window, in [`Window`]'s order.
pub(super) const OPERATIONS: [AggregateOp; 5] = AggregateOp::IN_WINDOW_ORDER;

/// The range and offset selecting the samples of `window` that the shorter windows do not
/// hold, cut for the engine's `semantics` (see [`crate::slicing`]).
fn slice(window: WindowSpan, semantics: RangeSemantics) -> String {
    let shorter = match window {
        WindowSpan::H1 => None,
        WindowSpan::H3 => Some(WindowSpan::H1.millis()),
        WindowSpan::H12 => Some(WindowSpan::H3.millis()),
    };
    Slice::of(window.millis(), shorter, semantics).promql()
}

/// `op(selector[slice])` over the metric names of a batch: the bare function for one name, else
/// one leg per name labelled with its name, the legs joined by a balanced tree of `or`.
pub(super) fn aggregate_query(
    operation: &str,
    window: WindowSpan,
    semantics: RangeSemantics,
    selector: &Selector,
    scopes: &[&Scope],
) -> String {
    let leg = |scope: &Scope| {
        format!(
            "{operation}({}{})",
            selector.with_name(&scope.name, scope.matcher.as_deref()),
            slice(window, semantics)
        )
    };
    match scopes {
        [scope] => leg(scope),
        _ => or_tree(
            &scopes
                .iter()
                .map(|scope| {
                    // A metric name may be any UTF-8 (Prometheus 3): quoted and escaped, its
                    // `$` doubled so that label_replace does not expand them.
                    format!(
                        "label_replace({}, \"{NAME_LABEL}\", {}, \"\", \"\")",
                        leg(scope),
                        replacement(&scope.name)
                    )
                })
                .collect::<Vec<_>>(),
        ),
    }
}

/// `legs` joined by `or` as a balanced tree: `(a or b) or (c or d)`.
fn or_tree(legs: &[String]) -> String {
    let group = |legs: &[String]| match legs {
        [leg] => leg.clone(),
        _ => format!("({})", or_tree(legs)),
    };
    match legs {
        [] => String::new(),
        [leg] => leg.clone(),
        _ => {
            let (left, right) = legs.split_at(legs.len() / 2);
            format!("{} or {}", group(left), group(right))
        }
    }
}

/// The full label set of a result of a query over `batch`: its name label turned back into
/// `__name__`, or the batch's one name.
pub(super) fn full_labels(mut labels: Labels, batch: &[&Scope]) -> Option<Labels> {
    let name = match batch {
        [scope] => scope.name.clone(),
        _ => labels.remove(NAME_LABEL)?,
    };
    labels.insert(METRIC_NAME_LABEL.to_owned(), name);
    Some(labels)
}

/// The window made of `slices` (disjoint, each its five aggregates as they arrived): `None`
/// when no slice has samples, or when one has only some of its aggregates (a series that
/// appeared or vanished between the queries). The slices are combined by
/// [`analytics::aggregates::combine`].
pub(super) fn combine(slices: &[Operations]) -> Option<Window> {
    let mut parts = Vec::with_capacity(slices.len());
    for slice in slices {
        match *slice {
            [Some(min), Some(max), Some(avg), Some(std_dev), Some(count)] => {
                // A count is a whole number of samples; anything else (an engine answering
                // +Inf or NaN) makes the window unknown rather than a count near `usize::MAX`.
                let count = sample_count(count)?;
                parts.push(Aggregates {
                    min,
                    max,
                    avg,
                    std_dev,
                    count,
                });
            }
            [None, None, None, None, None] => {}
            _ => return None,
        }
    }
    analytics::aggregates::combine(&parts).map(|a| Window {
        min: a.min,
        max: a.max,
        avg: a.avg,
        std_dev: a.std_dev,
        count: a.count as u64,
    })
}

/// The most samples a window can hold and still count exactly as an `f64` (2^53).
const MAX_SAMPLE_COUNT: f64 = 9_007_199_254_740_992.0;

/// `count_over_time`'s answer as a count: a finite whole number from 0 to 2^53, else none.
fn sample_count(count: f64) -> Option<usize> {
    ((0.0..=MAX_SAMPLE_COUNT).contains(&count) && count.fract() == 0.0).then_some(count as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        discovery::scope::{QUERY_BYTES, batch, scopes, tests::scope},
        shard::Shard,
    };

    #[test]
    fn a_count_that_is_not_a_whole_number_makes_the_window_unknown() {
        let slice = |count: f64| [Some(1.0), Some(2.0), Some(1.5), Some(0.5), Some(count)];
        // Issue 14's fault run: +Inf counts from the engine panicked the sum ("attempt to add
        // with overflow") and ended the fast loop.
        for bad in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN, -1.0, 2.5, 1e300] {
            assert_eq!(combine(&[slice(bad), slice(3.0)]), None, "count {bad}");
            assert_eq!(combine(&[slice(3.0), slice(bad)]), None, "count {bad}");
        }
        let window = combine(&[slice(3.0), slice(4.0)]).unwrap();
        assert_eq!(window.count, 7);
        assert_eq!(sample_count(0.0), Some(0));
    }

    #[test]
    fn one_name_is_queried_bare() {
        let query = aggregate_query(
            "min_over_time",
            WindowSpan::H1,
            RangeSemantics::Closed,
            &Selector::parse(r#"{job="x"}"#),
            &[&scope("a", 1)],
        );
        assert_eq!(query, r#"min_over_time({__name__="a",job="x"}[1h])"#);
    }

    #[test]
    fn names_of_a_batch_are_labelled_legs_of_a_balanced_or() {
        let (a, b, c) = (scope("a", 1), scope("b", 1), scope("c", 1));
        let query = aggregate_query(
            "min_over_time",
            WindowSpan::H3,
            RangeSemantics::Closed,
            &Selector::parse(r#"{job="x"}"#),
            &[&a, &b, &c],
        );
        let leg = |name: &str| {
            format!(
                r#"label_replace(min_over_time({{__name__="{name}",job="x"}}[1h59m59s999ms] offset 1h1ms), "__etl_name__", "{name}", "", "")"#
            )
        };
        assert_eq!(
            query,
            format!("{} or ({} or {})", leg("a"), leg("b"), leg("c"))
        );
        let legs: Vec<String> = ["a", "b", "c", "d"].map(String::from).into();
        assert_eq!(or_tree(&legs), "(a or b) or (c or d)");
    }

    #[test]
    fn awkward_names_cannot_break_or_extend_the_query() {
        use common::testing::{Token, promql_tokens};
        const PLACEHOLDER: &str = "placeholder";
        let query = |name: &str| {
            let (named, other) = (scope(name, 1), scope("b", 1));
            aggregate_query(
                "min_over_time",
                WindowSpan::H3,
                RangeSemantics::Closed,
                &Selector::parse(r#"{job="x"}"#),
                &[&named, &other],
            )
        };
        let plain = promql_tokens(&query(PLACEHOLDER)).expect("the query lexes");
        for name in [
            "my.metric",
            "a\"b",
            "x\"} or vector(1) or {y=\"",
            "back\\slash",
            "température",
            "名前",
            "$1${x}$name",
            "or",
            "offset",
            "a,b=\"c\"",
            "line\nbreak",
        ] {
            // The same tokens as for a plain name, the name's two strings aside: the selector's
            // `__name__` value is the name, the label_replace replacement the name with its
            // `$` doubled.
            let expected: Vec<Token> = plain
                .iter()
                .enumerate()
                .map(|(i, token)| match token {
                    Token::Str(s) if s == PLACEHOLDER => {
                        if i >= 2 && plain[i - 2] == Token::Str(NAME_LABEL.into()) {
                            Token::Str(name.replace('$', "$$"))
                        } else {
                            Token::Str(name.to_owned())
                        }
                    }
                    other => other.clone(),
                })
                .collect();
            let text = query(name);
            assert_eq!(promql_tokens(&text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn slices_cut_the_windows_for_the_engine() {
        // [at-3h, at-1h-1ms] and [at-12h, at-3h-1ms]; (at-3h, at-1h] and (at-12h, at-3h].
        let closed = WindowSpan::ALL.map(|w| slice(w, RangeSemantics::Closed));
        assert_eq!(
            closed,
            [
                "[1h]",
                "[1h59m59s999ms] offset 1h1ms",
                "[8h59m59s999ms] offset 3h1ms"
            ]
        );
        let open = WindowSpan::ALL.map(|w| slice(w, RangeSemantics::LeftOpen));
        assert_eq!(open, ["[1h]", "[2h] offset 1h", "[9h] offset 3h"]);
    }

    #[test]
    fn labels_get_their_name_back() {
        let (up, other) = (scope("up", 1), scope("other", 1));
        let labels: Labels = [("job", "x"), (NAME_LABEL, "up")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let restored = full_labels(labels, &[&up, &other]).unwrap();
        assert_eq!(restored.get("__name__").map(String::as_str), Some("up"));
        assert!(!restored.contains_key(NAME_LABEL));
        assert_eq!(full_labels(Labels::new(), &[&up, &other]), None);
        let bare = full_labels(Labels::new(), &[&up]).unwrap();
        assert_eq!(bare.get("__name__").map(String::as_str), Some("up"));
    }

    /// The five aggregates of `values` as PromQL computes them.
    fn promql(values: &[f64]) -> Operations {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        [
            Some(values.iter().copied().fold(f64::NAN, f64::min)),
            Some(values.iter().copied().fold(f64::NAN, f64::max)),
            Some(mean),
            Some(var.sqrt()),
            Some(n),
        ]
    }

    #[test]
    fn slices_combine_into_the_window() {
        let values = [3.0, 7.5, -2.0, 10.0, 4.25, 4.25, 1e3, 0.5];
        let (recent, older) = values.split_at(3);
        let whole = combine(&[promql(&values)]).unwrap();
        let combined = combine(&[promql(recent), [None; 5], promql(older)]).unwrap();
        assert_eq!((combined.min, combined.max, combined.count), (-2.0, 1e3, 8));
        assert!((combined.avg - whole.avg).abs() <= 1e-12 * whole.avg.abs());
        assert!((combined.std_dev - whole.std_dev).abs() <= 1e-12 * whole.std_dev);
        // One slice is taken as it is; none, or one with only some aggregates, is no window.
        assert_eq!(
            combine(&[[None; 5], promql(older)]),
            combine(&[promql(older)])
        );
        assert_eq!(combine(&[[None; 5]]), None);
        let mut partial = promql(older);
        partial[3] = None;
        assert_eq!(combine(&[promql(recent), partial]), None);
    }

    #[test]
    fn batched_queries_fit_victoria_metrics_query_length() {
        // 1,000 names of 40 bytes, one series each: 200 a batch by count, far more than 16 KiB.
        let selector = Selector::parse(r#"{job=~"node|synthetic",env="production"}"#);
        let names: Vec<Scope> = (0..1_000)
            .map(|i| scope(&format!("a_rather_long_metric_name_number_{i:06}"), 1))
            .collect();
        let batches = batch(&names, 200, crate::discovery::SERIES_PER_QUERY, &selector);
        assert!(batches.len() > 5, "{} batches", batches.len());
        assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), names.len());
        for batch in &batches {
            for semantics in [RangeSemantics::Closed, RangeSemantics::LeftOpen] {
                for window in WindowSpan::ALL {
                    for op in OPERATIONS {
                        let query = aggregate_query(
                            op.promql_function(),
                            window,
                            semantics,
                            &selector,
                            batch,
                        );
                        assert!(query.len() <= QUERY_BYTES, "{} bytes", query.len());
                    }
                }
            }
        }
        // The estimate is tight: batches are not cut far below the limit.
        let longest = aggregate_query(
            "stddev_over_time",
            WindowSpan::H12,
            RangeSemantics::Closed,
            &selector,
            &batches[0],
        );
        assert!(
            longest.len() > QUERY_BYTES * 9 / 10,
            "{} bytes",
            longest.len()
        );
    }

    #[test]
    fn the_parts_of_a_split_name_fit_the_query_length() {
        // 20,000 series told apart by a long label value: the parts close at the length.
        let selector = Selector::parse(r#"{job=~"node|synthetic",env="production"}"#);
        let series: Vec<Labels> = (0..20_000)
            .map(|n| {
                common::testing::labels(&[
                    ("__name__", "a_rather_long_metric_name"),
                    ("instance", &format!("host-{n:06}.example.org:9100")),
                ])
            })
            .collect();
        let scopes = scopes(&series, Shard::WHOLE, 2_000, &selector);
        assert!(scopes.len() > 10, "{} parts", scopes.len());
        assert_eq!(scopes.iter().map(|s| s.series).sum::<usize>(), 20_000);
        for batch in batch(&scopes, 200, 2_000, &selector) {
            let query = aggregate_query(
                "stddev_over_time",
                WindowSpan::H12,
                RangeSemantics::Closed,
                &selector,
                &batch,
            );
            assert!(query.len() <= QUERY_BYTES, "{} bytes", query.len());
        }
    }
}
