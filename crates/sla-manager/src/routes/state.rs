//! `GET /status`, `GET /violations` and `GET /future-violations`: the SLA set's state now,
//! in the last 12 hours and over the forecast horizon.

use axum::{Json, extract::State};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::{AppState, AtParam, EvaluationTime};
use crate::{
    error::{Error, ErrorBody},
    manager::{MetricFuture, MetricStatus, MetricViolations},
};

/// A per-metric answer and the time it was evaluated at.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Evaluation<T> {
    /// The evaluation time (`at`, or now).
    pub(crate) evaluated_at: DateTime<Utc>,
    /// One entry per SLA metric, in the set's order.
    pub(crate) metrics: Vec<T>,
}

fn evaluation<T>(at: DateTime<Utc>, metrics: Vec<T>) -> Json<Evaluation<T>> {
    Json(Evaluation {
        evaluated_at: at,
        metrics,
    })
}

/// Each SLA's state: `inactive` (in range), `pending` (out for less than `for` minutes),
/// `firing` (out for `for` minutes or more) or `unknown` (no value in Prometheus), with the
/// last three values at a 1-minute step.
#[utoipa::path(get, path = "/status", tag = "state", params(AtParam), responses(
    (status = 200, description = "The state of each SLA", body = Evaluation<MetricStatus>),
    (status = 400, description = "SLA set not defined, or a bad `at`", body = ErrorBody),
    (status = 502, description = "Prometheus not available (the cause is logged, never sent)", body = ErrorBody),
    (status = 504, description = "Database not available", body = ErrorBody),
))]
#[tracing::instrument(name = "status", skip_all, fields(at = %at.0))]
pub(super) async fn status(
    State(state): State<AppState>,
    at: EvaluationTime,
) -> Result<Json<Evaluation<MetricStatus>>, Error> {
    Ok(evaluation(at.0, state.manager.status(at.0).await?))
}

/// Each SLA's violations (maximal runs out of range for at least `for` minutes, at a 1-minute
/// step): how many overlap the last 1, 3 and 12 hours and their minutes inside each, and the
/// list of the last 12 hours.
#[utoipa::path(get, path = "/violations", tag = "state", params(AtParam), responses(
    (status = 200, description = "The violations of each SLA", body = Evaluation<MetricViolations>),
    (status = 400, description = "SLA set not defined, or a bad `at`", body = ErrorBody),
    (status = 502, description = "Prometheus not available (the cause is logged, never sent)", body = ErrorBody),
    (status = 504, description = "Database not available", body = ErrorBody),
))]
#[tracing::instrument(name = "violations", skip_all, fields(at = %at.0))]
pub(super) async fn violations(
    State(state): State<AppState>,
    at: EvaluationTime,
) -> Result<Json<Evaluation<MetricViolations>>, Error> {
    Ok(evaluation(at.0, state.manager.violations(at.0).await?))
}

/// Each SLA's predicted out-of-range runs after the evaluation time, from its stored
/// prediction, labelled from its state now, each with the probability that it happens
/// (see `FutureViolation`); "Prediction not available" without a stored prediction.
#[utoipa::path(get, path = "/future-violations", tag = "state", params(AtParam), responses(
    (status = 200, description = "The predicted violations of each SLA", body = Evaluation<MetricFuture>),
    (status = 400, description = "SLA set not defined, or a bad `at`", body = ErrorBody),
    (status = 502, description = "Prometheus not available (the cause is logged, never sent)", body = ErrorBody),
    (status = 504, description = "Database not available", body = ErrorBody),
))]
#[tracing::instrument(name = "future_violations", skip_all, fields(at = %at.0))]
pub(super) async fn future_violations(
    State(state): State<AppState>,
    at: EvaluationTime,
) -> Result<Json<Evaluation<MetricFuture>>, Error> {
    Ok(evaluation(
        at.0,
        state.manager.future_violations(at.0).await?,
    ))
}
