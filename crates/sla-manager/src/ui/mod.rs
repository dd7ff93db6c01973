//! The web UI, served on the REST port: `/` (every SLA), `/sla/{id}` (one SLA's chart) and
//! `/series/{id}` (a series' statistics, read from the retrieval service). Pages are
//! server-rendered HTML with inline SVG charts: no script, no build step, nothing fetched from
//! the internet. Each page takes `?at=` as the REST API does, and reloads itself.

mod data;
mod export;
mod html;
mod pages;
mod retrieval;
mod svg;

use std::time::Duration;

use axum::{
    Router,
    extract::{Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use clap::Args;
use common::{SeriesId, admin::error_chain, config::parse_duration};
use url::Url;

pub use export::ForecastExport;
pub use retrieval::{RetrievalClient, RetrievalError};

use crate::{error::Error, manager::Manager, routes::EvaluationTime};

/// The UI's options.
#[derive(Debug, Clone, Args)]
pub struct UiArgs {
    /// Base URL of the retrieval service, which the series pages read.
    #[arg(long, env = "RETRIEVAL_URL", default_value = "http://localhost:5000")]
    pub retrieval_url: Url,
    /// Timeout of one request to it.
    #[arg(long, env = "RETRIEVAL_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub retrieval_timeout: Duration,
}

/// What the pages read.
#[derive(Debug, Clone)]
pub struct UiState {
    manager: Manager,
    retrieval: RetrievalClient,
}

impl UiState {
    /// The UI over this manager (which reads Prometheus and the database), reading retrieval
    /// as `args` say.
    pub fn new(manager: Manager, args: &UiArgs) -> Result<Self, reqwest::Error> {
        Ok(Self {
            manager,
            retrieval: RetrievalClient::new(args.retrieval_url.clone(), args.retrieval_timeout)?,
        })
    }
}

/// The UI's routes.
pub fn router(state: UiState) -> Router {
    Router::new()
        .route("/", get(overview))
        .route("/sla/{id}", get(sla_page))
        .route("/series/{id}", get(series_page))
        .with_state(state)
}

/// Why a page could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum UiError {
    /// The id in the path is not a series id.
    #[error("{0}")]
    BadId(#[from] common::series::InvalidSeriesId),
    /// The SLA set holds no such series.
    #[error("no SLA for series {0}")]
    NoSuchSla(String),
    /// The SLA logic's dependencies failed.
    #[error(transparent)]
    Manager(#[from] Error),
    /// Retrieval failed.
    #[error(transparent)]
    Retrieval(#[from] RetrievalError),
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let (status, message) = match &self {
            UiError::BadId(e) => (StatusCode::BAD_REQUEST, e.to_string()),
            UiError::NoSuchSla(_) => (StatusCode::NOT_FOUND, self.to_string()),
            UiError::Manager(Error::BadRequest(m)) => (StatusCode::BAD_REQUEST, m.clone()),
            UiError::Manager(Error::DatabaseUnavailable(_)) => {
                (StatusCode::GATEWAY_TIMEOUT, "Database not available".into())
            }
            UiError::Manager(_) => (StatusCode::BAD_GATEWAY, "Prometheus not available".into()),
            UiError::Retrieval(_) => (
                StatusCode::BAD_GATEWAY,
                "The retrieval service is not available".into(),
            ),
        };
        if status.is_server_error() {
            tracing::warn!(error = %error_chain(&self), "a page failed");
        }
        html_response(status, pages::error(&message))
    }
}

fn html_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

// A bad `at` is answered by an HTML page too, hence `Result<EvaluationTime, _>`.
#[tracing::instrument(name = "ui.overview", skip_all)]
async fn overview(
    State(state): State<UiState>,
    at: Result<EvaluationTime, Error>,
) -> Result<Response, UiError> {
    let at = at?;
    let slas = data::overview(&state.manager, at.0).await?;
    Ok(html_response(
        StatusCode::OK,
        pages::overview(&slas, at.0.timestamp()),
    ))
}

#[tracing::instrument(name = "ui.sla", skip_all, fields(id = %id))]
async fn sla_page(
    State(state): State<UiState>,
    Path(id): Path<String>,
    at: Result<EvaluationTime, Error>,
) -> Result<Response, UiError> {
    let at = at?;
    let id: SeriesId = id.parse()?;
    let detail = data::detail(&state.manager, &id.to_string(), at.0)
        .await?
        .ok_or_else(|| UiError::NoSuchSla(id.to_string()))?;
    Ok(html_response(StatusCode::OK, pages::sla(&detail)))
}

#[tracing::instrument(name = "ui.series", skip_all, fields(id = %id))]
async fn series_page(
    State(state): State<UiState>,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let id: SeriesId = id.parse()?;
    let results = state.retrieval.series(id).await?;
    let labels = data::labels_of(&state.manager, &id.to_string()).await;
    Ok(html_response(
        StatusCode::OK,
        pages::series(&id.to_string(), labels.as_ref(), &results),
    ))
}
