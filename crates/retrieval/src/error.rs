//! The one error type of the API, mapped to a status and a `{"error": ...}` body in one place.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use common::{
    SeriesId, admin::error_chain, http::error_response, promql::PromError, record::Kind,
    store::StoreError,
};

use crate::repository::ReadError;

/// Why a request was not answered with what it asked for.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed: each entry names a parameter and what is wrong with it.
    #[error("{}", .0.join("; "))]
    BadRequest(Vec<String>),
    /// No series has this id.
    #[error("No series with id {0}")]
    UnknownSeries(SeriesId),
    /// The series exists but no result of this kind has been stored for it yet.
    #[error("Nothing computed yet: series {id} has no {kind}")]
    NothingComputedYet {
        /// The series.
        id: SeriesId,
        /// The kind asked for.
        kind: Kind,
    },
    /// The series exists but its stored metadata predates the etl's anomaly detection.
    #[error("Nothing computed yet: series {0} has no anomalies")]
    NoAnomaliesYet(SeriesId),
    /// The database did not answer in time, or refused the connection.
    // The original's text (ORIGINAL_API.md).
    #[error("DB not available")]
    DatabaseUnavailable(#[source] ReadError),
    /// The target Prometheus could not be reached or failed the query.
    #[error("The target Prometheus is not available")]
    PrometheusUnavailable(#[source] PromError),
    /// A defect or a document we cannot read: nothing the client can change.
    #[error("Internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    /// A malformed request with one problem.
    pub fn bad_request(problem: impl Into<String>) -> Self {
        Self::BadRequest(vec![problem.into()])
    }

    /// The status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::UnknownSeries(_) | Self::NothingComputedYet { .. } | Self::NoAnomaliesYet(_) => {
                StatusCode::NOT_FOUND
            }
            Self::DatabaseUnavailable(_) => StatusCode::GATEWAY_TIMEOUT,
            Self::PrometheusUnavailable(_) => StatusCode::BAD_GATEWAY,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<ReadError> for ApiError {
    fn from(error: ReadError) -> Self {
        match error {
            ReadError::Store(StoreError::Conversion { .. } | StoreError::WritesRejected { .. }) => {
                Self::Internal(Box::new(error))
            }
            ReadError::TimedOut { .. }
            | ReadError::Store(StoreError::Database { .. } | StoreError::WriteConcern { .. }) => {
                Self::DatabaseUnavailable(error)
            }
        }
    }
}

impl From<PromError> for ApiError {
    fn from(error: PromError) -> Self {
        Self::PrometheusUnavailable(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            // The cause stays in the log (inside the request's span); the client gets the message.
            tracing::error!(status = status.as_u16(), error = %error_chain(&self), "request failed");
        }
        error_response(status, self.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn causes_of_server_errors_are_not_sent() {
        let cause = PromError::Unexpected("secret internals at 10.0.0.7".to_owned());
        let error = ApiError::from(cause);
        assert_eq!(error.status(), StatusCode::BAD_GATEWAY);
        assert!(!error.to_string().contains("10.0.0.7"));
        let timeout = ApiError::from(ReadError::TimedOut {
            operation: "find",
            after: Duration::from_secs(1),
        });
        assert_eq!(timeout.status(), StatusCode::GATEWAY_TIMEOUT);
    }

    #[test]
    fn not_found_messages_tell_unknown_from_not_yet_computed() {
        let id: SeriesId = "0123456789abcdef".parse().unwrap();
        let unknown = ApiError::UnknownSeries(id).to_string();
        let pending = ApiError::NothingComputedYet {
            id,
            kind: Kind::Prediction,
        }
        .to_string();
        assert_ne!(unknown, pending);
        assert!(pending.contains("Nothing computed yet") && pending.contains("prediction"));
    }
}
