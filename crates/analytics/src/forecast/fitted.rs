//! A fitted Holt-Winters model and its forecasts with prediction intervals.

use serde::Serialize;

use super::Model;
use crate::special::norm_ppf;

/// A fitted Holt-Winters model: parameters, in-sample fit and final states.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FittedHoltWinters {
    /// The variant.
    pub model: Model,
    /// Seasonal period in samples (`None` for Holt's linear trend).
    pub period: Option<usize>,
    /// Level smoothing parameter (`smoothing_level`).
    pub alpha: f64,
    /// Trend smoothing parameter (`smoothing_trend`).
    pub beta: f64,
    /// Seasonal smoothing parameter (`smoothing_seasonal`).
    pub gamma: Option<f64>,
    /// In-sample sum of squared one-step errors (statsmodels `sse`).
    pub sse: f64,
    /// `sqrt(sse / n)`, the criterion of model selection.
    pub rmse: f64,
    /// Number of values fitted.
    pub nobs: usize,
    /// Level after the last value.
    pub level: f64,
    /// Trend after the last value.
    pub trend: f64,
    /// Seasonal states for the next `period` steps.
    pub seasonal: Vec<f64>,
}

impl FittedHoltWinters {
    /// Point forecasts for steps `1..=horizon` with `level` (e.g. 0.95) prediction
    /// intervals from the ETS(A,A,A) analytic variance
    /// `sigma² (1 + Σ_{j<h} (alpha (1 + j beta) + gamma [j mod p = 0])²)`, `sigma² = sse / n`
    /// (also used, as an approximation, for multiplicative seasonality).
    pub fn forecast(&self, horizon: usize, level: f64) -> Forecast {
        let z = norm_ppf(0.5 + level.clamp(0.0, 0.999_999) / 2.0);
        let sigma2 = self.sse / self.nobs as f64;
        let gamma = self.gamma.unwrap_or(0.0);
        let m = self.period.unwrap_or(0);
        let mut values = Vec::with_capacity(horizon);
        let mut lower = Vec::with_capacity(horizon);
        let mut upper = Vec::with_capacity(horizon);
        let mut var_sum = 1.0;
        for h in 1..=horizon {
            let base = self.level + h as f64 * self.trend;
            let point = match self.model {
                Model::HoltWintersAdditive => base + self.seasonal[(h - 1) % m],
                Model::HoltWintersMultiplicative => base * self.seasonal[(h - 1) % m],
                // A fitted Holt-Winters model is never one of augurs'.
                Model::HoltLinear | Model::MstlEts | Model::AutoEts => base,
            };
            if h > 1 {
                let j = h - 1;
                let season = if m > 0 && j % m == 0 { gamma } else { 0.0 };
                var_sum += (self.alpha * (1.0 + j as f64 * self.beta) + season).powi(2);
            }
            let half = z * (sigma2 * var_sum).sqrt();
            values.push(point);
            lower.push(point - half);
            upper.push(point + half);
        }
        Forecast {
            model: self.model,
            rmse: self.rmse,
            values,
            lower,
            upper,
        }
    }
}

/// Point forecasts and prediction intervals of one model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Forecast {
    /// The model that produced them.
    pub model: Model,
    /// In-sample RMSE of that model.
    pub rmse: f64,
    /// Point forecasts, one per step.
    pub values: Vec<f64>,
    /// Lower bounds of the prediction intervals.
    pub lower: Vec<f64>,
    /// Upper bounds of the prediction intervals.
    pub upper: Vec<f64>,
}
