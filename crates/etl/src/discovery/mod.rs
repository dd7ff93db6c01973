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
    collections::{BTreeMap, HashMap},
    time::Duration,
};

use chrono::{DateTime, Utc};
use common::{
    promql::{PromClient, PromError, RangeSeries},
    range_semantics,
    record::Windows,
    series::{Labels, SeriesId, selector},
};
use futures::{StreamExt, TryStreamExt, stream};

use crate::{analysis::History, error::EtlError, shard::Shard};

mod query;
mod resample;
mod scope;
mod selector;

pub use common::window::WindowSpan;
pub use resample::grid;
pub use scope::{QUERY_BYTES, SERIES_PER_QUERY};

use query::{OPERATIONS, Operations, aggregate_query, combine, full_labels};
use scope::{batch, scopes};
use selector::Selector;

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
                    OPERATIONS[op].promql_function(),
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
                entry.1[window.index()][op] = Some(sample.value);
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
