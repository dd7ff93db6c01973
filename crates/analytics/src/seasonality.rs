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

use rustfft::num_complex::Complex;
use serde::Serialize;

use crate::error::{Error, Result, ensure_finite, ensure_len};

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

/// Which classical decomposition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecompositionKind {
    /// `x = trend + seasonal + residual`.
    Additive,
    /// `x = trend * seasonal * residual`.
    Multiplicative,
}

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
    let mut window = Vec::with_capacity(2 * W + 1);
    for k in k_lo..=k_hi {
        let floor = |range: std::ops::RangeInclusive<usize>, window: &mut Vec<f64>| {
            window.clear();
            window.extend(range.filter(|&j| j.abs_diff(k) > 1).map(|j| power[j]));
            median(window)
        };
        let right = floor(k.saturating_sub(W).max(1)..=(k + W).min(half), &mut window);
        let Some(right) = right else { continue };
        let mut ratio = power[k] / (right / std::f64::consts::LN_2);
        // A line stands above the bins on its low-frequency side too, unlike a red
        // background (level shifts, trends the line did not remove).
        if k > 3
            && let Some(left) = floor(k.saturating_sub(W).max(1)..=k - 2, &mut window)
        {
            ratio = ratio.min(power[k] / (left / std::f64::consts::LN_2));
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
    for p in lo..=hi {
        if let Some(error) = decomposition_error(x, p, DecompositionKind::Additive)
            && add.is_none_or(|a| error < a.error)
        {
            add = Some(Decomposition { period: p, error });
        }
        if positive
            && let Some(error) = decomposition_error(x, p, DecompositionKind::Multiplicative)
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

/// Leave-one-out residual mean square of statsmodels'
/// `seasonal_decompose(x, model, period=period, two_sided=True)`: centred moving-average
/// trend (`2 x period` for even periods), seasonal indices averaged by phase and centred
/// (sum zero or mean one), residual over the points where the trend exists. For the
/// multiplicative model the residual is `x - trend * seasonal`.
///
/// `None` when `period < 2`, `x.len() < 2 * period`, or a multiplicative trend is not
/// positive.
pub fn decomposition_error(x: &[f64], period: usize, kind: DecompositionKind) -> Option<f64> {
    let n = x.len();
    if period < 2 || n < 2 * period {
        return None;
    }
    let h = period / 2;
    let mut prefix = Vec::with_capacity(n + 1);
    prefix.push(0.0);
    let mut acc = 0.0;
    for &v in x {
        acc += v;
        prefix.push(acc);
    }
    let inv = 1.0 / period as f64;
    let trend = |t: usize| {
        if period.is_multiple_of(2) {
            (prefix[t + h] - prefix[t + 1 - h] + 0.5 * (x[t - h] + x[t + h])) * inv
        } else {
            (prefix[t + h + 1] - prefix[t - h]) * inv
        }
    };
    let valid = h..n - h;
    let mut sums = vec![0.0; period];
    let mut counts = vec![0usize; period];
    for t in valid.clone() {
        let tr = trend(t);
        let v = match kind {
            DecompositionKind::Additive => x[t] - tr,
            DecompositionKind::Multiplicative => {
                if tr <= 0.0 {
                    return None;
                }
                x[t] / tr
            }
        };
        sums[t % period] += v;
        counts[t % period] += 1;
    }
    let means: Vec<f64> = sums
        .iter()
        .zip(&counts)
        .map(|(s, &c)| s / c as f64)
        .collect();
    // Leave-one-out residual of each point against its phase mean (PRESS): a phase seen
    // once cannot be predicted and is skipped, so that long periods with few cycles do not
    // look better merely by fitting more indices to fewer points.
    let mut press = 0.0;
    let mut used = 0usize;
    for t in valid {
        let c = counts[t % period];
        if c < 2 {
            continue;
        }
        let tr = trend(t);
        let inflate = c as f64 / (c - 1) as f64;
        let r = match kind {
            DecompositionKind::Additive => x[t] - tr - means[t % period],
            DecompositionKind::Multiplicative => x[t] - tr * means[t % period],
        };
        press += (r * inflate).powi(2);
        used += 1;
    }
    (used > 0).then(|| press / used as f64)
}

/// Residuals of the least-squares line through `x`.
fn detrend(x: &[f64]) -> Vec<f64> {
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
fn periodogram(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    let mut buf: Vec<Complex<f64>> = x.iter().map(|&v| Complex::new(v, 0.0)).collect();
    crate::autocorrelation::fft(&mut buf, false);
    buf[..=n / 2].iter().map(|c| c.norm_sqr()).collect()
}

/// Median of a scratch buffer (reordered); `None` when empty.
fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mid = v.len() / 2;
    let (_, m, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    Some(*m)
}

/// Fractional DFT bin in `[bin - 1, bin + 1]` whose period best explains `d` by a harmonic
/// regression (constant plus the first [`HARMONICS`] harmonics, least squares): a grid of
/// quarter bins, then tenths of a bin around its best point, then a parabola through the best grid point and its neighbours. Unlike
/// the raw periodogram peak, this accounts for leakage from the negative frequency and the
/// harmonics, which bias the peak when the series holds only a few cycles.
fn refine_peak(d: &[f64], bin: f64) -> f64 {
    let n = d.len() as f64;
    // coarse pass (quarter bins), then tenths of a bin around its best point
    let coarse = (-4..=4)
        .map(|i| bin + i as f64 * 0.25)
        .filter(|&b| b > 0.5)
        .map(|b| (b, explained(d, b / n)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(bin, |(b, _)| b);
    let step = 0.1;
    let grid: Vec<(f64, f64)> = (-3..=3)
        .map(|i| coarse + i as f64 * step)
        .filter(|&b| b > 0.5)
        .map(|b| (b, explained(d, b / n)))
        .collect();
    let Some(i) = (0..grid.len()).max_by(|&a, &b| grid[a].1.total_cmp(&grid[b].1)) else {
        return bin;
    };
    if i == 0 || i + 1 == grid.len() {
        return grid[i].0;
    }
    let (a, b, c) = (grid[i - 1].1, grid[i].1, grid[i + 1].1);
    let denom = a - 2.0 * b + c;
    let offset = if denom < 0.0 {
        0.5 * (a - c) / denom
    } else {
        0.0
    };
    grid[i].0 + offset.clamp(-1.0, 1.0) * step
}

/// Harmonics in the regression of [`refine_peak`].
const HARMONICS: usize = 2;

/// Sum of squares of `d` explained by a constant and `HARMONICS` harmonics of frequency `f`
/// (cycles per sample). One pass accumulates the cross products with the data; the Gram
/// matrix of the trigonometric regressors has a closed form (Dirichlet sums).
fn explained(d: &[f64], f: f64) -> f64 {
    const K: usize = 2 * HARMONICS + 1;
    let n = d.len();
    let w = 2.0 * std::f64::consts::PI * f;
    let mut rhs = [0.0; K];
    let (sin_w, cos_w) = w.sin_cos();
    let (mut c1, mut s1) = (1.0f64, 0.0f64);
    for &v in d {
        rhs[0] += v;
        let (mut c, mut s) = (c1, s1);
        for h in 0..HARMONICS {
            rhs[1 + 2 * h] += c * v;
            rhs[2 + 2 * h] += s * v;
            let c_next = c * c1 - s * s1;
            s = s * c1 + c * s1;
            c = c_next;
        }
        let c_next = c1 * cos_w - s1 * sin_w;
        s1 = s1 * cos_w + c1 * sin_w;
        c1 = c_next;
    }
    // Σ_t cos(θ t) and Σ_t sin(θ t) over t = 0..n
    let sums = |theta: f64| {
        let half = (theta / 2.0).sin();
        if half.abs() < 1e-12 {
            return (n as f64, 0.0);
        }
        let ratio = (n as f64 * theta / 2.0).sin() / half;
        let mid = (n as f64 - 1.0) * theta / 2.0;
        (ratio * mid.cos(), ratio * mid.sin())
    };
    let mut gram = [[0.0; K]; K];
    gram[0][0] = n as f64;
    for a in 1..=HARMONICS {
        let (ca, sa) = sums(a as f64 * w);
        let (ic, is) = (2 * a - 1, 2 * a);
        gram[0][ic] = ca;
        gram[ic][0] = ca;
        gram[0][is] = sa;
        gram[is][0] = sa;
        for b in 1..=HARMONICS {
            let (cp, sp) = sums((a + b) as f64 * w);
            let (cm, sm) = sums((a as f64 - b as f64) * w);
            let (jc, js) = (2 * b - 1, 2 * b);
            // cos(A)cos(B), sin(A)sin(B), cos(A)sin(B) as sums of angles
            gram[ic][jc] = 0.5 * (cm + cp);
            gram[is][js] = 0.5 * (cm - cp);
            gram[ic][js] = 0.5 * (sp - sm);
            gram[js][ic] = gram[ic][js];
        }
    }
    match solve(gram, rhs) {
        Some(beta) => beta.iter().zip(&rhs).map(|(b, r)| b * r).sum(),
        None => 0.0,
    }
}

#[expect(
    clippy::needless_range_loop,
    reason = "row operations on a small matrix"
)]
/// Solves a small dense system by Gaussian elimination with partial pivoting.
fn solve<const K: usize>(mut a: [[f64; K]; K], mut b: [f64; K]) -> Option<[f64; K]> {
    for col in 0..K {
        let pivot = (col..K).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for r in col + 1..K {
            let f = a[r][col] / a[col][col];
            for c in col..K {
                a[r][c] -= f * a[col][c];
            }
            b[r] -= f * b[col];
        }
    }
    let mut x = [0.0; K];
    for r in (0..K).rev() {
        let s: f64 = (r + 1..K).map(|c| a[r][c] * x[c]).sum();
        x[r] = (b[r] - s) / a[r][r];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pure_sine_has_its_period() {
        let x: Vec<f64> = (0..600)
            .map(|t| 10.0 + (2.0 * std::f64::consts::PI * t as f64 / 50.0).sin())
            .collect();
        let s = seasonality(&x, &SeasonalityOptions::default()).unwrap();
        assert_eq!(s.period, Some(50));
        assert_eq!(s.mul.map(|m| m.period), Some(50));
        assert!(s.add.unwrap().error < 1e-6);
    }

    #[test]
    fn exact_pattern_decomposes_without_error() {
        let pattern = [1.0, 3.0, 2.0, 5.0];
        let x: Vec<f64> = (0..40).map(|t| 10.0 + pattern[t % 4]).collect();
        assert!(decomposition_error(&x, 4, DecompositionKind::Additive).unwrap() < 1e-20);
        assert!(decomposition_error(&x, 3, DecompositionKind::Additive).unwrap() > 0.1);
        assert!(decomposition_error(&x, 30, DecompositionKind::Additive).is_none());
    }

    #[test]
    fn line_has_no_period_and_short_is_an_error() {
        let x: Vec<f64> = (0..100).map(|t| t as f64).collect();
        assert_eq!(
            seasonality(&x, &SeasonalityOptions::default())
                .unwrap()
                .period,
            None
        );
        assert!(seasonality(&[1.0; 5], &SeasonalityOptions::default()).is_err());
    }

    #[test]
    fn two_periods_are_listed_strongest_first_and_harmonics_are_not() {
        let tau = 2.0 * std::f64::consts::PI;
        let mut seed = 11u64;
        let mut draws = std::iter::repeat_with(move || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        });
        let mut noise = |_t: usize| draws.next().unwrap();
        let x: Vec<f64> = (0..1344)
            .map(|t| {
                let t_f = t as f64;
                3.0 * (tau * t_f / 24.0).sin() + 1.5 * (tau * t_f / 168.0).sin() + noise(t)
            })
            .collect();
        let s = seasonality(&x, &SeasonalityOptions::default()).unwrap();
        let periods: Vec<usize> = s.periods.iter().map(|p| p.period).collect();
        assert_eq!(periods.first().copied(), s.period, "{periods:?}");
        // The first is refined by decomposition, the others by the harmonic regression
        // alone (within 1%).
        assert_eq!(periods[0], 24, "{:?}", s.periods);
        assert!(periods[1].abs_diff(168) <= 2, "{:?}", s.periods);
        assert!(s.periods[0].strength >= s.periods[1].strength);
        // A non-sinusoidal shape has harmonics (30, 20): one period.
        let shape: Vec<f64> = (0..600)
            .map(|t| {
                let t_f = t as f64;
                (tau * t_f / 60.0).sin() + 0.6 * (2.0 * tau * t_f / 60.0).sin() + noise(t)
            })
            .collect();
        let s = seasonality(&shape, &SeasonalityOptions::default()).unwrap();
        assert_eq!(s.periods.len(), 1, "{:?}", s.periods);
    }
}
