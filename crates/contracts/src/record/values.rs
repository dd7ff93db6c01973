//! The payload of the fast loop's `values` records: the aggregates of the raw samples over
//! the 1h, 3h and 12h windows.

use serde::{Deserialize, Serialize};

/// Aggregates over the raw samples of a window, as PromQL's `*_over_time` functions compute them.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// `min_over_time`
    #[serde(with = "crate::float")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::float::schema))]
    pub min: f64,
    /// `max_over_time`
    #[serde(with = "crate::float")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::float::schema))]
    pub max: f64,
    /// `avg_over_time`
    #[serde(with = "crate::float")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::float::schema))]
    pub avg: f64,
    /// `stddev_over_time`: the population standard deviation.
    #[serde(with = "crate::float")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::float::schema))]
    pub std_dev: f64,
    /// `count_over_time`
    pub count: u64,
}

/// The aggregates over the last 1, 3 and 12 hours; a window without samples is `null`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Windows {
    /// The last hour.
    #[serde(rename = "1h")]
    pub h1: Option<Window>,
    /// The last 3 hours.
    #[serde(rename = "3h")]
    pub h3: Option<Window>,
    /// The last 12 hours.
    #[serde(rename = "12h")]
    pub h12: Option<Window>,
}
