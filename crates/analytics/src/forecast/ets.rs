//! augurs' models: AutoETS (its search of error, trend and damping), the same ETS form refitted
//! at later origins, and MSTL (several seasonal periods at once) with an ETS model of what the
//! seasonal components leave.

use std::borrow::Cow;

use augurs::ets::AutoETS;
use augurs::ets::model::{
    ErrorComponent, Model as EtsModel, ModelType, SeasonalComponent, TrendComponent, Unfit,
};
use augurs::mstl::{FittedMSTLModel, FittedTrendModel, MSTLModel, TrendModel};
use augurs::{Fit, Predict};

use super::Forecast;
use crate::error::{Error, Result};

/// ETS fits use at most this many of the most recent values. Their cost grows faster than
/// linearly with the length (the Nelder-Mead search of augurs takes more iterations on longer
/// series: 9 ms on 360 values, 60-190 ms on 2,880), while a level and trend smoothed with the
/// usual `alpha` forget the distant past anyway; the MSTL decomposition itself sees everything.
pub(super) const ETS_WINDOW: usize = 360;

/// Fewest values an ETS fit takes: augurs needs more than `parameters + 4` (4 with a trend).
pub(super) const ETS_MIN: usize = 10;

fn tail(y: &[f64]) -> &[f64] {
    &y[y.len().saturating_sub(ETS_WINDOW)..]
}

fn model_error(e: impl std::fmt::Display) -> Error {
    Error::Model(e.to_string())
}

/// An ETS form: error, trend and seasonal components and whether the trend is damped.
#[derive(Debug, Clone, Copy)]
pub(super) struct Form {
    kind: ModelType,
    damped: bool,
}

impl Form {
    /// ETS(A,Ad,N): additive errors, damped additive trend, no season; the model of MSTL's
    /// deseasonalised series (a damped trend does not run away over long horizons).
    pub(super) fn damped_trend() -> Self {
        Self {
            kind: ModelType {
                error: ErrorComponent::Additive,
                trend: TrendComponent::Additive,
                season: SeasonalComponent::None,
            },
            damped: true,
        }
    }
}

/// A fitted ETS model of augurs.
#[derive(Debug)]
pub(super) struct Ets {
    model: EtsModel,
    /// The form found, to refit without searching again.
    pub(super) form: Form,
}

impl Ets {
    /// augurs' AutoETS over the non-seasonal forms (`ZZN`: additive or multiplicative errors,
    /// no, additive or damped trend), the lowest AICc kept, on the recent values.
    pub(super) fn search(y: &[f64]) -> Result<Self> {
        let fit = AutoETS::non_seasonal().fit(tail(y)).map_err(model_error)?;
        let model = fit.model().clone();
        let form = Form {
            kind: model.model_type(),
            damped: model.damped(),
        };
        Ok(Self { model, form })
    }

    /// The ETS model of `form` fitted to the recent values.
    pub(super) fn refit(y: &[f64], form: Form) -> Result<Self> {
        let model = Unfit::new(form.kind)
            .damped(form.damped)
            .fit(tail(y))
            .map_err(model_error)?;
        Ok(Self { model, form })
    }

    /// In-sample one-step RMSE (over the values fitted).
    pub(super) fn rmse(&self) -> f64 {
        self.model.mse().sqrt()
    }

    /// `horizon` steps with `level` intervals.
    pub(super) fn forecast(
        &self,
        horizon: usize,
        level: f64,
    ) -> Result<(Vec<f64>, Vec<f64>, Vec<f64>)> {
        let f = self.model.predict(horizon, level).map_err(model_error)?;
        split(f)
    }
}

fn split(f: augurs::Forecast) -> Result<(Vec<f64>, Vec<f64>, Vec<f64>)> {
    let intervals = f
        .intervals
        .ok_or_else(|| Error::Model("no prediction intervals".to_owned()))?;
    Ok((f.point, intervals.lower, intervals.upper))
}

/// MSTL's model of the deseasonalised series: an ETS of fixed form on its recent values.
#[derive(Debug)]
struct RecentEts(Form);

/// [`RecentEts`] fitted.
#[derive(Debug)]
struct FittedRecentEts(EtsModel);

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

impl TrendModel for RecentEts {
    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed("ETS")
    }

    fn fit(
        &self,
        y: &[f64],
    ) -> std::result::Result<Box<dyn FittedTrendModel + Sync + Send>, BoxError> {
        let model = Unfit::new(self.0.kind).damped(self.0.damped).fit(tail(y))?;
        Ok(Box::new(FittedRecentEts(model)))
    }
}

impl FittedTrendModel for FittedRecentEts {
    fn predict_inplace(
        &self,
        horizon: usize,
        level: Option<f64>,
        forecast: &mut augurs::Forecast,
    ) -> std::result::Result<(), BoxError> {
        Ok(self.0.predict_inplace(horizon, level, forecast)?)
    }

    fn predict_in_sample_inplace(
        &self,
        level: Option<f64>,
        forecast: &mut augurs::Forecast,
    ) -> std::result::Result<(), BoxError> {
        Ok(self.0.predict_in_sample_inplace(level, forecast)?)
    }

    fn training_data_size(&self) -> Option<usize> {
        Some(self.0.training_data_size())
    }
}

/// A fitted MSTL model.
#[derive(Debug)]
pub(super) struct Mstl {
    fit: FittedMSTLModel,
    rmse: f64,
}

impl Mstl {
    /// The periods MSTL can decompose in `n` values: at least 2 and two full cycles.
    pub(super) fn usable_periods(periods: &[usize], n: usize) -> Vec<usize> {
        periods
            .iter()
            .copied()
            .filter(|&p| p >= 2 && 2 * p <= n)
            .collect()
    }

    /// MSTL on all of `y` with `periods` (each [usable](Self::usable_periods)), and an
    /// ETS(A,Ad,N) of the trend plus remainder.
    pub(super) fn fit(y: &[f64], periods: Vec<usize>) -> Result<Self> {
        let fit = MSTLModel::new(periods, RecentEts(Form::damped_trend()))
            .fit(y)
            .map_err(model_error)?;
        // The in-sample one-step error of the whole model is that of the ETS (the seasonal
        // components are added to both sides). augurs adds the seasonal components to the
        // ETS's in-sample values from the first value on, but the ETS saw only the recent
        // ones: the components are taken back off and added again at the right times.
        let inner = fit.predict_in_sample(None).map_err(model_error)?;
        let seasonal = fit.fit().seasonal();
        let offset = y.len() - inner.point.len();
        let sse: f64 = inner
            .point
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let shift: f64 = seasonal
                    .iter()
                    .map(|s| f64::from(s[offset + i]) - f64::from(s[i]))
                    .sum();
                (y[offset + i] - (p + shift)).powi(2)
            })
            .sum();
        let rmse = (sse / inner.point.len().max(1) as f64).sqrt();
        Ok(Self { fit, rmse })
    }

    /// In-sample one-step RMSE of the recent values.
    pub(super) fn rmse(&self) -> f64 {
        self.rmse
    }

    /// `horizon` steps with `level` intervals.
    pub(super) fn forecast(
        &self,
        horizon: usize,
        level: f64,
    ) -> Result<(Vec<f64>, Vec<f64>, Vec<f64>)> {
        split(self.fit.predict(horizon, level).map_err(model_error)?)
    }
}

/// A forecast of an augurs model as this crate's [`Forecast`].
pub(super) fn as_forecast(
    model: super::Model,
    rmse: f64,
    (values, lower, upper): (Vec<f64>, Vec<f64>, Vec<f64>),
) -> Forecast {
    Forecast {
        model,
        rmse,
        values,
        lower,
        upper,
    }
}
