//! Is the series stationary? The augmented Dickey-Fuller test.

use serde::Serialize;

use crate::error::{Error, Result, ensure_finite};
use crate::linalg::Qr;
use crate::special::norm_cdf;

/// Options of [`adfuller`]. The defaults are statsmodels' for
/// `adfuller(x, regression="c", autolag="AIC")`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdfOptions {
    /// Largest lag searched. Default `None`: statsmodels' rule
    /// `min(ceil(12 * (n / 100)^(1/4)), n / 2 - 2)`.
    pub max_lag: Option<usize>,
    /// Significance level for [`Adf::stationary`]. Default 0.05.
    pub significance: f64,
}

impl Default for AdfOptions {
    fn default() -> Self {
        Self {
            max_lag: None,
            significance: 0.05,
        }
    }
}

/// Result of the augmented Dickey-Fuller test (constant only, AIC lag choice).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Adf {
    /// The test statistic (t-value of the lagged level), statsmodels' `adfstat`.
    pub statistic: f64,
    /// MacKinnon's approximate p-value (`mackinnonp(stat, "c", N=1)`).
    pub p_value: f64,
    /// Number of lagged differences chosen by AIC (`usedlag`).
    pub used_lag: usize,
    /// Number of observations of the final regression (`nobs`).
    pub nobs: usize,
    /// Largest lag searched.
    pub max_lag: usize,
    /// AIC of the chosen lag in the search regression (`icbest`).
    pub ic_best: f64,
    /// `p_value < significance`: the unit-root null is rejected.
    pub stationary: bool,
}

/// Augmented Dickey-Fuller test, as statsmodels'
/// `adfuller(x, maxlag=None, regression="c", autolag="AIC")`.
///
/// Every candidate lag `0..=max_lag` is fitted on the same sample (the one the largest lag
/// allows); the lag with the lowest AIC is then refitted on all the data it allows, and the
/// t-value of the lagged level is the statistic. Least squares use Householder QR.
///
/// # Errors
/// [`Error::NotEnoughData`] for fewer than 4 values (or a `max_lag` the length cannot
/// support), [`Error::NonFinite`], [`Error::Constant`] for a constant series.
pub fn adfuller(x: &[f64], options: &AdfOptions) -> Result<Adf> {
    ensure_finite(x)?;
    let n = x.len();
    let cap = (n / 2) as isize - 2;
    if cap < 0 {
        return Err(Error::NotEnoughData { needed: 4, got: n });
    }
    let cap = cap as usize;
    let max_lag = match options.max_lag {
        None => ((12.0 * (n as f64 / 100.0).powf(0.25)).ceil() as usize).min(cap),
        Some(m) if m <= cap => m,
        Some(m) => {
            return Err(Error::NotEnoughData {
                needed: 2 * (m + 2),
                got: n,
            });
        }
    };
    if x.iter().all(|&v| v == x[0]) {
        return Err(Error::Constant);
    }
    let d: Vec<f64> = x.windows(2).map(|w| w[1] - w[0]).collect();

    // Lag search on the common sample.
    let search = Qr::new(design(x, &d, max_lag, max_lag), d[max_lag..].to_vec())?;
    let nobs = (d.len() - max_lag) as f64;
    let mut best = (f64::INFINITY, 0usize);
    for lag in 0..=max_lag {
        let k = lag + 2;
        let ssr = search.ssr(k);
        let llf = -nobs / 2.0 * ((2.0 * std::f64::consts::PI).ln() + (ssr / nobs).ln() + 1.0);
        let aic = -2.0 * llf + 2.0 * k as f64;
        if aic < best.0 {
            best = (aic, lag);
        }
    }
    let (ic_best, used_lag) = best;

    // Refit at the chosen lag on the full available sample.
    let qr = Qr::new(design(x, &d, used_lag, used_lag), d[used_lag..].to_vec())?;
    let k = used_lag + 2;
    let nobs = d.len() - used_lag;
    if nobs <= k {
        return Err(Error::NotEnoughData { needed: 2 * k + 2, got: n });
    }
    let coef = qr.coef(k);
    let sigma2 = qr.ssr(k) / (nobs - k) as f64;
    let statistic = coef[1] / (sigma2 * qr.xtx_inv_diag(1, k)).sqrt();
    let p_value = mackinnon_p(statistic);
    Ok(Adf {
        statistic,
        p_value,
        used_lag,
        nobs,
        max_lag,
        ic_best,
        stationary: p_value < options.significance,
    })
}

/// Columns `[constant, level, diff lag 1..=lag]` over the rows `t = start..d.len()`.
fn design(x: &[f64], d: &[f64], lag: usize, start: usize) -> Vec<Vec<f64>> {
    let rows = start..d.len();
    let mut cols = Vec::with_capacity(lag + 2);
    cols.push(vec![1.0; rows.len()]);
    cols.push(x[rows.clone()].to_vec());
    for j in 1..=lag {
        cols.push(d[rows.start - j..rows.end - j].to_vec());
    }
    cols
}

/// MacKinnon (1994) approximate p-value of the ADF statistic, constant only, one series
/// (statsmodels `mackinnonp(stat, regression="c", N=1)`).
pub fn mackinnon_p(stat: f64) -> f64 {
    const TAU_MAX: f64 = 2.74;
    const TAU_MIN: f64 = -18.83;
    const TAU_STAR: f64 = -1.61;
    // Response-surface coefficients, lowest power first, scaling already applied.
    const SMALL_P: [f64; 3] = [2.1659, 1.4412, 3.8269e-2];
    const LARGE_P: [f64; 4] = [1.7339, 9.3202e-1, -1.2745e-1, -1.0368e-2];
    if stat > TAU_MAX {
        return 1.0;
    }
    if stat < TAU_MIN {
        return 0.0;
    }
    let coef: &[f64] = if stat <= TAU_STAR { &SMALL_P } else { &LARGE_P };
    let z = coef.iter().rev().fold(0.0, |acc, c| acc * stat + c);
    norm_cdf(z)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_short_is_an_error() {
        assert!(matches!(
            adfuller(&[1.0, 2.0, 3.0], &AdfOptions::default()),
            Err(Error::NotEnoughData { needed: 4, got: 3 })
        ));
        assert_eq!(adfuller(&[2.0; 20], &AdfOptions::default()), Err(Error::Constant));
    }

    #[test]
    fn mackinnon_values() {
        // statsmodels: mackinnonp(-2.86, "c", 1) = 0.050201..., mackinnonp(0.0) = 0.958532...
        assert!((mackinnon_p(-2.86) - 0.050_201).abs() < 1e-4);
        assert!((mackinnon_p(0.0) - 0.958_532).abs() < 1e-4);
        assert_eq!(mackinnon_p(3.0), 1.0);
        assert_eq!(mackinnon_p(-20.0), 0.0);
    }
}
