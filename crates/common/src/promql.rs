//! The PromQL HTTP client for the target Prometheus, shared by `etl`, `retrieval` and
//! `sla-manager`. (Named `promql` to keep it apart from the `prometheus` crate that exports our
//! own metrics.)
//!
//! Queries are sent as POST forms, so selectors of any length fit. Transport errors and 5xx
//! answers are retried with backoff; Prometheus' own error message (a bad query, a limit) is
//! returned as it is, not retried.
//!
//! Errors name the URL called with its password redacted, and carry the transport error without
//! its URL (reqwest's own text would repeat the URL, credentials included): they go to logs.
//! Sending them to a client is the REST services' choice, which they do not make.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use url::Url;

use crate::{config::redact_password, retry::RetryPolicy, series::Labels};

/// The most points Prometheus returns per series from one range query.
pub const MAX_POINTS_PER_QUERY: u64 = 11_000;

/// Sent with every query: VictoriaMetrics evaluates an instant query whose time is within its
/// `-search.latencyOffset` (30 s) of now at now minus that offset, and replaces the points of a
/// range query that close to now, unless `nocache=1` is given; the etl's windows would then be
/// those of another time than the `computed_at` it records. Prometheus, Thanos and Mimir ignore
/// the parameter.
fn no_cache() -> (&'static str, String) {
    ("nocache", "1".to_owned())
}

/// A failed call to Prometheus.
#[derive(Debug, thiserror::Error)]
pub enum PromError {
    /// No answer: connection refused, timeout, reset.
    #[error("Prometheus at {url} is unreachable")]
    Unreachable {
        /// The URL called, its password redacted.
        url: String,
        /// The transport error, without its URL.
        #[source]
        source: reqwest::Error,
    },
    /// Prometheus answered with an error of its own.
    #[error("Prometheus rejected the request ({status}, {error_type}): {message}")]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// Prometheus' `errorType` (`bad_data`, `timeout`, `execution`, ...).
        error_type: String,
        /// Prometheus' `error`.
        message: String,
    },
    /// The answer was not what the API documents.
    #[error("unexpected answer from Prometheus: {0}")]
    Unexpected(String),
}

impl PromError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            PromError::Unreachable { .. } => true,
            PromError::Rejected {
                status, error_type, ..
            } => *status >= 500 || error_type == "timeout",
            PromError::Unexpected(_) => false,
        }
    }
}

/// One sample of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The series' labels (without `__name__` after most functions, as Prometheus returns them).
    pub labels: Labels,
    /// Unix seconds.
    pub timestamp: f64,
    /// The value.
    pub value: f64,
}

/// One series of a range query.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeSeries {
    /// The series' labels.
    pub labels: Labels,
    /// `(unix seconds, value)`, in time order.
    pub points: Vec<(f64, f64)>,
}

/// A client of one Prometheus server.
#[derive(Clone)]
pub struct PromClient {
    http: reqwest::Client,
    base: Url,
    retry: RetryPolicy,
}

#[derive(Deserialize)]
struct Envelope<T> {
    status: String,
    data: Option<T>,
    #[serde(rename = "errorType")]
    error_type: Option<String>,
    error: Option<String>,
    #[serde(default)]
    warnings: Vec<String>,
}

#[derive(Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
enum QueryData {
    Vector(Vec<VectorItem>),
    Matrix(Vec<MatrixItem>),
    Scalar((f64, String)),
    String(serde::de::IgnoredAny),
}

#[derive(Deserialize)]
struct VectorItem {
    metric: Labels,
    value: (f64, String),
}

#[derive(Deserialize)]
struct MatrixItem {
    metric: Labels,
    values: Vec<(f64, String)>,
}

impl std::fmt::Debug for PromClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PromClient")
            .field("base", &redact_password(self.base.as_str()))
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl PromError {
    /// No answer from `url`: the URL kept with its password redacted, the transport error
    /// without its own copy of the URL.
    fn unreachable(url: &Url, source: reqwest::Error) -> Self {
        Self::Unreachable {
            url: redact_password(url.as_str()),
            source: source.without_url(),
        }
    }
}

impl PromClient {
    /// A client of the Prometheus at `base`, each request bounded by `timeout`.
    pub fn new(base: Url, timeout: Duration) -> Result<Self, PromError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("sla-monitor/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| PromError::Unexpected(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            http,
            base,
            retry: RetryPolicy::default(),
        })
    }

    /// This client, retrying transient failures with `retry`.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// Answers when Prometheus is ready to serve queries (`/-/ready`), without retrying.
    pub async fn ping(&self) -> Result<(), PromError> {
        let url = self.url("-/ready")?;
        let response = self
            .http
            .get(url.clone())
            .send()
            .await
            .map_err(|source| PromError::unreachable(&url, source))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(PromError::Rejected {
                status: response.status().as_u16(),
                error_type: "not_ready".to_owned(),
                message: "Prometheus is not ready".to_owned(),
            })
        }
    }

    /// The label sets of the series matching `selector` with samples in `start..=end`.
    pub async fn series(
        &self,
        selector: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<Labels>, PromError> {
        let form = [
            ("match[]", selector.to_owned()),
            ("start", unix(start)),
            ("end", unix(end)),
        ];
        self.call("api/v1/series", &form).await
    }

    /// Evaluates `query` at `at` (now when `None`). A scalar result is one sample without labels.
    pub async fn instant(
        &self,
        query: &str,
        at: Option<DateTime<Utc>>,
    ) -> Result<Vec<Sample>, PromError> {
        let mut form = vec![("query", query.to_owned()), no_cache()];
        if let Some(at) = at {
            form.push(("time", unix(at)));
        }
        match self.call::<QueryData>("api/v1/query", &form).await? {
            QueryData::Vector(items) => items
                .into_iter()
                .map(|item| {
                    Ok(Sample {
                        labels: item.metric,
                        timestamp: item.value.0,
                        value: parse_value(&item.value.1)?,
                    })
                })
                .collect(),
            QueryData::Scalar((timestamp, value)) => Ok(vec![Sample {
                labels: Labels::new(),
                timestamp,
                value: parse_value(&value)?,
            }]),
            QueryData::Matrix(_) | QueryData::String(_) => Err(PromError::Unexpected(format!(
                "query {query:?} is not an instant vector or scalar"
            ))),
        }
    }

    /// Evaluates `query` over `start..=end` every `step`, split into as many requests as
    /// Prometheus' limit of 11,000 points per series needs, and merged.
    pub async fn range(
        &self,
        query: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        step: Duration,
    ) -> Result<Vec<RangeSeries>, PromError> {
        let mut merged: std::collections::BTreeMap<Labels, Vec<(f64, f64)>> = Default::default();
        for (chunk_start, chunk_end) in chunks(start, end, step) {
            let form = [
                ("query", query.to_owned()),
                ("start", unix(chunk_start)),
                ("end", unix(chunk_end)),
                ("step", format!("{}", step.as_secs_f64())),
                no_cache(),
            ];
            let QueryData::Matrix(items) =
                self.call::<QueryData>("api/v1/query_range", &form).await?
            else {
                return Err(PromError::Unexpected(format!(
                    "range query {query:?} did not return a matrix"
                )));
            };
            for item in items {
                let points = merged.entry(item.metric).or_default();
                for (timestamp, value) in item.values {
                    points.push((timestamp, parse_value(&value)?));
                }
            }
        }
        Ok(merged
            .into_iter()
            .map(|(labels, points)| RangeSeries { labels, points })
            .collect())
    }

    /// The `data` of a status endpoint (`api/v1/status/buildinfo`, ...), by GET.
    pub async fn status<T: for<'de> Deserialize<'de>>(&self, path: &str) -> Result<T, PromError> {
        self.call(path, &[]).await
    }

    async fn call<T: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
        form: &[(&str, String)],
    ) -> Result<T, PromError> {
        let url = self.url(path)?;
        self.retry
            .run(
                "prometheus_query",
                || self.call_once::<T>(url.clone(), form),
                PromError::is_transient,
            )
            .await
    }

    async fn call_once<T: for<'de> Deserialize<'de>>(
        &self,
        url: Url,
        form: &[(&str, String)],
    ) -> Result<T, PromError> {
        let unreachable = |source| PromError::unreachable(&url, source);
        // The status endpoints take no form and answer GET only; the queries are POST forms.
        let request = if form.is_empty() {
            self.http.get(url.clone())
        } else {
            self.http.post(url.clone()).form(form)
        };
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(unreachable)?;
        let envelope: Envelope<T> = serde_json::from_slice(&body).map_err(|e| {
            if status >= 400 {
                PromError::Rejected {
                    status,
                    error_type: "http".to_owned(),
                    message: String::from_utf8_lossy(&body).chars().take(500).collect(),
                }
            } else {
                PromError::Unexpected(format!("undecodable body ({e})"))
            }
        })?;
        if !envelope.warnings.is_empty() {
            tracing::warn!(warnings = ?envelope.warnings, "Prometheus returned warnings");
        }
        match (envelope.status.as_str(), envelope.data) {
            ("success", Some(data)) => Ok(data),
            _ => Err(PromError::Rejected {
                status,
                error_type: envelope.error_type.unwrap_or_else(|| "unknown".to_owned()),
                message: envelope
                    .error
                    .unwrap_or_else(|| "no error message".to_owned()),
            }),
        }
    }

    fn url(&self, path: &str) -> Result<Url, PromError> {
        let mut base = self.base.clone();
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        base.join(path)
            .map_err(|e| PromError::Unexpected(format!("bad URL path {path}: {e}")))
    }
}

/// Prometheus writes sample values as strings, including `NaN`, `+Inf` and `-Inf`.
fn parse_value(text: &str) -> Result<f64, PromError> {
    text.parse()
        .map_err(|_| PromError::Unexpected(format!("sample value {text:?} is not a number")))
}

fn unix(at: DateTime<Utc>) -> String {
    format!("{:.3}", at.timestamp_millis() as f64 / 1000.0)
}

/// Splits `start..=end` into spans of at most `MAX_POINTS_PER_QUERY - 1` steps; consecutive
/// spans do not share an evaluation time. Checked arithmetic: times near the end of chrono's
/// range end the split instead of panicking (the services bound their inputs well before).
fn chunks(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    step: Duration,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let step = chrono::Duration::from_std(step)
        .unwrap_or(chrono::Duration::seconds(60))
        .max(chrono::Duration::milliseconds(1));
    let span = step
        .checked_mul(MAX_POINTS_PER_QUERY as i32 - 1)
        .unwrap_or(chrono::Duration::MAX);
    let mut spans = Vec::new();
    let mut from = start;
    while from <= end {
        let to = from.checked_add_signed(span).map_or(end, |to| to.min(end));
        spans.push((from, to));
        match to.checked_add_signed(step) {
            Some(next) => from = next,
            None => break,
        }
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::at;

    #[test]
    fn short_ranges_are_one_request() {
        assert_eq!(
            chunks(at(0), at(3600), Duration::from_secs(60)),
            vec![(at(0), at(3600))]
        );
    }

    #[test]
    fn long_ranges_respect_the_point_limit_without_overlap() {
        let step = Duration::from_secs(60);
        let spans = chunks(at(0), at(60 * 25_000), step);
        assert_eq!(spans.len(), 3);
        let mut points = 0;
        for (i, (from, to)) in spans.iter().enumerate() {
            let n = (*to - *from).num_seconds() / 60 + 1;
            assert!(n as u64 <= MAX_POINTS_PER_QUERY, "span {i} has {n} points");
            points += n;
            if i > 0 {
                assert_eq!((*from - spans[i - 1].1).num_seconds(), 60);
            }
        }
        assert_eq!(points, 25_001);
    }

    #[test]
    fn ranges_at_the_end_of_time_split_without_overflow() {
        let end = DateTime::<Utc>::MAX_UTC;
        let start = end - chrono::Duration::hours(1);
        let spans = chunks(start, end, Duration::from_secs(60));
        assert_eq!(spans, vec![(start, end)]);
        let huge_step = chunks(start, end, Duration::from_secs(u64::MAX / 4));
        assert_eq!(huge_step, vec![(start, end)]);
    }

    #[tokio::test]
    async fn errors_name_no_credentials() {
        // A closed port: bind, note the port, close.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let base: Url = format!("http://scraper:hunter2@127.0.0.1:{port}/prom")
            .parse()
            .unwrap();
        let client = PromClient::new(base, Duration::from_secs(2))
            .unwrap()
            .with_retry(RetryPolicy::default().with_max_elapsed(Some(Duration::ZERO)));
        assert!(!format!("{client:?}").contains("hunter2"));
        for error in [
            client.ping().await.unwrap_err(),
            client.instant("up", None).await.unwrap_err(),
        ] {
            let chain = crate::admin::error_chain(&error);
            assert!(matches!(error, PromError::Unreachable { .. }), "{chain}");
            assert!(!chain.contains("hunter2"), "{chain}");
            assert!(
                chain.contains(&port.to_string()),
                "names the server: {chain}"
            );
        }
    }

    #[test]
    fn special_values_parse() {
        assert!(parse_value("NaN").unwrap().is_nan());
        assert_eq!(parse_value("+Inf").unwrap(), f64::INFINITY);
        assert_eq!(parse_value("-Inf").unwrap(), f64::NEG_INFINITY);
        assert_eq!(parse_value("1.5e3").unwrap(), 1500.0);
        assert!(parse_value("abc").is_err());
    }

    #[test]
    fn only_server_side_and_transport_failures_are_transient() {
        let rejected = |status, kind: &str| PromError::Rejected {
            status,
            error_type: kind.to_owned(),
            message: String::new(),
        };
        assert!(!rejected(400, "bad_data").is_transient());
        assert!(!rejected(422, "execution").is_transient());
        assert!(rejected(503, "unavailable").is_transient());
        assert!(rejected(503, "timeout").is_transient());
    }
}
