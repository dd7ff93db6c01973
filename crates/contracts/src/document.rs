//! The MongoDB documents: what `storage` writes and `retrieval` and `sla-manager` read
//! (`common::store` holds the repository that reads and writes them).
//!
//! `metrics`: `{_id, name, values, values_at, metadata, metadata_at, prediction, prediction_at}`.
//! Each record sets only its own kind, and never overwrites a newer result of that kind.
//! `slaset`: `{_id, name, range, for}`, one document per SLA metric.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    record::{Kind, Metadata, Prediction, Windows},
    series::{Labels, SeriesId},
    sla::Sla,
};

/// The collection of computed results, one document per series.
pub const METRICS_COLLECTION: &str = "metrics";
/// The collection of the SLA set, one document per SLA metric.
pub const SLASET_COLLECTION: &str = "slaset";

/// A series' stored results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricDocument {
    /// The series id.
    #[serde(rename = "_id")]
    pub id: SeriesId,
    /// The series' labels.
    pub name: Labels,
    /// The latest windowed aggregates.
    #[serde(default)]
    pub values: Option<Windows>,
    /// When they were computed.
    #[serde(default)]
    pub values_at: Option<bson::DateTime>,
    /// The latest statistics.
    #[serde(default)]
    pub metadata: Option<Metadata>,
    /// When they were computed.
    #[serde(default)]
    pub metadata_at: Option<bson::DateTime>,
    /// The latest forecast.
    #[serde(default)]
    pub prediction: Option<Prediction>,
    /// When it was computed.
    #[serde(default)]
    pub prediction_at: Option<bson::DateTime>,
}

impl MetricDocument {
    /// When the result of `kind` was computed, if there is one.
    pub fn computed_at(&self, kind: Kind) -> Option<DateTime<Utc>> {
        let at = match kind {
            Kind::Values => self.values_at,
            Kind::Metadata => self.metadata_at,
            Kind::Prediction => self.prediction_at,
        };
        at.map(bson::DateTime::to_chrono)
    }
}

/// A series as listed by `GET /metrics`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesSummary {
    /// The series id.
    #[serde(rename = "_id")]
    pub id: SeriesId,
    /// The series' labels.
    pub name: Labels,
}

/// An SLA as stored in `slaset`, keyed by its series id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlaDocument {
    /// The series id.
    #[serde(rename = "_id")]
    pub id: SeriesId,
    /// The SLA.
    #[serde(flatten)]
    pub sla: Sla,
}
