//! `etl analyze`: aggregates, metadata, a forecast and the changepoints of one CSV file, as one
//! JSON document (the first three in the record shapes of `common::record`).

use common::record::{Changepoint, Metadata, Prediction, Window};
use serde::Serialize;

use crate::{analysis, anomalies, config::AnalyzeArgs, csv};

/// What `etl analyze` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The aggregates over the whole file.
    pub aggregates: Option<Window>,
    /// The statistics of the series.
    pub metadata: Metadata,
    /// The forecast after the last sample; `null` when the series is too short for any model.
    pub prediction: Option<Prediction>,
    /// The level and trend changepoints of the series, in time order, as the metadata record
    /// holds them (none on a series shorter than 240 samples).
    pub changepoints: Vec<Changepoint>,
}

/// Why the analysis failed.
#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    /// The file cannot be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a `timestamp,value` series.
    #[error("malformed input {path}")]
    Malformed {
        /// The file.
        path: String,
        /// The line at fault.
        #[source]
        source: csv::CsvError,
    },
    /// A statistic failed.
    #[error("analysis failed")]
    Analysis(#[from] analytics::Error),
    /// The period is not a whole number of steps.
    #[error("a period of {period} minutes is not a whole number of {step} s steps")]
    Period {
        /// The period asked for.
        period: u32,
        /// The series' step.
        step: u64,
    },
}

/// Reads and analyses the file `args.input`.
///
/// # Errors
/// See [`AnalyzeError`].
pub fn run(args: &AnalyzeArgs) -> Result<Report, AnalyzeError> {
    let path = args.input.display().to_string();
    let text = std::fs::read_to_string(&args.input).map_err(|source| AnalyzeError::Read {
        path: path.clone(),
        source,
    })?;
    let series = csv::parse(&text).map_err(|source| AnalyzeError::Malformed { path, source })?;
    analyze(&series, args.period, args.horizon as usize)
}

/// Analyses a parsed series; `period_minutes` overrides the seasonal period the metadata finds.
///
/// # Errors
/// See [`AnalyzeError`].
pub fn analyze(
    series: &analysis::History,
    period_minutes: Option<u32>,
    horizon: usize,
) -> Result<Report, AnalyzeError> {
    let step = series.step_seconds;
    let metadata = analysis::metadata(&series.values, step)?;
    let period_steps = match period_minutes {
        Some(period) => {
            let seconds = u64::from(period) * 60;
            if seconds % step != 0 {
                return Err(AnalyzeError::Period { period, step });
            }
            Some((seconds / step) as usize)
        }
        None => metadata
            .seasonality
            .as_ref()
            .and_then(|s| s.period)
            .map(|minutes| (minutes * 60.0 / step as f64).round() as usize),
    };
    let prediction =
        match analysis::prediction(&series.values, series.end(), step, period_steps, horizon) {
            Ok(prediction) => Some(prediction),
            Err(analytics::Error::NotEnoughData { .. }) => None,
            Err(error) => return Err(error.into()),
        };
    Ok(Report {
        aggregates: analysis::window(&series.values),
        metadata,
        prediction,
        changepoints: anomalies::changepoints(series, period_steps)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(values: Vec<f64>) -> analysis::History {
        analysis::History {
            start: "2026-11-22T00:00:00Z".parse().unwrap(),
            step_seconds: 60,
            values,
        }
    }

    #[test]
    fn report_has_the_three_parts() {
        let values: Vec<f64> = (0..300)
            .map(|i| 10.0 + (i as f64 * std::f64::consts::TAU / 30.0).sin() + (i % 7) as f64 * 0.01)
            .collect();
        let report = analyze(&series(values), Some(30), 10).unwrap();
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["aggregates"]["count"], 300);
        assert_eq!(json["metadata"]["constant"], false);
        assert_eq!(json["prediction"]["values"].as_array().unwrap().len(), 10);
        assert_eq!(
            json["prediction"]["values"][0]["timestamp"],
            "2026-11-22T05:00:00Z"
        );
    }

    #[test]
    fn a_planted_level_shift_is_reported_with_its_time() {
        // An hourly cycle, deterministic wiggle, and a jump of 8 at sample 600 (10:00).
        let values: Vec<f64> = (0..1_200)
            .map(|i| {
                10.0 + 2.0 * (i as f64 * std::f64::consts::TAU / 60.0).sin()
                    + ((i * 7) % 5) as f64 * 0.3
                    + if i >= 600 { 8.0 } else { 0.0 }
            })
            .collect();
        let report = analyze(&series(values), Some(60), 10).unwrap();
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["changepoints"].as_array().unwrap().len(), 1, "{json}");
        assert_eq!(json["changepoints"][0]["kind"], "level");
        assert_eq!(json["changepoints"][0]["timestamp"], "2026-11-22T10:00:00Z");
        let size = json["changepoints"][0]["size"].as_f64().unwrap();
        assert!((size - 8.0).abs() < 0.5, "{size}");
    }

    #[test]
    fn a_period_that_is_not_whole_steps_is_refused() {
        let mut s = series(vec![1.0, 2.0, 3.0, 4.0, 5.0]);
        s.step_seconds = 7 * 60;
        assert!(matches!(
            analyze(&s, Some(60), 10),
            Err(AnalyzeError::Period { .. })
        ));
    }

    #[test]
    fn too_short_for_a_forecast_gives_null() {
        let report = analyze(&series(vec![1.0, 2.0]), None, 10).unwrap();
        assert!(report.prediction.is_none());
        assert!(report.changepoints.is_empty());
    }
}
