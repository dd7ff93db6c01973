//! Model selection by rolling-origin held-out error: each candidate is fitted on the history
//! up to each of the last few origins and forecasts the horizon after it; the candidate whose
//! forecasts miss least is refitted on the whole history and forecasts the future.

use serde::Serialize;

use super::ets::{ETS_MIN, Ets, Form, Mstl, as_forecast};
use super::holt_winters::Start;
use super::{Forecast, ForecastOptions, HoltWinters, Model, candidates, fit_best};
use crate::error::{Error, Result, ensure_finite};

/// Origins of the rolling evaluation.
pub const ORIGINS: usize = 3;

/// The held-out steps after each origin are the forecast horizon, at most this fraction of the
/// history (`n / 8`), so that the first origin keeps 5/8 of it or more.
const MAX_HOLDOUT_SHARE: usize = 8;

/// One candidate and how it did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Score {
    /// The candidate.
    pub model: Model,
    /// RMSE of its forecasts of the held-out values after each origin.
    pub holdout_rmse: f64,
}

/// The forecast of the model kept, and every candidate's score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Selection {
    /// The forecast of the model with the lowest held-out RMSE, refitted on the whole history.
    pub forecast: Forecast,
    /// Every candidate that could be evaluated, in the order tried.
    pub candidates: Vec<Score>,
}

/// A candidate before fitting; it carries what its earlier fits learnt (a warm start for
/// Holt-Winters, the form found by AutoETS) so that later fits cost less.
#[derive(Debug)]
enum Candidate {
    HoltWinters {
        spec: HoltWinters,
        warm: Option<Start>,
    },
    Mstl {
        periods: Vec<usize>,
    },
    AutoEts {
        form: Option<Form>,
    },
}

impl Candidate {
    fn model(&self) -> Model {
        match self {
            Self::HoltWinters { spec, .. } => spec.model(),
            Self::Mstl { .. } => Model::MstlEts,
            Self::AutoEts { .. } => Model::AutoEts,
        }
    }

    /// Fits `y` and forecasts `horizon` steps with `level` intervals.
    fn fit_forecast(&mut self, y: &[f64], horizon: usize, level: f64) -> Result<Forecast> {
        match self {
            Self::HoltWinters { spec, warm } => {
                let (fit, start) = spec.fit_from(y, warm.as_ref())?;
                *warm = Some(start);
                Ok(fit.forecast(horizon, level))
            }
            Self::Mstl { periods } => {
                let mstl = Mstl::fit(y, periods.clone())?;
                Ok(as_forecast(
                    Model::MstlEts,
                    mstl.rmse(),
                    mstl.forecast(horizon, level)?,
                ))
            }
            Self::AutoEts { form } => {
                let ets = match form {
                    Some(f) => Ets::refit(y, *f)?,
                    None => Ets::search(y)?,
                };
                *form = Some(ets.form);
                Ok(as_forecast(
                    Model::AutoEts,
                    ets.rmse(),
                    ets.forecast(horizon, level)?,
                ))
            }
        }
    }
}

/// The candidates for a history of `n` values at the first origin: the original's
/// Holt-Winters [candidates], MSTL when a period has two full cycles, AutoETS.
fn all_candidates(n: usize, positive: bool, periods: &[usize]) -> Vec<Candidate> {
    let mut all: Vec<Candidate> = candidates(n, positive, periods.first().copied())
        .into_iter()
        .map(|spec| Candidate::HoltWinters { spec, warm: None })
        .collect();
    let usable = Mstl::usable_periods(periods, n);
    if !usable.is_empty() {
        all.push(Candidate::Mstl { periods: usable });
    }
    if n >= ETS_MIN {
        all.push(Candidate::AutoEts { form: None });
    }
    all
}

/// The held-out steps after each origin for a history of `n` values and a forecast of
/// `horizon` steps.
pub fn holdout_steps(n: usize, horizon: usize) -> usize {
    horizon.min(n / MAX_HOLDOUT_SHARE).max(1)
}

/// The [`ORIGINS`] origins of a history of `n` values, `steps` held-out values after each:
/// spread over the last cycle of the longest period (so that the held-out values sample
/// its phases: a weekly series is not judged on one weekend alone), or `steps` apart when
/// that is longer or the history too short for it (the span stays within half of it).
fn origins(n: usize, steps: usize, longest_period: usize) -> Option<Vec<usize>> {
    let spread = (longest_period / ORIGINS).max(steps);
    let spacing = if (ORIGINS - 1) * spread + steps <= n / 2 {
        spread
    } else {
        steps
    };
    let first = n.checked_sub((ORIGINS - 1) * spacing + steps)?;
    (first >= 4).then(|| (0..ORIGINS).map(|k| first + k * spacing).collect())
}

/// RMSE of `candidate`'s forecasts of the `steps` values after each origin, fitted on the
/// values before it; `None` when a fit fails.
fn holdout_rmse(
    candidate: &mut Candidate,
    y: &[f64],
    origins: &[usize],
    steps: usize,
    level: f64,
) -> Option<f64> {
    let mut sse = 0.0;
    for &origin in origins {
        let f = candidate.fit_forecast(&y[..origin], steps, level).ok()?;
        sse += f
            .values
            .iter()
            .zip(&y[origin..origin + steps])
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>();
    }
    let rmse = (sse / (origins.len() * steps) as f64).sqrt();
    rmse.is_finite().then_some(rmse)
}

/// Evaluates every candidate by its held-out error (`holdout_rmse`) and forecasts with the
/// best, refitted on all of `y`. `periods` are the seasonal periods in samples, strongest
/// first: Holt-Winters takes the first, MSTL all of them. A history too short for the
/// rolling evaluation, or on which no candidate can be evaluated, falls back to the
/// original's choice by in-sample RMSE among the Holt-Winters candidates (reported without
/// scores).
///
/// # Errors
/// [`Error::NotEnoughData`] for fewer than 4 values, [`Error::NonFinite`].
pub fn select(y: &[f64], periods: &[usize], options: &ForecastOptions) -> Result<Selection> {
    ensure_finite(y)?;
    let fallback = || -> Result<Selection> {
        let fit = fit_best(y, periods.first().copied())?;
        Ok(Selection {
            forecast: fit.forecast(options.horizon, options.level),
            candidates: Vec::new(),
        })
    };
    let n = y.len();
    let steps = holdout_steps(n, options.horizon);
    let longest = periods.iter().copied().max().unwrap_or(0);
    let Some(origins) = origins(n, steps, longest) else {
        return fallback();
    };
    let first_origin = origins[0];
    let positive = y.iter().all(|&v| v > 0.0);
    let mut scored: Vec<(Candidate, f64)> = all_candidates(first_origin, positive, periods)
        .into_iter()
        .filter_map(|mut c| {
            let rmse = holdout_rmse(&mut c, y, &origins, steps, options.level)?;
            Some((c, rmse))
        })
        .collect();
    let scores: Vec<Score> = scored
        .iter()
        .map(|(c, rmse)| Score {
            model: c.model(),
            holdout_rmse: *rmse,
        })
        .collect();
    // Lowest held-out RMSE; on a tie the earlier candidate (the original's models first).
    let best = scores
        .iter()
        .enumerate()
        .min_by(|a, b| {
            a.1.holdout_rmse
                .total_cmp(&b.1.holdout_rmse)
                .then(a.0.cmp(&b.0))
        })
        .map(|(i, _)| i);
    let Some(best) = best else {
        return fallback();
    };
    let (candidate, _) = &mut scored[best];
    match candidate.fit_forecast(y, options.horizon, options.level) {
        Ok(forecast) => Ok(Selection {
            forecast,
            candidates: scores,
        }),
        Err(Error::NotEnoughData { .. } | Error::Model(_) | Error::Singular) => fallback(),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(seed: &mut u64) -> f64 {
        *seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (*seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    }

    #[test]
    fn every_candidate_is_scored_and_the_best_is_kept() {
        let mut seed = 7;
        let y: Vec<f64> = (0..600)
            .map(|t| {
                let day = 2.0 * std::f64::consts::PI * t as f64 / 60.0;
                20.0 + 3.0 * day.sin() + noise(&mut seed)
            })
            .collect();
        let s = select(&y, &[60], &ForecastOptions::default()).unwrap();
        let models: Vec<Model> = s.candidates.iter().map(|c| c.model).collect();
        assert_eq!(
            models,
            [
                Model::HoltWintersAdditive,
                Model::HoltWintersMultiplicative,
                Model::MstlEts,
                Model::AutoEts
            ]
        );
        let best = s
            .candidates
            .iter()
            .min_by(|a, b| a.holdout_rmse.total_cmp(&b.holdout_rmse))
            .unwrap();
        assert_eq!(s.forecast.model, best.model);
        assert_eq!(s.forecast.values.len(), 10);
        // A seasonal series: the non-seasonal AutoETS misses the cycle.
        assert_ne!(best.model, Model::AutoEts);
    }

    #[test]
    fn a_short_history_falls_back_to_the_in_sample_choice() {
        let y: Vec<f64> = (0..6).map(|t| t as f64 * 0.5 + 1.0).collect();
        let s = select(&y, &[], &ForecastOptions::default()).unwrap();
        assert!(s.candidates.is_empty());
        assert_eq!(s.forecast.model, Model::HoltLinear);
    }
}
