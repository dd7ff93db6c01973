//! `GET /metrics/{id}/anomalies` (the changepoints and outlier status of one series) and
//! `GET /outliers?name=` (the outlying series of one metric name), both read from the metadata
//! the etl's slow loop stores.

use axum::{Json, extract::State};
use chrono::{DateTime, Utc};
use common::{
    Labels, SeriesId,
    record::{Anomalies, Kind, OutlierStatus},
    rest::ErrorBody,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use crate::{
    domain::OutliersParams,
    error::ApiError,
    extract::{ApiPath, ApiQuery},
};

/// `{"anomalies": ..., "computed_at": ...}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AnomaliesBody {
    /// The changepoints of the series and its outlier status.
    pub anomalies: Anomalies,
    /// When the etl computed them (with the rest of the metadata).
    pub computed_at: Option<DateTime<Utc>>,
}

/// `{"name": ..., "outliers": [...]}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OutliersBody {
    /// The metric name asked for.
    pub name: String,
    /// Its outlying series, sorted by id; empty when none is (or none was compared).
    pub outliers: Vec<OutlierEntry>,
}

/// One outlying series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OutlierEntry {
    /// The series id: 16 hexadecimal digits.
    #[schema(value_type = String, example = "782517df67d9b98d")]
    pub id: SeriesId,
    /// The series' labels, `__name__` included.
    #[schema(value_type = BTreeMap<String, String>)]
    pub labels: Labels,
    /// How and since when it is outlying.
    pub outlier: OutlierStatus,
    /// When the etl judged it.
    pub computed_at: Option<DateTime<Utc>>,
}

/// The changepoints and outlier status of one series.
#[utoipa::path(
    get,
    path = "/metrics/{id}/anomalies",
    tag = "results",
    params(("id" = String, Path, description = "The series id: 16 hexadecimal digits", example = "782517df67d9b98d")),
    responses(
        (status = 200, description = "The series' changepoints over the metadata lookback and its outlier status", body = AnomaliesBody),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 404, description = "No such series, or no anomalies computed yet for it", body = ErrorBody),
        (status = 504, description = "DB not available", body = ErrorBody),
    )
)]
#[tracing::instrument(name = "get_anomalies", skip_all, fields(series_id = %id))]
pub async fn anomalies(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<SeriesId>,
) -> Result<Json<AnomaliesBody>, ApiError> {
    let document = state
        .repository
        .find(id)
        .await?
        .ok_or(ApiError::UnknownSeries(id))?;
    let computed_at = document.computed_at(Kind::Metadata);
    let metadata = document.metadata.ok_or(ApiError::NothingComputedYet {
        id,
        kind: Kind::Metadata,
    })?;
    let anomalies = metadata.anomalies.ok_or(ApiError::NoAnomaliesYet(id))?;
    Ok(Json(AnomaliesBody {
        anomalies,
        computed_at,
    }))
}

/// The series of one metric name that behave unlike the others.
#[utoipa::path(
    get,
    path = "/outliers",
    tag = "results",
    params(OutliersParams),
    responses(
        (status = 200, description = "The outlying series of the name, as the last slow loop judged them", body = OutliersBody),
        (status = 400, description = "`name` missing, empty or not a metric name, or an unknown parameter", body = ErrorBody),
        (status = 504, description = "DB not available", body = ErrorBody),
    )
)]
#[tracing::instrument(name = "get_outliers", skip_all, fields(metric_name = params.name.as_deref()))]
pub async fn outliers(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<OutliersParams>,
) -> Result<Json<OutliersBody>, ApiError> {
    let name = params.metric_name().map_err(ApiError::bad_request)?;
    let documents = state.repository.outliers(&name).await?;
    let outliers = documents
        .into_iter()
        .filter_map(|document| {
            let computed_at = document.computed_at(Kind::Metadata);
            let outlier = document.metadata?.anomalies?.outlier?;
            Some(OutlierEntry {
                id: document.id,
                labels: document.name,
                outlier,
                computed_at,
            })
        })
        .collect();
    Ok(Json(OutliersBody {
        name: name.as_str().to_owned(),
        outliers,
    }))
}
