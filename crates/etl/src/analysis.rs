//! From `analytics` results to the record shapes of `common::record`: the mapping the service
//! and `etl analyze` share. Pure functions over a regularly sampled history.

use chrono::{DateTime, TimeDelta, Utc};
use common::record::{
    CandidateScore, Decomposition, Metadata, PredictedPoint, Prediction, SeasonalPeriod,
    Seasonality, Stationarity, Window,
};

/// Values at a constant step: a history as the statistics take it.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// Time of the first value.
    pub start: DateTime<Utc>,
    /// Seconds between two values.
    pub step_seconds: u64,
    /// One value per step; NaN marks a missed sample.
    pub values: Vec<f64>,
}

impl History {
    /// Time of the last value (of the first when there is none).
    pub fn end(&self) -> DateTime<Utc> {
        let steps = self.values.len().saturating_sub(1) as u64;
        self.start + TimeDelta::seconds((self.step_seconds * steps) as i64)
    }
}

/// The aggregates of the raw values (NaN gaps skipped), `None` without any value.
pub fn window(values: &[f64]) -> Option<Window> {
    let present: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let a = analytics::aggregates(&present).ok()?;
    Some(Window {
        min: a.min,
        max: a.max,
        avg: a.avg,
        std_dev: a.std_dev,
        count: a.count as u64,
    })
}

/// Whether every value is the same (NaN gaps ignored): such a series needs no analysis.
pub fn is_constant(values: &[f64]) -> bool {
    let mut present = values.iter().filter(|v| v.is_finite());
    match present.next() {
        Some(first) => present.all(|v| v == first),
        None => false,
    }
}

/// The statistics of a history sampled every `step_seconds` (NaN for missing samples, filled by
/// linear interpolation), from [`analytics::metadata()`]. A history too short for the statistics
/// gives a record without them.
///
/// # Errors
/// [`analytics::Error::AllMissing`] without any sample, or what a statistic reports besides
/// a lack of data.
pub fn metadata(values: &[f64], step_seconds: u64) -> Result<Metadata, analytics::Error> {
    let samples = values.len() as u64;
    let found = match analytics::metadata(values, &analytics::MetadataOptions::default()) {
        Ok(found) => found,
        Err(analytics::Error::NotEnoughData { .. }) => {
            let constant = is_constant(values);
            return Ok(Metadata {
                constant,
                samples,
                step_seconds,
                stationarity: None,
                autocorrelation: None,
                seasonality: None,
                anomalies: None,
            });
        }
        Err(error) => return Err(error),
    };
    let minutes = |period: usize| period as f64 * step_seconds as f64 / 60.0;
    let decomposition = |d: analytics::Decomposition| Decomposition {
        period: minutes(d.period),
        error: d.error,
    };
    Ok(Metadata {
        constant: found.constant,
        samples,
        step_seconds,
        stationarity: found.stationarity.map(|adf| Stationarity {
            stationary: adf.stationary,
            p_value: adf.p_value,
            adf_statistic: adf.statistic,
            used_lag: adf.used_lag as u64,
        }),
        autocorrelation: found.autocorrelation.map(|acf| {
            acf.into_iter()
                .map(|(lag, value)| (lag.to_string(), value))
                .collect()
        }),
        seasonality: found.seasonality.map(|s| Seasonality {
            period: s.period.map(minutes),
            add: s.add.map(decomposition),
            mul: s.mul.map(decomposition),
            periods: s
                .periods
                .iter()
                .map(|p| SeasonalPeriod {
                    period: minutes(p.period),
                    strength: p.strength,
                })
                .collect(),
        }),
        anomalies: None,
    })
}

/// The forecast of the `horizon` steps after a history whose last sample is at `last`, with a
/// seasonal period of `period_steps` samples when one is known, from [`analytics::predict`].
///
/// # Errors
/// [`analytics::Error::AllMissing`] without any sample, [`analytics::Error::NotEnoughData`]
/// for a history too short to fit any model.
pub fn prediction(
    values: &[f64],
    last: DateTime<Utc>,
    step_seconds: u64,
    period_steps: Option<usize>,
    horizon: usize,
) -> Result<Prediction, analytics::Error> {
    let predicted = analytics::predict(values, period_steps.filter(|p| *p >= 2), horizon)?;
    let step = TimeDelta::seconds(step_seconds as i64);
    let points: Vec<PredictedPoint> = (0..predicted.values.len())
        .map(|k| PredictedPoint {
            timestamp: last + step * (k as i32 + 1),
            value: predicted.values[k],
            lower: predicted.lower[k],
            upper: predicted.upper[k],
        })
        .collect();
    Ok(Prediction {
        model: predicted.model.name().to_owned(),
        rmse: predicted.rmse,
        min: predicted.min,
        max: predicted.max,
        avg: predicted.avg,
        horizon_minutes: (horizon as u64 * step_seconds).div_ceil(60),
        step_seconds,
        values: points,
        candidates: predicted
            .candidates
            .iter()
            .map(|c| CandidateScore {
                model: c.model.name().to_owned(),
                holdout_rmse: c.holdout_rmse,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seasonal(n: usize, period: usize) -> Vec<f64> {
        (0..n)
            .map(|i| {
                let phase = std::f64::consts::TAU * i as f64 / period as f64;
                // Deterministic pseudo-noise so the series is not exactly periodic.
                let noise = ((i * 7919) % 101) as f64 / 101.0 - 0.5;
                100.0 + 10.0 * phase.sin() + noise
            })
            .collect()
    }

    #[test]
    fn window_skips_gaps_and_is_none_without_values() {
        let w = window(&[1.0, f64::NAN, 3.0]).unwrap();
        assert_eq!(
            (w.min, w.max, w.avg, w.std_dev, w.count),
            (1.0, 3.0, 2.0, 1.0, 2)
        );
        assert_eq!(window(&[f64::NAN]), None);
        assert_eq!(window(&[]), None);
    }

    #[test]
    fn constant_series_short_circuit() {
        let m = metadata(&[42.0, f64::NAN, 42.0, 42.0], 60).unwrap();
        assert!(m.constant);
        assert_eq!((m.samples, m.step_seconds), (4, 60));
        assert!(m.stationarity.is_none() && m.autocorrelation.is_none() && m.seasonality.is_none());
    }

    #[test]
    fn seasonal_period_is_reported_in_minutes() {
        // A period of 24 samples of 5 minutes is 120 minutes.
        let m = metadata(&seasonal(24 * 20, 24), 300).unwrap();
        assert!(!m.constant);
        let seasonality = m.seasonality.expect("long enough");
        assert_eq!(seasonality.period, Some(120.0));
        assert_eq!(seasonality.add.map(|d| d.period), Some(120.0));
        assert_eq!(m.autocorrelation.expect("long enough")["0"], 1.0);
        assert!(m.stationarity.is_some());
    }

    #[test]
    fn too_short_statistics_are_left_out() {
        let m = metadata(&[1.0, 2.0, 1.5], 60).unwrap();
        assert!(!m.constant);
        assert!(m.seasonality.is_none());
    }

    #[test]
    fn no_sample_at_all_is_an_error() {
        assert_eq!(
            metadata(&[f64::NAN, f64::NAN], 60),
            Err(analytics::Error::AllMissing)
        );
    }

    #[test]
    fn prediction_follows_the_history_at_its_step() {
        let last: DateTime<Utc> = "2026-11-22T06:00:00Z".parse().unwrap();
        let p = prediction(&seasonal(240, 24), last, 60, Some(24), 10).unwrap();
        assert_eq!(p.values.len(), 10);
        assert_eq!((p.horizon_minutes, p.step_seconds), (10, 60));
        assert_eq!(p.values[0].timestamp, last + TimeDelta::minutes(1));
        assert_eq!(p.values[9].timestamp, last + TimeDelta::minutes(10));
        assert!(p.model.starts_with("holt_winters"), "{}", p.model);
        for point in &p.values {
            assert!(point.lower <= point.value && point.value <= point.upper);
            assert!(p.min <= point.value && point.value <= p.max);
        }
        assert!(p.min <= p.avg && p.avg <= p.max);
    }

    #[test]
    fn prediction_without_enough_history_fails() {
        let last: DateTime<Utc> = "2026-11-22T06:00:00Z".parse().unwrap();
        assert!(matches!(
            prediction(&[1.0, 2.0], last, 60, None, 10),
            Err(analytics::Error::NotEnoughData { .. })
        ));
    }
}
