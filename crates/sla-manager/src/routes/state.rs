//! `GET /status`, `GET /violations` and `GET /future-violations`: the SLA set's state now,
//! in the last 12 hours and over the forecast horizon.

use axum::{Json, extract::State};

use super::{AppState, AtParam, EvaluationTime};
use crate::{
    error::{Error, ErrorBody},
    manager::{MetricFuture, MetricStatus, MetricViolations},
};

/// Each SLA's state, a list as in the original: `inactive` (in range), `pending` (out for less
/// than `for` minutes), `firing` (out for `for` minutes or more) or `unknown` (no value in
/// Prometheus), with the last three values at a 1-minute step (`last-values`) and the
/// original's descriptions.
#[utoipa::path(get, path = "/status", tag = "state", params(AtParam), responses(
    (status = 200, description = "The state of each SLA, in the set's order", body = Vec<MetricStatus>),
    (status = 400, description = "SLA set not defined, or a bad `at`", body = ErrorBody),
    (status = 502, description = "Prometheus not available (the cause is logged, never sent)", body = ErrorBody),
    (status = 504, description = "DB not available", body = ErrorBody),
))]
#[tracing::instrument(name = "status", skip_all, fields(at = %at.0))]
pub(super) async fn status(
    State(state): State<AppState>,
    at: EvaluationTime,
) -> Result<Json<Vec<MetricStatus>>, Error> {
    Ok(Json(state.manager.status(at.0).await?))
}

/// Each SLA's violations (maximal runs out of range for at least `for` minutes, at a 1-minute
/// step), a list as in the original: per window (`1h`, `3h`, `12h`) how many overlap it (`n`)
/// and their minutes inside it (`time`), and the violations of the last 12 hours
/// (`violation_list`, durations in minutes).
#[utoipa::path(get, path = "/violations", tag = "state", params(AtParam), responses(
    (status = 200, description = "The violations of each SLA, in the set's order", body = Vec<MetricViolations>),
    (status = 400, description = "SLA set not defined, or a bad `at`", body = ErrorBody),
    (status = 502, description = "Prometheus not available (the cause is logged, never sent)", body = ErrorBody),
    (status = 504, description = "DB not available", body = ErrorBody),
))]
#[tracing::instrument(name = "violations", skip_all, fields(at = %at.0))]
pub(super) async fn violations(
    State(state): State<AppState>,
    at: EvaluationTime,
) -> Result<Json<Vec<MetricViolations>>, Error> {
    Ok(Json(state.manager.violations(at.0).await?))
}

/// Each SLA's predicted out-of-range runs after the evaluation time, from its stored
/// prediction, labelled from its state now, a list as in the original: `violations` holds the
/// runs and, as its last element, `{avg_value, max_value, min_value}` of the forecast (also
/// under `summary`), with `prediction_rmse`; or `error: "Prediction not available"` without a
/// usable stored prediction. A run that continues the one going on now starts when that one
/// began, and its `duration` counts from there.
#[utoipa::path(get, path = "/future-violations", tag = "state", params(AtParam), responses(
    (status = 200, description = "The predicted violations of each SLA, in the set's order", body = Vec<MetricFuture>),
    (status = 400, description = "SLA set not defined, or a bad `at`", body = ErrorBody),
    (status = 502, description = "Prometheus not available (the cause is logged, never sent)", body = ErrorBody),
    (status = 504, description = "DB not available", body = ErrorBody),
))]
#[tracing::instrument(name = "future_violations", skip_all, fields(at = %at.0))]
pub(super) async fn future_violations(
    State(state): State<AppState>,
    at: EvaluationTime,
) -> Result<Json<Vec<MetricFuture>>, Error> {
    Ok(Json(state.manager.future_violations(at.0).await?))
}
