//! Everything the `etl` service records about a series: [`metadata`] and [`predict`].

use std::collections::BTreeMap;

use serde::Serialize;

use crate::autocorrelation::{AcfOptions, acf};
use crate::error::{Error, Result};
use crate::forecast::{ForecastOptions, Model, Score, select};
use crate::gaps::fill_gaps;
use crate::seasonality::{Seasonality, SeasonalityOptions, seasonality};
use crate::stationarity::{Adf, AdfOptions, adfuller};

/// Options of [`metadata`]: one per analysis, each defaulting to statsmodels' defaults.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MetadataOptions {
    /// ADF options.
    pub adf: AdfOptions,
    /// ACF options.
    pub acf: AcfOptions,
    /// Seasonality options.
    pub seasonality: SeasonalityOptions,
}

/// What the `metadata` record carries (periods in samples; `etl` converts them to minutes).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metadata {
    /// The series (after gap filling) is constant; the analyses are then skipped.
    pub constant: bool,
    /// Number of samples, gaps included.
    pub samples: usize,
    /// Number of gaps filled by linear interpolation.
    pub filled: usize,
    /// ADF test (`None` for a constant series, or a noise-free one whose ADF regression
    /// is singular).
    pub stationarity: Option<Adf>,
    /// Lag 0 and every lag whose 95% Bartlett interval lies above zero, with its
    /// autocorrelation (`None` for a constant series).
    pub autocorrelation: Option<BTreeMap<usize, f64>>,
    /// Seasonality (`None` for a constant series).
    pub seasonality: Option<Seasonality>,
}

/// Fills gaps, short-circuits constant series, then runs [`adfuller`], [`acf`] (its
/// [significant lags](crate::Acf::significant)) and [`seasonality`].
///
/// # Errors
/// [`crate::Error::AllMissing`] when no value is finite; otherwise the first error of the
/// analyses, typically [`crate::Error::NotEnoughData`] for fewer than 8 values.
pub fn metadata(x: &[f64], options: &MetadataOptions) -> Result<Metadata> {
    let filled = fill_gaps(x)?;
    let y = &filled.values;
    let constant = y.iter().all(|&v| v == y[0]);
    let mut out = Metadata {
        constant,
        samples: x.len(),
        filled: filled.filled,
        stationarity: None,
        autocorrelation: None,
        seasonality: None,
    };
    if !constant {
        // A noise-free series (an exact sine, say) fits the ADF regression perfectly; the
        // test is then undefined, which is not a reason to drop the other analyses.
        out.stationarity = match adfuller(y, &options.adf) {
            Ok(adf) => Some(adf),
            Err(Error::Singular) => None,
            Err(e) => return Err(e),
        };
        out.autocorrelation = Some(acf(y, &options.acf)?.significant());
        out.seasonality = Some(seasonality(y, &options.seasonality)?);
    }
    Ok(out)
}

/// What the `prediction` record carries.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    /// The model kept: the lowest held-out RMSE of the rolling-origin evaluation.
    pub model: Model,
    /// Its in-sample RMSE.
    pub rmse: f64,
    /// Every candidate evaluated and its held-out RMSE (empty when the history was too
    /// short to evaluate them and the model was chosen by in-sample RMSE).
    pub candidates: Vec<Score>,
    /// Smallest predicted value.
    pub min: f64,
    /// Largest predicted value.
    pub max: f64,
    /// Mean of the predicted values.
    pub avg: f64,
    /// Point forecasts, one per step.
    pub values: Vec<f64>,
    /// Lower 95% bounds.
    pub lower: Vec<f64>,
    /// Upper 95% bounds.
    pub upper: Vec<f64>,
}

/// Fills gaps and forecasts `horizon` steps with 95% intervals with the
/// [selected](crate::forecast::select) model, `period` the only seasonal period, and
/// summarises the predicted values.
///
/// # Errors
/// [`crate::Error::AllMissing`], [`crate::Error::NotEnoughData`] for fewer than 4 values,
/// [`crate::Error::InvalidOption`] for a zero horizon.
pub fn predict(x: &[f64], period: Option<usize>, horizon: usize) -> Result<Prediction> {
    predict_with(x, period.as_slice(), horizon)
}

/// [`predict`] with several seasonal periods (in samples, strongest first).
///
/// # Errors
/// As [`predict`].
pub fn predict_with(x: &[f64], periods: &[usize], horizon: usize) -> Result<Prediction> {
    if horizon == 0 {
        return Err(crate::Error::InvalidOption("horizon must be at least 1"));
    }
    let filled = fill_gaps(x)?;
    let selection = select(
        &filled.values,
        periods,
        &ForecastOptions {
            horizon,
            ..ForecastOptions::default()
        },
    )?;
    let f = selection.forecast;
    let min = f.values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = f.values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let avg = f.values.iter().sum::<f64>() / f.values.len() as f64;
    Ok(Prediction {
        model: f.model,
        rmse: f.rmse,
        candidates: selection.candidates,
        min,
        max,
        avg,
        values: f.values,
        lower: f.lower,
        upper: f.upper,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_series_short_circuits() {
        let m = metadata(&[3.0, f64::NAN, 3.0, 3.0], &MetadataOptions::default()).unwrap();
        assert!(m.constant);
        assert_eq!((m.samples, m.filled), (4, 1));
        assert!(m.stationarity.is_none() && m.seasonality.is_none());
    }

    #[test]
    fn seasonal_series_gets_everything() {
        let sine = |t: usize| 10.0 + (2.0 * std::f64::consts::PI * t as f64 / 60.0).sin();
        let exact: Vec<f64> = (0..480).map(sine).collect();
        let m = metadata(&exact, &MetadataOptions::default()).unwrap();
        assert!(m.stationarity.is_none(), "singular ADF regression");
        assert_eq!(m.seasonality.unwrap().period, Some(60));
        // deterministic pseudo-noise
        let x: Vec<f64> = (0..480)
            .map(|t| sine(t) + 0.3 * ((t * 7919 % 101) as f64 / 101.0 - 0.5))
            .collect();
        let m = metadata(&x, &MetadataOptions::default()).unwrap();
        assert!(m.stationarity.is_some());
        assert!(!m.constant);
        assert_eq!(m.seasonality.unwrap().period, Some(60));
        assert_eq!(m.autocorrelation.unwrap().get(&0), Some(&1.0));
        let p = predict(&x, Some(60), 10).unwrap();
        assert_eq!(p.values.len(), 10);
        assert!(p.min <= p.avg && p.avg <= p.max);
        assert!(p.lower.iter().zip(&p.values).all(|(l, v)| l <= v));
    }

    #[test]
    fn short_series_is_an_error_not_a_panic() {
        assert!(metadata(&[1.0, 2.0, 3.0], &MetadataOptions::default()).is_err());
        assert!(predict(&[1.0, 2.0], None, 10).is_err());
        assert!(predict(&[f64::NAN; 3], None, 10).is_err());
    }
}
