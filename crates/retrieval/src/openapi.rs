//! The OpenAPI document, generated from the handlers' annotations and the types they return.

use common::record::{
    CandidateScore, Decomposition, Kind, Metadata, PredictedPoint, Prediction, SeasonalPeriod,
    Seasonality, Stationarity, Window, Windows,
};
use serde::Serialize;
use utoipa::{
    Modify, OpenApi, ToSchema,
    openapi::{
        self, ContentBuilder, ResponseBuilder,
        path::{HttpMethod, Operation},
    },
};

use crate::{domain, routes};

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong (for a 400, each malformed parameter and why).
    #[schema(example = "`window` must be between 1 and 2678400 seconds, got 0")]
    pub error: String,
}

/// The OpenAPI document of `retrieval`.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "retrieval",
        description = "The stored results of the SLA monitor (windowed values, statistics, forecasts) and ad-hoc aggregations of one series answered by the target Prometheus."
    ),
    paths(routes::metrics::list, routes::metrics::result, routes::aggregate::aggregate, routes::openapi::document),
    components(schemas(
        ErrorBody,
        routes::metrics::SeriesEntry,
        routes::metrics::ResultBody,
        routes::metrics::ValuesBody,
        routes::metrics::MetadataBody,
        routes::metrics::PredictionBody,
        domain::Bucket,
        domain::AggregateOp,
        Kind,
        Windows,
        Window,
        Metadata,
        Stationarity,
        Seasonality,
        Decomposition,
        Prediction,
        PredictedPoint,
        CandidateScore,
        SeasonalPeriod,
    )),
    modifiers(&EdgeResponses),
    tags(
        (name = "results", description = "What the etl computed and storage stored"),
        (name = "aggregation", description = "Ad-hoc aggregations answered by the target Prometheus"),
        (name = "meta", description = "This document"),
    )
)]
pub struct ApiDoc;

/// Adds the answers of the HTTP edge (`common::http::with_edge`) to every operation: 503 when
/// shedding load and 504 when the request takes too long.
#[derive(Debug)]
struct EdgeResponses;

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
                error("The server is busy, try again later (more requests in flight than allowed)"),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_documented_with_its_errors() {
        let document = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let paths = document["paths"].as_object().unwrap();
        let mut names: Vec<&str> = paths.keys().map(String::as_str).collect();
        names.sort();
        assert_eq!(
            names,
            [
                "/metrics",
                "/metrics/{id}/aggregate",
                "/metrics/{id}/{kind}",
                "/openapi.json"
            ]
        );
        for (path, item) in paths {
            assert!(
                item["get"]["responses"]["503"].is_object(),
                "{path} lacks 503"
            );
        }
        let aggregate = &paths["/metrics/{id}/aggregate"]["get"];
        let parameters: Vec<&str> = aggregate["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(parameters, ["id", "op", "window", "from", "to"]);
        let schema = |name: &str| {
            aggregate["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == name)
                .map(|p| p["schema"].clone())
                .unwrap()
        };
        let window = schema("window");
        assert_eq!(
            (window["minimum"].as_f64(), window["maximum"].as_f64()),
            (Some(1.0), Some(domain::MAX_WINDOW_SECS as f64)),
            "{window}"
        );
        // A time is one of two forms, each with its bounds, so that a fuzzer reaches the edges.
        for name in ["from", "to"] {
            let parameter = aggregate["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == name)
                .unwrap();
            assert_ne!(parameter["required"], true, "{name} is optional");
            let forms = schema(name)["oneOf"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            assert!(
                forms.iter().any(|f| f["format"] == "date-time"),
                "{name}: {forms:?}"
            );
            assert!(
                forms.iter().any(|f| f["minimum"].as_f64() == Some(0.0)
                    && f["maximum"].as_f64() == Some(common::params::MAX_INSTANT_SECS as f64)),
                "{name}: {forms:?}"
            );
        }
        for status in ["200", "400", "404", "502", "504"] {
            assert!(
                aggregate["responses"][status].is_object(),
                "aggregate lacks {status}"
            );
        }
    }

    #[test]
    fn non_finite_values_are_documented_as_prometheus_strings() {
        let document = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let avg = &document["components"]["schemas"]["Window"]["properties"]["avg"];
        let kinds: Vec<&serde_json::Value> =
            avg["oneOf"].as_array().expect("oneOf").iter().collect();
        assert_eq!(kinds[0]["type"], "number", "{avg}");
        assert_eq!(
            kinds[1]["enum"],
            serde_json::json!(["NaN", "+Inf", "-Inf"]),
            "{avg}"
        );
    }
}
