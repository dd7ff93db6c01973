//! `GET /openapi.json`: the OpenAPI document, generated from the handlers' annotations and the
//! types they return.

use axum::Json;
use common::rest::{EdgeResponses, ErrorBody};
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

/// The OpenAPI document of the REST API.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "SLA manager",
        description = "The SLA set, its state, its violations and its predicted violations. Errors are \
            `{\"error\": \"...\"}`; an invalid SLA set adds `details`, the list of every problem."
    ),
    paths(
        super::slaset::get_slaset,
        super::slaset::put_slaset,
        super::state::status,
        super::state::violations,
        super::state::future_violations,
        super::slo::slo,
        openapi_json
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth, &EdgeResponses)
)]
pub struct ApiDoc;

#[derive(Debug)]
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "meta", responses((status = 200, description = "The OpenAPI document")))]
pub(super) async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
