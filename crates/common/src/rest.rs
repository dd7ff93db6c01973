//! What both REST services answer beyond the edge's layers, defined once: the body of every
//! error answer, and (feature `openapi`) the edge's own 503 and 504 added to every operation of
//! an OpenAPI document.

use serde::Serialize;

/// The body of every error answer: `{"error": "..."}`, with `details` when a request body has
/// several problems (an invalid SLA set lists each one).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorBody {
    /// What went wrong (for a 400, each malformed parameter and why).
    #[cfg_attr(feature = "openapi", schema(example = "DB not available"))]
    pub error: String,
    /// Every problem of an invalid request body, one sentence each.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Vec<String>>,
}

impl ErrorBody {
    /// A body with `message` and no details.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            error: message.into(),
            details: None,
        }
    }
}

#[cfg(feature = "openapi")]
pub use edge::EdgeResponses;

#[cfg(feature = "openapi")]
mod edge {
    use utoipa::{
        Modify,
        openapi::{
            self, ContentBuilder, ResponseBuilder,
            path::{HttpMethod, Operation},
        },
    };

    /// Adds the answers of the HTTP edge (`crate::http::with_edge`) to every operation of an
    /// OpenAPI document that does not describe them itself: 503 when shedding load and 504 when
    /// the request takes too long, each with an [`super::ErrorBody`] (which the document must
    /// list among its schemas).
    #[derive(Debug)]
    pub struct EdgeResponses;

    impl Modify for EdgeResponses {
        fn modify(&self, document: &mut openapi::OpenApi) {
            let error = |description: &str| {
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(openapi::Ref::from_schema_name("ErrorBody")))
                            .build(),
                    )
                    .build()
            };
            let edge = [
                (
                    "503",
                    error(
                        "The server is busy, try again later (more requests in flight than allowed)",
                    ),
                ),
                (
                    "504",
                    error("The request took too long, or the database is not available"),
                ),
            ];
            for item in document.paths.paths.values_mut() {
                for method in [
                    HttpMethod::Get,
                    HttpMethod::Put,
                    HttpMethod::Post,
                    HttpMethod::Delete,
                ] {
                    if let Some(operation) = operation_mut(item, method) {
                        for (status, response) in &edge {
                            operation
                                .responses
                                .responses
                                .entry((*status).to_owned())
                                .or_insert_with(|| response.clone().into());
                        }
                    }
                }
            }
        }
    }

    fn operation_mut(item: &mut openapi::PathItem, method: HttpMethod) -> Option<&mut Operation> {
        match method {
            HttpMethod::Get => item.get.as_mut(),
            HttpMethod::Put => item.put.as_mut(),
            HttpMethod::Post => item.post.as_mut(),
            HttpMethod::Delete => item.delete.as_mut(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_are_sent_only_when_there_are_some() {
        let plain = serde_json::to_value(ErrorBody::new("DB not available")).unwrap();
        assert_eq!(plain, serde_json::json!({"error": "DB not available"}));
        let listed = ErrorBody {
            details: Some(vec!["a".to_owned()]),
            ..ErrorBody::new("The SLA set is invalid")
        };
        assert_eq!(
            serde_json::to_value(listed).unwrap(),
            serde_json::json!({"error": "The SLA set is invalid", "details": ["a"]})
        );
    }
}
