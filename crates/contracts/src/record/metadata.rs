//! The payload of the slow loop's `metadata` records: stationarity, autocorrelation,
//! seasonality and anomalies (`anomalies.rs`) of a series' history, as `analytics` computes them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Statistics of a series' recent history.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// The series did not change over the lookback; the statistics below are then absent.
    pub constant: bool,
    /// Samples analysed (gaps filled included).
    pub samples: u64,
    /// The sampling step of the analysed history.
    pub step_seconds: u64,
    /// Augmented Dickey-Fuller test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stationarity: Option<Stationarity>,
    /// Lag (in steps, as text) to autocorrelation: lag 0 and every significant lag.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::float::option_map"
    )]
    pub autocorrelation: Option<BTreeMap<String, f64>>,
    /// Seasonality found by the periodogram and refined by decomposition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seasonality: Option<Seasonality>,
    /// Changepoints and outlier status; absent from records written before the etl looked
    /// for anomalies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anomalies: Option<super::Anomalies>,
}

/// The Augmented Dickey-Fuller test, as statsmodels' `adfuller(x, regression="c", autolag="AIC")`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stationarity {
    /// `p_value < 0.05`.
    pub stationary: bool,
    /// MacKinnon's approximate p-value.
    #[serde(with = "crate::float")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::float::schema))]
    pub p_value: f64,
    /// The test statistic.
    #[serde(with = "crate::float")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::float::schema))]
    pub adf_statistic: f64,
    /// Lags chosen by AIC.
    pub used_lag: u64,
}

/// The seasonal period, if any, in minutes.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Seasonality {
    /// The period kept, `null` when no peak of the periodogram is significant.
    #[serde(default, with = "crate::float::option")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::float::option_schema))]
    pub period: Option<f64>,
    /// The additive decomposition's best period and its residual mean square.
    #[serde(default)]
    pub add: Option<Decomposition>,
    /// The multiplicative one, for positive series only.
    #[serde(default)]
    pub mul: Option<Decomposition>,
    /// Up to three significant periods, strongest first (the first is `period`); absent from
    /// records written before the etl listed them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub periods: Vec<SeasonalPeriod>,
}

/// One significant seasonal period and how strongly it stands out.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SeasonalPeriod {
    /// The period, in minutes.
    #[serde(with = "crate::float")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::float::schema))]
    pub period: f64,
    /// Its periodogram peak over the local noise floor (1 is noise; the test's threshold is
    /// about 15).
    #[serde(with = "crate::float")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::float::schema))]
    pub strength: f64,
}

/// A classical decomposition at one period.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Decomposition {
    /// The period, in minutes.
    #[serde(with = "crate::float")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::float::schema))]
    pub period: f64,
    /// The residual mean square.
    #[serde(with = "crate::float")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::float::schema))]
    pub error: f64,
}
