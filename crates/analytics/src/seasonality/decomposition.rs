//! The classical decomposition that scores a candidate period: statsmodels'
//! `seasonal_decompose`, the reference the statsmodels tests compare against, and public so
//! that a caller can score a period it chose itself.

/// Which classical decomposition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecompositionKind {
    /// `x = trend + seasonal + residual`.
    Additive,
    /// `x = trend * seasonal * residual`.
    Multiplicative,
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
    decomposition_error_with(x, &prefix_sums(x), period, kind)
}

/// `[0, x0, x0 + x1, ...]`: the moving averages of every candidate period read it.
pub(super) fn prefix_sums(x: &[f64]) -> Vec<f64> {
    let mut prefix = Vec::with_capacity(x.len() + 1);
    prefix.push(0.0);
    let mut acc = 0.0;
    for &v in x {
        acc += v;
        prefix.push(acc);
    }
    prefix
}

/// [`decomposition_error`] with the [`prefix_sums`] of `x` computed once for all candidate
/// periods (same arithmetic, hence the same values).
pub(super) fn decomposition_error_with(
    x: &[f64],
    prefix: &[f64],
    period: usize,
    kind: DecompositionKind,
) -> Option<f64> {
    let n = x.len();
    if period < 2 || n < 2 * period {
        return None;
    }
    let h = period / 2;
    let inv = 1.0 / period as f64;
    let trend = |t: usize| {
        if period.is_multiple_of(2) {
            (prefix[t + h] - prefix[t + 1 - h] + 0.5 * (x[t - h] + x[t + h])) * inv
        } else {
            (prefix[t + h + 1] - prefix[t - h]) * inv
        }
    };
    let valid = h..n - h;
    // each point's trend, and its phase counted along instead of `t % period` (a division
    // per point)
    let mut trends = Vec::with_capacity(valid.len());
    let mut sums = vec![0.0; period];
    let mut counts = vec![0usize; period];
    let mut phase = h % period;
    for t in valid.clone() {
        let tr = trend(t);
        trends.push(tr);
        let v = match kind {
            DecompositionKind::Additive => x[t] - tr,
            DecompositionKind::Multiplicative => {
                if tr <= 0.0 {
                    return None;
                }
                x[t] / tr
            }
        };
        sums[phase] += v;
        counts[phase] += 1;
        phase = if phase + 1 == period { 0 } else { phase + 1 };
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
    let mut phase = h % period;
    for (t, &tr) in valid.zip(&trends) {
        let p = phase;
        phase = if phase + 1 == period { 0 } else { phase + 1 };
        let c = counts[p];
        if c < 2 {
            continue;
        }
        let inflate = c as f64 / (c - 1) as f64;
        let r = match kind {
            DecompositionKind::Additive => x[t] - tr - means[p],
            DecompositionKind::Multiplicative => x[t] - tr * means[p],
        };
        press += (r * inflate).powi(2);
        used += 1;
    }
    (used > 0).then(|| press / used as f64)
}
