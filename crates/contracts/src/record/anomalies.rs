//! The anomalies part of a `metadata` record: the changepoints of the series over the lookback
//! and how it compares with the other series of its metric name, as the slow loop finds them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The anomalies of one series over the analysed history.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Anomalies {
    /// Level and trend changepoints, oldest first; empty when none stands out of the noise (or
    /// the history is shorter than the detector's two windows).
    #[serde(default)]
    pub changepoints: Vec<Changepoint>,
    /// The series against the others of its metric name; `null` when it was not compared (fewer
    /// than three series of the name in the etl shard, or histories that cannot be aligned).
    #[serde(default)]
    pub outlier: Option<OutlierStatus>,
}

/// What changed at a changepoint.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// The level jumps (a step).
    Level,
    /// The slope changes (a kink).
    Trend,
}

/// One changepoint of a series.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Changepoint {
    /// Time of the first sample after the change.
    pub timestamp: DateTime<Utc>,
    /// `level` (a jump) or `trend` (a change of slope).
    pub kind: ChangeKind,
    /// The jump in the series' units (`level`), or the change of slope in units per second
    /// (`trend`).
    #[serde(with = "crate::float")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::float::schema))]
    pub size: f64,
    /// The change in units of the series' noise.
    #[serde(with = "crate::float")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::float::schema))]
    pub score: f64,
}

/// A series judged against the other series of its metric name.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutlierStatus {
    /// The detector: `mad` (median absolute deviation) or `dbscan`.
    pub method: String,
    /// Series compared, this one included.
    pub compared: u64,
    /// Whether it behaved unlike the rest for long enough.
    pub outlying: bool,
    /// Start of its first outlying stretch; `null` when not outlying.
    #[serde(default)]
    pub since: Option<DateTime<Utc>>,
    /// End of its last outlying stretch; `null` while it lasts (or when not outlying).
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
    /// Its median distance from the median series while outlying, in units of the fleet's
    /// spread (positive above the rest); `null` when not outlying.
    #[serde(default, with = "crate::float::option")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::float::option_schema))]
    pub score: Option<f64>,
}
