//! Anomalies: changepoints of one series (level and trend shifts, with their times) and
//! outliers across the series of one metric name (which series behave unlike the rest, and
//! since when).
//!
//! Both are built on augurs: its Bayesian online changepoint detector (BOCPD, normal-gamma
//! prior) proposes changepoints, and its MAD and DBSCAN detectors flag outlying series. Each
//! wraps the detector in what a monitoring series needs (seasonality removed, noise scale
//! measured robustly, a proposal confirmed by a local regression, an outlier required to last),
//! because the bare detectors fire on every noisy minute.
//!
//! Positions are sample indices; [`at_seconds`] turns one into a time given the series' start and
//! step. The result types serialise with serde so that a caller can store and serve them.

mod changepoints;
mod outliers;

pub use changepoints::{ChangeKind, Changepoint, ChangepointOptions, changepoints};
pub use outliers::{Outlier, OutlierMethod, OutlierOptions, Outliers, outliers};

/// The time of sample `index` of a series that starts at `start_seconds` (Unix seconds) with
/// `step_seconds` between samples.
pub fn at_seconds(start_seconds: i64, step_seconds: u64, index: usize) -> i64 {
    start_seconds + (index as i64) * step_seconds as i64
}

/// Scale of a normal distribution from its median absolute deviation.
const MAD_TO_SD: f64 = 1.4826;

/// Whether `v` is above zero (false for NaN).
fn positive(v: f64) -> bool {
    v > 0.0
}

/// Median of `v` (reordered in place; the upper one of an even count); NaN for an empty slice.
fn median(v: &mut [f64]) -> f64 {
    crate::seasonality::periodogram::median(v).unwrap_or(f64::NAN)
}

/// Noise scale of `x`: the median over blocks of `block` values of the MAD (as a standard
/// deviation) of each block's residuals from its least-squares line. Blocks keep a level shift
/// from inflating it (only the block a shift falls in sees it), and the line a trend.
fn noise_scale(x: &[f64], block: usize) -> f64 {
    let block = block.max(8);
    let mut scales: Vec<f64> = x
        .chunks(block)
        .filter(|c| c.len() >= block / 2)
        .map(|c| {
            let mut residuals = crate::seasonality::periodogram::detrend(c);
            let m = median(&mut residuals);
            for v in residuals.iter_mut() {
                *v = (*v - m).abs();
            }
            MAD_TO_SD * median(&mut residuals)
        })
        .collect();
    median(&mut scales)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_lengths_is_the_upper_one() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 3.0);
        assert!(median(&mut []).is_nan());
    }

    #[test]
    fn noise_scale_ignores_a_level_shift_and_a_trend() {
        // The cycle -1, 0, 1 has a MAD of 1 (1.4826 as a standard deviation); a shift of 100 in
        // the middle and a steep trend barely move the estimate (each block's fitted line
        // absorbs a little of the cycle, hence the tolerance).
        let x: Vec<f64> = (0..600)
            .map(|i| {
                let cycle = (i % 3) as f64 - 1.0;
                cycle + if i >= 300 { 100.0 } else { 0.0 } + 0.5 * i as f64
            })
            .collect();
        let s = noise_scale(&x, 60);
        assert!((s - MAD_TO_SD).abs() < 0.1, "{s}");
    }

    #[test]
    fn seconds_of_an_index() {
        assert_eq!(at_seconds(1_000, 60, 3), 1_180);
    }
}
