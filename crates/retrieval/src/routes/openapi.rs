//! `GET /openapi.json`: the OpenAPI document, generated from the handlers' annotations and the
//! types they return.

use axum::Json;
use common::record::{
    Anomalies, CandidateScore, ChangeKind, Changepoint, Decomposition, Kind, Metadata,
    OutlierStatus, PredictedPoint, Prediction, SeasonalPeriod, Seasonality, Stationarity, Window,
    Windows,
};
use common::rest::{EdgeResponses, ErrorBody};
use utoipa::OpenApi;

use super as routes;
use crate::domain;

/// The OpenAPI document of `retrieval`.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "retrieval",
        description = "The stored results of the SLA monitor (windowed values, statistics, anomalies, forecasts) and ad-hoc aggregations of one series answered by the target Prometheus."
    ),
    paths(routes::metrics::list, routes::metrics::result, routes::aggregate::aggregate, routes::anomalies::anomalies, routes::anomalies::outliers, document),
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
        Anomalies,
        Changepoint,
        ChangeKind,
        OutlierStatus,
        routes::anomalies::AnomaliesBody,
        routes::anomalies::OutliersBody,
        routes::anomalies::OutlierEntry,
    )),
    modifiers(&EdgeResponses),
    tags(
        (name = "results", description = "What the etl computed and storage stored"),
        (name = "aggregation", description = "Ad-hoc aggregations answered by the target Prometheus"),
        (name = "meta", description = "This document"),
    )
)]
pub struct ApiDoc;

/// The OpenAPI 3 document of this API.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    responses((status = 200, description = "The OpenAPI 3 document of this API", content_type = "application/json", body = Object))
)]
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
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
                "/metrics/{id}/anomalies",
                "/metrics/{id}/{kind}",
                "/openapi.json",
                "/outliers"
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
