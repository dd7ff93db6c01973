//! The spectrum the detection reads: the detrended series, its periodogram, and the median
//! that is a bin's local noise floor. Kept apart from the detection so that the significance
//! test in [`super::seasonality`] reads as statistics, not as FFT bookkeeping.

use rustfft::num_complex::Complex;

/// Residuals of the least-squares line through `x`.
pub(crate) fn detrend(x: &[f64]) -> Vec<f64> {
    let n = x.len() as f64;
    let tm = (n - 1.0) / 2.0;
    let xm = x.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (t, v) in x.iter().enumerate() {
        let dt = t as f64 - tm;
        sxy += dt * (v - xm);
        sxx += dt * dt;
    }
    let slope = sxy / sxx;
    x.iter()
        .enumerate()
        .map(|(t, v)| v - xm - slope * (t as f64 - tm))
        .collect()
}

/// `|DFT_k|^2` for `k = 0..=n/2`.
pub(super) fn periodogram(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    let mut buf: Vec<Complex<f64>> = x.iter().map(|&v| Complex::new(v, 0.0)).collect();
    crate::autocorrelation::fft(&mut buf, false);
    buf[..=n / 2].iter().map(|c| c.norm_sqr()).collect()
}

/// Median of a scratch buffer (reordered); `None` when empty.
pub(crate) fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mid = v.len() / 2;
    let (_, m, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    Some(*m)
}
