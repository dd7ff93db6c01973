//! Is the series stationary? The augmented Dickey-Fuller test.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ShapeBuilder};
use serde::Serialize;

use crate::error::{Error, Result, ensure_finite};
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
/// t-value of the lagged level is the statistic. Least squares use the Cholesky factor of
/// the centred Gram matrix, whose lag block is Toeplitz and costs `O(n lag)` to build;
/// the fixtures agree with statsmodels' pinv/QR-based OLS to 1e-9 relative or better.
///
/// # Errors
/// [`Error::NotEnoughData`] for fewer than 4 values (or a `max_lag` the length cannot
/// support), [`Error::NonFinite`], [`Error::Constant`] for a constant series.
pub fn adfuller(x: &[f64], options: &AdfOptions) -> Result<Adf> {
    adfuller_with(x, options, Kernel::Ndarray)
}

/// [`adfuller`] with the cross products computed by the previous slice code (one iterator
/// sum per lag) instead of ndarray: the baseline of the `stationarity` bench and a
/// cross-check of the tests. Not part of the API.
///
/// # Errors
/// As [`adfuller`].
#[doc(hidden)]
pub fn adfuller_slices(x: &[f64], options: &AdfOptions) -> Result<Adf> {
    adfuller_with(x, options, Kernel::Slices)
}

fn adfuller_with(x: &[f64], options: &AdfOptions, kernel: Kernel) -> Result<Adf> {
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

    // Lag search on the common sample: one Cholesky factor of the centred Gram matrix of
    // [level, lag 1..=max_lag, dy] gives the residual sum of squares of every nested model.
    let search = gram_factor(x, &d, max_lag, Order::LevelFirst, kernel)?;
    let nobs = (d.len() - max_lag) as f64;
    let mut best = (f64::INFINITY, 0usize);
    for lag in 0..=max_lag {
        let k = lag + 2; // constant, level and `lag` differences
        let ssr = search.ssr(lag + 1);
        let llf = -nobs / 2.0 * ((2.0 * std::f64::consts::PI).ln() + (ssr / nobs).ln() + 1.0);
        let aic = -2.0 * llf + 2.0 * k as f64;
        if aic < best.0 {
            best = (aic, lag);
        }
    }
    let (ic_best, used_lag) = best;

    // Refit at the chosen lag on the full available sample, level last so that its
    // t-value reads off the factor.
    let fit = gram_factor(x, &d, used_lag, Order::LevelLast, kernel)?;
    let k = used_lag + 2;
    let nobs = d.len() - used_lag;
    if nobs <= k {
        return Err(Error::NotEnoughData {
            needed: 2 * k + 2,
            got: n,
        });
    }
    let last = used_lag + 1; // index of dy in the factor
    let sigma = (fit.r[[last, last]].powi(2) / (nobs - k) as f64).sqrt();
    let statistic = fit.r[[used_lag, last]] / sigma;
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

/// Where the level column goes in [`gram_factor`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    /// `[level, lag 1..=L, dy]`: nested models by lag length.
    LevelFirst,
    /// `[lag 1..=L, level, dy]`: the level's t-value is `r[L][L+1] / sigma`.
    LevelLast,
}

/// Upper Cholesky factor `R` of the Gram matrix of the mean-centred regressors and response
/// (centring accounts for the constant). Equivalent to the `R` of a QR factorisation of the
/// design with the constant partialled out.
#[derive(Debug)]
struct Factor {
    r: Array2<f64>,
}

impl Factor {
    /// Residual sum of squares of the model with the constant and the first `j` regressors.
    fn ssr(&self, j: usize) -> f64 {
        let last = self.r.nrows() - 1;
        (j..=last).map(|i| self.r[[i, last]].powi(2)).sum()
    }
}

/// How [`gram_factor`] computes the cross products of the lag columns with the response
/// and the level (the `O(n lag)` part of the test; the rest is `O(lag^2)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kernel {
    /// ndarray: the lag columns as a zero-copy Hankel view of the reversed differences,
    /// multiplied by the response and the level (matrix-vector products whose rows are
    /// contiguous, so each is ndarray's unrolled dot product with eight accumulators).
    Ndarray,
    /// The previous slice code: one iterator sum per lag (a single accumulator, so each
    /// dot product runs at the latency of one addition per element). Kept for the bench's
    /// baseline and as a cross-check in the tests.
    Slices,
}

/// Cross products over the rows `t = s0..=e`: `raw0[j] = Σ d[t] d[t-j]` and
/// `level_d[j] = Σ level[t] d[t-j]` for `j = 0..=lag`, with the level's sum and sum of
/// squares.
struct Cross {
    raw0: Vec<f64>,
    level_d: Vec<f64>,
    level_sum: f64,
    level_sq: f64,
}

fn cross_slices(d: &[f64], level: &[f64], lag: usize) -> Cross {
    let (s0, e) = (lag, d.len() - 1);
    Cross {
        raw0: (0..=lag)
            .map(|j| (s0..=e).map(|t| d[t] * d[t - j]).sum())
            .collect(),
        level_d: (0..=lag)
            .map(|j| {
                level
                    .iter()
                    .zip(&d[s0 - j..=e - j])
                    .map(|(a, b)| a * b)
                    .sum()
            })
            .collect(),
        level_sum: level.iter().sum(),
        level_sq: level.iter().map(|v| v * v).sum(),
    }
}

fn cross_ndarray(d: &[f64], level: &[f64], lag: usize) -> Cross {
    let nobs = d.len() - lag;
    // Reversed, row u of the design is t = e - u and column j reads d[t - j] = rev[u + j]:
    // a Hankel matrix, i.e. a read-only view with strides (1, 1) over `rev`.
    let rev: Vec<f64> = d.iter().rev().copied().collect();
    let lags = ArrayView2::from_shape((nobs, lag + 1).strides((1, 1)), &rev)
        .expect("the largest offset, nobs - 1 + lag, is d.len() - 1");
    let level: Array1<f64> = level.iter().rev().copied().collect();
    Cross {
        raw0: lags.t().dot(&lags.column(0)).to_vec(),
        level_d: lags.t().dot(&level).to_vec(),
        level_sum: level.sum(),
        level_sq: level.dot(&level),
    }
}

/// Builds the factor of the ADF regression with `lag` differences over the rows
/// `t = lag..d.len()` (response `d[t]`, level `x[t]`, lags `d[t - j]`). The difference
/// block is Toeplitz up to end corrections, so it costs `O(n lag)` rather than
/// `O(n lag^2)`.
fn gram_factor(x: &[f64], d: &[f64], lag: usize, order: Order, kernel: Kernel) -> Result<Factor> {
    let (s0, e) = (lag, d.len() - 1); // rows s0..=e
    let nobs = (e - s0 + 1) as f64;
    // Level, shifted by its sample mean first so that a large offset costs no precision.
    let shift = x[s0..=e].iter().sum::<f64>() / nobs;
    let level: Vec<f64> = x[s0..=e].iter().map(|v| v - shift).collect();
    let Cross {
        raw0,
        level_d,
        level_sum,
        level_sq,
    } = match kernel {
        Kernel::Ndarray => cross_ndarray(d, &level, lag),
        Kernel::Slices => cross_slices(d, &level, lag),
    };
    // raw[i][j] = Σ d[t-i] d[t-j] for i, j in 0..=lag (0 is the response).
    let mut raw = Array2::zeros((lag + 1, lag + 1));
    raw.row_mut(0).assign(&ArrayView1::from(&raw0));
    for i in 0..lag {
        for j in i..lag {
            raw[[i + 1, j + 1]] = raw[[i, j]] + d[s0 - 1 - i] * d[s0 - 1 - j] - d[e - i] * d[e - j];
        }
    }
    let mut sums = vec![0.0; lag + 1];
    sums[0] = d[s0..=e].iter().sum();
    for j in 0..lag {
        sums[j + 1] = sums[j] + d[s0 - 1 - j] - d[e - j];
    }
    // Centred Gram in the requested order; index of the level and of lag j (j = 0: dy).
    let k = lag + 2;
    let (li, di): (usize, Box<dyn Fn(usize) -> usize>) = match order {
        Order::LevelFirst => (0, Box::new(move |j| if j == 0 { k - 1 } else { j })),
        Order::LevelLast => (lag, Box::new(move |j| if j == 0 { k - 1 } else { j - 1 })),
    };
    let mut g = Array2::zeros((k, k));
    g[[li, li]] = level_sq - level_sum * level_sum / nobs;
    for j in 0..=lag {
        let v = level_d[j] - level_sum * sums[j] / nobs;
        g[[li, di(j)]] = v;
        g[[di(j), li]] = v;
        for i in 0..=j {
            let v = raw[[i, j]] - sums[i] * sums[j] / nobs;
            g[[di(i), di(j)]] = v;
            g[[di(j), di(i)]] = v;
        }
    }
    cholesky(&g).map(|r| Factor { r })
}

/// Upper factor `R` with `R^T R = G`; [`Error::Singular`] when a regressor is (nearly) a
/// combination of the previous ones. The last variable, the response, may be fitted
/// exactly (its diagonal is the residual norm).
fn cholesky(g: &Array2<f64>) -> Result<Array2<f64>> {
    let k = g.nrows();
    let mut r = Array2::<f64>::zeros((k, k));
    for i in 0..k {
        let diag = g[[i, i]] - (0..i).map(|p| r[[p, i]] * r[[p, i]]).sum::<f64>();
        if i + 1 < k && diag <= g[[i, i]].abs() * 1e-13 {
            return Err(Error::Singular);
        }
        let rii = diag.max(0.0).sqrt();
        r[[i, i]] = rii;
        for j in i + 1..k {
            let v = g[[i, j]] - (0..i).map(|p| r[[p, i]] * r[[p, j]]).sum::<f64>();
            r[[i, j]] = if rii > 0.0 { v / rii } else { 0.0 };
        }
    }
    Ok(r)
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
        assert_eq!(
            adfuller(&[2.0; 20], &AdfOptions::default()),
            Err(Error::Constant)
        );
    }

    #[test]
    fn ndarray_and_slice_cross_products_agree() {
        // deterministic pseudo-noise around a slow cycle, plus a random walk
        let mut walk = 0.0;
        let series: Vec<Vec<f64>> = vec![
            (0..3000)
                .map(|t| (t as f64 / 50.0).sin() + ((t * 7919 % 101) as f64 / 101.0 - 0.5))
                .collect(),
            (0..2000)
                .map(|t| {
                    walk += (t * 104_729 % 97) as f64 / 97.0 - 0.5;
                    walk
                })
                .collect(),
        ];
        for x in &series {
            for max_lag in [None, Some(0), Some(3)] {
                let options = AdfOptions {
                    max_lag,
                    ..AdfOptions::default()
                };
                let (a, b) = (
                    adfuller(x, &options).unwrap(),
                    adfuller_slices(x, &options).unwrap(),
                );
                assert_eq!(
                    (a.used_lag, a.nobs, a.max_lag),
                    (b.used_lag, b.nobs, b.max_lag)
                );
                assert!((a.statistic - b.statistic).abs() <= 1e-9 * b.statistic.abs());
                assert!((a.ic_best - b.ic_best).abs() <= 1e-9 * b.ic_best.abs());
            }
        }
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
