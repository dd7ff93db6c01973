//! `spawn_app()`: the service on free ports over a database of its own, and request helpers.

use std::{ffi::OsString, time::Duration};

use chrono::{DateTime, Utc};
use common::{
    Labels,
    record::{Payload, Record, Window, Windows},
    store::MetricsRepository,
    testing::{mongo_uri, prometheus_url, unique_name},
};
use reqwest::{StatusCode, header::HeaderMap};
use retrieval::{config::Config, startup::App};
use serde_json::Value;
use tokio_util::sync::{CancellationToken, DropGuard};

/// How a test wants the service configured.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// The database server.
    pub(crate) mongo_uri: String,
    /// How long the service waits for the database.
    pub(crate) mongo_timeout: &'static str,
    /// The target Prometheus.
    pub(crate) prometheus_url: String,
    /// Requests served at once.
    pub(crate) max_in_flight: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            mongo_uri: mongo_uri(),
            mongo_timeout: "5s",
            prometheus_url: prometheus_url().to_string(),
            max_in_flight: 256,
        }
    }
}

/// A running service and a handle on its database.
#[derive(Debug)]
pub(crate) struct TestApp {
    /// `http://127.0.0.1:port` of the API.
    pub(crate) api: String,
    /// `http://127.0.0.1:port` of the admin listener.
    pub(crate) admin: String,
    /// The service's database, to seed documents directly.
    pub(crate) repository: MetricsRepository,
    /// An HTTP client (no automatic decompression).
    pub(crate) client: reqwest::Client,
    _stop: DropGuard,
}

/// The service over a fresh database on the shared database server and the target Prometheus.
pub(crate) async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

/// The service configured as `options` says, over a fresh database.
pub(crate) async fn spawn_app_with(options: Options) -> TestApp {
    common::telemetry::init_for_tests();
    let database_name = unique_name("retrieval_test");
    let args: Vec<OsString> = [
        "retrieval",
        "--port=0",
        "--admin-port=0",
        "--bind-address=127.0.0.1",
        &format!("--mongo-uri={}", options.mongo_uri),
        &format!("--mongo-db={database_name}"),
        &format!("--mongo-timeout={}", options.mongo_timeout),
        &format!("--prometheus-url={}", options.prometheus_url),
        "--prometheus-timeout=5s",
        "--request-timeout=20s",
        &format!("--max-in-flight={}", options.max_in_flight),
    ]
    .into_iter()
    .map(OsString::from)
    .collect();
    let config: Config =
        common::config::try_parse_from(&args, |_| None).expect("a valid test configuration");
    let app = App::build(config).await.expect("the app builds");
    let api = format!("http://{}", app.api_address());
    let admin = format!("http://{}", app.admin_address());
    let token = CancellationToken::new();
    tokio::spawn(app.run_until_stopped(token.clone()));

    let client = mongodb::Client::with_uri_str(&options.mongo_uri)
        .await
        .expect("a database client");
    let repository = MetricsRepository::new(&client.database(&database_name));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("an HTTP client");
    TestApp {
        api,
        admin,
        repository,
        client: http,
        _stop: token.drop_guard(),
    }
}

impl TestApp {
    /// GETs `path` on the API: the status, the headers and the body as JSON (`Null` when it is not).
    pub(crate) async fn get(&self, path: &str) -> (StatusCode, HeaderMap, Value) {
        get_json(&self.client, &format!("{}{path}", self.api)).await
    }

    /// GETs `path` on the admin listener, as text.
    pub(crate) async fn admin_text(&self, path: &str) -> (StatusCode, String) {
        let response = self
            .client
            .get(format!("{}{path}", self.admin))
            .send()
            .await
            .expect("the admin listener answers");
        let status = response.status();
        (status, response.text().await.expect("a text body"))
    }

    /// Writes `records` straight into the service's database.
    pub(crate) async fn seed(&self, records: &[Record]) {
        for batch in records.chunks(500) {
            self.repository
                .upsert(batch)
                .await
                .expect("seeding the database");
        }
    }
}

/// GETs `url`: the status, the headers and the body as JSON (`Null` when it is not JSON).
pub(crate) async fn get_json(
    client: &reqwest::Client,
    url: &str,
) -> (StatusCode, HeaderMap, Value) {
    let response = client
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = response
        .bytes()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: body: {e}"));
    (
        status,
        headers,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// The error message of an error body.
pub(crate) fn error_of(body: &Value) -> &str {
    body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("not an error body: {body}"))
}

/// A label set `{__name__=name, job="test", ...extra}`.
pub(crate) fn labels(name: &str, extra: &[(&str, &str)]) -> Labels {
    let mut labels: Labels = extra
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    labels.insert("__name__".to_owned(), name.to_owned());
    labels.insert("job".to_owned(), "test".to_owned());
    labels
}

/// A fixed computation time.
pub(crate) fn computed_at() -> DateTime<Utc> {
    "2026-11-22T06:00:00Z".parse().expect("a valid time")
}

/// The aggregates of one window, every field present.
pub(crate) fn window() -> Window {
    Window {
        min: 0.5,
        max: 2.5,
        avg: 1.25,
        std_dev: 0.4,
        count: 60,
    }
}

/// A `values` record for `labels`.
pub(crate) fn values_record(labels: Labels) -> Record {
    let window = window();
    Record::new(
        labels,
        computed_at(),
        Payload::Values {
            values: Windows {
                h1: Some(window),
                h3: Some(window),
                h12: None,
            },
        },
    )
}

/// A `metadata` record for `labels`.
pub(crate) fn metadata_record(labels: Labels) -> Record {
    let metadata = common::testing::full_metadata();
    Record::new(labels, computed_at(), Payload::Metadata { metadata })
}

/// A `prediction` record for `labels`.
pub(crate) fn prediction_record(labels: Labels) -> Record {
    let prediction = common::testing::full_prediction(computed_at());
    Record::new(labels, computed_at(), Payload::Prediction { prediction })
}
