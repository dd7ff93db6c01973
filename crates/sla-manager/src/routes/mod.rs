//! The REST API: one module per resource (and `openapi`, this API's document), the router.

mod openapi;
mod slaset;
mod slo;
mod state;

use axum::{Router, routing::get};

pub use crate::{
    extract::{ApiJson, AtParam, Authorized, EvaluationTime},
    state::AppState,
};
pub use openapi::ApiDoc;

/// The API routes (without the edge layers, which `startup` adds).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/slaset", get(slaset::get_slaset).put(slaset::put_slaset))
        .route("/status", get(state::status))
        .route("/violations", get(state::violations))
        .route("/future-violations", get(state::future_violations))
        .route("/slo", get(slo::slo))
        .route("/openapi.json", get(openapi::openapi_json))
        .with_state(state)
}
