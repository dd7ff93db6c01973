//! What comes next? Holt-Winters exponential smoothing and model selection.
//!
//! [`HoltWinters`] is the unfitted model (its specification); [`HoltWinters::fit`] returns a
//! [`FittedHoltWinters`], the only type that can forecast. [`forecast`] fits the candidate
//! models for a series and keeps the one with the lowest in-sample RMSE.

use serde::Serialize;

use crate::error::{Error, Result, ensure_finite};
use crate::optim::{self, Settings};
use crate::special::norm_ppf;

/// Which Holt-Winters variant; all have an additive (undamped) trend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    /// Additive seasonality: `ExponentialSmoothing(trend="add", seasonal="add")`.
    HoltWintersAdditive,
    /// Multiplicative seasonality: `ExponentialSmoothing(trend="add", seasonal="mul")`.
    HoltWintersMultiplicative,
    /// No seasonality (Holt's linear trend): `ExponentialSmoothing(trend="add")`.
    HoltLinear,
}

impl Model {
    /// The name carried in the `prediction` record.
    pub fn name(self) -> &'static str {
        match self {
            Self::HoltWintersAdditive => "holt_winters_additive",
            Self::HoltWintersMultiplicative => "holt_winters_multiplicative",
            Self::HoltLinear => "holt_linear",
        }
    }
}

/// An unfitted Holt-Winters model: the variant and its seasonal period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HoltWinters {
    model: Model,
    period: usize,
}

impl HoltWinters {
    /// Additive seasonality with `period` samples per season (at least 2).
    pub fn additive(period: usize) -> Self {
        Self {
            model: Model::HoltWintersAdditive,
            period,
        }
    }

    /// Multiplicative seasonality with `period` samples per season (at least 2).
    pub fn multiplicative(period: usize) -> Self {
        Self {
            model: Model::HoltWintersMultiplicative,
            period,
        }
    }

    /// Holt's linear trend, no seasonality.
    pub fn linear() -> Self {
        Self {
            model: Model::HoltLinear,
            period: 0,
        }
    }

    /// The variant.
    pub fn model(&self) -> Model {
        self.model
    }

    /// Fits smoothing parameters and initial states by minimising the one-step-ahead sum of
    /// squared errors, as statsmodels'
    /// `ExponentialSmoothing(y, trend="add", seasonal=..., seasonal_periods=p).fit()` with
    /// `initialization_method="estimated"`: `alpha` in [0, 1], `beta = alpha * b`,
    /// `gamma = (1 - alpha) * g` with `b, g` in [0, 1], and the initial level, trend and
    /// `p` seasonal states free. The search starts from statsmodels' simple initial states and
    /// the best point of a coarse parameter grid, then runs L-BFGS with an exact (adjoint)
    /// gradient.
    ///
    /// # Errors
    /// [`Error::NotEnoughData`] with fewer than two full periods (seasonal) or 4 values
    /// (linear), [`Error::NonFinite`], [`Error::InvalidOption`] for a period below 2 or a
    /// multiplicative model on a series that is not strictly positive.
    pub fn fit(&self, y: &[f64]) -> Result<FittedHoltWinters> {
        Ok(self.fit_from(y, None)?.0)
    }

    /// [`fit`](Self::fit), with `warm` (where the search of another seasonal model on the same
    /// series ended) as one more candidate start; also returns where this search ended.
    fn fit_from(&self, y: &[f64], warm: Option<&Start>) -> Result<(FittedHoltWinters, Start)> {
        ensure_finite(y)?;
        let m = self.period;
        let seasonal = self.model != Model::HoltLinear;
        if seasonal && m < 2 {
            return Err(Error::InvalidOption("seasonal period must be at least 2"));
        }
        let needed = if seasonal { (2 * m).max(m + 3) } else { 4 };
        if y.len() < needed {
            return Err(Error::NotEnoughData {
                needed,
                got: y.len(),
            });
        }
        let kind = match self.model {
            Model::HoltWintersAdditive => Kind::Add,
            Model::HoltWintersMultiplicative => Kind::Mul,
            Model::HoltLinear => Kind::None,
        };
        let n = y.len() as f64;
        let mean = y.iter().sum::<f64>() / n;
        let (shift, scale) = match kind {
            Kind::Mul => {
                if y.iter().any(|&v| v <= 0.0) {
                    return Err(Error::InvalidOption(
                        "multiplicative seasonality needs a strictly positive series",
                    ));
                }
                (0.0, mean)
            }
            _ => {
                let sd = (y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
                (mean, if sd > 0.0 { sd } else { 1.0 })
            }
        };
        let z: Vec<f64> = y.iter().map(|v| (v - shift) / scale).collect();
        let mut work = Work::new(kind, m, z.len());
        let x0 = initial_states(kind, m, &z);
        let np = kind.n_smoothing();

        // The start: the best of a coarse grid over the smoothing parameters at the simple
        // initial states, and of the warm start. A pass stops as soon as its running SSE
        // exceeds the best so far, which spares most of the grid.
        let grid_a = [0.01, 0.1, 0.3, 0.6, 0.95];
        let grid_u = [0.01, 0.1, 0.5];
        let grid_g: &[f64] = if np == 3 { &[0.01, 0.1, 0.5] } else { &[0.0] };
        let x0 = &x0;
        let grid = grid_a.iter().flat_map(|&a| {
            grid_u.iter().flat_map(move |&b| {
                grid_g.iter().map(move |&g| {
                    let mut p = vec![logit(a), logit(b)];
                    if np == 3 {
                        p.push(logit(g));
                    }
                    p.extend_from_slice(x0);
                    p
                })
            })
        });
        let warm = warm.map(|w| w.params(kind, shift, scale, z.len()));
        let mut start: Option<(f64, Vec<f64>)> = None;
        for p in warm.into_iter().chain(grid) {
            let bound = start.as_ref().map_or(f64::INFINITY, |s| s.0);
            let f = work.forward(&z, &p, bound);
            if f < bound {
                start = Some((f, p));
            }
        }
        let (_, mut p) = start.ok_or(Error::Singular)?;
        let settings = Settings {
            max_iter: MAX_ITER,
            f_rel_tol: F_REL_TOL,
            g_tol: 1e-9,
        };
        let sse_z = optim::minimize(
            |p, g| {
                let f = work.forward(&z, p, f64::INFINITY);
                work.gradient(&z, p, f, g);
                f
            },
            &mut p,
            settings,
        );
        if !sse_z.is_finite() {
            return Err(Error::Singular);
        }
        let _ = work.forward(&z, &p, f64::INFINITY);
        let (alpha, beta, gamma) = smoothing(&p, np);
        let unscale = |v: f64| v * scale + shift;
        let level = unscale(work.level[z.len()]);
        let trend = work.trend[z.len()] * scale;
        let season_scale = if kind == Kind::Mul { 1.0 } else { scale };
        let seasonal_states: Vec<f64> = if m > 0 && kind != Kind::None {
            work.season[z.len()..z.len() + m]
                .iter()
                .map(|s| s * season_scale)
                .collect()
        } else {
            Vec::new()
        };
        let level0 = unscale(work.level[0]);
        let start = Start {
            logits: p[..np].to_vec(),
            level: level0,
            trend: work.trend[0] * scale,
            offsets: work.season[..work.m]
                .iter()
                .map(|s| match kind {
                    Kind::Mul => level0 * (s - 1.0),
                    _ => s * scale,
                })
                .collect(),
        };
        let sse = sse_z * scale * scale;
        let fit = FittedHoltWinters {
            model: self.model,
            period: if kind == Kind::None { None } else { Some(m) },
            alpha,
            beta,
            gamma: if np == 3 { Some(gamma) } else { None },
            sse,
            rmse: (sse / n).sqrt(),
            nobs: y.len(),
            level,
            trend,
            seasonal: seasonal_states,
        };
        Ok((fit, start))
    }
}

/// Where a search ended, in the units of the series: the unconstrained smoothing
/// parameters and the initial states, with the seasonal states as offsets from the level
/// so that either seasonal model can start from them.
#[derive(Debug)]
struct Start {
    logits: Vec<f64>,
    level: f64,
    trend: f64,
    offsets: Vec<f64>,
}

impl Start {
    /// The parameter vector of [`Work::sse`] for `kind` on `(y - shift) / scale`, `n` long
    /// (a multiplicative seasonal state is `1 + offset / level`).
    fn params(&self, kind: Kind, shift: f64, scale: f64, n: usize) -> Vec<f64> {
        let mut p = self.logits.clone();
        p.push((self.level - shift) / scale);
        p.push(self.trend / scale * n as f64);
        p.extend(self.offsets.iter().map(|o| match kind {
            Kind::Mul => 1.0 + o / self.level,
            _ => o / scale,
        }));
        p
    }
}

/// L-BFGS iteration cap.
const MAX_ITER: usize = 400;
/// L-BFGS stops after three iterations that each lower the SSE by less than this fraction.
const F_REL_TOL: f64 = 1e-9;

/// A fitted Holt-Winters model: parameters, in-sample fit and final states.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FittedHoltWinters {
    /// The variant.
    pub model: Model,
    /// Seasonal period in samples (`None` for Holt's linear trend).
    pub period: Option<usize>,
    /// Level smoothing parameter (`smoothing_level`).
    pub alpha: f64,
    /// Trend smoothing parameter (`smoothing_trend`).
    pub beta: f64,
    /// Seasonal smoothing parameter (`smoothing_seasonal`).
    pub gamma: Option<f64>,
    /// In-sample sum of squared one-step errors (statsmodels `sse`).
    pub sse: f64,
    /// `sqrt(sse / n)`, the criterion of model selection.
    pub rmse: f64,
    /// Number of values fitted.
    pub nobs: usize,
    /// Level after the last value.
    pub level: f64,
    /// Trend after the last value.
    pub trend: f64,
    /// Seasonal states for the next `period` steps.
    pub seasonal: Vec<f64>,
}

impl FittedHoltWinters {
    /// Point forecasts for steps `1..=horizon` with `level` (e.g. 0.95) prediction
    /// intervals from the ETS(A,A,A) analytic variance
    /// `sigma² (1 + Σ_{j<h} (alpha (1 + j beta) + gamma [j mod p = 0])²)`, `sigma² = sse / n`
    /// (also used, as an approximation, for multiplicative seasonality).
    pub fn forecast(&self, horizon: usize, level: f64) -> Forecast {
        let z = norm_ppf(0.5 + level.clamp(0.0, 0.999_999) / 2.0);
        let sigma2 = self.sse / self.nobs as f64;
        let gamma = self.gamma.unwrap_or(0.0);
        let m = self.period.unwrap_or(0);
        let mut values = Vec::with_capacity(horizon);
        let mut lower = Vec::with_capacity(horizon);
        let mut upper = Vec::with_capacity(horizon);
        let mut var_sum = 1.0;
        for h in 1..=horizon {
            let base = self.level + h as f64 * self.trend;
            let point = match self.model {
                Model::HoltWintersAdditive => base + self.seasonal[(h - 1) % m],
                Model::HoltWintersMultiplicative => base * self.seasonal[(h - 1) % m],
                Model::HoltLinear => base,
            };
            if h > 1 {
                let j = h - 1;
                let season = if m > 0 && j % m == 0 { gamma } else { 0.0 };
                var_sum += (self.alpha * (1.0 + j as f64 * self.beta) + season).powi(2);
            }
            let half = z * (sigma2 * var_sum).sqrt();
            values.push(point);
            lower.push(point - half);
            upper.push(point + half);
        }
        Forecast {
            model: self.model,
            rmse: self.rmse,
            values,
            lower,
            upper,
        }
    }
}

/// Point forecasts and prediction intervals of one model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Forecast {
    /// The model that produced them.
    pub model: Model,
    /// In-sample RMSE of that model.
    pub rmse: f64,
    /// Point forecasts, one per step.
    pub values: Vec<f64>,
    /// Lower bounds of the prediction intervals.
    pub lower: Vec<f64>,
    /// Upper bounds of the prediction intervals.
    pub upper: Vec<f64>,
}

/// Options of [`forecast`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ForecastOptions {
    /// Steps to forecast. Default 10.
    pub horizon: usize,
    /// Prediction interval level. Default 0.95.
    pub level: f64,
}

impl Default for ForecastOptions {
    fn default() -> Self {
        Self {
            horizon: 10,
            level: 0.95,
        }
    }
}

/// The candidate models for a series of length `n`, positive or not, with an optional
/// seasonal period: additive and (for a strictly positive series) multiplicative
/// Holt-Winters when at least two full periods exist, Holt's linear trend otherwise.
pub fn candidates(n: usize, positive: bool, period: Option<usize>) -> Vec<HoltWinters> {
    match period {
        Some(p) if p >= 2 && n >= (2 * p).max(p + 3) => {
            let mut c = vec![HoltWinters::additive(p)];
            if positive {
                c.push(HoltWinters::multiplicative(p));
            }
            c
        }
        _ => vec![HoltWinters::linear()],
    }
}

/// Fits every [candidate](candidates) and forecasts with the one of lowest in-sample RMSE,
/// as the original system did with statsmodels' `ExponentialSmoothing`.
///
/// # Errors
/// [`Error::NotEnoughData`] for fewer than 4 values, [`Error::NonFinite`].
pub fn forecast(y: &[f64], period: Option<usize>, options: &ForecastOptions) -> Result<Forecast> {
    Ok(fit_best(y, period)?.forecast(options.horizon, options.level))
}

/// Fits every [candidate](candidates) and returns the one of lowest in-sample RMSE. The
/// multiplicative search also starts from the additive optimum (seasonal states converted
/// to factors), which spares most of its iterations; it still competes with the grid starts.
///
/// # Errors
/// As [`forecast`].
pub fn fit_best(y: &[f64], period: Option<usize>) -> Result<FittedHoltWinters> {
    ensure_finite(y)?;
    let positive = y.iter().all(|&v| v > 0.0);
    let mut best: Option<FittedHoltWinters> = None;
    let mut warm = None;
    for model in candidates(y.len(), positive, period) {
        let (fit, start) = model.fit_from(y, warm.as_ref())?;
        warm = Some(start);
        if best.as_ref().is_none_or(|b| fit.rmse < b.rmse) {
            best = Some(fit);
        }
    }
    best.ok_or(Error::NotEnoughData {
        needed: 4,
        got: y.len(),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Add,
    Mul,
    None,
}

impl Kind {
    fn n_smoothing(self) -> usize {
        if self == Kind::None { 2 } else { 3 }
    }
}

fn sigmoid(v: f64) -> f64 {
    1.0 / (1.0 + (-v).exp())
}

fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

/// `(alpha, beta, gamma)` from the unconstrained parameters.
fn smoothing(p: &[f64], np: usize) -> (f64, f64, f64) {
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
fn initial_states(kind: Kind, m: usize, y: &[f64]) -> Vec<f64> {
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
struct Work {
    kind: Kind,
    m: usize,
    level: Vec<f64>,
    trend: Vec<f64>,
    season: Vec<f64>,
    g_season: Vec<f64>,
}

impl Work {
    fn new(kind: Kind, m: usize, n: usize) -> Self {
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
    fn forward(&mut self, y: &[f64], p: &[f64], bound: f64) -> f64 {
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
    fn gradient(&mut self, y: &[f64], p: &[f64], sse: f64, grad: &mut [f64]) {
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

    #[test]
    fn linear_trend_is_forecast_exactly() {
        let y: Vec<f64> = (0..30).map(|t| 5.0 + 2.0 * t as f64).collect();
        let fit = HoltWinters::linear().fit(&y).unwrap();
        assert!(fit.sse < 1e-8, "{}", fit.sse);
        let f = fit.forecast(3, 0.95);
        for (h, v) in f.values.iter().enumerate() {
            assert!((v - (5.0 + 2.0 * (30 + h) as f64)).abs() < 1e-3, "{v}");
        }
    }

    #[test]
    fn too_short_is_an_error() {
        assert!(matches!(
            HoltWinters::additive(12).fit(&[1.0; 20]),
            Err(Error::NotEnoughData {
                needed: 24,
                got: 20
            })
        ));
        assert!(forecast(&[1.0, 2.0], None, &ForecastOptions::default()).is_err());
    }
}
