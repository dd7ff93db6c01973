//! What the etl asks the target Prometheus: which series the selector selects, their windowed
//! aggregates (pushed down as `*_over_time` queries that each cover many series), and the
//! history of one series on a regular grid.
//!
//! The aggregates cost Prometheus one read of every sample per operation and query, so the
//! queries are shaped to read each sample once per operation and to keep the work per series
//! flat:
//!
//! - The windows are cut into disjoint slices, `[at-1h, at]`, `[at-3h, at-1h-1ms]` and
//!   `[at-12h, at-3h-1ms]` where ranges include both ends (Prometheus 2), `(at-3h, at-1h]` and
//!   `(at-12h, at-3h]` where they are left-open (Prometheus 3, VictoriaMetrics; detected each
//!   cycle, see [`crate::slicing`]), and the 3h and 12h windows are combined from the slices here: min, max and count exactly,
//!   avg and std_dev as the count-weighted mean and the pooled variance (Chan et al.), equal to
//!   PromQL's to about 1e-14. Each operation reads 12 h of samples instead of 16 h.
//! - PromQL's `*_over_time` functions drop `__name__`, and series that differ only by name would
//!   then collide ("vector cannot contain metrics with the same labelset"). A query covers one
//!   metric name (no labels to add: the name is known), or a batch of names whose series fit in
//!   [`SERIES_PER_QUERY`] as the last discovery counted them, one leg per name that puts its name
//!   back in a label of its own: `label_replace(min_over_time({__name__="a",<selector>}[1h]),
//!   "__etl_name__", "a", "", "") or ...`. The legs are joined as a balanced tree of `or`:
//!   Prometheus matches each `or` in time linear in both sides, so a left-leaning chain costs
//!   legs x series.
//!
//! 15 queries (5 operations x 3 slices) per batch.
//!
//! With shards, a shard's queries are narrowed to its own series where a label tells the
//! series of a name apart (`{__name__="a",<selector>,shard=~"1|5|9"}`, the label with the most
//! distinct values), so that Prometheus reads each shard's samples once, not every shard all of
//! them; results outside the shard are dropped whatever the narrowing.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    time::Duration,
};

use chrono::{DateTime, TimeDelta, Utc};
use common::{
    promql::{PromClient, PromError, RangeSeries},
    range_semantics::{self, RangeSemantics},
    record::{Window, Windows},
    series::{Labels, METRIC_NAME_LABEL, SeriesId, selector},
};
use futures::{StreamExt, TryStreamExt, stream};

use crate::{analysis::History, error::EtlError, shard::Shard, slicing::Slice};

/// The label each leg of an aggregate query carries its metric name in.
const NAME_LABEL: &str = "__etl_name__";

/// The series an aggregate query covers at most when it batches several metric names; a name
/// with more series has queries of its own.
pub const SERIES_PER_QUERY: usize = 2_000;

/// The longest aggregate query of a batch of names, in bytes: VictoriaMetrics refuses queries
/// longer than its `-search.maxQueryLen` (16 KiB by default), which 200 names exceed; a name
/// whose one leg is longer still has queries of its own.
pub const QUERY_BYTES: usize = 16_000;

/// What a batch leg adds to its selector and name, at most: `label_replace(stddev_over_time(`,
/// the longest slice, `), "__etl_name__", "`, `", "", "")` and ` or ` with its parentheses.
const LEG_OVERHEAD: usize = 100;

/// The aggregate windows of the `values` record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WindowSpan {
    /// The last hour.
    H1,
    /// The last 3 hours.
    H3,
    /// The last 12 hours.
    H12,
}

impl WindowSpan {
    /// Every window.
    pub const ALL: [WindowSpan; 3] = [WindowSpan::H1, WindowSpan::H3, WindowSpan::H12];

    /// The PromQL range.
    pub fn range(self) -> &'static str {
        match self {
            WindowSpan::H1 => "1h",
            WindowSpan::H3 => "3h",
            WindowSpan::H12 => "12h",
        }
    }

    /// The length in milliseconds.
    fn millis(self) -> i64 {
        match self {
            WindowSpan::H1 => 3_600_000,
            WindowSpan::H3 => 3 * 3_600_000,
            WindowSpan::H12 => 12 * 3_600_000,
        }
    }

    /// The range and offset selecting the samples of this window that the shorter windows
    /// do not hold, cut for the engine's `semantics` (see [`crate::slicing`]).
    fn slice(self, semantics: RangeSemantics) -> String {
        let shorter = match self {
            WindowSpan::H1 => None,
            WindowSpan::H3 => Some(WindowSpan::H1.millis()),
            WindowSpan::H12 => Some(WindowSpan::H3.millis()),
        };
        Slice::of(self.millis(), shorter, semantics).promql()
    }

    /// The longest window, the span series are discovered over in the fast loop.
    pub const LONGEST: TimeDelta = TimeDelta::hours(12);
}

/// The five aggregates of one window of one series as they arrive, in [`Window`]'s order.
type Operations = [Option<f64>; 5];

/// The five aggregates of a window, in [`Window`]'s order.
const OPERATIONS: [&str; 5] = [
    "min_over_time",
    "max_over_time",
    "avg_over_time",
    "stddev_over_time",
    "count_over_time",
];

/// The target Prometheus, seen through the etl's selector.
#[derive(Debug, Clone)]
pub struct Discovery {
    client: PromClient,
    selector: Selector,
    names_per_query: usize,
    concurrency: usize,
}

impl Discovery {
    /// Queries through `client`, selecting series with `selector`.
    pub fn new(
        client: PromClient,
        selector: &str,
        names_per_query: usize,
        concurrency: usize,
    ) -> Self {
        Self {
            client,
            selector: Selector::parse(selector),
            names_per_query: names_per_query.max(1),
            concurrency: concurrency.max(1),
        }
    }

    /// The client, for readiness probes.
    pub fn client(&self) -> &PromClient {
        &self.client
    }

    /// The selected series with samples in `from..=to`.
    ///
    /// # Errors
    /// Prometheus did not answer or refused the selector.
    #[tracing::instrument(name = "discover_series", skip(self))]
    pub async fn series(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Labels>, PromError> {
        self.client.series(&self.selector.text, from, to).await
    }

    /// The 1h, 3h and 12h aggregates at `at` of the series of `series` (every selected series)
    /// that are in `shard`, keyed by series id, with how long the queries of each name's batch
    /// took for each window (see the module docs for the queries' shape).
    ///
    /// # Errors
    /// Any query failed.
    #[tracing::instrument(name = "aggregates", skip(self, series), fields(series = series.len(), %shard))]
    pub async fn aggregates(
        &self,
        series: &[Labels],
        shard: Shard,
        at: DateTime<Utc>,
    ) -> Result<Aggregates, PromError> {
        let scopes = scopes(series, shard);
        let batches = batch(&scopes, self.names_per_query, &self.selector);
        // Asked every cycle: an engine upgraded in place (Prometheus 2 to 3) changes it.
        let semantics = range_semantics::detect(&self.client).await?;
        tracing::debug!(%semantics, "range semantics of the target engine");
        // The longest slices first: the queries that take longest start first.
        let queries: Vec<(WindowSpan, usize, usize)> = WindowSpan::ALL
            .iter()
            .rev()
            .flat_map(|&window| {
                (0..batches.len())
                    .flat_map(move |batch| (0..OPERATIONS.len()).map(move |op| (window, batch, op)))
            })
            .collect();
        let results: Vec<_> = stream::iter(queries)
            .map(|(window, batch, op)| {
                let query = aggregate_query(
                    OPERATIONS[op],
                    window,
                    semantics,
                    &self.selector,
                    &batches[batch],
                );
                async move {
                    let started = std::time::Instant::now();
                    let samples = self.client.instant(&query, Some(at)).await?;
                    Ok::<_, PromError>((window, batch, op, samples, started.elapsed()))
                }
            })
            .buffer_unordered(self.concurrency)
            .try_collect()
            .await?;
        let mut aggregates = Aggregates::default();
        let mut slices: HashMap<SeriesId, (Labels, [Operations; 3])> = HashMap::new();
        for (window, batch, op, samples, elapsed) in results {
            // A window is computed from its slice and the shorter windows' slices.
            for longer in WindowSpan::ALL.into_iter().filter(|w| *w >= window) {
                for scope in &batches[batch] {
                    *aggregates
                        .durations
                        .entry((scope.name.clone(), longer))
                        .or_default() += elapsed;
                }
            }
            for sample in samples {
                let Some(labels) = full_labels(sample.labels, &batches[batch]) else {
                    continue;
                };
                let id = SeriesId::of(&labels);
                if !shard.contains(id) {
                    continue;
                }
                let entry = slices.entry(id).or_insert_with(|| (labels, [[None; 5]; 3]));
                entry.1[window_index(window)][op] = Some(sample.value);
            }
        }
        for (id, (labels, slices)) in slices {
            let windows = Windows {
                h1: combine(&slices[..1]),
                h3: combine(&slices[..2]),
                h12: combine(&slices[..3]),
            };
            aggregates.series.insert(id, (labels, windows));
        }
        Ok(aggregates)
    }

    /// The history of one series over `from..=to` on a grid of `step` (both ends aligned by
    /// the caller), cut to the part the series lived in (see [`grid`]). The selector of
    /// `labels` also matches every series with more labels; only one series is ever read (see
    /// [`one_series`]), never several merged.
    ///
    /// # Errors
    /// Prometheus did not answer or refused the query; `labels` match several series and none
    /// exactly.
    #[tracing::instrument(name = "history", skip(self, labels), fields(series_id = %SeriesId::of(labels)))]
    pub async fn history(
        &self,
        labels: &Labels,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        step: Duration,
    ) -> Result<History, EtlError> {
        let series = self.client.range(&selector(labels), from, to, step).await?;
        let points = one_series(labels, series)?;
        Ok(grid(points, from, to, step))
    }
}

/// The points of the one series `labels` name, out of those their selector matched: the
/// series whose label set is exactly `labels` if there is one (others that merely contain
/// them are left out), else the only series matched (`labels` are a subset of its labels).
/// Several matches and none exact is an error, reported by the caller as
/// `etl_failures_total{cause="ambiguous_selector"}`: merging them would make one history of
/// several series.
pub fn one_series(labels: &Labels, series: Vec<RangeSeries>) -> Result<Vec<(f64, f64)>, EtlError> {
    let matched = series.len();
    if let Some(exact) = series.iter().position(|s| s.labels == *labels) {
        if matched > 1 {
            tracing::debug!(
                matched,
                "the selector also matched series with more labels; reading the exact one"
            );
        }
        return Ok(series
            .into_iter()
            .nth(exact)
            .map(|s| s.points)
            .unwrap_or_default());
    }
    match <[RangeSeries; 1]>::try_from(series) {
        Ok([only]) => Ok(only.points),
        Err(series) if series.is_empty() => Ok(Vec::new()),
        Err(_) => Err(EtlError::AmbiguousSelector { matched }),
    }
}

/// The aggregates of one cycle.
#[derive(Debug, Clone, Default)]
pub struct Aggregates {
    /// Per series: its labels and windows.
    pub series: HashMap<SeriesId, (Labels, Windows)>,
    /// Per metric name and window: seconds its queries took (summed over the five operations).
    pub durations: BTreeMap<(String, WindowSpan), Duration>,
}

fn window_index(window: WindowSpan) -> usize {
    match window {
        WindowSpan::H1 => 0,
        WindowSpan::H3 => 1,
        WindowSpan::H12 => 2,
    }
}

/// A series selector split into its metric name and its matchers, so that a name matcher can
/// be added: `up{job="x"}` is name `up` and matchers `job="x"`.
#[derive(Debug, Clone, PartialEq)]
struct Selector {
    text: String,
    matchers: String,
}

impl Selector {
    fn parse(text: &str) -> Self {
        let text = text.trim().to_owned();
        let matchers = match (text.find('{'), text.rfind('}')) {
            (Some(open), Some(close)) if open < close => {
                let name = text[..open].trim();
                let inner = text[open + 1..close].trim().trim_end_matches(',');
                [name_matcher(name), inner.to_owned()]
                    .into_iter()
                    .filter(|m| !m.is_empty())
                    .collect::<Vec<_>>()
                    .join(",")
            }
            _ => name_matcher(&text),
        };
        Self { text, matchers }
    }

    /// The selector restricted to the metric `name`, and narrowed by `extra` when given.
    fn with_name(&self, name: &str, extra: Option<&str>) -> String {
        let name = name_matcher(name);
        let matchers: Vec<&str> = [name.as_str(), &self.matchers, extra.unwrap_or("")]
            .into_iter()
            .filter(|m| !m.is_empty())
            .collect();
        format!("{{{}}}", matchers.join(","))
    }
}

fn name_matcher(name: &str) -> String {
    if name.is_empty() {
        return String::new();
    }
    format!("{METRIC_NAME_LABEL}={}", serde_json::Value::from(name))
}

/// What the aggregate queries of one metric name cover.
#[derive(Debug, Clone, PartialEq)]
struct Scope {
    /// The metric name.
    name: String,
    /// A matcher narrowing the name's series to (a superset of) one shard's.
    matcher: Option<String>,
    /// How many series the name's legs select.
    series: usize,
}

/// The scopes of the names with series in `shard`: each narrowed, when the name's series are
/// not all in the shard, by the label that tells most of them apart (every series of the shard
/// must have it), to the values the shard's series have.
fn scopes(series: &[Labels], shard: Shard) -> Vec<Scope> {
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
    Some((format!("{label}=~{pattern}"), selected))
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
fn batch<'a>(
    scopes: &'a [Scope],
    names_per_query: usize,
    selector: &Selector,
) -> Vec<Vec<&'a Scope>> {
    let leg_bytes = |scope: &Scope| {
        selector
            .with_name(&scope.name, scope.matcher.as_deref())
            .len()
            + scope.name.len()
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

/// `op(selector[slice])` over the metric names of a batch: the bare function for one name, else
/// one leg per name labelled with its name, the legs joined by a balanced tree of `or`.
fn aggregate_query(
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
            window.slice(semantics)
        )
    };
    match scopes {
        [scope] => leg(scope),
        _ => or_tree(
            &scopes
                .iter()
                .map(|scope| {
                    // Metric names are [a-zA-Z_:][a-zA-Z0-9_:]*: nothing to escape here.
                    format!(
                        "label_replace({}, \"{NAME_LABEL}\", \"{}\", \"\", \"\")",
                        leg(scope),
                        scope.name
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
fn full_labels(mut labels: Labels, batch: &[&Scope]) -> Option<Labels> {
    let name = match batch {
        [scope] => scope.name.clone(),
        _ => labels.remove(NAME_LABEL)?,
    };
    labels.insert(METRIC_NAME_LABEL.to_owned(), name);
    Some(labels)
}

/// The window made of `slices` (disjoint, each its five aggregates as they arrived): `None`
/// when no slice has samples, or when one has only some of its aggregates (a series that
/// appeared or vanished between the queries).
fn combine(slices: &[Operations]) -> Option<Window> {
    let mut parts = Vec::with_capacity(slices.len());
    for slice in slices {
        match *slice {
            [Some(min), Some(max), Some(avg), Some(std_dev), Some(count)] => parts.push(Window {
                min,
                max,
                avg,
                std_dev,
                count: count as u64,
            }),
            [None, None, None, None, None] => {}
            _ => return None,
        }
    }
    match parts.as_slice() {
        [] => None,
        [one] => Some(*one),
        _ => {
            let count: u64 = parts.iter().map(|p| p.count).sum();
            let n = count as f64;
            let avg = parts.iter().map(|p| p.count as f64 * p.avg).sum::<f64>() / n;
            let squares: f64 = parts
                .iter()
                .map(|p| p.count as f64 * (p.std_dev * p.std_dev + (p.avg - avg).powi(2)))
                .sum();
            Some(Window {
                // f64::min and max skip NaN, as min_over_time and max_over_time do.
                min: parts.iter().map(|p| p.min).fold(f64::NAN, f64::min),
                max: parts.iter().map(|p| p.max).fold(f64::NAN, f64::max),
                avg,
                std_dev: (squares / n).sqrt(),
                count,
            })
        }
    }
}

/// Points placed on the grid `from, from + step, ..., to` (whole seconds), from the first point
/// that has a sample to the last; NaN marks a missed sample in between, which the statistics
/// fill by interpolation.
///
/// The grid points before a series existed, or after it ended, are left out rather than marked
/// missing: filled, they would invent a flat history (two flat days before a seasonal day hide
/// its period) and a forecast would start from it.
pub fn grid(
    points: impl IntoIterator<Item = (f64, f64)>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    step: Duration,
) -> History {
    let step_seconds = step.as_secs().max(1);
    let start = from.timestamp_millis() as f64 / 1000.0;
    let span = (to - from).num_milliseconds() as f64 / 1000.0;
    let n = (span / step_seconds as f64).floor().max(-1.0) as i64 + 1;
    let mut values = vec![f64::NAN; n.max(0) as usize];
    for (timestamp, value) in points {
        let index = ((timestamp - start) / step_seconds as f64).round();
        if index >= 0.0 && (index as usize) < values.len() {
            values[index as usize] = value;
        }
    }
    let lived = match (
        values.iter().position(|v| !v.is_nan()),
        values.iter().rposition(|v| !v.is_nan()),
    ) {
        (Some(first), Some(last)) => first..last + 1,
        _ => 0..0,
    };
    History {
        start: from + TimeDelta::seconds((step_seconds * lived.start as u64) as i64),
        step_seconds,
        values: values.drain(lived).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::testing::one_point_series as series;

    #[test]
    fn a_selector_that_matches_several_series_never_merges_them() {
        let wanted = common::testing::labels(&[("__name__", "up"), ("job", "a")]);
        let exact = series(&[("__name__", "up"), ("job", "a")], 1.0);
        let wider = series(&[("__name__", "up"), ("job", "a"), ("instance", "x")], 2.0);
        let other = series(&[("__name__", "up"), ("job", "a"), ("instance", "y")], 3.0);
        // The exact series is read alone.
        let points = one_series(&wanted, vec![wider.clone(), exact, other.clone()]).unwrap();
        assert_eq!(points, [(0.0, 1.0)]);
        // One series that holds the labels is unambiguous.
        assert_eq!(
            one_series(&wanted, vec![wider.clone()]).unwrap(),
            [(0.0, 2.0)]
        );
        // Several, none exact: an error, not a merged history.
        let error = one_series(&wanted, vec![wider, other]).unwrap_err();
        assert!(
            matches!(error, EtlError::AmbiguousSelector { matched: 2 }),
            "{error}"
        );
        assert_eq!(error.cause(), "ambiguous_selector");
        assert!(one_series(&wanted, vec![]).unwrap().is_empty());
    }

    #[test]
    fn selectors_split_into_name_and_matchers() {
        assert_eq!(
            Selector::parse(r#"{__name__=~".+"}"#).with_name("up", None),
            r#"{__name__="up",__name__=~".+"}"#
        );
        assert_eq!(
            Selector::parse(r#"up{job="a,b}"}"#).with_name("up", None),
            r#"{__name__="up",__name__="up",job="a,b}"}"#
        );
        assert_eq!(
            Selector::parse("node_load1").with_name("node_load1", None),
            r#"{__name__="node_load1",__name__="node_load1"}"#
        );
        assert_eq!(
            Selector::parse(r#"{job="x",}"#).with_name("a", None),
            r#"{__name__="a",job="x"}"#
        );
        assert_eq!(
            Selector::parse(r#"{job="x"}"#).with_name("a", Some(r#"shard=~"1|3""#)),
            r#"{__name__="a",job="x",shard=~"1|3"}"#
        );
    }

    fn scope(name: &str, series: usize) -> Scope {
        Scope {
            name: name.to_owned(),
            matcher: None,
            series,
        }
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
    fn slices_cut_the_windows_for_the_engine() {
        // [at-3h, at-1h-1ms] and [at-12h, at-3h-1ms]; (at-3h, at-1h] and (at-12h, at-3h].
        let closed = WindowSpan::ALL.map(|w| w.slice(RangeSemantics::Closed));
        assert_eq!(
            closed,
            [
                "[1h]",
                "[1h59m59s999ms] offset 1h1ms",
                "[8h59m59s999ms] offset 3h1ms"
            ]
        );
        let open = WindowSpan::ALL.map(|w| w.slice(RangeSemantics::LeftOpen));
        assert_eq!(open, ["[1h]", "[2h] offset 1h", "[9h] offset 3h"]);
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
    fn batched_queries_fit_victoria_metrics_query_length() {
        // 1,000 names of 40 bytes, one series each: 200 a batch by count, far more than 16 KiB.
        let selector = Selector::parse(r#"{job=~"node|synthetic",env="production"}"#);
        let names: Vec<Scope> = (0..1_000)
            .map(|i| scope(&format!("a_rather_long_metric_name_number_{i:06}"), 1))
            .collect();
        let batches = batch(&names, 200, &selector);
        assert!(batches.len() > 5, "{} batches", batches.len());
        assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), names.len());
        for batch in &batches {
            for semantics in [RangeSemantics::Closed, RangeSemantics::LeftOpen] {
                for window in WindowSpan::ALL {
                    for op in OPERATIONS {
                        let query = aggregate_query(op, window, semantics, &selector, batch);
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

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
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
    fn grid_places_points_and_marks_gaps() {
        let from = DateTime::from_timestamp(600, 0).unwrap();
        let to = DateTime::from_timestamp(840, 0).unwrap();
        let history = grid(
            [(600.0, 1.0), (720.0, 3.0), (840.0, 5.0), (900.0, 9.0)],
            from,
            to,
            Duration::from_secs(60),
        );
        let values = &history.values;
        assert_eq!(values.len(), 5);
        assert_eq!((values[0], values[2], values[4]), (1.0, 3.0, 5.0));
        assert!(values[1].is_nan() && values[3].is_nan());
        assert_eq!((history.start, history.end()), (from, to));
    }

    #[test]
    fn grid_leaves_out_the_time_before_a_series_began_and_after_it_ended() {
        let from = DateTime::from_timestamp(0, 0).unwrap();
        let to = DateTime::from_timestamp(600, 0).unwrap();
        let history = grid(
            [(180.0, 1.0), (300.0, 3.0), (360.0, 4.0)],
            from,
            to,
            Duration::from_secs(60),
        );
        assert_eq!(history.values.len(), 4);
        assert_eq!(history.values[0], 1.0);
        assert!(history.values[1].is_nan());
        assert_eq!(history.values[3], 4.0);
        assert_eq!(history.start, DateTime::from_timestamp(180, 0).unwrap());
        assert_eq!(history.end(), DateTime::from_timestamp(360, 0).unwrap());

        let none = grid([], from, to, Duration::from_secs(60));
        assert!(none.values.is_empty());
    }
}
