//! What can go wrong in a request, and how each answer looks: one enum, one mapping to HTTP
//! statuses and one to gRPC codes.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
pub use common::rest::ErrorBody;
use common::{admin::error_chain, http::error_response, promql::PromError, store::StoreError};

/// The message of a 502: fixed, whatever the cause.
pub const PROMETHEUS_UNAVAILABLE: &str = "Prometheus not available";

/// The message when no SLA set is stored.
pub const NOT_DEFINED: &str = "SLA set not defined";

/// A request that could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The proposed SLA set is invalid; every problem is listed.
    #[error("the SLA set is invalid")]
    InvalidSlaSet(Vec<String>),
    /// The request itself is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// No SLA set is stored yet, and the request needs one.
    #[error("{NOT_DEFINED}")]
    SlaSetNotDefined,
    /// What was asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Missing or wrong bearer token.
    #[error("missing or wrong bearer token")]
    Unauthorized,
    /// The body is larger than the limit.
    #[error("the request body is too large")]
    PayloadTooLarge,
    /// The body is not JSON.
    #[error("the request body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    /// The database did not answer.
    #[error("database not available")]
    DatabaseUnavailable(#[from] StoreError),
    /// The target Prometheus did not answer, or refused.
    #[error("Prometheus not available")]
    PrometheusUnavailable(#[from] PromError),
}

/// The name the handlers, the manager and the domain use.
pub use self::ApiError as Error;

impl ApiError {
    /// The status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::InvalidSlaSet(_) | Error::BadRequest(_) | Error::SlaSetNotDefined => {
                StatusCode::BAD_REQUEST
            }
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Unauthorized => StatusCode::UNAUTHORIZED,
            Error::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Error::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::DatabaseUnavailable(_) => StatusCode::GATEWAY_TIMEOUT,
            Error::PrometheusUnavailable(_) => StatusCode::BAD_GATEWAY,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        match self {
            Error::InvalidSlaSet(details) => {
                let body = ErrorBody {
                    error: "The SLA set is invalid".to_owned(),
                    details: Some(details),
                };
                (status, Json(body)).into_response()
            }
            Error::DatabaseUnavailable(cause) => {
                tracing::error!(error = %error_chain(&cause), "database not available");
                // The original's text.
                error_response(status, "DB not available")
            }
            Error::PrometheusUnavailable(cause) => {
                // The cause (the URL, Prometheus' own words) goes to the log only: a caller of
                // the API did not configure that URL, and it may hold credentials.
                tracing::error!(error = %error_chain(&cause), "Prometheus not available");
                error_response(status, PROMETHEUS_UNAVAILABLE)
            }
            other => error_response(status, other.to_string()),
        }
    }
}

impl From<ApiError> for tonic::Status {
    fn from(error: ApiError) -> Self {
        match &error {
            Error::DatabaseUnavailable(cause) => {
                tracing::error!(error = %error_chain(cause), "database not available");
                tonic::Status::unavailable("database not available")
            }
            Error::PrometheusUnavailable(cause) => {
                tracing::error!(error = %error_chain(cause), "Prometheus not available");
                tonic::Status::unavailable(PROMETHEUS_UNAVAILABLE)
            }
            Error::Unauthorized => tonic::Status::unauthenticated(error.to_string()),
            Error::NotFound(_) => tonic::Status::not_found(error.to_string()),
            _ => tonic::Status::invalid_argument(error.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::to_bytes;

    async fn answer(error: Error) -> (StatusCode, serde_json::Value) {
        let response = error.into_response();
        let status = response.status();
        let body = to_bytes(response.into_body(), 1 << 16).await.unwrap();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn an_invalid_set_lists_every_problem() {
        let (status, body) = answer(Error::InvalidSlaSet(vec!["a".into(), "b".into()])).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            serde_json::json!({"error": "The SLA set is invalid", "details": ["a", "b"]})
        );
    }

    #[tokio::test]
    async fn statuses_follow_the_design() {
        assert_eq!(
            answer(Error::SlaSetNotDefined).await,
            (
                StatusCode::BAD_REQUEST,
                serde_json::json!({"error": "SLA set not defined"})
            )
        );
        assert_eq!(
            answer(Error::Unauthorized).await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            answer(Error::PayloadTooLarge).await.0,
            StatusCode::PAYLOAD_TOO_LARGE
        );
        assert_eq!(
            answer(Error::UnsupportedMediaType).await.0,
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        );
    }

    #[tokio::test]
    async fn upstream_error_text_is_never_sent() {
        let rejected = || PromError::Rejected {
            status: 400,
            error_type: "bad_data".into(),
            message: "parse error at http://u:hunter2@prometheus:9090".into(),
        };
        let (status, body) = answer(Error::PrometheusUnavailable(rejected())).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY);
        assert_eq!(body, serde_json::json!({"error": PROMETHEUS_UNAVAILABLE}));
        let grpc = tonic::Status::from(Error::PrometheusUnavailable(rejected()));
        assert_eq!(grpc.message(), PROMETHEUS_UNAVAILABLE);
        let database = StoreError::Conversion {
            operation: "find",
            source: "at mongodb://u:hunter2@db".into(),
        };
        let (status, body) = answer(Error::DatabaseUnavailable(database)).await;
        assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
        assert!(!body.to_string().contains("hunter2"), "{body}");
    }
}
