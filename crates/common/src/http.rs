//! The HTTP edge shared by the REST services (`retrieval`, `sla-manager`): the tower stack
//! (request id, tracing, compression, body limit, timeout, load shedding) configured once, the
//! latency histogram per route, and the `{"error": ...}` body every error answer uses.

use std::time::{Duration, Instant};

use axum::{
    BoxError, Json, Router,
    error_handling::HandleErrorLayer,
    extract::{DefaultBodyLimit, MatchedPath, Request, State},
    http::{HeaderName, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use clap::Args;
use prometheus::{HistogramOpts, HistogramVec, Registry};
use serde_json::json;
use tower::ServiceBuilder;
use tower_http::{
    compression::CompressionLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

/// The message of a 503 when load is shed.
pub const BUSY_MESSAGE: &str = "The server is busy, try again later";

/// Limits of the REST edge.
#[derive(Debug, Clone, Args)]
pub struct EdgeArgs {
    /// Longest time a request may take before it is answered 504.
    #[arg(long, env = "HTTP_REQUEST_TIMEOUT", default_value = "10s", value_parser = crate::config::parse_duration)]
    pub request_timeout: Duration,
    /// Largest request body accepted, in bytes (413 beyond).
    #[arg(long, env = "HTTP_BODY_LIMIT", default_value_t = 64 * 1024)]
    pub body_limit: usize,
    /// Requests served at once; more are answered 503 at once rather than queued.
    #[arg(long, env = "HTTP_MAX_IN_FLIGHT", default_value_t = 256)]
    pub max_in_flight: usize,
}

/// An error answer: `status` with `{"error": message}`.
pub fn error_response(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// Request latency by method, route template and status (bounded labels: never the raw URI).
#[derive(Debug, Clone)]
pub struct HttpMetrics {
    duration: HistogramVec,
}

impl HttpMetrics {
    /// Registers `http_request_duration_seconds` in `registry`.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time to answer an API request.",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0,
            ]),
            &["method", "route", "status"],
        )?;
        registry.register(Box::new(duration.clone()))?;
        Ok(Self { duration })
    }
}

async fn record_latency(
    State(metrics): State<HttpMetrics>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics
        .duration
        .with_label_values(&[method.as_str(), route.as_str(), status.as_str()])
        .observe(started.elapsed().as_secs_f64());
    response
}

async fn overload_or_timeout(error: BoxError) -> Response {
    if error.is::<tower::timeout::error::Elapsed>() {
        error_response(StatusCode::GATEWAY_TIMEOUT, "The request took too long")
    } else if error.is::<tower::load_shed::error::Overloaded>() {
        error_response(StatusCode::SERVICE_UNAVAILABLE, BUSY_MESSAGE)
    } else {
        tracing::error!(%error, "unexpected middleware error");
        error_response(StatusCode::INTERNAL_SERVER_ERROR, "Internal error")
    }
}

/// Whether the edge answers 503 beyond the in-flight limit: always, except in a mutation run of
/// `reliability/` (feature `fault-injection`, `FAULT_NO_LOAD_SHED=1`), where requests queue.
fn sheds_load() -> bool {
    #[cfg(feature = "fault-injection")]
    if crate::fault::no_load_shed() {
        tracing::warn!("fault injection: load shedding removed");
        return false;
    }
    true
}

/// `router` behind the edge stack: each request gets an `x-request-id` (kept if the client sent
/// one, echoed back) and a span with the route template; answers are compressed; bodies are
/// limited; a request taking longer than the timeout gets a 504, and one beyond the in-flight
/// limit a 503 at once.
pub fn with_edge(router: Router, limits: &EdgeArgs, metrics: HttpMetrics) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    router
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(overload_or_timeout))
                .option_layer(sheds_load().then(tower::load_shed::LoadShedLayer::new))
                .concurrency_limit(limits.max_in_flight)
                .timeout(limits.request_timeout),
        )
        .layer(DefaultBodyLimit::max(limits.body_limit))
        .layer(middleware::from_fn_with_state(metrics, record_latency))
        .layer(CompressionLayer::new())
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
                    let route = request.extensions().get::<MatchedPath>().map(MatchedPath::as_str).unwrap_or("unmatched");
                    let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
                    tracing::info_span!("request", method = %request.method(), route, request_id = id)
                }))
                .layer(PropagateRequestIdLayer::new(request_id)),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::{body::Body, routing::get};
    use tower::ServiceExt;

    fn limits() -> EdgeArgs {
        EdgeArgs {
            request_timeout: Duration::from_millis(50),
            body_limit: 16,
            max_in_flight: 4,
        }
    }

    #[tokio::test]
    async fn slow_requests_get_a_504_and_are_measured() {
        let registry = Registry::new();
        let metrics = HttpMetrics::register(&registry).unwrap();
        let app = Router::new().route(
            "/slow/{id}",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        );
        let app = with_edge(app, &limits(), metrics);
        let response = app
            .oneshot(Request::get("/slow/1").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
        assert!(response.headers().contains_key("x-request-id"));
        let families = registry.gather();
        let text = format!("{families:?}");
        assert!(
            text.contains("/slow/{id}"),
            "latency not labelled by route template"
        );
    }

    #[tokio::test]
    async fn a_client_request_id_is_echoed() {
        let app = with_edge(
            Router::new().route("/", get(|| async { "ok" })),
            &limits(),
            HttpMetrics::register(&Registry::new()).unwrap(),
        );
        let request = Request::get("/")
            .header("x-request-id", "abc-123")
            .body(Body::empty())
            .unwrap();
        let response = app.oneshot(request).await.unwrap();
        assert_eq!(response.headers()["x-request-id"], "abc-123");
    }
}
