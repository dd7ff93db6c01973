//! The Kafka record: one result of the etl for one series, of one kind.
//!
//! On the wire (topic `prometheusdata`, JSON, key = the series id):
//! `{"id", "name", "kind": "values|metadata|prediction", "computed_at", "<kind>": {...}}`.
//!
//! Every floating-point field may be NaN or ±Inf (Prometheus computes them: a summary without
//! observations has NaN quantiles). In JSON they are the strings `"NaN"`, `"+Inf"`, `"-Inf"`,
//! as in Prometheus' HTTP API, and `null` reads as NaN (the form the etl wrote before); in
//! MongoDB they are BSON doubles. See [`crate::float`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::series::{Labels, SeriesId};

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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn labels() -> Labels {
        [
            ("__name__", "node_load1"),
            ("instance", "localhost:9100"),
            ("job", "node"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    fn at() -> DateTime<Utc> {
        "2026-11-22T06:00:00Z".parse().unwrap()
    }

    pub(crate) fn values_record() -> Record {
        let w = Window {
            min: 0.1,
            max: 2.5,
            avg: 1.0,
            std_dev: 0.4,
            count: 60,
        };
        Record::new(
            labels(),
            at(),
            Payload::Values {
                values: Windows {
                    h1: Some(w),
                    h3: Some(w),
                    h12: None,
                },
            },
        )
    }

    pub(crate) fn metadata_record() -> Record {
        let metadata = crate::testing::full_metadata();
        Record::new(labels(), at(), Payload::Metadata { metadata })
    }

    pub(crate) fn prediction_record() -> Record {
        let point = PredictedPoint {
            timestamp: at(),
            value: 1.0,
            lower: 0.5,
            upper: 1.5,
        };
        let prediction = Prediction {
            model: "holt_winters_additive".to_owned(),
            rmse: 0.2,
            min: 1.0,
            max: 1.0,
            avg: 1.0,
            horizon_minutes: 10,
            step_seconds: 60,
            values: vec![point; 10],
            candidates: vec![CandidateScore {
                model: "holt_winters_additive".to_owned(),
                holdout_rmse: 0.3,
            }],
        };
        Record::new(labels(), at(), Payload::Prediction { prediction })
    }

    #[test]
    fn seasonal_periods_round_trip_and_old_metadata_reads_without_them() {
        let mut metadata = crate::testing::full_metadata();
        let seasonality = metadata.seasonality.as_mut().unwrap();
        seasonality.periods = vec![
            SeasonalPeriod {
                period: 60.0,
                strength: 40.0,
            },
            SeasonalPeriod {
                period: 1440.0,
                strength: 20.0,
            },
        ];
        let value = serde_json::to_value(&metadata).unwrap();
        assert_eq!(value["seasonality"]["periods"][1]["period"], 1440.0);
        let back: Metadata = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(back, metadata);
        let mut old = value;
        old["seasonality"]
            .as_object_mut()
            .unwrap()
            .remove("periods");
        let back: Metadata = serde_json::from_value(old).unwrap();
        assert!(back.seasonality.unwrap().periods.is_empty());
    }

    #[test]
    fn a_prediction_written_before_the_candidates_reads_without_them() {
        let mut value = serde_json::to_value(prediction_record()).unwrap();
        assert_eq!(
            value["prediction"]["candidates"],
            json!([{"model": "holt_winters_additive", "holdout_rmse": 0.3}])
        );
        value["prediction"]
            .as_object_mut()
            .unwrap()
            .remove("candidates");
        let back: Record = serde_json::from_value(value).unwrap();
        let Payload::Prediction { prediction } = back.payload else {
            unreachable!()
        };
        assert!(prediction.candidates.is_empty());
        let text = serde_json::to_value(&prediction).unwrap();
        assert!(text.get("candidates").is_none(), "{text}");
    }

    #[test]
    fn every_kind_round_trips_through_json() {
        for record in [values_record(), metadata_record(), prediction_record()] {
            let text = serde_json::to_string(&record).unwrap();
            let back: Record = serde_json::from_str(&text).unwrap();
            assert_eq!(back, record);
        }
    }

    #[test]
    fn wire_shape_is_as_designed() {
        let value = serde_json::to_value(values_record()).unwrap();
        assert_eq!(value["kind"], "values");
        assert_eq!(value["id"], SeriesId::of(&labels()).to_string());
        assert_eq!(value["name"]["__name__"], "node_load1");
        assert_eq!(value["computed_at"], "2026-11-22T06:00:00Z");
        assert_eq!(
            value["values"]["1h"],
            json!({"min": 0.1, "max": 2.5, "avg": 1.0, "std_dev": 0.4, "count": 60})
        );
        assert_eq!(value["values"]["12h"], json!(null));
    }

    #[test]
    fn constant_metadata_omits_the_statistics() {
        let metadata = Metadata {
            constant: true,
            samples: 10,
            step_seconds: 60,
            stationarity: None,
            autocorrelation: None,
            seasonality: None,
        };
        let value = serde_json::to_value(&metadata).unwrap();
        assert_eq!(
            value,
            json!({"constant": true, "samples": 10, "step_seconds": 60})
        );
    }

    #[test]
    fn non_finite_aggregates_travel_as_prometheus_strings_and_old_nulls_read_as_nan() {
        let mut record = values_record();
        let Payload::Values { values } = &mut record.payload else {
            unreachable!()
        };
        let window = values.h1.as_mut().unwrap();
        window.min = f64::NEG_INFINITY;
        window.max = f64::INFINITY;
        window.avg = f64::NAN;
        window.std_dev = f64::NAN;
        let text = serde_json::to_value(&record).unwrap();
        assert_eq!(
            text["values"]["1h"],
            json!({"min": "-Inf", "max": "+Inf", "avg": "NaN", "std_dev": "NaN", "count": 60})
        );
        let back: Record = serde_json::from_value(text.clone()).unwrap();
        let h1 = match back.payload {
            Payload::Values { values } => values.h1.unwrap(),
            _ => unreachable!(),
        };
        assert!(h1.avg.is_nan() && h1.std_dev.is_nan());
        assert_eq!((h1.min, h1.max), (f64::NEG_INFINITY, f64::INFINITY));

        // What the etl wrote before: NaN as `null`.
        let mut old = text;
        old["values"]["1h"]["avg"] = json!(null);
        old["values"]["1h"]["std_dev"] = json!(null);
        let back: Record = serde_json::from_value(old).unwrap();
        let Payload::Values { values } = back.payload else {
            unreachable!()
        };
        assert!(values.h1.unwrap().avg.is_nan());
    }

    #[test]
    fn unknown_kind_is_rejected() {
        let text = r#"{"id":"0123456789abcdef","name":{},"kind":"weather","computed_at":"2026-11-22T06:00:00Z","weather":{}}"#;
        assert!(serde_json::from_str::<Record>(text).is_err());
    }
}
