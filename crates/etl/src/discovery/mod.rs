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
//!   `ETL_SERIES_PER_QUERY` as the last discovery counted them, one leg per name that puts its name
//!   back in a label of its own: `label_replace(min_over_time({__name__="a",<selector>}[1h]),
//!   "__etl_name__", "a", "", "") or ...`. The legs are joined as a balanced tree of `or`:
//!   Prometheus matches each `or` in time linear in both sides, so a left-leaning chain costs
//!   legs x series.
//!
//! - A name with more series than a query may cover (`ETL_SERIES_PER_QUERY`, default
//!   [`SERIES_PER_QUERY`]) is split into parts on the label that tells its series apart (see
//!   `split.rs`), so that no query is so large that one timeout loses a whole name: a query that
//!   fails is tried once more after the others, and a batch that still fails loses only its own
//!   series for the cycle.
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

use chrono::{DateTime, Utc};
use common::{
    promql::{PromClient, PromError, RangeSeries, Sample},
    range_semantics::{self, RangeSemantics},
    record::Windows,
    series::{Labels, SeriesId, selector},
};
use futures::{StreamExt, stream};

use crate::{analysis::History, error::EtlError, shard::Shard};

mod query;
mod resample;
mod scope;
mod selector;
mod split;

pub use common::window::WindowSpan;
pub use resample::grid;
pub use scope::{QUERY_BYTES, SERIES_PER_QUERY};

use query::{OPERATIONS, Operations, aggregate_query, combine, full_labels};
use scope::{Scope, batch, scopes};
use selector::Selector;

/// The target Prometheus, seen through the etl's selector.
#[derive(Debug, Clone)]
pub struct Discovery {
    client: PromClient,
    selector: Selector,
    names_per_query: usize,
    series_per_query: usize,
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
            series_per_query: SERIES_PER_QUERY,
            concurrency: concurrency.max(1),
        }
    }

    /// This discovery, with at most `series_per_query` series an aggregate query (see
    /// [`SERIES_PER_QUERY`]).
    pub fn with_series_per_query(mut self, series_per_query: usize) -> Self {
        self.series_per_query = series_per_query.max(1);
        self
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
    /// A query that fails is tried once more after the others; a batch with a query that fails
    /// again loses its own series for this cycle (its error is in [`Aggregates::failures`]),
    /// and the other batches' series keep theirs. Each answer is folded into the windows as it
    /// arrives, so the etl holds one query's samples at a time per query in flight.
    ///
    /// # Errors
    /// The range semantics of the engine could not be asked.
    #[tracing::instrument(name = "aggregates", skip(self, series), fields(series = series.len(), %shard))]
    pub async fn aggregates(
        &self,
        series: &[Labels],
        shard: Shard,
        at: DateTime<Utc>,
    ) -> Result<Aggregates, PromError> {
        let scopes = scopes(series, shard, self.series_per_query, &self.selector);
        let batches = batch(
            &scopes,
            self.names_per_query,
            self.series_per_query,
            &self.selector,
        );
        // Asked every cycle: an engine upgraded in place (Prometheus 2 to 3) changes it.
        let semantics = range_semantics::detect(&self.client).await?;
        tracing::debug!(%semantics, batches = batches.len(), "range semantics of the target engine");
        // The longest slices first: the queries that take longest start first.
        let queries: Vec<QueryKey> = WindowSpan::ALL
            .iter()
            .rev()
            .flat_map(|&window| {
                (0..batches.len())
                    .flat_map(move |batch| (0..OPERATIONS.len()).map(move |op| (window, batch, op)))
            })
            .collect();
        let mut fold = Fold::default();
        let mut failed = Vec::new();
        for attempt in 1..=QUERY_ATTEMPTS {
            let pending = std::mem::take(&mut failed);
            let keys = if attempt == 1 {
                queries.clone()
            } else {
                pending
            };
            let mut answers = stream::iter(keys)
                .map(|key| self.aggregate(key, &batches, semantics, at))
                .buffer_unordered(self.concurrency);
            while let Some((key, answer)) = answers.next().await {
                match answer {
                    Ok((samples, elapsed)) => fold.add(key, samples, elapsed, &batches, shard),
                    Err(error) => {
                        tracing::warn!(attempt, batch = key.1, error = %common::admin::error_chain(&error), "aggregate query failed");
                        failed.push(key);
                        fold.errors.insert(key.1, error);
                    }
                }
            }
            if failed.is_empty() {
                break;
            }
        }
        Ok(fold.finish(failed.iter().map(|key| key.1).collect()))
    }

    /// One aggregate query, and how long it took.
    async fn aggregate(
        &self,
        key: QueryKey,
        batches: &[Vec<&Scope>],
        semantics: RangeSemantics,
        at: DateTime<Utc>,
    ) -> (QueryKey, Result<(Vec<Sample>, Duration), PromError>) {
        let (window, batch, op) = key;
        let query = aggregate_query(
            OPERATIONS[op].promql_function(),
            window,
            semantics,
            &self.selector,
            &batches[batch],
        );
        let started = std::time::Instant::now();
        let answer = self.client.instant(&query, Some(at)).await;
        (key, answer.map(|samples| (samples, started.elapsed())))
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
#[derive(Debug, Default)]
pub struct Aggregates {
    /// Per series: its labels and windows.
    pub series: HashMap<SeriesId, (Labels, Windows)>,
    /// Per metric name and window: seconds its queries took (summed over the five operations).
    pub durations: BTreeMap<(String, WindowSpan), Duration>,
    /// Per batch whose series were lost this cycle: the error of its last failed query.
    pub failures: Vec<PromError>,
}

/// How many times an aggregate query is tried in one cycle (the client's own retries of
/// transient errors aside, which a query that times out has no time left for).
const QUERY_ATTEMPTS: usize = 2;

/// One aggregate query: the window's slice, the batch and the operation.
type QueryKey = (WindowSpan, usize, usize);

/// The answers of a cycle's aggregate queries, folded in as they arrive.
#[derive(Default)]
struct Fold {
    aggregates: Aggregates,
    /// Per series: its labels, its batch and its slices' operations.
    slices: HashMap<SeriesId, (Labels, usize, [Operations; 3])>,
    /// Per batch: the last error of one of its queries.
    errors: HashMap<usize, PromError>,
}

impl Fold {
    fn add(
        &mut self,
        (window, batch, op): QueryKey,
        samples: Vec<Sample>,
        elapsed: Duration,
        batches: &[Vec<&Scope>],
        shard: Shard,
    ) {
        // A window is computed from its slice and the shorter windows' slices.
        for longer in WindowSpan::ALL.into_iter().filter(|w| *w >= window) {
            for scope in &batches[batch] {
                *self
                    .aggregates
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
            let entry = self
                .slices
                .entry(id)
                .or_insert_with(|| (labels, batch, [[None; 5]; 3]));
            entry.2[window.index()][op] = Some(sample.value);
        }
    }

    /// The windows of every series but those of the `failed` batches.
    fn finish(mut self, failed: BTreeSet<usize>) -> Aggregates {
        for (id, (labels, batch, slices)) in self.slices {
            if failed.contains(&batch) {
                continue;
            }
            let windows = Windows {
                h1: combine(&slices[..1]),
                h3: combine(&slices[..2]),
                h12: combine(&slices[..3]),
            };
            self.aggregates.series.insert(id, (labels, windows));
        }
        self.aggregates.failures = failed
            .into_iter()
            .filter_map(|batch| self.errors.remove(&batch))
            .collect();
        self.aggregates
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
}
