//! `GET /slaset` and `PUT /slaset`, in JSON or as OpenSLO v1 YAML ([`crate::openslo`]).

use axum::{
    Json,
    body::Bytes,
    extract::{FromRequest, Query, Request, State},
    http::{StatusCode, header::CONTENT_TYPE},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::{ApiJson, AppState, Authorized};
use crate::{
    error::{Error, ErrorBody, NOT_DEFINED},
    manager::{SlaInput, SlaSetItem},
    openslo,
    repository::Replaced,
};

/// The media type of OpenSLO documents.
const YAML: &str = "application/yaml";

/// How `GET /slaset` answers.
#[derive(Debug, Deserialize, IntoParams)]
pub(super) struct FormatParam {
    /// `json` (the default) or `openslo`: the entries with an objective as OpenSLO v1 `SLO`
    /// documents (`application/yaml`).
    format: Option<String>,
}

/// A proposed set: JSON, or OpenSLO YAML (`application/yaml`, `application/x-yaml`,
/// `text/yaml`) read into the same JSON.
#[derive(Debug)]
pub(super) struct SetBody(Value);

impl<S: Send + Sync> FromRequest<S> for SetBody {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self, Error> {
        let yaml = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                matches!(
                    v.trim(),
                    "application/yaml" | "application/x-yaml" | "text/yaml"
                )
            });
        if !yaml {
            let ApiJson(value) = ApiJson::<Value>::from_request(request, state).await?;
            return Ok(Self(value));
        }
        let bytes =
            Bytes::from_request(request, state)
                .await
                .map_err(|rejection| match rejection.status().as_u16() {
                    413 => Error::PayloadTooLarge,
                    _ => Error::BadRequest(rejection.body_text()),
                })?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| Error::BadRequest("The OpenSLO body is not UTF-8".to_owned()))?;
        openslo::import(text)
            .map(Self)
            .map_err(Error::InvalidSlaSet)
    }
}

/// The answer to a successful `PUT /slaset`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SetReply {
    /// "SLA set created" or "SLA set updated".
    pub(crate) message: String,
    /// The stored set, with each metric's id.
    pub(crate) slaset: Vec<SlaSetItem>,
}

/// The stored SLA set, in the order it was given.
#[utoipa::path(get, path = "/slaset", tag = "slaset", params(FormatParam), responses(
    (status = 200, description = "The SLA set (as OpenSLO YAML with `format=openslo`)", body = Vec<SlaSetItem>),
    (status = 400, description = "An unknown format", body = ErrorBody),
    (status = 404, description = "SLA set not defined", body = ErrorBody),
    (status = 504, description = "DB not available", body = ErrorBody),
))]
#[tracing::instrument(name = "get_slaset", skip_all)]
pub(super) async fn get_slaset(
    State(state): State<AppState>,
    Query(format): Query<FormatParam>,
) -> Result<Response, Error> {
    let openslo = match format.format.as_deref() {
        None | Some("json") => false,
        Some("openslo") => true,
        Some(other) => {
            return Err(Error::BadRequest(format!(
                "format must be json or openslo, got {other:?}"
            )));
        }
    };
    match state.manager.set().await {
        Ok(set) if openslo => Ok(([(CONTENT_TYPE, YAML)], openslo::export(&set)).into_response()),
        Ok(set) => Ok(Json(set.iter().map(SlaSetItem::from).collect::<Vec<_>>()).into_response()),
        // Here nothing was asked of the set: its absence is a 404, not a bad request.
        Err(Error::SlaSetNotDefined) => Err(Error::NotFound(NOT_DEFINED.to_owned())),
        Err(error) => Err(error),
    }
}

/// Replaces the SLA set. The body is checked in full and every problem listed in one 400. It
/// is JSON, or OpenSLO v1 `SLO` documents with `Content-Type: application/yaml` (an
/// unsupported field is a 400 naming it).
#[utoipa::path(put, path = "/slaset", tag = "slaset",
    request_body(content(
        (Vec<SlaInput> = "application/json"),
        (String = "application/yaml"),
    )),
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
    SetBody(body): SetBody,
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
