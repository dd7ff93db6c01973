//! `GET /metrics` (the series) and `GET /metrics/{id}/{values|metadata|prediction}` (a stored result).

use axum::{
    Json,
    body::{Body, Bytes},
    extract::State,
    http::header::CONTENT_TYPE,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use common::{
    Labels, SeriesId,
    record::{Kind, Metadata, Prediction, Windows},
    store::{MetricDocument, SeriesSummary, StoreError},
};
use futures::{Stream, StreamExt, TryStreamExt, stream};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use common::rest::ErrorBody;

use super::AppState;
use crate::{
    domain::ListParams,
    error::ApiError,
    extract::{ApiPath, ApiQuery},
    repository::ReadError,
};

/// Series serialised per chunk of the streamed listing.
const LISTING_CHUNK: usize = 256;

/// A series in the listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SeriesEntry {
    /// The series id: 16 hexadecimal digits.
    #[schema(value_type = String, example = "782517df67d9b98d")]
    pub id: SeriesId,
    /// The series' labels, `__name__` included.
    #[schema(value_type = BTreeMap<String, String>, example = json!({"__name__": "node_load1", "instance": "localhost:9100", "job": "node"}))]
    pub name: Labels,
}

impl From<SeriesSummary> for SeriesEntry {
    fn from(summary: SeriesSummary) -> Self {
        Self {
            id: summary.id,
            name: summary.name,
        }
    }
}

/// Every stored series, sorted by id.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "results",
    params(ListParams),
    responses(
        (status = 200, description = "Every series (sent as it is read, so any number fits)", body = [SeriesEntry]),
        (status = 400, description = "`name` is not a metric name, or an unknown parameter", body = ErrorBody),
        (status = 504, description = "DB not available", body = ErrorBody),
    )
)]
#[tracing::instrument(name = "list_series", skip_all, fields(metric_name = params.name.as_deref()))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Response, ApiError> {
    let name = params.metric_name().map_err(ApiError::bad_request)?;
    let series = state.repository.list(name.as_ref()).await?;
    let body = Body::from_stream(json_array(series).inspect_err(|error| {
        tracing::error!(error = %common::admin::error_chain(error), "listing aborted");
    }));
    Ok(([(CONTENT_TYPE, "application/json")], body).into_response())
}

/// The series as the chunks of one JSON array. An error ends the stream, and with it the
/// response, which the client then sees cut short rather than as a valid but partial array.
fn json_array(
    series: impl Stream<Item = Result<SeriesSummary, ReadError>> + Send + 'static,
) -> impl Stream<Item = Result<Bytes, ReadError>> + Send + 'static {
    let mut first = true;
    let items = series.ready_chunks(LISTING_CHUNK).map(move |chunk| {
        let mut buffer = Vec::with_capacity(chunk.len() * 128);
        for summary in chunk {
            if !std::mem::take(&mut first) {
                buffer.push(b',');
            }
            serde_json::to_writer(&mut buffer, &SeriesEntry::from(summary?)).map_err(|source| {
                StoreError::Conversion {
                    operation: "list",
                    source: Box::new(source),
                }
            })?;
        }
        Ok(Bytes::from(buffer))
    });
    stream::once(async { Ok(Bytes::from_static(b"[")) })
        .chain(items)
        .chain(stream::once(async { Ok(Bytes::from_static(b"]")) }))
}

/// `{"values": ..., "computed_at": ...}`
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ValuesBody {
    /// Aggregates over the last 1, 3 and 12 hours.
    pub values: Windows,
    /// When the etl computed them.
    pub computed_at: Option<DateTime<Utc>>,
}

/// `{"metadata": ..., "computed_at": ...}`
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct MetadataBody {
    /// Statistics of the series' history.
    pub metadata: Metadata,
    /// When the etl computed them.
    pub computed_at: Option<DateTime<Utc>>,
}

/// `{"prediction": ..., "computed_at": ...}`
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PredictionBody {
    /// The forecast.
    pub prediction: Prediction,
    /// When the etl computed it.
    pub computed_at: Option<DateTime<Utc>>,
}

/// A stored result, under the name of its kind.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ResultBody {
    /// For `values`.
    Values(ValuesBody),
    /// For `metadata`.
    Metadata(MetadataBody),
    /// For `prediction`.
    Prediction(PredictionBody),
}

impl ResultBody {
    /// The result of `kind` in `document`, `None` when nothing of that kind is stored yet.
    pub fn of(document: MetricDocument, kind: Kind) -> Option<Self> {
        let computed_at = document.computed_at(kind);
        match kind {
            Kind::Values => document.values.map(|values| {
                Self::Values(ValuesBody {
                    values,
                    computed_at,
                })
            }),
            Kind::Metadata => document.metadata.map(|metadata| {
                Self::Metadata(MetadataBody {
                    metadata,
                    computed_at,
                })
            }),
            Kind::Prediction => document.prediction.map(|prediction| {
                Self::Prediction(PredictionBody {
                    prediction,
                    computed_at,
                })
            }),
        }
    }
}

/// The latest stored result of one kind for one series.
#[utoipa::path(
    get,
    path = "/metrics/{id}/{kind}",
    tag = "results",
    params(
        ("id" = String, Path, description = "The series id: 16 hexadecimal digits", example = "782517df67d9b98d"),
        ("kind" = Kind, Path, description = "Which result: `values`, `metadata` or `prediction`"),
    ),
    responses(
        (status = 200, description = "The result, under the kind's name, with when it was computed", body = ResultBody),
        (status = 400, description = "Malformed id or unknown kind", body = ErrorBody),
        (status = 404, description = "No such series, or nothing of this kind computed yet for it", body = ErrorBody),
        (status = 504, description = "DB not available", body = ErrorBody),
    )
)]
#[tracing::instrument(name = "get_result", skip_all, fields(series_id = %id, kind = %kind))]
pub async fn result(
    State(state): State<AppState>,
    ApiPath((id, kind)): ApiPath<(SeriesId, Kind)>,
) -> Result<Json<ResultBody>, ApiError> {
    let document = state
        .repository
        .find(id)
        .await?
        .ok_or(ApiError::UnknownSeries(id))?;
    ResultBody::of(document, kind)
        .map(Json)
        .ok_or(ApiError::NothingComputedYet { id, kind })
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::record::Window;

    fn summary(shard: u32) -> SeriesSummary {
        let name: Labels = [
            ("__name__".to_owned(), "x".to_owned()),
            ("shard".to_owned(), shard.to_string()),
        ]
        .into();
        SeriesSummary {
            id: SeriesId::of(&name),
            name,
        }
    }

    async fn collect(items: Vec<Result<SeriesSummary, ReadError>>) -> Result<Vec<u8>, ReadError> {
        let chunks: Vec<Bytes> = json_array(stream::iter(items)).try_collect().await?;
        Ok(chunks.concat())
    }

    #[tokio::test]
    async fn listings_of_any_length_are_one_json_array() {
        for n in [0, 1, 2, LISTING_CHUNK, LISTING_CHUNK * 3 + 7] {
            let series: Vec<_> = (0..n as u32).map(summary).collect();
            let bytes = collect(series.iter().cloned().map(Ok).collect())
                .await
                .unwrap();
            let parsed: Vec<SeriesEntry> = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(
                parsed,
                series
                    .into_iter()
                    .map(SeriesEntry::from)
                    .collect::<Vec<_>>()
            );
        }
    }

    #[tokio::test]
    async fn a_failure_while_streaming_ends_the_listing() {
        let timeout = ReadError::TimedOut {
            operation: "list",
            after: std::time::Duration::from_secs(1),
        };
        assert!(collect(vec![Ok(summary(0)), Err(timeout)]).await.is_err());
    }

    #[test]
    fn results_are_under_their_kind_and_absent_kinds_are_none() {
        let window = Window {
            min: 1.0,
            max: 2.0,
            avg: 1.5,
            std_dev: 0.5,
            count: 2,
        };
        let name = summary(1).name;
        let at = bson::DateTime::from_millis(1_795_327_200_000);
        let document = MetricDocument {
            id: SeriesId::of(&name),
            name,
            values: Some(Windows {
                h1: Some(window),
                h3: None,
                h12: None,
            }),
            values_at: Some(at),
            metadata: None,
            metadata_at: None,
            prediction: None,
            prediction_at: None,
        };
        let body =
            serde_json::to_value(ResultBody::of(document.clone(), Kind::Values).unwrap()).unwrap();
        assert_eq!(body["values"]["1h"]["avg"], 1.5);
        assert_eq!(body["computed_at"], "2026-11-22T06:00:00Z");
        assert_eq!(ResultBody::of(document.clone(), Kind::Metadata), None);
        assert_eq!(ResultBody::of(document, Kind::Prediction), None);
    }
}
