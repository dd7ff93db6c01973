//! The smoothing recursion of Holt-Winters: the one-step SSE (forward pass) and its exact
//! gradient (adjoint pass), with the parameter transforms and statsmodels' simple initial states.

/// The seasonal form of the recursion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Additive seasonality.
    Add,
    /// Multiplicative seasonality.
    Mul,
    /// No seasonality (Holt's linear trend).
    None,
}

impl Kind {
    /// Number of smoothing parameters: alpha, beta and (seasonal) gamma.
    pub(super) fn n_smoothing(self) -> usize {
        if self == Kind::None { 2 } else { 3 }
    }
}

pub(super) fn sigmoid(v: f64) -> f64 {
    1.0 / (1.0 + (-v).exp())
}

pub(super) fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

/// `(alpha, beta, gamma)` from the unconstrained parameters.
pub(super) fn smoothing(p: &[f64], np: usize) -> (f64, f64, f64) {
    let alpha = sigmoid(p[0]);
    let beta = alpha * sigmoid(p[1]);
    let gamma = if np == 3 {
        (1.0 - alpha) * sigmoid(p[2])
    } else {
        0.0
    };
    (alpha, beta, gamma)
}

/// statsmodels' `_initialization_simple`: level = mean of the first period, trend = mean
/// change per step between the first two periods, seasonal = first period minus (over) level.
/// The trend is returned as the change over the whole series (see [`Work::sse`]).
pub(super) fn initial_states(kind: Kind, m: usize, y: &[f64]) -> Vec<f64> {
    if kind == Kind::None {
        return vec![y[0], (y[1] - y[0]) * y.len() as f64];
    }
    let first = y[..m].iter().sum::<f64>() / m as f64;
    let second = y[m..2 * m].iter().sum::<f64>() / m as f64;
    let mut x = vec![first, (second - first) / m as f64 * y.len() as f64];
    x.extend(y[..m].iter().map(|v| match kind {
        Kind::Mul => v / first,
        _ => v - first,
    }));
    x
}

/// Buffers of the smoothing recursion, kept for the adjoint pass.
#[derive(Debug)]
pub(super) struct Work {
    kind: Kind,
    /// The seasonal period (0 without seasonality).
    pub(super) m: usize,
    /// Level before step `t` (index `t`), after the last value (index `n`).
    pub(super) level: Vec<f64>,
    /// Trend, indexed as `level`.
    pub(super) trend: Vec<f64>,
    /// Seasonal state used at step `t` (index `t`); the last `m` are the next period's.
    pub(super) season: Vec<f64>,
    g_season: Vec<f64>,
}

impl Work {
    pub(super) fn new(kind: Kind, m: usize, n: usize) -> Self {
        let ms = if kind == Kind::None { 0 } else { m };
        Self {
            kind,
            m: ms,
            level: vec![0.0; n + 1],
            trend: vec![0.0; n + 1],
            season: vec![0.0; n + ms],
            g_season: vec![0.0; n + ms],
        }
    }

    #[expect(
        clippy::needless_range_loop,
        reason = "the recursion reads and writes several arrays at t, t + 1 and t + m"
    )]
    /// Sum of squared one-step errors at the unconstrained parameters
    /// `[a, b, (g), level0, n * trend0, season0..]`, or the partial sum as soon as that
    /// exceeds `bound`; keeps the states for [`gradient`](Self::gradient). The initial trend
    /// is scaled by the series length `n` because its effect on the errors grows with `t`:
    /// unscaled, the SSE's curvature in it is about `n²` times that in the level, and L-BFGS
    /// took up to seven times more iterations on the reference series.
    pub(super) fn forward(&mut self, y: &[f64], p: &[f64], bound: f64) -> f64 {
        let kind = self.kind;
        let m = self.m;
        let np = kind.n_smoothing();
        let (alpha, beta, gamma) = smoothing(p, np);
        let n = y.len();
        let (mut l, mut b) = (p[np], p[np + 1] / n as f64);
        self.level[0] = l;
        self.trend[0] = b;
        self.season[..m].copy_from_slice(&p[np + 2..np + 2 + m]);
        // The new level is `c + (1 - alpha) u` and the new trend `beta (l' - l) + (1 - beta) b`,
        // written `beta c - alpha beta l + (1 - alpha beta) b`: the loop is bound by the latency
        // of the (l, b) dependency chain, which this form halves (three operations a step).
        let ab = alpha * beta;
        let mut sse = 0.0;
        for t in 0..n {
            let u = l + b;
            let yt = y[t];
            // `c`: the observation's share of the new level.
            let c = match kind {
                Kind::Add => {
                    let s = self.season[t];
                    let e = yt - u - s;
                    sse += e * e;
                    self.season[t + m] = gamma * (yt - u) + (1.0 - gamma) * s;
                    alpha * (yt - s)
                }
                Kind::Mul => {
                    let s = self.season[t];
                    let e = yt - u * s;
                    sse += e * e;
                    self.season[t + m] = gamma * yt / u + (1.0 - gamma) * s;
                    alpha * yt / s
                }
                Kind::None => {
                    let e = yt - u;
                    sse += e * e;
                    alpha * yt
                }
            };
            (l, b) = (c + (1.0 - alpha) * u, (beta * c - ab * l) + (1.0 - ab) * b);
            self.level[t + 1] = l;
            self.trend[t + 1] = b;
            if sse > bound {
                break;
            }
        }
        sse
    }

    /// The gradient of the SSE with respect to `p`, by an adjoint (reverse-mode) pass over
    /// the states of the last complete [`forward`](Self::forward) pass at `p`, which
    /// returned `sse`.
    pub(super) fn gradient(&mut self, y: &[f64], p: &[f64], sse: f64, grad: &mut [f64]) {
        if !sse.is_finite() {
            grad.iter_mut().for_each(|g| *g = 0.0);
            return;
        }
        let kind = self.kind;
        let m = self.m;
        let np = kind.n_smoothing();
        let (alpha, beta, gamma) = smoothing(p, np);
        let n = y.len();
        self.g_season.iter_mut().for_each(|g| *g = 0.0);
        let (mut g_alpha, mut g_beta, mut g_gamma) = (0.0, 0.0, 0.0);
        // The transpose of the forward update: `gl = k - alpha beta gb'` and
        // `gb = k + (1 - alpha beta) gb'` with `k = (1 - alpha) gl' + dSSE/du`, again a short
        // dependency chain. Reciprocals spare two of the multiplicative model's divisions.
        let ab = alpha * beta;
        let (mut gl_next, mut gb_next) = (0.0, 0.0);
        for t in (0..n).rev() {
            let (l, b) = (self.level[t], self.trend[t]);
            let u = l + b;
            let yt = y[t];
            let gln = gl_next + beta * gb_next;
            g_beta += (self.level[t + 1] - u) * gb_next;
            // `gu`: the derivative through `u` of this step's error and seasonal update.
            let gu = match kind {
                Kind::Add => {
                    let s = self.season[t];
                    let gsn = self.g_season[t + m];
                    let e = yt - u - s;
                    g_alpha += e * gln;
                    g_gamma += e * gsn;
                    self.g_season[t] += -alpha * gln + (1.0 - gamma) * gsn - 2.0 * e;
                    -gamma * gsn - 2.0 * e
                }
                Kind::Mul => {
                    let s = self.season[t];
                    let gsn = self.g_season[t + m];
                    let e = yt - u * s;
                    let (rs, ru) = (1.0 / s, 1.0 / u);
                    let (ys, yu) = (yt * rs, yt * ru);
                    g_alpha += (ys - u) * gln;
                    g_gamma += (yu - s) * gsn;
                    self.g_season[t] += -alpha * ys * rs * gln + (1.0 - gamma) * gsn - 2.0 * e * u;
                    -gamma * yu * ru * gsn - 2.0 * e * s
                }
                Kind::None => {
                    let e = yt - u;
                    g_alpha += e * gln;
                    -2.0 * e
                }
            };
            let k = (1.0 - alpha) * gl_next + gu;
            (gl_next, gb_next) = (k - ab * gb_next, k + (1.0 - ab) * gb_next);
        }
        let sb = sigmoid(p[1]);
        let dalpha = alpha * (1.0 - alpha);
        let mut ga = g_alpha + g_beta * sb;
        grad[1] = g_beta * alpha * sb * (1.0 - sb);
        if np == 3 {
            let sg = sigmoid(p[2]);
            ga -= g_gamma * sg;
            grad[2] = g_gamma * (1.0 - alpha) * sg * (1.0 - sg);
        }
        grad[0] = ga * dalpha;
        grad[np] = gl_next;
        grad[np + 1] = gb_next / n as f64;
        grad[np + 2..np + 2 + m].copy_from_slice(&self.g_season[..m]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric_grad(kind: Kind, m: usize, y: &[f64], p: &[f64]) -> Vec<f64> {
        let mut w = Work::new(kind, m, y.len());
        (0..p.len())
            .map(|i| {
                let h = 1e-6;
                let mut a = p.to_vec();
                a[i] += h;
                let fa = w.forward(y, &a, f64::INFINITY);
                a[i] -= 2.0 * h;
                let fb = w.forward(y, &a, f64::INFINITY);
                (fa - fb) / (2.0 * h)
            })
            .collect()
    }

    #[test]
    fn adjoint_gradient_matches_finite_differences() {
        let y: Vec<f64> = (0..40)
            .map(|t| 10.0 + 0.1 * t as f64 + (t as f64 * 1.3).sin() + [0.5, -0.2, 0.1, -0.4][t % 4])
            .collect();
        for (kind, m) in [(Kind::Add, 4), (Kind::Mul, 4), (Kind::None, 0)] {
            let mut p = vec![0.3, -1.0];
            if kind != Kind::None {
                p.push(-0.5);
            }
            p.extend(initial_states(kind, m.max(1), &y).into_iter().take(2 + m));
            let mut w = Work::new(kind, m, y.len());
            let mut g = vec![0.0; p.len()];
            let f = w.forward(&y, &p, f64::INFINITY);
            w.gradient(&y, &p, f, &mut g);
            let num = numeric_grad(kind, m, &y, &p);
            for (a, b) in g.iter().zip(&num) {
                assert!(
                    (a - b).abs() <= 1e-4 * (1.0 + b.abs()),
                    "{kind:?}: {g:?} vs {num:?}"
                );
            }
        }
    }
}
