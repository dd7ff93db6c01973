//! One check of a running pipeline: read every document and the SLA set, ask the target
//! Prometheus which series the etl's selector selects and what `*_over_time` gives at each
//! document's `computed_at`, rebuild the synthetic history from its manifest, and tally.

use std::{collections::BTreeMap, fmt};

use bson::{Document, doc};
use chrono::{DateTime, TimeDelta, Utc};
use common::{
    Labels, SeriesId,
    promql::{PromClient, PromError},
    range_semantics::{self, RangeSemantics},
    record::{Kind, Metadata, Window, Windows},
    series::selector,
    store::{METRICS_COLLECTION, MetricDocument, SLASET_COLLECTION},
    window::{AggregateOp, WindowSpan},
};
use futures::{StreamExt, TryStreamExt, stream};
use synthetic::{Dataset, Manifest, Series, Shape};

use crate::{compare::Tally, config::Config};

/// The span over which the etl's fast loop discovers series.
const DISCOVERY_SPAN: TimeDelta = WindowSpan::LONGEST;
/// Prometheus' lookback for an instant sample: a grid point of the slow loop's history may take
/// a raw sample this much older than the start of the lookback.
const STALENESS: TimeDelta = TimeDelta::minutes(5);

/// Why the check could not run (as opposed to finding mismatches).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The synthetic manifest could not be read.
    #[error(transparent)]
    Manifest(#[from] synthetic::ManifestError),
    /// The database did not answer.
    #[error("database: {0}")]
    Database(#[from] mongodb::error::Error),
    /// The target Prometheus did not answer or refused a query.
    #[error("target Prometheus")]
    Prometheus(#[from] PromError),
}

/// What a check found.
#[derive(Debug, Clone)]
pub struct Report {
    /// When the check started.
    pub now: DateTime<Utc>,
    /// Documents read from `metrics`.
    pub documents: usize,
    /// Series the selector selects.
    pub selected: usize,
    /// Of which synthetic (in the manifest).
    pub synthetic: usize,
    /// SLAs in the stored set.
    pub slas: usize,
    /// Assertions and mismatches.
    pub tally: Tally,
    /// How the engine's range selectors were found to cut (the generator's windows follow).
    pub semantics: RangeSemantics,
}

impl Report {
    /// Whether every assertion held.
    pub fn passed(&self) -> bool {
        self.tally.mismatches().is_empty()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mismatches = self.tally.mismatches();
        for mismatch in mismatches {
            writeln!(f, "MISMATCH {mismatch}")?;
        }
        writeln!(
            f,
            "pipeline-check at {}: {} documents checked ({} series selected, {} of them synthetic; {} SLAs; {} ranges), {} assertions, {} mismatches: {}",
            self.now.to_rfc3339(),
            self.documents,
            self.selected,
            self.synthetic,
            self.slas,
            self.semantics,
            self.tally.assertions(),
            mismatches.len(),
            if self.passed() { "PASSED" } else { "FAILED" },
        )
    }
}

/// A series as the check sees it: its labels, its document (if any), its synthetic definition
/// (if it is one).
struct Subject<'a> {
    name: String,
    labels: &'a Labels,
    document: Option<&'a MetricDocument>,
    synthetic: Option<&'a Series>,
}

/// Every document of `collection`, as stored (parsed and checked afterwards).
async fn all_documents(
    database: &mongodb::Database,
    collection: &str,
) -> Result<Vec<Document>, mongodb::error::Error> {
    database
        .collection::<Document>(collection)
        .find(doc! {})
        .await?
        .try_collect()
        .await
}

/// Reads everything, checks everything, and returns the tally.
///
/// # Errors
/// The manifest, the database or the target Prometheus could not be read.
pub async fn run(config: &Config) -> Result<Report, CheckError> {
    let manifest = Manifest::load(&config.manifest)?;
    let data = manifest.dataset();
    let database = config.mongo.database().await?;
    let prometheus = PromClient::new(
        config.prometheus.prometheus_url.clone(),
        config.prometheus.prometheus_timeout,
    )?;
    // The generator's windows must be cut as the engine cuts its ranges (see
    // common::range_semantics).
    let semantics = range_semantics::detect(&prometheus).await?;
    let now = Utc::now();
    let mut tally = Tally::default();

    let selected: BTreeMap<SeriesId, Labels> = prometheus
        .series(&config.series_selector, now - DISCOVERY_SPAN, now)
        .await?
        .into_iter()
        .map(|labels| (SeriesId::of(&labels), labels))
        .collect();
    let raw = all_documents(&database, METRICS_COLLECTION).await?;
    let raw_slas = all_documents(&database, SLASET_COLLECTION).await?;

    let documents = parse_documents(&raw, &selected, &mut tally);
    let slas = crate::slaset::sla_documents(&raw_slas, &mut tally);

    // Every synthetic series of the manifest is selected (else the run tells nothing about it).
    let mut synthetic = 0;
    for series in data.series() {
        let labels = series.label_set();
        let holds = selected.contains_key(&SeriesId::of(&labels));
        synthetic += usize::from(holds);
        tally.assert(
            holds,
            &series.selector(),
            "selected by the etl's selector",
            if holds { "selected" } else { "not selected" },
            "selected",
        );
    }

    let subjects: Vec<Subject<'_>> = selected
        .iter()
        .map(|(id, labels)| Subject {
            name: format!("{} ({id})", selector(labels)),
            labels,
            document: documents.get(id),
            synthetic: data.series().iter().find(|s| &s.label_set() == labels),
        })
        .collect();
    let fast = config.max_age(config.fast_loop_secs);
    let slow = config.max_age(config.slow_loop_secs);
    let lookback = TimeDelta::from_std(config.metadata_lookback).unwrap_or(TimeDelta::days(3));

    let checked: Vec<Tally> = stream::iter(&subjects)
        .map(|subject| {
            let times = Times {
                now,
                fast,
                slow,
                lookback,
            };
            check_series(subject, &prometheus, &data, semantics, times)
        })
        .buffer_unordered(usize::try_from(config.concurrency).unwrap_or(1))
        .try_collect()
        .await?;
    for part in checked {
        tally.extend(part);
    }

    for sla in &slas {
        let subject = format!("SLA {} ({})", selector(&sla.sla.name), sla.id);
        tally.assert(
            sla.id == sla.sla.id(),
            &subject,
            "slaset _id is the series id of its labels",
            sla.id,
            sla.sla.id(),
        );
        tally.assert(
            selected.contains_key(&sla.id),
            &subject,
            "SLA series selected",
            selected.contains_key(&sla.id),
            true,
        );
        let prediction = documents
            .get(&sla.id)
            .and_then(|d| Some((d.prediction.as_ref()?, d.computed_at(Kind::Prediction)?)));
        if tally.assert(
            prediction.is_some(),
            &subject,
            "prediction stored",
            "none",
            "a prediction",
        ) {
            let (prediction, at) = prediction.expect("checked just above");
            tally.fresh(&subject, "prediction", at, now, fast);
            tally.prediction(&subject, prediction);
        }
    }

    Ok(Report {
        now,
        documents: raw.len(),
        selected: selected.len(),
        synthetic,
        slas: slas.len(),
        tally,
        semantics,
    })
}

/// Parses every raw document; asserts each parses, has the id of its labels and is of a
/// selected series.
fn parse_documents(
    raw: &[Document],
    selected: &BTreeMap<SeriesId, Labels>,
    tally: &mut Tally,
) -> BTreeMap<SeriesId, MetricDocument> {
    let mut documents = BTreeMap::new();
    for document in raw {
        let id = document
            .get("_id")
            .map_or_else(|| "(no _id)".to_owned(), ToString::to_string);
        let parsed = bson::from_document::<MetricDocument>(document.clone());
        let Ok(parsed) = parsed else {
            let error = parsed.err().map(|e| e.to_string()).unwrap_or_default();
            tally.assert(
                false,
                &format!("document {id}"),
                "parses as a metrics document",
                error,
                "a metrics document",
            );
            continue;
        };
        let subject = format!("document {} ({})", parsed.id, selector(&parsed.name));
        tally.assert(
            parsed.id == SeriesId::of(&parsed.name),
            &subject,
            "_id is the series id of its labels",
            parsed.id,
            SeriesId::of(&parsed.name),
        );
        tally.assert(
            selected.contains_key(&parsed.id),
            &subject,
            "series selected by the etl's selector",
            "not selected",
            "only documents of selected series",
        );
        documents.insert(parsed.id, parsed);
    }
    documents
}

/// When the check runs, how fresh each kind must be, and the metadata's lookback.
#[derive(Clone, Copy)]
struct Times {
    now: DateTime<Utc>,
    fast: TimeDelta,
    slow: TimeDelta,
    lookback: TimeDelta,
}

/// The checks of one selected series: values against PromQL (and the generator), metadata.
async fn check_series(
    subject: &Subject<'_>,
    prometheus: &PromClient,
    data: &Dataset,
    semantics: RangeSemantics,
    times: Times,
) -> Result<Tally, PromError> {
    let Times {
        now,
        fast,
        slow,
        lookback,
    } = times;
    let mut tally = Tally::default();
    let name = subject.name.as_str();
    let Some(document) = subject.document else {
        tally.assert(false, name, "document stored", "none", "a document");
        return Ok(tally);
    };
    tally.assert(
        &document.name == subject.labels,
        name,
        "document labels are the series'",
        format!("{:?}", document.name),
        format!("{:?}", subject.labels),
    );

    match (&document.values, document.computed_at(Kind::Values)) {
        (Some(values), Some(at)) => {
            tally.fresh(name, "values", at, now, fast);
            let promql = promql_windows(prometheus, subject.labels, at).await?;
            for window in WindowSpan::ALL {
                let (k, range) = (window.index(), window.range());
                let stored = window_of(values, k);
                tally.window(
                    name,
                    &format!("values {range}"),
                    "PromQL",
                    stored,
                    promql[k].as_ref(),
                );
                if let Some(series) = subject.synthetic {
                    let expected = data
                        .window_stats_from(
                            series,
                            at.timestamp(),
                            window.secs(),
                            semantics == RangeSemantics::Closed,
                        )
                        .map(|w| Window {
                            min: w.min,
                            max: w.max,
                            avg: w.avg,
                            std_dev: w.std_dev,
                            count: w.count as u64,
                        });
                    tally.window(
                        name,
                        &format!("values {range}"),
                        "the generator",
                        stored,
                        expected.as_ref(),
                    );
                }
            }
        }
        _ => {
            tally.assert(
                false,
                name,
                "values stored",
                "none",
                "values with their computed_at",
            );
        }
    }

    match (&document.metadata, document.computed_at(Kind::Metadata)) {
        (Some(metadata), Some(at)) => {
            tally.fresh(name, "metadata", at, now, slow);
            check_metadata(&mut tally, subject, metadata, prometheus, at, lookback).await?;
        }
        _ => {
            tally.assert(
                false,
                name,
                "metadata stored",
                "none",
                "metadata with their computed_at",
            );
        }
    }
    Ok(tally)
}

/// Constant series say so (the generator's constant exactly; any series whose raw samples over
/// the lookback are all equal); the seasonal synthetic series have the generator's period.
async fn check_metadata(
    tally: &mut Tally,
    subject: &Subject<'_>,
    metadata: &Metadata,
    prometheus: &PromClient,
    at: DateTime<Utc>,
    lookback: TimeDelta,
) -> Result<(), PromError> {
    let name = subject.name.as_str();
    let statistics_absent = metadata.stationarity.is_none()
        && metadata.autocorrelation.is_none()
        && metadata.seasonality.is_none();
    if metadata.constant {
        tally.assert(
            statistics_absent,
            name,
            "constant metadata without statistics",
            format!("{metadata:?}"),
            "constant: true and nothing else",
        );
    }
    match subject.synthetic {
        Some(series) => {
            let constant = series.shape() == Shape::Constant;
            tally.assert(
                metadata.constant == constant,
                name,
                "metadata constant vs the generator",
                metadata.constant,
                constant,
            );
            if matches!(series.shape(), Shape::Seasonal | Shape::MulSeasonal) {
                tally.period(
                    name,
                    metadata.seasonality.as_ref().and_then(|s| s.period),
                    series.shape().periods_minutes(),
                );
            }
        }
        None => {
            // One direction only: the etl analyses a one-minute grid, which may hide changes
            // between its points; raw samples that never change make a constant grid.
            let range = format!("{}s", (lookback + STALENESS).num_seconds());
            let sel = selector(subject.labels);
            let min = prometheus
                .instant(
                    &format!("{}({sel}[{range}])", AggregateOp::Min.promql_function()),
                    Some(at),
                )
                .await?;
            let max = prometheus
                .instant(
                    &format!("{}({sel}[{range}])", AggregateOp::Max.promql_function()),
                    Some(at),
                )
                .await?;
            if let (Some(min), Some(max)) = (min.first(), max.first())
                && min.value == max.value
            {
                tally.assert(
                    metadata.constant,
                    name,
                    "metadata constant when every raw sample is equal (PromQL)",
                    metadata.constant,
                    true,
                );
            }
        }
    }
    Ok(())
}

/// The 1h, 3h and 12h windows PromQL gives for one series at `at`.
async fn promql_windows(
    prometheus: &PromClient,
    labels: &Labels,
    at: DateTime<Utc>,
) -> Result<[Option<Window>; 3], PromError> {
    let sel = selector(labels);
    let mut windows = [None; 3];
    for window in WindowSpan::ALL {
        let (k, range) = (window.index(), window.range());
        let mut fields = [None; 5];
        for (op, field) in AggregateOp::IN_WINDOW_ORDER.iter().zip(fields.iter_mut()) {
            let op = op.promql_function();
            let samples = prometheus
                .instant(&format!("{op}({sel}[{range}])"), Some(at))
                .await?;
            *field = match samples.as_slice() {
                [] => None,
                [one] => Some(one.value),
                more => {
                    return Err(PromError::Unexpected(format!(
                        "{op}({sel}[{range}]) returned {} series",
                        more.len()
                    )));
                }
            };
        }
        windows[k] = match fields {
            [Some(min), Some(max), Some(avg), Some(std_dev), Some(count)] => Some(Window {
                min,
                max,
                avg,
                std_dev,
                count: count as u64,
            }),
            _ => None,
        };
    }
    Ok(windows)
}

fn window_of(values: &Windows, k: usize) -> Option<&Window> {
    match k {
        0 => values.h1.as_ref(),
        1 => values.h3.as_ref(),
        _ => values.h12.as_ref(),
    }
}
