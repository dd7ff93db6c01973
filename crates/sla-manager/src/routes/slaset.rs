//! `GET /slaset` and `PUT /slaset`.

use axum::{Json, extract::State, http::StatusCode};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::{ApiJson, AppState, Authorized};
use crate::{
    error::{Error, ErrorBody, NOT_DEFINED},
    manager::{SlaInput, SlaSetItem},
    repository::Replaced,
};

/// The answer to a successful `PUT /slaset`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SetReply {
    /// "SLA set created" or "SLA set updated".
    pub(crate) message: String,
    /// The stored set, with each metric's id.
    pub(crate) slaset: Vec<SlaSetItem>,
}

/// The stored SLA set, in the order it was given.
#[utoipa::path(get, path = "/slaset", tag = "slaset", responses(
    (status = 200, description = "The SLA set", body = Vec<SlaSetItem>),
    (status = 404, description = "SLA set not defined", body = ErrorBody),
    (status = 504, description = "DB not available", body = ErrorBody),
))]
#[tracing::instrument(name = "get_slaset", skip_all)]
pub(super) async fn get_slaset(
    State(state): State<AppState>,
) -> Result<Json<Vec<SlaSetItem>>, Error> {
    match state.manager.set().await {
        Ok(set) => Ok(Json(set.iter().map(SlaSetItem::from).collect())),
        // Here nothing was asked of the set: its absence is a 404, not a bad request.
        Err(Error::SlaSetNotDefined) => Err(Error::NotFound(NOT_DEFINED.to_owned())),
        Err(error) => Err(error),
    }
}

/// Replaces the SLA set. The body is checked in full and every problem listed in one 400.
#[utoipa::path(put, path = "/slaset", tag = "slaset",
    request_body(content = Vec<SlaInput>, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "SLA set created", body = SetReply),
        (status = 200, description = "SLA set updated", body = SetReply),
        (status = 400, description = "Invalid SLA set: `details` lists every problem", body = ErrorBody),
        (status = 401, description = "Missing or wrong bearer token (when SLA_API_TOKEN is set)", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Body is not JSON", body = ErrorBody),
        (status = 502, description = "Prometheus not available (the cause is logged, never sent)", body = ErrorBody),
        (status = 504, description = "DB not available", body = ErrorBody),
    ))]
#[tracing::instrument(name = "put_slaset", skip_all)]
pub(super) async fn put_slaset(
    _: Authorized,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Value>,
) -> Result<(StatusCode, Json<SetReply>), Error> {
    let (replaced, slaset) = state.manager.replace_set(&body).await?;
    let (status, message) = match replaced {
        Replaced::Created => (StatusCode::CREATED, "SLA set created"),
        Replaced::Updated => (StatusCode::OK, "SLA set updated"),
    };
    Ok((
        status,
        Json(SetReply {
            message: message.to_owned(),
            slaset,
        }),
    ))
}
