//! `spawn_app()` and what the tests share: the synthetic history, the SLA set over it, request
//! helpers and seeded documents.

use std::{ffi::OsString, net::SocketAddr, time::Duration};

use chrono::{DateTime, Utc};
use common::{
    Labels, SeriesId,
    proto::{SlaRequest, SlaSetResponse, sla_service_client::SlaServiceClient},
    record::{Metadata, Payload, PredictedPoint, Prediction, Record},
    store::MetricsRepository,
    testing,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sla_manager::{config::Config, startup::App};
use synthetic::{Dataset, Manifest, Series};
use tokio_util::sync::CancellationToken;

/// What a test may change in the configuration.
#[derive(Debug, Default)]
pub(crate) struct Options {
    /// `SLA_API_TOKEN`.
    pub(crate) token: Option<String>,
    /// Another database server than the shared one.
    pub(crate) mongo_uri: Option<String>,
    /// Another Prometheus than the one with the history.
    pub(crate) prometheus_url: Option<String>,
    /// `SLA_REFRESH_INTERVAL` (default 1h: the refresh stays out of the tests' way).
    pub(crate) refresh: Option<&'static str>,
    /// Also start a retrieval service over the same database, for the UI's series pages.
    pub(crate) with_retrieval: bool,
    /// `RETRIEVAL_URL` otherwise.
    pub(crate) retrieval_url: Option<&'static str>,
    /// More command-line arguments (`--grpc-tls-cert=...`).
    pub(crate) extra_args: Vec<String>,
    /// The database of another app (a restart, a second replica), instead of a new one.
    pub(crate) database_name: Option<String>,
}

/// A running app with a database of its own.
#[derive(Debug)]
pub(crate) struct TestApp {
    /// `http://host:port` of the REST API.
    pub(crate) api: String,
    /// The gRPC address.
    pub(crate) grpc: SocketAddr,
    /// `http://host:port` of the admin listener.
    pub(crate) admin: String,
    /// The test's own database.
    pub(crate) database: mongodb::Database,
    /// The synthetic history in the target Prometheus.
    pub(crate) manifest: Manifest,
    /// Its values.
    pub(crate) data: Dataset,
    http: reqwest::Client,
    stop: CancellationToken,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

pub(crate) async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

/// A running app that refreshes every 200 ms, over `database` when given.
pub(crate) async fn refreshing(database: Option<String>) -> TestApp {
    spawn_app_with(Options {
        refresh: Some("200ms"),
        database_name: database,
        ..Default::default()
    })
    .await
}

pub(crate) async fn spawn_app_with(options: Options) -> TestApp {
    common::telemetry::init_for_tests();
    let mongo_uri = options.mongo_uri.unwrap_or_else(testing::mongo_uri);
    let database_name = options
        .database_name
        .unwrap_or_else(|| testing::unique_name("sla_manager"));
    let prometheus = options
        .prometheus_url
        .unwrap_or_else(|| testing::prometheus_url().to_string());
    let mut args: Vec<String> = [
        "sla-manager",
        "--port",
        "0",
        "--grpc-port",
        "0",
        "--admin-port",
        "0",
        "--bind-address",
        "127.0.0.1",
        "--sla-set-size",
        "5",
        "--mongo-timeout",
        "2s",
        "--request-timeout",
        "20s",
        "--refresh-interval",
        options.refresh.unwrap_or("1h"),
    ]
    .map(str::to_owned)
    .to_vec();
    args.extend([
        "--prometheus-url".into(),
        prometheus,
        "--mongo-uri".into(),
        mongo_uri.clone(),
        "--mongo-db".into(),
        database_name.clone(),
    ]);
    if let Some(token) = options.token {
        args.extend(["--api-token".into(), token]);
    }
    let stop = CancellationToken::new();
    if options.with_retrieval {
        let url = spawn_retrieval(&mongo_uri, &database_name, &stop).await;
        args.extend(["--retrieval-url".into(), url]);
    } else if let Some(url) = options.retrieval_url {
        args.extend(["--retrieval-url".into(), url.to_owned()]);
    }
    args.extend(options.extra_args);
    let args: Vec<OsString> = args.into_iter().map(OsString::from).collect();
    let config: Config =
        common::config::try_parse_from(&args, |_| None).expect("a valid test configuration");
    let app = App::build(&config).await.expect("the app builds");
    let (api, grpc, admin) = (app.api_address(), app.grpc_address(), app.admin_address());
    tokio::spawn(app.run_until_stopped(stop.clone()));

    let client = mongodb::Client::with_uri_str(&mongo_uri)
        .await
        .expect("a database client");
    let manifest = Manifest::load(testing::synthetic_manifest()).expect("the synthetic manifest");
    let data = manifest.dataset();
    TestApp {
        api: format!("http://{api}"),
        grpc,
        admin: format!("http://{admin}"),
        database: client.database(&database_name),
        manifest,
        data,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("an HTTP client"),
        stop,
    }
}

/// A retrieval service over `database`, stopped with `stop`; returns its URL.
async fn spawn_retrieval(mongo_uri: &str, database: &str, stop: &CancellationToken) -> String {
    let args: Vec<OsString> = [
        "retrieval".to_owned(),
        "--port=0".into(),
        "--admin-port=0".into(),
        "--bind-address=127.0.0.1".into(),
        format!("--mongo-uri={mongo_uri}"),
        format!("--mongo-db={database}"),
        format!("--prometheus-url={}", testing::prometheus_url()),
    ]
    .into_iter()
    .map(OsString::from)
    .collect();
    let config: retrieval::config::Config =
        common::config::try_parse_from(&args, |_| None).expect("a valid retrieval configuration");
    let app = retrieval::startup::App::build(config)
        .await
        .expect("retrieval builds");
    let url = format!("http://{}", app.api_address());
    tokio::spawn(app.run_until_stopped(stop.clone()));
    url
}

/// Unix seconds to a time.
pub(crate) fn time(unix: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(unix, 0).expect("a valid time")
}

/// A value as the original printed it in descriptions: Python's float `repr` (`1.0`, `0.25`,
/// `1e-05`, `1e+16`).
pub(crate) fn py_float(value: f64) -> String {
    let text = format!("{value:?}");
    match text.split_once('e') {
        None => text,
        Some((mantissa, exponent)) => {
            let (sign, digits) = exponent
                .strip_prefix('-')
                .map_or(('+', exponent), |d| ('-', d));
            format!("{mantissa}e{sign}{digits:0>2}")
        }
    }
}

/// A range bound as the original printed it: as given in the SLA set (whole numbers as integers).
pub(crate) fn bound(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        py_float(value)
    }
}

/// An SLA entry of a PUT body.
pub(crate) fn entry(labels: &Labels, min: f64, max: f64, for_minutes: u32) -> Value {
    json!({"name": labels, "range": {"min": min, "max": max}, "for": for_minutes})
}

impl TestApp {
    /// The end of the synthetic history: the time the tests evaluate at.
    pub(crate) fn end(&self) -> i64 {
        self.manifest.config.end
    }

    /// The synthetic series named `name`.
    pub(crate) fn series(&self, name: &str) -> &Series {
        self.data
            .series_named(name)
            .unwrap_or_else(|| panic!("no synthetic series {name}"))
    }

    /// The valid SLA set the tests use: the SLA series with the generator's range and `for`
    /// first, then four series with ranges they never leave.
    pub(crate) fn sla_set(&self) -> Vec<(Labels, f64, f64, u32)> {
        let spec = &self.manifest.sla;
        vec![
            (
                self.series(synthetic::SLA_NAME).label_set(),
                spec.range.min,
                spec.range.max,
                spec.for_minutes,
            ),
            (self.series("synthetic_constant").label_set(), 0.0, 100.0, 5),
            (
                self.series("synthetic_seasonal").label_set(),
                0.0,
                1000.0,
                10,
            ),
            (
                self.series("synthetic_noise").label_set(),
                -1000.0,
                1000.0,
                3,
            ),
            (
                self.series("synthetic_trend").label_set(),
                -1000.0,
                1000.0,
                1,
            ),
        ]
    }

    pub(crate) fn sla_set_body(&self) -> Value {
        Value::Array(
            self.sla_set()
                .iter()
                .map(|(l, min, max, f)| entry(l, *min, *max, *f))
                .collect(),
        )
    }

    /// Sends a request; returns the status and the JSON body (`Null` when there is none).
    pub(crate) async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.api));
        if let Some(body) = body {
            request = request.json(body);
        }
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        Self::answer(request).await
    }

    /// `PUT /slaset` with a body as it is (not necessarily JSON) and its content type;
    /// returns the status and the JSON body (`Null` when there is none).
    pub(crate) async fn put_raw(
        &self,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> (StatusCode, Value) {
        let request = self
            .http
            .put(format!("{}/slaset", self.api))
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body);
        Self::answer(request).await
    }

    /// Sends the request; the status and the JSON body (`Null` when there is none).
    async fn answer(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let response = request.send().await.expect("the API answers");
        let status = response.status();
        let text = response.text().await.expect("a body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
        };
        (status, body)
    }

    /// `GET path`: the status, the content type and the body as text.
    pub(crate) async fn get_text(&self, path: &str) -> (StatusCode, String, String) {
        self.get_url(&format!("{}{path}", self.api)).await
    }

    /// `GET url` (of the API or the admin listener): the status, the content type and the
    /// body as text.
    async fn get_url(&self, url: &str) -> (StatusCode, String, String) {
        let response = self.http.get(url).send().await.expect("the server answers");
        let status = response.status();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (status, content_type, response.text().await.expect("a body"))
    }

    pub(crate) async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.request(Method::GET, path, None, None).await
    }

    /// `GET path` answers `status` with the error body `{"error": message}` and nothing else.
    pub(crate) async fn assert_error(&self, path: &str, status: StatusCode, message: &str) {
        let (got, body) = self.get(path).await;
        assert_eq!((got, body), (status, json!({"error": message})), "{path}");
    }

    pub(crate) async fn put_slaset(&self, body: &Value) -> (StatusCode, Value) {
        self.request(Method::PUT, "/slaset", Some(body), None).await
    }

    /// Stores the test SLA set, expecting success.
    pub(crate) async fn define_sla_set(&self) {
        let (status, body) = self.put_slaset(&self.sla_set_body()).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    /// `path?at=<unix>`, expecting 200; returns the per-metric list (the body, a list as in
    /// the original), each item evaluated at `at`.
    pub(crate) async fn evaluate(&self, path: &str, at: i64) -> Vec<Value> {
        let (status, body) = self.get(&format!("{path}?at={at}")).await;
        assert_eq!(status, StatusCode::OK, "{path} at {at}: {body}");
        let metrics = body.as_array().expect("a list of metrics").clone();
        for metric in &metrics {
            assert_eq!(
                metric["evaluated_at"]
                    .as_str()
                    .and_then(|t| t.parse::<DateTime<Utc>>().ok()),
                Some(time(at)),
                "{metric}"
            );
        }
        metrics
    }

    /// Waits (30 s at most) until the admin listener's `/metrics` text satisfies `done`: what
    /// a refresh publishes (`what` names it in the timeout's message).
    pub(crate) async fn wait_for_telemetry(&self, what: &str, done: impl Fn(&str) -> bool) {
        let done = &done;
        testing::wait_until(what, Duration::from_secs(30), || async move {
            done(&self.telemetry().await)
        })
        .await;
    }

    /// `GetSLASet` by the project's own gRPC client: the stream of the set, or the refusal.
    pub(crate) async fn sla_set_stream(
        &self,
    ) -> Result<tonic::Streaming<SlaSetResponse>, tonic::Status> {
        let mut client = SlaServiceClient::connect(format!("http://{}", self.grpc))
            .await
            .expect("the gRPC server answers");
        let response = client.get_sla_set(SlaRequest {}).await?;
        Ok(response.into_inner())
    }

    /// The admin listener's `/metrics` text.
    pub(crate) async fn telemetry(&self) -> String {
        let (_, _, text) = self.get_url(&format!("{}/metrics", self.admin)).await;
        text
    }

    /// The value of the counter `series` (name and labels, as `/metrics` writes them) on the
    /// admin port; 0 while it is absent.
    pub(crate) async fn counter(&self, series: &str) -> u64 {
        let prefix = format!("{series} ");
        self.telemetry()
            .await
            .lines()
            .find_map(|line| line.strip_prefix(prefix.as_str()))
            .map_or(0, |value| value.trim().parse().expect("a whole count"))
    }

    /// Stores a record the way the storage service does.
    pub(crate) async fn seed(&self, labels: &Labels, payload: Payload) {
        let record = Record::new(labels.clone(), Utc::now(), payload);
        MetricsRepository::new(&self.database)
            .upsert(&[record])
            .await
            .expect("the record is stored");
    }

    pub(crate) async fn seed_metadata(&self, labels: &Labels, metadata: Metadata) {
        self.seed(labels, Payload::Metadata { metadata }).await;
    }

    /// Stores a prediction of `values` one minute apart from `from + 60`, each with 95% bounds
    /// `value -+ 1.96 * sigma`.
    pub(crate) async fn seed_prediction(
        &self,
        labels: &Labels,
        from: i64,
        values: &[f64],
        sigma: f64,
    ) {
        let points: Vec<PredictedPoint> = values
            .iter()
            .enumerate()
            .map(|(i, &value)| PredictedPoint {
                timestamp: time(from + 60 * (i as i64 + 1)),
                value,
                lower: value - 1.959_963_984_540_054 * sigma,
                upper: value + 1.959_963_984_540_054 * sigma,
            })
            .collect();
        let prediction = Prediction {
            model: "holt_winters_additive".to_owned(),
            rmse: 0.125,
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            avg: values.iter().sum::<f64>() / values.len() as f64,
            horizon_minutes: values.len() as u64,
            candidates: Vec::new(),
            step_seconds: 60,
            values: points,
        };
        self.seed(labels, Payload::Prediction { prediction }).await;
    }

    /// The entry of `labels` in a per-metric list.
    pub(crate) fn find<'a>(&self, metrics: &'a [Value], labels: &Labels) -> &'a Value {
        let id = SeriesId::of(labels).to_string();
        metrics
            .iter()
            .find(|m| m["id"] == id.as_str())
            .unwrap_or_else(|| panic!("no entry for {id} in {metrics:?}"))
    }
}

/// What the generator says about the SLA series at `at`: the run containing `at`, if any, with
/// the samples it has had up to `at`.
pub(crate) fn generator_state(app: &TestApp, at: i64) -> (&'static str, u32) {
    let spec = &app.manifest.sla;
    match spec.run_at(at) {
        None => ("inactive", 0),
        Some(run) => {
            let so_far = ((at - run.first) / 60 + 1) as u32;
            (
                if so_far >= spec.for_minutes {
                    "firing"
                } else {
                    "pending"
                },
                so_far,
            )
        }
    }
}

/// No alert of an objective's figures (`GET /slo`) fires.
pub(crate) fn no_alert_fires(figures: &Value) -> bool {
    figures["alerts"]
        .as_array()
        .expect("a list of alerts")
        .iter()
        .all(|a| a["firing"] == false)
}
