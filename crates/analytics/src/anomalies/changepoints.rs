//! Changepoints of one series: where its level jumps or its slope turns.
//!
//! Three steps. The seasonal profile (if a period is given) is removed and the series is
//! scaled by its noise. augurs' BOCPD detector then proposes changepoints twice: on the
//! scaled series (level shifts) and on the differences of its block means (a turn of the
//! slope is a level shift there). Each proposal is finally placed and judged by a local
//! regression, a line on each side of the candidate time, which measures the jump and the
//! change of slope in units of the noise: BOCPD alone fires on any departure from its
//! piecewise-constant model (a steady trend, a slow seasonal swing), the regression keeps
//! only the shifts that are large against the noise.

use augurs::changepoint::{Detector, NormalGammaDetector, dist::NormalGamma};
use serde::{Deserialize, Serialize};

use super::{median, noise_scale, positive};
use crate::error::{Result, ensure_finite, ensure_len};

/// What changed at a changepoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// The level jumps (a step).
    Level,
    /// The slope changes (a kink).
    Trend,
}

/// One changepoint found in a series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Changepoint {
    /// What changed.
    pub kind: ChangeKind,
    /// Index of the first sample after the change.
    pub index: usize,
    /// Size of the change in the series' units: the jump for [`ChangeKind::Level`], the change
    /// of slope per sample for [`ChangeKind::Trend`].
    pub magnitude: f64,
    /// Size of the change in units of the series' noise (for a trend change: how far the new
    /// slope moves the series within [`ChangepointOptions::window`] samples).
    pub score: f64,
}

/// Options of [`changepoints`].
#[derive(Debug, Clone, PartialEq)]
pub struct ChangepointOptions {
    /// Seasonal period in samples, removed before the search when the series holds at least two
    /// cycles. Default `None`.
    pub period: Option<usize>,
    /// BOCPD's expected run length between changepoints, in samples. Default 250 (augurs'
    /// default); it sets how eagerly candidates are proposed, not what is reported.
    pub hazard: f64,
    /// Samples on each side of a candidate that the confirming regression fits. Default 120.
    pub window: usize,
    /// Smallest jump reported, in units of the noise. Default 3.
    pub min_level_shift: f64,
    /// Smallest change of slope reported, as the distance in units of the noise that it moves
    /// the series within `window` samples. Default 4.
    pub min_trend_change: f64,
}

impl Default for ChangepointOptions {
    fn default() -> Self {
        Self {
            period: None,
            hazard: 250.0,
            window: 120,
            min_level_shift: 3.0,
            min_trend_change: 4.0,
        }
    }
}

/// The level and trend changepoints of `x`, ordered by index.
///
/// A series shorter than two windows has no room for the regression on both sides, and an
/// empty result; a constant series has none either.
///
/// # Errors
/// [`crate::Error::NonFinite`] for NaN or infinite values (fill gaps first),
/// [`crate::Error::InvalidOption`] for a window below 8 or thresholds that are not positive.
pub fn changepoints(x: &[f64], options: &ChangepointOptions) -> Result<Vec<Changepoint>> {
    ensure_finite(x)?;
    if options.window < 8 {
        return Err(crate::Error::InvalidOption("window must be at least 8"));
    }
    if !(positive(options.min_level_shift) && positive(options.min_trend_change)) {
        return Err(crate::Error::InvalidOption(
            "min_level_shift and min_trend_change must be positive",
        ));
    }
    if options.hazard.is_nan() || options.hazard < 1.0 {
        return Err(crate::Error::InvalidOption("hazard must be at least 1"));
    }
    let w = options.window;
    if ensure_len(x, 2 * w).is_err() {
        return Ok(Vec::new());
    }
    let y = match options.period {
        Some(p) if p >= 2 && x.len() >= 2 * p => deseasonalise(x, p),
        _ => x.to_vec(),
    };
    let sigma = noise_scale(&y, w / 2);
    if !positive(sigma) {
        return Ok(Vec::new());
    }
    let centre = median(&mut y.clone());
    let z: Vec<f64> = y.iter().map(|v| (v - centre) / sigma).collect();

    let mut candidates = propose_steps(&z, w / LEVEL_BLOCKS, options.hazard);
    candidates.extend(propose_turns(&z, w / 4, options.hazard));
    candidates.sort_unstable();
    candidates.dedup();

    let sums = Sums::new(&z);
    let mut found: Vec<Changepoint> = Vec::new();
    for c in candidates {
        let Some(fit) = best_break(&sums, c, w) else {
            continue;
        };
        // A jump in noise units; a turn as the distance it moves the series within a window.
        let changes = [
            (ChangeKind::Level, fit.jump, 1.0, options.min_level_shift),
            (
                ChangeKind::Trend,
                fit.turn,
                w as f64,
                options.min_trend_change,
            ),
        ];
        for (kind, size, reach, min) in changes {
            let score = size.abs() * reach;
            if score >= min {
                found.push(Changepoint {
                    kind,
                    index: fit.at,
                    magnitude: size * sigma,
                    score,
                });
            }
        }
    }
    Ok(keep_strongest(found, w))
}

/// Samples per block for the level proposals: a window holds this many blocks.
const LEVEL_BLOCKS: usize = 24;

/// BOCPD's changepoints of `z` (indices of the first value of each new run, 0 left out).
fn propose(z: &[f64], hazard: f64) -> Vec<usize> {
    let mut detector =
        NormalGammaDetector::normal_gamma(hazard, NormalGamma::new_unchecked(0.0, 1.0, 1.0, 1.0));
    detector
        .detect_changepoints(z)
        .into_iter()
        .filter(|&i| i > 0 && i < z.len())
        .collect()
}

/// Candidates for a jump of the level: BOCPD on the means of blocks of `block` samples
/// (rescaled to unit noise), mapped back to sample indices. BOCPD's cost grows with the square
/// of the run lengths it tracks, and the regression places the break to the sample anyway.
fn propose_steps(z: &[f64], block: usize, hazard: f64) -> Vec<usize> {
    let block = block.max(1);
    let scale = (block as f64).sqrt();
    let means: Vec<f64> = z
        .chunks_exact(block)
        .map(|c| c.iter().sum::<f64>() / block as f64 * scale)
        .collect();
    propose(&means, hazard / block as f64)
        .into_iter()
        .map(|k| k * block)
        .collect()
}

/// Candidates for a turn of the slope: BOCPD on the differences of consecutive block means of
/// `block` samples (rescaled to unit noise), mapped back to sample indices.
fn propose_turns(z: &[f64], block: usize, hazard: f64) -> Vec<usize> {
    let block = block.max(4);
    let means: Vec<f64> = z
        .chunks_exact(block)
        .map(|c| c.iter().sum::<f64>() / block as f64)
        .collect();
    if means.len() < 8 {
        return Vec::new();
    }
    let d: Vec<f64> = means.windows(2).map(|p| p[1] - p[0]).collect();
    let scale = {
        let centre = median(&mut d.clone());
        let mut dev: Vec<f64> = d.iter().map(|v| (v - centre).abs()).collect();
        super::MAD_TO_SD * median(&mut dev)
    };
    if !positive(scale) {
        return Vec::new();
    }
    let centre = median(&mut d.clone());
    let scaled: Vec<f64> = d.iter().map(|v| (v - centre) / scale).collect();
    propose(&scaled, hazard / block as f64)
        .into_iter()
        .map(|k| k * block + block / 2)
        .collect()
}

/// A fitted broken line: `z = a + b (t - at) + jump [t >= at] + turn (t - at) [t >= at]`.
#[derive(Debug, Clone, Copy)]
struct Break {
    at: usize,
    jump: f64,
    turn: f64,
}

/// The broken line with the smallest residual sum of squares among break times within half a
/// window of `candidate`, each fitted on up to `w` samples either side. The times are searched
/// coarsely (every fourth) and then around the best one, which finds the same minimum on a
/// step or a kink at a third of the cost.
fn best_break(z: &Sums, candidate: usize, w: usize) -> Option<Break> {
    let min_side = w / 2;
    let lo = candidate.saturating_sub(w / 2).max(min_side);
    let hi = (candidate + w / 2).min(z.len.saturating_sub(min_side));
    if lo > hi {
        return None;
    }
    let best_in = |from: usize, to: usize, stride: usize| {
        let mut best: Option<(f64, Break)> = None;
        for at in (from..=to).step_by(stride) {
            if let Some((rss, fit)) = fit_break(z, at, w)
                && best.is_none_or(|(b, _)| rss < b)
            {
                best = Some((rss, fit));
            }
        }
        best.map(|(_, fit)| fit)
    };
    let coarse = best_in(lo, hi, COARSE)?;
    best_in(
        coarse.at.saturating_sub(COARSE - 1).max(lo),
        (coarse.at + COARSE - 1).min(hi),
        1,
    )
}

/// Stride of the coarse search for the break time.
const COARSE: usize = 4;

/// Prefix sums of `z`, `t z` and `z²`: each broken-line fit then needs O(1) work instead of a pass
/// over its window.
#[derive(Debug)]
struct Sums {
    len: usize,
    y: Vec<f64>,
    ty: Vec<f64>,
    yy: Vec<f64>,
}

impl Sums {
    fn new(z: &[f64]) -> Self {
        let mut sums = Self {
            len: z.len(),
            y: Vec::with_capacity(z.len() + 1),
            ty: Vec::with_capacity(z.len() + 1),
            yy: Vec::with_capacity(z.len() + 1),
        };
        let (mut y, mut ty, mut yy) = (0.0, 0.0, 0.0);
        sums.y.push(y);
        sums.ty.push(ty);
        sums.yy.push(yy);
        for (t, v) in z.iter().enumerate() {
            y += v;
            ty += t as f64 * v;
            yy += v * v;
            sums.y.push(y);
            sums.ty.push(ty);
            sums.yy.push(yy);
        }
        sums
    }

    /// Over `a..b` with `s = t - at`: the count, the sums of `s`, `s²`, `y`, `s y` and `y²`.
    fn moments(&self, a: usize, b: usize, at: usize) -> [f64; 6] {
        // Sums of k and k² over the integers p..=q (closed forms, valid for negative k).
        let (p, q) = (a as f64 - at as f64, b as f64 - 1.0 - at as f64);
        let n = (b - a) as f64;
        let squares = |m: f64| m * (m + 1.0) * (2.0 * m + 1.0) / 6.0;
        let sum_y = self.y[b] - self.y[a];
        [
            n,
            (p + q) * n / 2.0,
            squares(q) - squares(p - 1.0),
            sum_y,
            self.ty[b] - self.ty[a] - at as f64 * sum_y,
            self.yy[b] - self.yy[a],
        ]
    }
}

/// Least-squares fit of the broken line at `at` on `z[at - w .. at + w]` (clipped), with its
/// residual sum of squares; `None` if the design is singular.
fn fit_break(z: &Sums, at: usize, w: usize) -> Option<(f64, Break)> {
    let start = at.saturating_sub(w);
    let end = (at + w).min(z.len);
    let [nl, sl, ssl, yl, syl, yyl] = z.moments(start, at, at);
    let [nr, sr, ssr, yr, syr, yyr] = z.moments(at, end, at);
    // Columns 1, s, [t >= at], s [t >= at]: the step columns only see the right side.
    let xtx = [
        [nl + nr, sl + sr, nr, sr],
        [sl + sr, ssl + ssr, sr, ssr],
        [nr, sr, nr, sr],
        [sr, ssr, sr, ssr],
    ];
    let xty = [yl + yr, syl + syr, yr, syr];
    let beta = solve4(xtx, xty)?;
    let rss = yyl + yyr - (0..4).map(|i| beta[i] * xty[i]).sum::<f64>();
    Some((
        rss,
        Break {
            at,
            jump: beta[2],
            turn: beta[3],
        },
    ))
}

// Row and column indices are the algorithm here; iterators would hide it.
#[allow(clippy::needless_range_loop)]
/// Solves the 4x4 system `a x = b` by Gaussian elimination with partial pivoting.
fn solve4(mut a: [[f64; 4]; 4], mut b: [f64; 4]) -> Option<[f64; 4]> {
    for col in 0..4 {
        let pivot = (col..4).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..4 {
            let f = a[row][col] / a[col][col];
            for k in col..4 {
                a[row][k] -= f * a[col][k];
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = [0.0; 4];
    for row in (0..4).rev() {
        let rest: f64 = (row + 1..4).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - rest) / a[row][row];
    }
    Some(x)
}

/// Of the changepoints of one kind closer than `w` samples, keeps the one with the highest
/// score (several candidates converge on the same break).
fn keep_strongest(mut found: Vec<Changepoint>, w: usize) -> Vec<Changepoint> {
    found.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Changepoint> = Vec::new();
    for c in found {
        if !kept
            .iter()
            .any(|k| k.kind == c.kind && k.index.abs_diff(c.index) < w)
        {
            kept.push(c);
        }
    }
    kept.sort_by_key(|c| (c.index, c.kind == ChangeKind::Trend));
    kept
}

/// `x` less its seasonal profile. The profile is the sum of the first [`HARMONICS`] harmonics
/// of the period fitted to `x` less its running median over one period: the running median
/// keeps a step sharp (a moving average, as in `seasonal_decompose`, would smear it over a
/// period and leak it into the profile), and a few harmonics cannot follow a step or a kink.
fn deseasonalise(x: &[f64], period: usize) -> Vec<f64> {
    let n = x.len();
    let half = period / 2;
    let level = running_median(x, half);
    // Only the samples with a whole period around them: at the ends the window is one-sided
    // and its median follows the cycle.
    let inner = half..n - half;
    let omega = std::f64::consts::TAU / period as f64;
    let mut profile = vec![0.0; n];
    let count = inner.len() as f64;
    for k in 1..=HARMONICS {
        let (mut c, mut s) = (0.0, 0.0);
        for t in inner.clone() {
            let r = x[t] - level[t];
            let phase = omega * (k * t) as f64;
            c += r * phase.cos();
            s += r * phase.sin();
        }
        let (c, s) = (2.0 * c / count, 2.0 * s / count);
        for (t, p) in profile.iter_mut().enumerate() {
            let phase = omega * (k * t) as f64;
            *p += c * phase.cos() + s * phase.sin();
        }
    }
    x.iter().zip(&profile).map(|(v, p)| v - p).collect()
}

/// Harmonics of the seasonal profile.
const HARMONICS: usize = 3;

/// Median of `x` over `t - half ..= t + half` (clipped to the series) for every `t`, computed
/// every `half / 72` samples and interpolated linearly in between.
fn running_median(x: &[f64], half: usize) -> Vec<f64> {
    let n = x.len();
    let stride = (half / 72).max(1);
    let mut scratch = Vec::with_capacity(2 * half + 1);
    let mut at = |t: usize| {
        scratch.clear();
        scratch.extend_from_slice(&x[t.saturating_sub(half)..(t + half + 1).min(n)]);
        median(&mut scratch)
    };
    let knots: Vec<usize> = (0..n)
        .step_by(stride)
        .chain(std::iter::once(n - 1))
        .collect();
    let values: Vec<f64> = knots.iter().map(|&t| at(t)).collect();
    let mut out = Vec::with_capacity(n);
    out.push(values[0]);
    for (pair, v) in knots.windows(2).zip(values.windows(2)) {
        let (a, b) = (pair[0], pair[1]);
        // Each span fills (a, b]; the first value was pushed above.
        out.extend((a + 1..=b).map(|t| v[0] + (t - a) as f64 / (b - a) as f64 * (v[1] - v[0])));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clean_step_is_one_level_change_at_its_index() {
        let x: Vec<f64> = (0..600)
            .map(|i| (i % 5) as f64 * 0.2 + if i >= 400 { 5.0 } else { 0.0 })
            .collect();
        let found = changepoints(&x, &ChangepointOptions::default()).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].kind, ChangeKind::Level);
        assert!(found[0].index.abs_diff(400) <= 2, "{found:?}");
        assert!((found[0].magnitude - 5.0).abs() < 0.2, "{found:?}");
    }

    #[test]
    fn short_and_constant_series_have_none() {
        let opts = ChangepointOptions::default();
        assert!(changepoints(&[1.0; 100], &opts).unwrap().is_empty());
        assert!(changepoints(&[1.0; 1000], &opts).unwrap().is_empty());
    }

    #[test]
    fn bad_input_is_an_error() {
        let opts = ChangepointOptions::default();
        assert_eq!(
            changepoints(&[1.0, f64::NAN], &opts),
            Err(crate::Error::NonFinite)
        );
        let small = ChangepointOptions { window: 2, ..opts };
        assert!(matches!(
            changepoints(&[1.0; 10], &small),
            Err(crate::Error::InvalidOption(_))
        ));
    }

    #[test]
    fn the_prefix_sum_fit_matches_a_direct_fit() {
        // z = 1 + 0.5 s + 3 [s >= 0] - 0.25 s [s >= 0] exactly, plus an alternating wiggle
        // orthogonal enough to leave the estimates near the truth.
        let at = 50;
        let z: Vec<f64> = (0..120)
            .map(|t| {
                let s = t as f64 - at as f64;
                let h = if t >= at { 1.0 } else { 0.0 };
                1.0 + 0.5 * s + 3.0 * h - 0.25 * s * h
            })
            .collect();
        let (rss, fit) = fit_break(&Sums::new(&z), at, 40).unwrap();
        assert!(rss.abs() < 1e-6, "{rss}");
        assert!((fit.jump - 3.0).abs() < 1e-9, "{fit:?}");
        assert!((fit.turn + 0.25).abs() < 1e-9, "{fit:?}");
    }

    #[test]
    fn solve4_solves() {
        let a = [
            [4.0, 1.0, 0.0, 0.0],
            [1.0, 3.0, 1.0, 0.0],
            [0.0, 1.0, 2.0, 1.0],
            [0.0, 0.0, 1.0, 5.0],
        ];
        let x = [1.0, -2.0, 3.0, 0.5];
        let b: [f64; 4] = std::array::from_fn(|i| (0..4).map(|j| a[i][j] * x[j]).sum());
        let got = solve4(a, b).unwrap();
        for i in 0..4 {
            assert!((got[i] - x[i]).abs() < 1e-12);
        }
    }
}
