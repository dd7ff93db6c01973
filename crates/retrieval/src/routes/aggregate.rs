//! `GET /metrics/{id}/aggregate`: the windowed aggregation of one series, answered by the
//! target Prometheus.

use std::time::Instant;

use axum::{Json, extract::State};
use chrono::Utc;
use common::{Labels, SeriesId, promql::RangeSeries, series::METRIC_NAME_LABEL};

use common::rest::ErrorBody;

use super::AppState;
use crate::{
    domain::{AggregateParams, Aggregation, Bucket},
    error::ApiError,
    extract::{ApiPath, ApiQuery},
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
    State(state): State<AppState>,
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
    Ok(Json(
        aggregation.buckets(points_of(&document.name, &series)),
    ))
}

/// The points of the stored series among those its selector matched (it also matches every
/// series with more labels): the one whose labels are exactly the series' (`*_over_time`
/// drops `__name__`), else the only one; several and none exact answer no points rather than
/// another series' or a merge of them.
fn points_of<'a>(labels: &Labels, series: &'a [RangeSeries]) -> &'a [(f64, f64)] {
    let mut wanted = labels.clone();
    wanted.remove(METRIC_NAME_LABEL);
    let exact = series.iter().find(|s| {
        let mut got = s.labels.clone();
        got.remove(METRIC_NAME_LABEL);
        got == wanted
    });
    match (exact, series) {
        (Some(exact), _) => &exact.points,
        (None, [only]) => &only.points,
        (None, []) => &[],
        (None, _) => {
            tracing::warn!(
                matched = series.len(),
                "the selector matched several series and none exactly; no points"
            );
            &[]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::testing::one_point_series as series;

    #[test]
    fn the_exact_series_is_aggregated_not_the_first_match() {
        let stored = common::testing::labels(&[("__name__", "up"), ("job", "a")]);
        let wider = series(&[("job", "a"), ("instance", "x")], 2.0);
        let exact = series(&[("job", "a")], 1.0);
        assert_eq!(points_of(&stored, &[wider.clone(), exact]), [(0.0, 1.0)]);
        assert_eq!(
            points_of(&stored, std::slice::from_ref(&wider)),
            [(0.0, 2.0)]
        );
        let other = series(&[("job", "a"), ("instance", "y")], 3.0);
        assert!(points_of(&stored, &[wider, other]).is_empty());
    }
}
