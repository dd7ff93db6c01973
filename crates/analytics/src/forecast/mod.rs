//! What comes next? Holt-Winters exponential smoothing, augurs' MSTL and AutoETS, and model
//! selection.
//!
//! [`HoltWinters`] is the unfitted model (its specification); [`HoltWinters::fit`] returns a
//! [`FittedHoltWinters`], the only type that can forecast. [`select`] evaluates every
//! candidate model by its rolling-origin held-out error and forecasts with the best;
//! [`fit_best`] is the original's choice, the Holt-Winters fit of lowest in-sample RMSE.

use serde::Serialize;

use crate::error::{Error, Result, ensure_finite};

mod ets;
mod fitted;
mod holt_winters;
mod recursion;
mod select;

pub use fitted::{FittedHoltWinters, Forecast};
pub use holt_winters::HoltWinters;
pub use select::{ORIGINS, Score, Selection, holdout_steps, select};

/// Which model: a Holt-Winters variant (all have an additive, undamped trend) or an augurs
/// model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    /// Additive seasonality: `ExponentialSmoothing(trend="add", seasonal="add")`.
    HoltWintersAdditive,
    /// Multiplicative seasonality: `ExponentialSmoothing(trend="add", seasonal="mul")`.
    HoltWintersMultiplicative,
    /// No seasonality (Holt's linear trend): `ExponentialSmoothing(trend="add")`.
    HoltLinear,
    /// augurs' MSTL over the seasonal periods, with ETS(A,Ad,N) of the deseasonalised series.
    MstlEts,
    /// augurs' AutoETS over the non-seasonal forms (`ZZN`).
    AutoEts,
}

impl Model {
    /// The name carried in the `prediction` record.
    pub fn name(self) -> &'static str {
        match self {
            Self::HoltWintersAdditive => "holt_winters_additive",
            Self::HoltWintersMultiplicative => "holt_winters_multiplicative",
            Self::HoltLinear => "holt_linear",
            Self::MstlEts => "mstl_ets",
            Self::AutoEts => "auto_ets",
        }
    }
}

/// Options of [`forecast`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ForecastOptions {
    /// Steps to forecast. Default 10.
    pub horizon: usize,
    /// Prediction interval level. Default 0.95.
    pub level: f64,
}

impl Default for ForecastOptions {
    fn default() -> Self {
        Self {
            horizon: 10,
            level: 0.95,
        }
    }
}

/// The candidate models for a series of length `n`, positive or not, with an optional
/// seasonal period: additive and (for a strictly positive series) multiplicative
/// Holt-Winters when at least two full periods exist, Holt's linear trend otherwise.
pub fn candidates(n: usize, positive: bool, period: Option<usize>) -> Vec<HoltWinters> {
    match period {
        Some(p) if p >= 2 && n >= (2 * p).max(p + 3) => {
            let mut c = vec![HoltWinters::additive(p)];
            if positive {
                c.push(HoltWinters::multiplicative(p));
            }
            c
        }
        _ => vec![HoltWinters::linear()],
    }
}

/// The forecast of the [selected](select) model, with `period` as the only seasonal period.
///
/// # Errors
/// [`Error::NotEnoughData`] for fewer than 4 values, [`Error::NonFinite`].
pub fn forecast(y: &[f64], period: Option<usize>, options: &ForecastOptions) -> Result<Forecast> {
    Ok(select(y, period.as_slice(), options)?.forecast)
}

/// Fits every [candidate](candidates) and returns the one of lowest in-sample RMSE. The
/// multiplicative search also starts from the additive optimum (seasonal states converted
/// to factors), which spares most of its iterations; it still competes with the grid starts.
///
/// # Errors
/// As [`forecast`].
pub fn fit_best(y: &[f64], period: Option<usize>) -> Result<FittedHoltWinters> {
    ensure_finite(y)?;
    let positive = y.iter().all(|&v| v > 0.0);
    let mut best: Option<FittedHoltWinters> = None;
    let mut warm = None;
    for model in candidates(y.len(), positive, period) {
        let (fit, start) = model.fit_from(y, warm.as_ref())?;
        warm = Some(start);
        if best.as_ref().is_none_or(|b| fit.rmse < b.rmse) {
            best = Some(fit);
        }
    }
    best.ok_or(Error::NotEnoughData {
        needed: 4,
        got: y.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_short_is_an_error() {
        assert!(forecast(&[1.0, 2.0], None, &ForecastOptions::default()).is_err());
    }
}
