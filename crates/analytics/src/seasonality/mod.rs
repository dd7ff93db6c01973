//! Does the series repeat, and with which period? Periodogram peak refined by classical
//! decomposition.
//!
//! 1. The series is linearly detrended and prewhitened with its lag-1 autocorrelation
//!    (`e_t = d_t - r_1 d_{t-1}`), so that a random walk or a strongly autocorrelated
//!    series has a flat spectrum instead of a spurious low-frequency peak.
//! 2. The periodogram of `e` (FFT) is compared, bin by bin, with its local noise floor, the
//!    median of the neighbouring bins (`±24`, the peak's own neighbours excluded; a peak must
//!    also stand above the bins on its low-frequency side, which a red background does not).
//!    Under the null of locally white noise `P_k / (floor_k / ln 2)` is standard exponential,
//!    so the largest ratio is significant when it exceeds `1.5 ln(K / false_alarm)` for `K`
//!    bins (a Bonferroni bound in the spirit of Fisher's g test, inflated for the noise of
//!    the median floor). Periods must allow two full
//!    cycles (`period <= n / 2`).
//! 3. The peak frequency is refined by a harmonic regression of the detrended series
//!    (constant and two harmonics, least squares, over `±1` bin), and the integer periods
//!    around it (`±0.25%`, at least the nearest integer) are scored by the leave-one-out
//!    residual mean square of a classical moving-average decomposition (statsmodels
//!    `seasonal_decompose`),
//!    additive and, for a strictly positive series, multiplicative. The additive best is the
//!    reported period.
//!
//! The steps live in their own files: `periodogram.rs` (detrending, the spectrum and its noise
//! floor), `harmonic.rs` (the continuous refinement of the peak) and `decomposition.rs` (the
//! statsmodels reference that scores integer periods). This file holds the options, the
//! results and the detection that strings the steps together.

mod decomposition;
mod harmonic;
pub(crate) mod periodogram;

use serde::Serialize;

use crate::error::{Error, Result, ensure_finite, ensure_len};

pub use decomposition::{DecompositionKind, decomposition_error};
use decomposition::{decomposition_error_with, prefix_sums};
use harmonic::refine_peak;
use periodogram::{SlidingWindow, detrend, periodogram};

/// Options of [`seasonality`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeasonalityOptions {
    /// Shortest period considered, in samples. Default 2.
    pub min_period: usize,
    /// Longest period considered. Default `None`: `n / 2` (two full cycles).
    pub max_period: Option<usize>,
    /// Probability that white noise shows a significant peak anywhere. Default 1e-3.
    pub false_alarm: f64,
    /// Half-width of the integer refinement around the refined peak period, as a fraction
    /// of it (at least half a sample, so the nearest integer is always a candidate).
    /// Default 0.0025. The harmonic-regression estimate of the peak is already accurate to
    /// well under 1%; the decomposition residual is too noisy, with few cycles, to be
    /// trusted over a wider range.
    pub refine_fraction: f64,
}

impl Default for SeasonalityOptions {
    fn default() -> Self {
        Self {
            min_period: 2,
            max_period: None,
            false_alarm: 1e-3,
            refine_fraction: 0.0025,
        }
    }
}

/// A period scored by a classical decomposition.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Decomposition {
    /// Period in samples.
    pub period: usize,
    /// Leave-one-out residual mean square of the decomposition, in squared units of the series (`x - trend - seasonal`, or
    /// `x - trend * seasonal` for multiplicative); see [`decomposition_error`].
    pub error: f64,
}

/// Seasonality of a series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Seasonality {
    /// The period in samples, `None` when no periodogram peak is significant.
    pub period: Option<usize>,
    /// Best additive decomposition near the peak (`None` without a significant peak).
    pub add: Option<Decomposition>,
    /// Best multiplicative decomposition near the peak (`None` without a significant peak
    /// or when the series is not strictly positive).
    pub mul: Option<Decomposition>,
    /// Peak power over its local noise floor (standard exponential under the null).
    pub peak_ratio: f64,
    /// Threshold that `peak_ratio` had to exceed.
    pub threshold: f64,
    /// Up to [`MAX_PERIODS`] significant periods, strongest first (the first is `period`);
    /// a peak at a harmonic of a stronger one (its period a whole fraction of the stronger
    /// period) is the stronger one's shape, not a period of its own, and is left out.
    pub periods: Vec<Period>,
}

/// One significant period and how strongly it stands out.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Period {
    /// Period in samples.
    pub period: usize,
    /// Its periodogram peak over the local noise floor (as [`Seasonality::peak_ratio`]).
    pub strength: f64,
}

/// Most periods [`Seasonality::periods`] lists.
pub const MAX_PERIODS: usize = 3;

/// Half-width, in bins, of the window whose median is a bin's noise floor.
const W: usize = 24;
/// Inflation of the exponential threshold for the sampling noise of the median floor,
/// calibrated by simulation (white noise, AR(1) with phi 0.2 and 0.9, random walks; 100 to
/// 4,320 points, `examples/false_alarms.rs`): none of 4,000 series shows a false peak, the
/// largest ratio reaching 0.9 of the threshold.
const FLOOR_NOISE: f64 = 1.5;

/// Detects the dominant period of `x` (see the module docs).
///
/// # Errors
/// [`Error::NotEnoughData`] for fewer than 8 values, [`Error::NonFinite`],
/// [`Error::InvalidOption`] for `false_alarm` outside (0, 1).
pub fn seasonality(x: &[f64], options: &SeasonalityOptions) -> Result<Seasonality> {
    ensure_len(x, 8)?;
    ensure_finite(x)?;
    if !(options.false_alarm > 0.0 && options.false_alarm < 1.0) {
        return Err(Error::InvalidOption("false_alarm must lie in (0, 1)"));
    }
    let n = x.len();
    let max_period = options.max_period.unwrap_or(n / 2).min(n / 2);
    let min_period = options.min_period.max(2);
    let none = |peak_ratio, threshold| Seasonality {
        period: None,
        add: None,
        mul: None,
        peak_ratio,
        threshold,
        periods: Vec::new(),
    };
    if min_period > max_period {
        return Ok(none(0.0, f64::INFINITY));
    }
    let d = detrend(x);
    let var: f64 = d.iter().map(|v| v * v).sum();
    if var <= 0.0 {
        return Ok(none(0.0, f64::INFINITY));
    }
    let r1 = (d.windows(2).map(|w| w[0] * w[1]).sum::<f64>() / var).clamp(0.0, 1.0);
    let e: Vec<f64> = d.windows(2).map(|w| w[1] - r1 * w[0]).collect();
    let m = e.len();
    let power = periodogram(&e);
    let half = m / 2;
    // bins whose period m / k lies in [min_period, max_period]
    let k_lo = ((m as f64 / max_period as f64).ceil() as usize).max(1);
    let k_hi = ((m as f64 / min_period as f64).floor() as usize).min(half);
    if k_lo > k_hi {
        return Ok(none(0.0, f64::INFINITY));
    }
    let bins = k_hi - k_lo + 1;
    let threshold = FLOOR_NOISE * (bins as f64 / options.false_alarm).ln();
    let mut best = (0.0, 0usize);
    let mut peaks: Vec<(f64, usize)> = Vec::new();
    let mut right_window = SlidingWindow::new(&power);
    let mut left_window = SlidingWindow::new(&power);
    for (k, &pk) in power.iter().enumerate().take(k_hi + 1).skip(k_lo) {
        // the bin's own neighbours (k - 1, k, k + 1) are left out of its floor
        let (lo, hi) = (k.saturating_sub(W).max(1), (k + W).min(half));
        right_window.set(lo, hi);
        let (mut own, mut owned) = ([0; 3], 0);
        for j in (k.saturating_sub(1)..=k + 1).filter(|j| (lo..=hi).contains(j)) {
            own[owned] = j;
            owned += 1;
        }
        let Some(right) = right_window.median_without(&own[..owned]) else {
            continue;
        };
        let mut ratio = pk / (right / std::f64::consts::LN_2);
        // A line stands above the bins on its low-frequency side too, unlike a red
        // background (level shifts, trends the line did not remove).
        if k > 3 {
            left_window.set(lo, k - 2);
            if let Some(left) = left_window.median_without(&[]) {
                ratio = ratio.min(pk / (left / std::f64::consts::LN_2));
            }
        }
        if ratio > threshold {
            peaks.push((ratio, k));
        }
        if ratio > best.0 {
            best = (ratio, k);
        }
    }
    let (peak_ratio, k) = best;
    if peak_ratio <= threshold {
        return Ok(none(peak_ratio, threshold));
    }
    // Continuous refinement of the peak frequency on the detrended series.
    let bin = refine_peak(&d, k as f64 * n as f64 / m as f64);
    let p_star = n as f64 / bin;
    let spread = (p_star * options.refine_fraction).max(0.5);
    let lo = ((p_star - spread).ceil() as usize).max(min_period);
    let hi = ((p_star + spread).floor() as usize).min(max_period);
    let positive = x.iter().all(|&v| v > 0.0);
    let mut add: Option<Decomposition> = None;
    let mut mul: Option<Decomposition> = None;
    let prefix = prefix_sums(x);
    for p in lo..=hi {
        if let Some(error) = decomposition_error_with(x, &prefix, p, DecompositionKind::Additive)
            && add.is_none_or(|a| error < a.error)
        {
            add = Some(Decomposition { period: p, error });
        }
        if positive
            && let Some(error) =
                decomposition_error_with(x, &prefix, p, DecompositionKind::Multiplicative)
            && mul.is_none_or(|a| error < a.error)
        {
            mul = Some(Decomposition { period: p, error });
        }
    }
    let period = add.map(|a| a.period);
    let mut periods: Vec<Period> = period
        .map(|period| Period {
            period,
            strength: peak_ratio,
        })
        .into_iter()
        .collect();
    for (strength, k) in distinct_peaks(peaks, k) {
        let p = (n as f64 / refine_peak(&d, k as f64 * n as f64 / m as f64)).round() as usize;
        if (min_period..=max_period).contains(&p) && periods.iter().all(|q| q.period != p) {
            periods.push(Period {
                period: p,
                strength,
            });
        }
    }
    Ok(Seasonality {
        period,
        add,
        mul,
        peak_ratio,
        threshold,
        periods,
    })
}

/// The bins of the significant `peaks` (ratio, bin) after the strongest `first`, strongest
/// first, at most [`MAX_PERIODS`] - 1: neighbours (within a bin) and harmonics (near a
/// whole multiple of the frequency) of a stronger kept peak are dropped.
fn distinct_peaks(mut peaks: Vec<(f64, usize)>, first: usize) -> Vec<(f64, usize)> {
    peaks.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut kept = vec![(0.0, first)];
    for &(ratio, k) in &peaks {
        if kept.len() == MAX_PERIODS {
            break;
        }
        let related = kept.iter().any(|&(_, j)| {
            let multiple = (k as f64 / j as f64).round();
            k.abs_diff(j) <= 1
                || (multiple >= 2.0 && (k as f64 - multiple * j as f64).abs() <= multiple)
        });
        if !related {
            kept.push((ratio, k));
        }
    }
    kept.remove(0);
    kept
}

#[cfg(test)]
mod tests;
