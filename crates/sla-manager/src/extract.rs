//! Extractors whose rejections are [`ApiError`](crate::error::ApiError)s, so that a malformed request gets the same
//! `{"error": ...}` body, naming what is wrong, as every other error: the JSON body, the bearer
//! token and the evaluation time.

use axum::{
    Json,
    extract::{FromRequest, FromRequestParts, Query, Request},
    http::{header::AUTHORIZATION, request::Parts},
};
use chrono::{DateTime, Utc};
use common::params::parse_instant;
use serde::{Deserialize, de::DeserializeOwned};
use utoipa::IntoParams;

use crate::{error::ApiError as Error, state::AppState};

/// A JSON body whose rejections are answered as [`Error`]s: 413 too large, 415 not JSON, 400
/// malformed.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self, Error> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(match rejection.status().as_u16() {
                413 => Error::PayloadTooLarge,
                415 => Error::UnsupportedMediaType,
                _ => Error::BadRequest(rejection.body_text()),
            }),
        }
    }
}

/// The caller presented the configured bearer token (or none is configured).
#[derive(Debug)]
pub struct Authorized;

impl FromRequestParts<AppState> for Authorized {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let Some(token) = &state.api_token else {
            return Ok(Self);
        };
        let presented = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .unwrap_or_default();
        if constant_time_eq(presented.as_bytes(), token.expose().as_bytes()) {
            Ok(Self)
        } else {
            Err(Error::Unauthorized)
        }
    }
}

/// Compares without stopping at the first difference, so the time taken does not tell how
/// much of a guess was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The `at` query parameter.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AtParam {
    /// Evaluation time, RFC 3339 (`2026-11-22T06:00:00Z`) or unix seconds, from
    /// 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z; now when absent. Like Prometheus' `time`
    /// parameter: the answer is the one that would have been given then.
    #[param(schema_with = common::params::instant_schema, example = "2026-11-22T06:00:00Z")]
    pub at: Option<String>,
}

/// The evaluation time of a request.
#[derive(Debug, Clone, Copy)]
pub struct EvaluationTime(pub DateTime<Utc>);

impl<S: Send + Sync> FromRequestParts<S> for EvaluationTime {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Error> {
        let Query(param) = Query::<AtParam>::try_from_uri(&parts.uri)
            .map_err(|rejection| Error::BadRequest(rejection.body_text()))?;
        // Bounded (1970 to 9999): the history reaches back 12 hours and `for` minutes from
        // `at`, and an unbounded `at` once made that arithmetic panic.
        match param.at {
            None => Ok(Self(Utc::now())),
            Some(text) => parse_instant("at", &text)
                .map(Self)
                .map_err(Error::BadRequest),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_in_full() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secre"));
    }
}
