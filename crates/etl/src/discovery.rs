//! What the etl asks the target Prometheus: which series the selector selects, their windowed
//! aggregates (pushed down as `*_over_time` queries that each cover many series), and the
//! history of one series on a regular grid.
//!
//! PromQL's `*_over_time` functions drop `__name__`, and series that differ only by name would
//! then collide ("vector cannot contain metrics with the same labelset"). Each query therefore
//! covers a batch of metric names, one leg per name, and each leg puts its name back in a label
//! of its own: `label_replace(min_over_time({__name__="a",<selector>}[1h]), "__etl_name__",
//! "a", "", "") or ...`. One query per operation, window and batch of names: 15 per cycle for
//! up to `names_per_query` names, whatever the number of series.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    time::Duration,
};

use chrono::{DateTime, TimeDelta, Utc};
use common::{
    promql::{PromClient, PromError},
    record::{Window, Windows},
    series::{Labels, METRIC_NAME_LABEL, SeriesId, selector},
};
use futures::{StreamExt, TryStreamExt, stream};

/// The label each leg of an aggregate query carries its metric name in.
const NAME_LABEL: &str = "__etl_name__";

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

    /// The 1h, 3h and 12h aggregates at `at` of every selected series whose name is in
    /// `names`, keyed by series id, with how long each window's queries of each batch took.
    ///
    /// # Errors
    /// Any query failed.
    #[tracing::instrument(name = "aggregates", skip(self, names), fields(names = names.len()))]
    pub async fn aggregates(
        &self,
        names: &BTreeSet<String>,
        at: DateTime<Utc>,
    ) -> Result<Aggregates, PromError> {
        let names: Vec<&String> = names.iter().collect();
        let batches: Vec<&[&String]> = names.chunks(self.names_per_query).collect();
        let queries: Vec<(WindowSpan, usize, usize)> = WindowSpan::ALL
            .iter()
            .flat_map(|&window| {
                (0..batches.len())
                    .flat_map(move |batch| (0..OPERATIONS.len()).map(move |op| (window, batch, op)))
            })
            .collect();
        let results: Vec<_> = stream::iter(queries)
            .map(|(window, batch, op)| {
                let query = aggregate_query(OPERATIONS[op], window, &self.selector, batches[batch]);
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
        let mut partial: HashMap<SeriesId, (Labels, [Operations; 3])> = HashMap::new();
        for (window, batch, op, samples, elapsed) in results {
            for name in batches[batch] {
                *aggregates
                    .durations
                    .entry(((*name).clone(), window))
                    .or_default() += elapsed;
            }
            for sample in samples {
                let Some(labels) = restore_name(sample.labels) else {
                    continue;
                };
                let id = SeriesId::of(&labels);
                let entry = partial
                    .entry(id)
                    .or_insert_with(|| (labels, [[None; 5]; 3]));
                entry.1[window_index(window)][op] = Some(sample.value);
            }
        }
        for (id, (labels, values)) in partial {
            let window = |w: Operations| match w {
                [Some(min), Some(max), Some(avg), Some(std_dev), Some(count)] => Some(Window {
                    min,
                    max,
                    avg,
                    std_dev,
                    count: count as u64,
                }),
                _ => None,
            };
            let windows = Windows {
                h1: window(values[0]),
                h3: window(values[1]),
                h12: window(values[2]),
            };
            aggregates.series.insert(id, (labels, windows));
        }
        Ok(aggregates)
    }

    /// The history of one series over `from..=to` on a grid of `step` (both ends aligned by
    /// the caller), NaN where the series has no sample.
    ///
    /// # Errors
    /// Prometheus did not answer or refused the query.
    #[tracing::instrument(name = "history", skip(self, labels), fields(series_id = %SeriesId::of(labels)))]
    pub async fn history(
        &self,
        labels: &Labels,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        step: Duration,
    ) -> Result<Vec<f64>, PromError> {
        let series = self.client.range(&selector(labels), from, to, step).await?;
        let points = series.into_iter().flat_map(|s| s.points);
        Ok(grid(points, from, to, step))
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

    /// The selector restricted to the metric `name`.
    fn with_name(&self, name: &str) -> String {
        let mut matchers = name_matcher(name);
        if !self.matchers.is_empty() {
            matchers.push(',');
            matchers.push_str(&self.matchers);
        }
        format!("{{{matchers}}}")
    }
}

fn name_matcher(name: &str) -> String {
    if name.is_empty() {
        return String::new();
    }
    format!("{METRIC_NAME_LABEL}={}", serde_json::Value::from(name))
}

/// `op(selector[window])` over each metric name of the batch, each leg labelled with its name.
fn aggregate_query(
    operation: &str,
    window: WindowSpan,
    selector: &Selector,
    names: &[&String],
) -> String {
    names
        .iter()
        .map(|name| {
            // Metric names are [a-zA-Z_:][a-zA-Z0-9_:]*: nothing to escape in the replacement.
            format!(
                "label_replace({operation}({}[{}]), \"{NAME_LABEL}\", \"{name}\", \"\", \"\")",
                selector.with_name(name),
                window.range()
            )
        })
        .collect::<Vec<_>>()
        .join(" or ")
}

/// The full label set of a result leg: its name label turned back into `__name__`.
fn restore_name(mut labels: Labels) -> Option<Labels> {
    let name = labels.remove(NAME_LABEL)?;
    labels.insert(METRIC_NAME_LABEL.to_owned(), name);
    Some(labels)
}

/// Points placed on the grid `from, from + step, ..., to`; NaN where none fell.
pub fn grid(
    points: impl IntoIterator<Item = (f64, f64)>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    step: Duration,
) -> Vec<f64> {
    let step = step.as_secs_f64().max(1e-3);
    let start = from.timestamp_millis() as f64 / 1000.0;
    let span = (to - from).num_milliseconds() as f64 / 1000.0;
    let n = (span / step).floor().max(-1.0) as i64 + 1;
    let mut values = vec![f64::NAN; n.max(0) as usize];
    for (timestamp, value) in points {
        let index = ((timestamp - start) / step).round();
        if index >= 0.0 && (index as usize) < values.len() {
            values[index as usize] = value;
        }
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_split_into_name_and_matchers() {
        assert_eq!(
            Selector::parse(r#"{__name__=~".+"}"#).with_name("up"),
            r#"{__name__="up",__name__=~".+"}"#
        );
        assert_eq!(
            Selector::parse(r#"up{job="a,b}"}"#).with_name("up"),
            r#"{__name__="up",__name__="up",job="a,b}"}"#
        );
        assert_eq!(
            Selector::parse("node_load1").with_name("node_load1"),
            r#"{__name__="node_load1",__name__="node_load1"}"#
        );
        assert_eq!(
            Selector::parse(r#"{job="x",}"#).with_name("a"),
            r#"{__name__="a",job="x"}"#
        );
    }

    #[test]
    fn aggregate_queries_cover_a_batch_of_names() {
        let (a, b) = ("a".to_owned(), "b".to_owned());
        let query = aggregate_query(
            "min_over_time",
            WindowSpan::H3,
            &Selector::parse(r#"{job="x"}"#),
            &[&a, &b],
        );
        assert_eq!(
            query,
            r#"label_replace(min_over_time({__name__="a",job="x"}[3h]), "__etl_name__", "a", "", "") or label_replace(min_over_time({__name__="b",job="x"}[3h]), "__etl_name__", "b", "", "")"#
        );
    }

    #[test]
    fn names_are_restored() {
        let labels: Labels = [("job", "x"), (NAME_LABEL, "up")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let restored = restore_name(labels).unwrap();
        assert_eq!(restored.get("__name__").map(String::as_str), Some("up"));
        assert!(!restored.contains_key(NAME_LABEL));
        assert_eq!(restore_name(Labels::new()), None);
    }

    #[test]
    fn grid_places_points_and_marks_gaps() {
        let from = DateTime::from_timestamp(600, 0).unwrap();
        let to = DateTime::from_timestamp(840, 0).unwrap();
        let values = grid(
            [(600.0, 1.0), (720.0, 3.0), (840.0, 5.0), (900.0, 9.0)],
            from,
            to,
            Duration::from_secs(60),
        );
        assert_eq!(values.len(), 5);
        assert_eq!((values[0], values[2], values[4]), (1.0, 3.0, 5.0));
        assert!(values[1].is_nan() && values[3].is_nan());
    }
}
