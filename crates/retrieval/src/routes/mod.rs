//! The API routes, one module per resource, over the state every handler shares.

pub mod aggregate;
pub mod metrics;
pub mod openapi;

use std::sync::Arc;

use axum::{Router, routing::get};
use common::promql::PromClient;

use crate::{instruments::Instruments, repository::ResultsRepository};

/// What the handlers share: built once in `startup`, shared behind an `Arc` (one pointer
/// copied per request, not every client).
#[derive(Debug, Clone)]
pub struct AppState {
    /// The stored results.
    pub repository: ResultsRepository,
    /// The target Prometheus, for aggregations.
    pub prometheus: PromClient,
    /// The service's metrics.
    pub instruments: Instruments,
}

/// The API router (without the edge layers, which `startup` adds).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics::list))
        .route("/metrics/{id}/aggregate", get(aggregate::aggregate))
        .route("/metrics/{id}/{kind}", get(metrics::result))
        .route("/openapi.json", get(openapi::document))
        .with_state(Arc::new(state))
}
