//! `GET /slo`: each objective's compliance, error budget, burn rates and burn-rate alerts.

use axum::{Json, extract::State};

use super::{AppState, AtParam, EvaluationTime};
use crate::{
    error::{Error, ErrorBody},
    manager::SloItem,
};

/// Each SLA of the set that has an `objective`, in the set's order: a timeslice SLO over the
/// minutes the series is in range. `compliance` is good / measured minutes over the
/// objective's rolling window; `budget` is `(1 - target) x` the window's minutes, consumed by
/// bad minutes (in minutes and as shares); `burn_rates` over 5m, 30m, 1h, 2h, 6h, 1d and 3d
/// are (bad / measured minutes) / `(1 - target)`; `alerts` are the SRE workbook's
/// multi-window, multi-burn-rate alerts (page 14.4x over 1h and 5m, 6x over 6h and 30m;
/// ticket 3x over 1d and 2h, 1x over 3d and 6h); `time_to_exhaustion_seconds` is when the
/// remaining budget is spent at the 1h burn rate (each burn rate also gives its own). An empty
/// list when no SLA has an objective.
#[utoipa::path(get, path = "/slo", tag = "slo", params(AtParam), responses(
    (status = 200, description = "The figures of each objective, in the set's order", body = Vec<SloItem>),
    (status = 400, description = "SLA set not defined, or a bad `at`", body = ErrorBody),
    (status = 502, description = "Prometheus not available (the cause is logged, never sent)", body = ErrorBody),
    (status = 504, description = "DB not available", body = ErrorBody),
))]
#[tracing::instrument(name = "slo", skip_all, fields(at = %at.0))]
pub(super) async fn slo(
    State(state): State<AppState>,
    at: EvaluationTime,
) -> Result<Json<Vec<SloItem>>, Error> {
    Ok(Json(state.manager.slo(at.0).await?))
}
