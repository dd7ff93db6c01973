//! `Path` and `Query` extractors whose rejections are [`ApiError`]s, so a malformed request gets
//! the same `{"error": ...}` body, naming what is wrong, as every other error.

use axum::{
    extract::{
        FromRequestParts, Path, Query,
        path::ErrorKind,
        rejection::{PathRejection, QueryRejection},
    },
    http::request::Parts,
};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The path parameters, parsed into `T` (e.g. a `SeriesId`).
#[derive(Debug, Clone, Copy)]
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Self(value)),
            Err(PathRejection::FailedToDeserializePathParams(error)) => {
                Err(ApiError::bad_request(match error.kind() {
                    ErrorKind::Message(message) => message.clone(),
                    ErrorKind::ParseErrorAtKey {
                        key,
                        value,
                        expected_type,
                    } => {
                        format!("path parameter `{key}` must be a {expected_type}, got {value:?}")
                    }
                    ErrorKind::InvalidUtf8InPathParam { key } => {
                        format!("path parameter `{key}` is not valid UTF-8")
                    }
                    _ => error.body_text(),
                }))
            }
            Err(other) => Err(ApiError::Internal(Box::new(other))),
        }
    }
}

/// The query string, deserialised into `T`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| Self(value))
            .map_err(|rejection: QueryRejection| {
                let text = rejection.body_text();
                ApiError::bad_request(
                    text.strip_prefix("Failed to deserialize query string: ")
                        .unwrap_or(&text)
                        .to_owned(),
                )
            })
    }
}
