//! The admin listener every service mounts: `GET /metrics` (Prometheus text), `GET /healthz`
//! (the process answers) and `GET /readyz` (its dependencies answer).

use std::{sync::Arc, time::Duration};

use axum::{Json, Router, extract::State, http::StatusCode, response::IntoResponse, routing::get};
use futures::future::{BoxFuture, join_all};
use prometheus::{Encoder, Registry, TextEncoder};
use serde_json::{Map, Value, json};

/// How long one readiness check may take before it counts as failed.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

type Check = dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync;

/// One dependency that `/readyz` checks, such as the database or the broker.
#[derive(Clone)]
pub struct Probe {
    name: &'static str,
    check: Arc<Check>,
}

impl Probe {
    /// A probe named `name` that calls `check` (typically a client's `ping`).
    pub fn new<F, Fut, E>(name: &'static str, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: std::error::Error,
    {
        let check = move || -> BoxFuture<'static, Result<(), String>> {
            let future = check();
            Box::pin(async move { future.await.map_err(|e| error_chain(&e)) })
        };
        Self {
            name,
            check: Arc::new(check),
        }
    }
}

impl std::fmt::Debug for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Probe")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The error and its causes on one line, for logs and the admin port (never the public API).
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[derive(Clone)]
struct AdminState {
    registry: Registry,
    probes: Arc<[Probe]>,
}

/// The admin router over `registry`, with `probes` behind `/readyz`.
pub fn router(registry: Registry, probes: Vec<Probe>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/readyz", get(readyz))
        .with_state(AdminState {
            registry,
            probes: probes.into(),
        })
}

/// Every metric of `registry` in Prometheus' text exposition format, as `/metrics` serves it
/// (tests read a registry's figures this way too).
///
/// # Errors
/// A metric cannot be encoded.
pub fn exposition(registry: &Registry) -> Result<String, prometheus::Error> {
    let mut body = Vec::new();
    TextEncoder::new().encode(&registry.gather(), &mut body)?;
    // The text encoder writes UTF-8 only.
    String::from_utf8(body).map_err(|e| prometheus::Error::Msg(e.to_string()))
}

async fn metrics(State(state): State<AdminState>) -> impl IntoResponse {
    match exposition(&state.registry) {
        Ok(body) => (
            StatusCode::OK,
            [("content-type", prometheus::TEXT_FORMAT)],
            body,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(error = %error, "metrics encoding failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn readyz(State(state): State<AdminState>) -> impl IntoResponse {
    let results = join_all(state.probes.iter().map(|probe| async move {
        let outcome = match tokio::time::timeout(PROBE_TIMEOUT, (probe.check)()).await {
            Ok(outcome) => outcome,
            Err(_) => Err(format!("no answer within {PROBE_TIMEOUT:?}")),
        };
        (probe.name, outcome)
    }))
    .await;
    let ready = results.iter().all(|(_, outcome)| outcome.is_ok());
    let checks: Map<String, Value> = results
        .into_iter()
        .map(|(name, outcome)| {
            (
                name.to_owned(),
                Value::String(outcome.err().unwrap_or_else(|| "ok".to_owned())),
            )
        })
        .collect();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(json!({"ready": ready, "checks": checks})))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::{Body, to_bytes};
    use tower::ServiceExt;

    #[derive(Debug, thiserror::Error)]
    #[error("connection refused")]
    struct Refused;

    async fn get_json(router: Router, path: &str) -> (StatusCode, String) {
        let response = router
            .oneshot(axum::http::Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn readyz_fails_while_a_dependency_is_down() {
        let probes = vec![
            Probe::new("database", || async { Ok::<_, Refused>(()) }),
            Probe::new("broker", || async { Err::<(), _>(Refused) }),
        ];
        let (status, body) = get_json(router(Registry::new(), probes), "/readyz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            body,
            json!({"ready": false, "checks": {"database": "ok", "broker": "connection refused"}})
        );
    }

    #[tokio::test]
    async fn healthz_and_readyz_answer_when_all_is_well() {
        let probes = vec![Probe::new("database", || async { Ok::<_, Refused>(()) })];
        assert_eq!(
            get_json(router(Registry::new(), probes.clone()), "/healthz")
                .await
                .0,
            StatusCode::OK
        );
        assert_eq!(
            get_json(router(Registry::new(), probes), "/readyz").await.0,
            StatusCode::OK
        );
    }

    #[tokio::test]
    async fn metrics_are_served_in_text_format() {
        let registry = Registry::new();
        let counter = prometheus::IntCounter::new("example_total", "An example.").unwrap();
        registry.register(Box::new(counter.clone())).unwrap();
        counter.inc_by(3);
        let (status, body) = get_json(router(registry, vec![]), "/metrics").await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("example_total 3"), "{body}");
    }
}
