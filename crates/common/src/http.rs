//! The HTTP edge shared by the REST services (`retrieval`, `sla-manager`): the tower stack
//! (request id, tracing, compression, body limit, timeout, load shedding, panics caught)
//! configured once, the latency histogram per route, and the `{"error": ...}` body every error
//! answer uses.

use std::{
    any::Any,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::{Duration, Instant},
};

use axum::{
    BoxError, Json, Router,
    body::{Body, Bytes, HttpBody},
    extract::{DefaultBodyLimit, MatchedPath, Request, State},
    http::{HeaderName, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use clap::Args;
use http_body::{Frame, SizeHint};
use prometheus::{HistogramOpts, HistogramVec, IntCounter, Registry};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer,
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
    (status, Json(crate::rest::ErrorBody::new(message))).into_response()
}

/// The message of a 504 when a request takes longer than the timeout.
pub const TIMEOUT_MESSAGE: &str = "The request took too long";

/// The message of a 500: nothing the client can change, and nothing of the cause.
pub const INTERNAL_MESSAGE: &str = "Internal error";

/// Request latency by method, route template and status (bounded labels: never the raw URI),
/// and the handlers that panicked.
#[derive(Debug, Clone)]
pub struct HttpMetrics {
    duration: HistogramVec,
    panics: IntCounter,
}

impl HttpMetrics {
    /// Registers `http_request_duration_seconds` and `http_handler_panics_total` in `registry`.
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
        let panics = IntCounter::new(
            "http_handler_panics_total",
            "API requests whose handler panicked (each answered 500).",
        )?;
        registry.register(Box::new(duration.clone()))?;
        registry.register(Box::new(panics.clone()))?;
        Ok(Self { duration, panics })
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

/// The in-flight limit and the request deadline, shared by every route (one semaphore for the
/// whole API, not one per route).
#[derive(Debug, Clone)]
struct Limits {
    in_flight: Arc<Semaphore>,
    timeout: Duration,
}

/// Sheds a request beyond the in-flight limit at once (503: a queued request would only time
/// out later), answers 504 at the deadline and drops the handler's future then, which cancels
/// its work. The permit and the deadline go with the response body: a streamed body counts as
/// in flight until it ends, and is cut at the deadline.
async fn shed_and_bound(State(limits): State<Limits>, request: Request, next: Next) -> Response {
    let permit = if sheds_load() {
        limits.in_flight.clone().try_acquire_owned().ok()
    } else {
        limits.in_flight.clone().acquire_owned().await.ok()
    };
    let Some(permit) = permit else {
        return error_response(StatusCode::SERVICE_UNAVAILABLE, BUSY_MESSAGE);
    };
    let deadline = tokio::time::Instant::now() + limits.timeout;
    match tokio::time::timeout_at(deadline, next.run(request)).await {
        Ok(response) => response.map(|body| Body::new(BoundedBody::new(body, permit, deadline))),
        Err(_) => error_response(StatusCode::GATEWAY_TIMEOUT, TIMEOUT_MESSAGE),
    }
}

/// A response body that holds its request's in-flight permit until it ends (or is dropped),
/// and fails once the request's deadline has passed.
struct BoundedBody {
    inner: Body,
    deadline: Pin<Box<tokio::time::Sleep>>,
    _permit: OwnedSemaphorePermit,
}

impl BoundedBody {
    fn new(inner: Body, permit: OwnedSemaphorePermit, deadline: tokio::time::Instant) -> Self {
        Self {
            inner,
            deadline: Box::pin(tokio::time::sleep_until(deadline)),
            _permit: permit,
        }
    }
}

/// A streamed body was still being sent at the request deadline.
#[derive(Debug, thiserror::Error)]
#[error("the response was still being sent at the request deadline")]
struct BodyDeadline;

impl HttpBody for BoundedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        // The deadline first, so that a body that always has more ready still ends. An error
        // (not a clean end) makes the client see the answer cut short, not a valid partial one.
        if this.deadline.as_mut().poll(cx).is_ready() {
            tracing::warn!("response body cut at the request deadline");
            return Poll::Ready(Some(Err(BodyDeadline.into())));
        }
        Pin::new(&mut this.inner)
            .poll_frame(cx)
            .map(|frame| frame.map(|result| result.map_err(BoxError::from)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A panic in a handler becomes a 500 with the fixed message (not a dropped connection), is
/// counted, and its message logged.
fn panic_response(panics: IntCounter) -> impl Fn(Box<dyn Any + Send>) -> Response + Clone {
    move |panic: Box<dyn Any + Send>| {
        panics.inc();
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        tracing::error!(panic = %message, "handler panicked");
        error_response(StatusCode::INTERNAL_SERVER_ERROR, INTERNAL_MESSAGE)
    }
}

/// Whether the edge answers 503 beyond the in-flight limit: always, except in a mutation run of
/// `reliability/` (feature `fault-injection`, `FAULT_NO_LOAD_SHED=1`), where requests queue.
fn sheds_load() -> bool {
    #[cfg(feature = "fault-injection")]
    if crate::fault::no_load_shed() {
        static WARNED: std::sync::Once = std::sync::Once::new();
        WARNED.call_once(|| tracing::warn!("fault injection: load shedding removed"));
        return false;
    }
    true
}

/// `router` behind the edge stack: each request gets an `x-request-id` (kept if the client sent
/// one, echoed back) and a span with the route template; answers are compressed; bodies are
/// limited; a request taking longer than the timeout gets a 504 (a streamed answer is cut
/// there), one beyond the in-flight limit a 503 at once, and one whose handler panics a 500.
pub fn with_edge(router: Router, limits: &EdgeArgs, metrics: HttpMetrics) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let bounds = Limits {
        // Tokio's semaphore panics beyond its maximum: any larger limit means no limit anyway.
        in_flight: Arc::new(Semaphore::new(
            limits.max_in_flight.min(Semaphore::MAX_PERMITS),
        )),
        timeout: limits.request_timeout,
    };
    router
        .layer(CatchPanicLayer::custom(panic_response(metrics.panics.clone())))
        .layer(middleware::from_fn_with_state(bounds, shed_and_bound))
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
    use axum::routing::get;
    use futures::{StreamExt, stream};
    use serde_json::json;
    use std::sync::atomic::{AtomicBool, Ordering};
    use tower::ServiceExt;

    /// Metrics in a registry of their own.
    fn unregistered() -> HttpMetrics {
        HttpMetrics::register(&Registry::new()).unwrap()
    }

    /// The answer of `app` to `GET path`.
    async fn get_through(app: Router, path: &str) -> axum::response::Response {
        app.oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

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
        let response = get_through(app, "/slow/1").await;
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
            unregistered(),
        );
        let request = Request::get("/")
            .header("x-request-id", "abc-123")
            .body(Body::empty())
            .unwrap();
        let response = app.oneshot(request).await.unwrap();
        assert_eq!(response.headers()["x-request-id"], "abc-123");
    }

    /// A body that sends one chunk and then nothing, never ending (a stalled stream).
    fn endless() -> Body {
        Body::from_stream(
            stream::once(async { Ok::<_, std::io::Error>(Bytes::from_static(b"[")) })
                .chain(stream::pending()),
        )
    }

    #[tokio::test]
    async fn a_panicking_handler_is_a_counted_500() {
        let registry = Registry::new();
        let app = with_edge(
            Router::new().route(
                "/boom",
                get(|| async {
                    // The defect this guards against: chrono panics on an overflow.
                    let _ = chrono::DateTime::<chrono::Utc>::MAX_UTC + chrono::Duration::days(1);
                    "unreachable"
                }),
            ),
            &limits(),
            HttpMetrics::register(&registry).unwrap(),
        );
        let response = get_through(app, "/boom").await;
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
            json!({"error": INTERNAL_MESSAGE})
        );
        let text = format!("{:?}", registry.gather());
        assert!(text.contains("http_handler_panics_total"), "{text}");
        let panics = registry
            .gather()
            .into_iter()
            .find(|f| f.name() == "http_handler_panics_total")
            .unwrap();
        assert_eq!(panics.get_metric()[0].get_counter().get_value(), 1.0);
    }

    #[tokio::test]
    async fn a_timed_out_request_stops_its_work() {
        let dropped = Arc::new(AtomicBool::new(false));
        struct SetOnDrop(Arc<AtomicBool>);
        impl Drop for SetOnDrop {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let flag = dropped.clone();
        let app = with_edge(
            Router::new().route(
                "/work",
                get(move || {
                    let guard = SetOnDrop(flag.clone());
                    async move {
                        tokio::time::sleep(Duration::from_secs(30)).await;
                        drop(guard);
                        "done"
                    }
                }),
            ),
            &limits(),
            unregistered(),
        );
        let response = get_through(app, "/work").await;
        assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
        assert!(dropped.load(Ordering::SeqCst), "the handler still runs");
    }

    #[tokio::test]
    async fn a_streamed_body_is_in_flight_until_it_ends() {
        let mut limits = limits();
        limits.max_in_flight = 1;
        limits.request_timeout = Duration::from_secs(30);
        let app = with_edge(
            Router::new()
                .route("/stream", get(|| async { endless() }))
                .route("/", get(|| async { "ok" })),
            &limits,
            unregistered(),
        );
        let streaming = get_through(app.clone(), "/stream").await;
        assert_eq!(streaming.status(), StatusCode::OK);
        let shed = get_through(app.clone(), "/").await;
        assert_eq!(shed.status(), StatusCode::SERVICE_UNAVAILABLE);
        drop(streaming);
        let served = get_through(app, "/").await;
        assert_eq!(served.status(), StatusCode::OK, "the permit came back");
    }

    #[tokio::test]
    async fn any_in_flight_limit_is_accepted() {
        let mut limits = limits();
        limits.max_in_flight = usize::MAX;
        let app = with_edge(
            Router::new().route("/", get(|| async { "ok" })),
            &limits,
            unregistered(),
        );
        let response = get_through(app, "/").await;
        assert_eq!(response.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn a_streamed_body_is_cut_at_the_deadline() {
        let app = with_edge(
            Router::new().route("/stream", get(|| async { endless() })),
            &limits(),
            unregistered(),
        );
        let response = get_through(app, "/stream").await;
        assert_eq!(response.status(), StatusCode::OK);
        let read = tokio::time::timeout(
            Duration::from_secs(5),
            axum::body::to_bytes(response.into_body(), 1024),
        )
        .await
        .expect("the body ends at the request deadline");
        assert!(read.is_err(), "cut short, not ended cleanly");
    }
}
