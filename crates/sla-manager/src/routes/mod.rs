//! The REST API: one module per resource (and `openapi`, this API's document), the router.

/// A `GET` that answers, for the set at the evaluation time (`?at=`, now by default), the
/// manager's method of the same name as a JSON list, with [`ReadErrors`]. The state and
/// objective routes differ only in their name, path, tag and item type, so their handler and
/// its annotations are written once, here; each module gives the doc comment (the operation's
/// description in the OpenAPI document). The span is named after the handler.
macro_rules! read_route {
    (
        $(#[doc = $doc:tt])*
        $name:ident: GET $path:tt, tag $tag:tt, 200 $description:tt, list of $item:ident
    ) => {
        $(#[doc = $doc])*
        #[utoipa::path(get, path = $path, tag = $tag, params(AtParam), responses(
            (status = 200, description = $description, body = Vec<$item>),
            ReadErrors,
        ))]
        #[tracing::instrument(skip_all, fields(at = %at.0))]
        pub(super) async fn $name(
            State(state): State<AppState>,
            at: EvaluationTime,
        ) -> Result<Json<Vec<$item>>, Error> {
            Ok(Json(state.manager.$name(at.0).await?))
        }
    };
}

mod openapi;
mod slaset;
mod slo;
mod state;

use axum::{Router, routing::get};
use utoipa::IntoResponses;

use crate::error::ErrorBody;

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

/// The errors of a read at an evaluation time ([`read_route`]).
#[derive(IntoResponses)]
#[allow(dead_code)] // only its OpenAPI description is used
enum ReadErrors {
    #[response(status = 400, description = "SLA set not defined, or a bad `at`")]
    BadRequest(ErrorBody),
    #[response(
        status = 502,
        description = "Prometheus not available (the cause is logged, never sent)"
    )]
    BadGateway(ErrorBody),
    #[response(status = 504, description = "DB not available")]
    GatewayTimeout(ErrorBody),
}
