//! How does the series correlate with its own past? The sample ACF with Bartlett bands.

use std::cell::RefCell;
use std::collections::BTreeMap;

use rustfft::{FftPlanner, num_complex::Complex};
use serde::Serialize;

use crate::error::{Error, Result, ensure_finite, ensure_len};
use crate::special::norm_ppf;

/// Options of [`acf`]. The defaults are statsmodels'
/// `acf(x, nlags=None, alpha=0.05, fft=True, adjusted=False, bartlett_confint=True)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AcfOptions {
    /// Number of lags. Default `None`: `min(floor(10 * log10(n)), n - 1)`; larger values
    /// are clamped to `n - 1`.
    pub nlags: Option<usize>,
    /// Level of the confidence intervals is `1 - alpha`. Default 0.05.
    pub alpha: f64,
}

impl Default for AcfOptions {
    fn default() -> Self {
        Self {
            nlags: None,
            alpha: 0.05,
        }
    }
}

/// Sample autocorrelations with Bartlett confidence intervals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Acf {
    /// Autocorrelation at lags `0..=nlags` (`values[0] == 1`).
    pub values: Vec<f64>,
    /// Lower bounds of the `1 - alpha` intervals.
    pub lower: Vec<f64>,
    /// Upper bounds of the `1 - alpha` intervals.
    pub upper: Vec<f64>,
}

impl Acf {
    /// Lag 0 and every lag whose interval lies entirely above zero (`lower > 0`).
    pub fn significant_lags(&self) -> Vec<usize> {
        (0..self.values.len())
            .filter(|&k| k == 0 || self.lower[k] > 0.0)
            .collect()
    }

    /// The significant lags with their autocorrelation, as the `metadata` record carries.
    pub fn significant(&self) -> BTreeMap<usize, f64> {
        self.significant_lags()
            .into_iter()
            .map(|k| (k, self.values[k]))
            .collect()
    }
}

/// Default number of lags for a series of length `n`: `min(floor(10 log10 n), n - 1)`.
pub fn default_nlags(n: usize) -> usize {
    ((10.0 * (n as f64).log10()).floor().max(0.0) as usize).min(n.saturating_sub(1))
}

/// Sample autocorrelation function, as statsmodels'
/// `acf(x, nlags, alpha=0.05, fft=True)`: demeaned, not adjusted (divisor n), computed by
/// FFT, with Bartlett's intervals `acf ± z(1 - alpha/2) sqrt((1 + 2 Σ_{j<k} acf_j²) / n)`.
///
/// # Errors
/// [`Error::NotEnoughData`] for fewer than 2 values, [`Error::NonFinite`],
/// [`Error::Constant`] (zero variance), [`Error::InvalidOption`] for `alpha` outside (0, 1).
pub fn acf(x: &[f64], options: &AcfOptions) -> Result<Acf> {
    ensure_len(x, 2)?;
    ensure_finite(x)?;
    if !(options.alpha > 0.0 && options.alpha < 1.0) {
        return Err(Error::InvalidOption("alpha must lie in (0, 1)"));
    }
    let n = x.len();
    let nlags = options.nlags.unwrap_or_else(|| default_nlags(n)).min(n - 1);
    let avf = autocovariance(x, nlags);
    if avf[0] <= 0.0 {
        return Err(Error::Constant);
    }
    let values: Vec<f64> = avf.iter().map(|v| v / avf[0]).collect();
    let z = norm_ppf(1.0 - options.alpha / 2.0);
    let mut lower = Vec::with_capacity(nlags + 1);
    let mut upper = Vec::with_capacity(nlags + 1);
    let mut cum = 0.0;
    for (k, &r) in values.iter().enumerate() {
        let var = match k {
            0 => 0.0,
            1 => 1.0 / n as f64,
            _ => {
                cum += values[k - 1] * values[k - 1];
                (1.0 + 2.0 * cum) / n as f64
            }
        };
        let half = z * var.sqrt();
        lower.push(r - half);
        upper.push(r + half);
    }
    Ok(Acf {
        values,
        lower,
        upper,
    })
}

/// Biased autocovariances at lags `0..=nlags` of the demeaned series, by FFT.
fn autocovariance(x: &[f64], nlags: usize) -> Vec<f64> {
    let n = x.len();
    let mean = x.iter().sum::<f64>() / n as f64;
    let len = fast_len(2 * n - 1);
    let mut buf: Vec<Complex<f64>> = x
        .iter()
        .map(|v| Complex::new(v - mean, 0.0))
        .chain(std::iter::repeat(Complex::new(0.0, 0.0)))
        .take(len)
        .collect();
    fft(&mut buf, false);
    for c in buf.iter_mut() {
        *c = Complex::new(c.norm_sqr(), 0.0);
    }
    fft(&mut buf, true);
    buf[..=nlags]
        .iter()
        .map(|c| c.re / (len as f64 * n as f64))
        .collect()
}

/// In-place FFT (unnormalised), with plans cached per thread so that repeated calls on
/// series of the same length do not recompute twiddle factors.
pub(crate) fn fft(buf: &mut [Complex<f64>], inverse: bool) {
    thread_local! {
        static PLANNER: RefCell<FftPlanner<f64>> = RefCell::new(FftPlanner::new());
    }
    let plan = PLANNER.with(|p| {
        let mut p = p.borrow_mut();
        if inverse {
            p.plan_fft_inverse(buf.len())
        } else {
            p.plan_fft_forward(buf.len())
        }
    });
    plan.process(buf);
}

/// Smallest `2^a 3^b 5^c` at least `n`, a size rustfft handles fast.
pub(crate) fn fast_len(n: usize) -> usize {
    let mut best = n.next_power_of_two();
    let mut p5 = 1;
    while p5 < best {
        let mut p35 = p5;
        while p35 < best {
            let mut m = p35;
            while m < n {
                m *= 2;
            }
            best = best.min(m);
            p35 *= 3;
        }
        p5 *= 5;
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_checked_acf() {
        // x = 1, 2, 3, 4: mean 2.5, deviations -1.5 -0.5 0.5 1.5, c0 = 5/4,
        // c1 = (0.75 - 0.25 + 0.75)/4 = 1.25/4, c2 = (-0.75 - 0.75)/4, c3 = -2.25/4
        let a = acf(&[1.0, 2.0, 3.0, 4.0], &AcfOptions::default()).unwrap();
        let want = [1.0, 0.25, -0.3, -0.45];
        assert_eq!(a.values.len(), 4);
        for (got, want) in a.values.iter().zip(want) {
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
        // lag 1 band: 1.96 / sqrt(4)
        assert!((a.upper[1] - a.values[1] - 0.979_981_992).abs() < 1e-8);
        assert_eq!(a.significant_lags(), vec![0]);
    }

    #[test]
    fn fast_len_is_smooth() {
        assert_eq!(fast_len(7), 8);
        assert_eq!(fast_len(17), 18);
        assert_eq!(fast_len(1999), 2000);
    }

    #[test]
    fn errors() {
        assert!(acf(&[1.0], &AcfOptions::default()).is_err());
        assert_eq!(
            acf(&[3.0; 10], &AcfOptions::default()),
            Err(Error::Constant)
        );
    }
}
