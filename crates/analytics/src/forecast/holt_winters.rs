//! The Holt-Winters specification and its fit: checks, scaling, start search, L-BFGS, and
//! the fitted states read back in the units of the series.

use super::Model;
use super::fitted::FittedHoltWinters;
use super::recursion::{Kind, Work, initial_states, logit, smoothing};
use crate::error::{Error, Result, ensure_finite};
use crate::optim::{self, Settings};

/// An unfitted Holt-Winters model: the variant and its seasonal period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HoltWinters {
    model: Model,
    period: usize,
}

/// L-BFGS iteration cap.
const MAX_ITER: usize = 400;
/// L-BFGS stops after three iterations that each lower the SSE by less than this fraction.
const F_REL_TOL: f64 = 1e-9;

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

    /// The recursion's seasonal form.
    fn kind(&self) -> Kind {
        match self.model {
            Model::HoltWintersAdditive => Kind::Add,
            Model::HoltWintersMultiplicative => Kind::Mul,
            // The constructors make only Holt-Winters variants.
            Model::HoltLinear | Model::MstlEts | Model::AutoEts => Kind::None,
        }
    }

    /// [`fit`](Self::fit), with `warm` (where the search of another seasonal model on the same
    /// series ended) as one more candidate start; also returns where this search ended.
    pub(super) fn fit_from(
        &self,
        y: &[f64],
        warm: Option<&Start>,
    ) -> Result<(FittedHoltWinters, Start)> {
        self.check(y)?;
        let kind = self.kind();
        let scaling = Scaling::of(kind, y)?;
        let z: Vec<f64> = y.iter().map(|&v| scaling.scaled(v)).collect();
        let mut work = Work::new(kind, self.period, z.len());
        let warm = warm.map(|w| w.params(kind, &scaling, z.len()));
        let start = best_start(&mut work, kind, self.period, &z, warm)?;
        let (p, sse_z) = optimise(&mut work, &z, start)?;
        // One more pass at the optimum leaves its states in `work`.
        let _ = work.forward(&z, &p, f64::INFINITY);
        let fit = self.fitted(&work, &p, &scaling, sse_z, y.len());
        Ok((fit, Start::of(&work, kind, &p, &scaling)))
    }

    /// Finite values, a valid period, and enough of them for the initial states.
    fn check(&self, y: &[f64]) -> Result<()> {
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
        Ok(())
    }

    /// The fitted model, read back from the states of the last pass in the series' units.
    fn fitted(
        &self,
        work: &Work,
        p: &[f64],
        scaling: &Scaling,
        sse_z: f64,
        n: usize,
    ) -> FittedHoltWinters {
        let kind = self.kind();
        let np = kind.n_smoothing();
        let (alpha, beta, gamma) = smoothing(p, np);
        let season_scale = if kind == Kind::Mul {
            1.0
        } else {
            scaling.scale
        };
        let seasonal = if kind == Kind::None {
            Vec::new()
        } else {
            work.season[n..n + self.period]
                .iter()
                .map(|s| s * season_scale)
                .collect()
        };
        let sse = sse_z * scaling.scale * scaling.scale;
        FittedHoltWinters {
            model: self.model,
            period: (kind != Kind::None).then_some(self.period),
            alpha,
            beta,
            gamma: (np == 3).then_some(gamma),
            sse,
            rmse: (sse / n as f64).sqrt(),
            nobs: n,
            level: scaling.unscaled(work.level[n]),
            trend: work.trend[n] * scaling.scale,
            seasonal,
        }
    }
}

/// The affine map `z = (y - shift) / scale` under which the search runs, so that its
/// tolerances and grid do not depend on the series' units. A multiplicative model is only
/// scaled (its seasonal factors are unit-free and need a positive series).
#[derive(Debug, Clone, Copy)]
pub(super) struct Scaling {
    shift: f64,
    scale: f64,
}

impl Scaling {
    fn of(kind: Kind, y: &[f64]) -> Result<Self> {
        let n = y.len() as f64;
        let mean = y.iter().sum::<f64>() / n;
        if kind == Kind::Mul {
            if y.iter().any(|&v| v <= 0.0) {
                return Err(Error::InvalidOption(
                    "multiplicative seasonality needs a strictly positive series",
                ));
            }
            return Ok(Self {
                shift: 0.0,
                scale: mean,
            });
        }
        let sd = (y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
        Ok(Self {
            shift: mean,
            scale: if sd > 0.0 { sd } else { 1.0 },
        })
    }

    fn scaled(&self, v: f64) -> f64 {
        (v - self.shift) / self.scale
    }

    fn unscaled(&self, z: f64) -> f64 {
        z * self.scale + self.shift
    }
}

/// The start of the search: the best of a coarse grid over the smoothing parameters at the
/// simple initial states, and of the warm start. A pass stops as soon as its running SSE
/// exceeds the best so far, which spares most of the grid.
fn best_start(
    work: &mut Work,
    kind: Kind,
    m: usize,
    z: &[f64],
    warm: Option<Vec<f64>>,
) -> Result<Vec<f64>> {
    let x0 = initial_states(kind, m, z);
    let mut start: Option<(f64, Vec<f64>)> = None;
    for p in warm.into_iter().chain(grid(kind, &x0)) {
        let bound = start.as_ref().map_or(f64::INFINITY, |s| s.0);
        let f = work.forward(z, &p, bound);
        if f < bound {
            start = Some((f, p));
        }
    }
    start.map(|s| s.1).ok_or(Error::Singular)
}

/// The grid points: alpha, beta/alpha and (seasonal) gamma/(1 - alpha) as logits, followed
/// by the initial states `x0`.
fn grid(kind: Kind, x0: &[f64]) -> impl Iterator<Item = Vec<f64>> + '_ {
    const GRID_A: [f64; 5] = [0.01, 0.1, 0.3, 0.6, 0.95];
    const GRID_U: [f64; 3] = [0.01, 0.1, 0.5];
    let np = kind.n_smoothing();
    let grid_g: &'static [f64] = if np == 3 { &[0.01, 0.1, 0.5] } else { &[0.0] };
    GRID_A.into_iter().flat_map(move |a| {
        GRID_U.into_iter().flat_map(move |b| {
            grid_g.iter().map(move |&g| {
                let mut p = vec![logit(a), logit(b)];
                if np == 3 {
                    p.push(logit(g));
                }
                p.extend_from_slice(x0);
                p
            })
        })
    })
}

/// L-BFGS from `p` with the adjoint gradient; returns the optimum and its SSE (in `z` units).
fn optimise(work: &mut Work, z: &[f64], mut p: Vec<f64>) -> Result<(Vec<f64>, f64)> {
    let settings = Settings {
        max_iter: MAX_ITER,
        f_rel_tol: F_REL_TOL,
        g_tol: 1e-9,
    };
    let sse_z = optim::minimize(
        |p, g| {
            let f = work.forward(z, p, f64::INFINITY);
            work.gradient(z, p, f, g);
            f
        },
        &mut p,
        settings,
    );
    if !sse_z.is_finite() {
        return Err(Error::Singular);
    }
    Ok((p, sse_z))
}

/// Where a search ended, in the units of the series: the unconstrained smoothing
/// parameters and the initial states, with the seasonal states as offsets from the level
/// so that either seasonal model can start from them.
#[derive(Debug)]
pub(super) struct Start {
    logits: Vec<f64>,
    level: f64,
    trend: f64,
    offsets: Vec<f64>,
}

impl Start {
    /// The start at the optimum `p`, whose states the last pass left in `work`.
    fn of(work: &Work, kind: Kind, p: &[f64], scaling: &Scaling) -> Self {
        let np = kind.n_smoothing();
        let level0 = scaling.unscaled(work.level[0]);
        Self {
            logits: p[..np].to_vec(),
            level: level0,
            trend: work.trend[0] * scaling.scale,
            offsets: work.season[..work.m]
                .iter()
                .map(|s| match kind {
                    Kind::Mul => level0 * (s - 1.0),
                    _ => s * scaling.scale,
                })
                .collect(),
        }
    }

    /// The parameter vector of [`Work::forward`] for `kind` under `scaling`, `n` long
    /// (a multiplicative seasonal state is `1 + offset / level`).
    fn params(&self, kind: Kind, scaling: &Scaling, n: usize) -> Vec<f64> {
        let mut p = self.logits.clone();
        p.push(scaling.scaled(self.level));
        p.push(self.trend / scaling.scale * n as f64);
        p.extend(self.offsets.iter().map(|o| match kind {
            Kind::Mul => 1.0 + o / self.level,
            _ => o / scaling.scale,
        }));
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
