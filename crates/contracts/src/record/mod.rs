//! The Kafka record: one result of the etl for one series, of one kind.
//!
//! On the wire (topic `prometheusdata`, JSON, key = the series id):
//! `{"id", "name", "kind": "values|metadata|prediction", "computed_at", "<kind>": {...}}`.
//!
//! Every floating-point field may be NaN or ±Inf (Prometheus computes them: a summary without
//! observations has NaN quantiles). In JSON they are the strings `"NaN"`, `"+Inf"`, `"-Inf"`,
//! as in Prometheus' HTTP API, and `null` reads as NaN (the form the etl wrote before); in
//! MongoDB they are BSON doubles. See [`crate::float`].
//!
//! This file is the envelope (the record, its kind and the tagged payload); each payload has
//! its own file, named by its kind: `values.rs` (the windowed aggregates),
//! `metadata.rs` (the statistics of the history, with `anomalies.rs`) and `prediction.rs` (the forecast). Every
//! type is re-exported here, so the paths stay `contracts::record::<Type>`.

mod anomalies;
mod metadata;
mod prediction;
mod values;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::series::{Labels, SeriesId};

pub use anomalies::{Anomalies, ChangeKind, Changepoint, OutlierStatus};
pub use metadata::{Decomposition, Metadata, SeasonalPeriod, Seasonality, Stationarity};
pub use prediction::{CandidateScore, PredictedPoint, Prediction};
pub use values::{Window, Windows};

/// One result for one series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The series id, also the Kafka key.
    pub id: SeriesId,
    /// The series' full label set.
    pub name: Labels,
    /// When the etl computed this result; newer results win in the database.
    pub computed_at: DateTime<Utc>,
    /// The result itself; its kind is the record's `kind`.
    #[serde(flatten)]
    pub payload: Payload,
}

impl Record {
    /// A record for `labels`, its id derived from them.
    pub fn new(name: Labels, computed_at: DateTime<Utc>, payload: Payload) -> Self {
        Self {
            id: SeriesId::of(&name),
            name,
            computed_at,
            payload,
        }
    }

    /// The record's kind.
    pub fn kind(&self) -> Kind {
        self.payload.kind()
    }
}

/// The three kinds of result.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Windowed aggregates, from the fast loop.
    Values,
    /// Statistics of the series' history, from the slow loop.
    Metadata,
    /// The forecast of an SLA metric, from the fast loop.
    Prediction,
}

impl Kind {
    /// Every kind, in a fixed order.
    pub const ALL: [Kind; 3] = [Kind::Values, Kind::Metadata, Kind::Prediction];

    /// The name used in JSON, in MongoDB field names and as a metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Values => "values",
            Kind::Metadata => "metadata",
            Kind::Prediction => "prediction",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A record's result, tagged by `kind` and held under the field of the same name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Payload {
    /// `{"kind": "values", "values": {...}}`
    Values {
        /// The aggregates per window.
        values: Windows,
    },
    /// `{"kind": "metadata", "metadata": {...}}`
    Metadata {
        /// The statistics of the history.
        metadata: Metadata,
    },
    /// `{"kind": "prediction", "prediction": {...}}`
    Prediction {
        /// The forecast.
        prediction: Prediction,
    },
}

impl Payload {
    /// The payload's kind.
    pub fn kind(&self) -> Kind {
        match self {
            Payload::Values { .. } => Kind::Values,
            Payload::Metadata { .. } => Kind::Metadata,
            Payload::Prediction { .. } => Kind::Prediction,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
