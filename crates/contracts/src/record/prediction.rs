//! The payload of the fast loop's `prediction` records: the forecast of an SLA metric, its
//! points with their bounds, and the candidate models it was chosen from.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The forecast of an SLA metric.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// The model kept: the lowest held-out RMSE of the candidates below (the lowest in-sample
    /// RMSE when they are absent).
    pub model: String,
    /// Its in-sample one-step RMSE.
    #[serde(with = "crate::float")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::float::schema))]
    pub rmse: f64,
    /// The smallest predicted value.
    #[serde(with = "crate::float")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::float::schema))]
    pub min: f64,
    /// The largest predicted value.
    #[serde(with = "crate::float")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::float::schema))]
    pub max: f64,
    /// The mean predicted value.
    #[serde(with = "crate::float")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::float::schema))]
    pub avg: f64,
    /// How far ahead the forecast reaches.
    pub horizon_minutes: u64,
    /// The step between predicted points.
    pub step_seconds: u64,
    /// The predicted points with their 95% bounds.
    pub values: Vec<PredictedPoint>,
    /// Every candidate model and its rolling-origin held-out RMSE; absent from records written
    /// before the etl evaluated candidates, and when the history was too short to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<CandidateScore>,
}

/// One candidate model of a forecast and how well it forecast the held-out history.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateScore {
    /// The model, named as [`Prediction::model`].
    pub model: String,
    /// RMSE of its forecasts of the last values of the history, each fitted on what came
    /// before them.
    #[serde(with = "crate::float")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::float::schema))]
    pub holdout_rmse: f64,
}

/// One predicted point.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PredictedPoint {
    /// When.
    pub timestamp: DateTime<Utc>,
    /// The point forecast.
    #[serde(with = "crate::float")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::float::schema))]
    pub value: f64,
    /// The lower 95% bound.
    #[serde(with = "crate::float")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::float::schema))]
    pub lower: f64,
    /// The upper 95% bound.
    #[serde(with = "crate::float")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::float::schema))]
    pub upper: f64,
}
