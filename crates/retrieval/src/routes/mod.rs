//! The API routes: one module per resource (and `openapi`, this API's document), the router.

pub mod aggregate;
pub mod anomalies;
pub mod metrics;
pub mod openapi;

use axum::{Router, routing::get};

pub use crate::state::AppState;
pub use openapi::ApiDoc;

/// The API router (without the edge layers, which `startup` adds).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics::list))
        .route("/metrics/{id}/aggregate", get(aggregate::aggregate))
        .route("/metrics/{id}/anomalies", get(anomalies::anomalies))
        .route("/outliers", get(anomalies::outliers))
        .route("/metrics/{id}/{kind}", get(metrics::result))
        .route("/openapi.json", get(openapi::document))
        .with_state(state)
}
