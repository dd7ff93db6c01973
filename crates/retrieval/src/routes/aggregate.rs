//! `GET /metrics/{id}/aggregate`: the windowed aggregation of one series, answered by the
//! target Prometheus.

use std::{sync::Arc, time::Instant};

use axum::{Json, extract::State};
use chrono::Utc;
use common::SeriesId;

use super::AppState;
use crate::{
    domain::{AggregateParams, Aggregation, Bucket},
    error::ApiError,
    extract::{ApiPath, ApiQuery},
    openapi::ErrorBody,
};

/// `op` over `from..to` (default: the last hour) in consecutive windows of `window` seconds,
/// from `from` on; each window holds the samples with `start < t <= end`.
#[utoipa::path(
    get,
    path = "/metrics/{id}/aggregate",
    tag = "aggregation",
    params(
        ("id" = String, Path, description = "The series id: 16 hexadecimal digits", example = "782517df67d9b98d"),
        AggregateParams,
    ),
    responses(
        (status = 200, description = "One entry per window, in time order", body = [Bucket]),
        (status = 400, description = "Malformed id, op, window, from or to (each problem named)", body = ErrorBody),
        (status = 404, description = "No such series", body = ErrorBody),
        (status = 502, description = "The target Prometheus is not available", body = ErrorBody),
        (status = 504, description = "DB not available", body = ErrorBody),
    )
)]
#[tracing::instrument(name = "aggregate", skip_all, fields(series_id = %id, op = params.op.as_deref(), window = params.window.as_deref()))]
pub async fn aggregate(
    State(state): State<Arc<AppState>>,
    ApiPath(id): ApiPath<SeriesId>,
    ApiQuery(params): ApiQuery<AggregateParams>,
) -> Result<Json<Vec<Bucket>>, ApiError> {
    let aggregation = Aggregation::parse(&params, Utc::now()).map_err(ApiError::BadRequest)?;
    let document = state
        .repository
        .find(id)
        .await?
        .ok_or(ApiError::UnknownSeries(id))?;
    let (first_end, last_end) = aggregation.evaluation_span();
    let query = aggregation.promql(&document.name);
    let started = Instant::now();
    let answer = state
        .prometheus
        .range(&query, first_end, last_end, aggregation.window.duration())
        .await;
    let outcome = if answer.is_ok() { "ok" } else { "error" };
    state
        .instruments
        .prometheus_seconds
        .with_label_values(&[outcome])
        .observe(started.elapsed().as_secs_f64());
    let series = answer?;
    let points = series
        .first()
        .map(|s| s.points.as_slice())
        .unwrap_or_default();
    Ok(Json(aggregation.buckets(points)))
}
