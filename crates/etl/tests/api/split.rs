//! A metric name with more series than one aggregate query may cover (`ETL_SERIES_PER_QUERY`),
//! against the real Prometheus: its series are split over several queries and every one gets
//! the windows an unsplit query gives; a part whose queries fail once is tried again within the
//! cycle, and a part that keeps failing loses only its own series.
//!
//! The failures are injected by a proxy in front of the real Prometheus that answers the queries
//! of one part with Prometheus' own refusal of a too-large query (422, `execution`), which the
//! client does not retry; every other request goes through to Prometheus.

use std::{
    collections::{BTreeSet, HashMap},
    net::{Ipv4Addr, SocketAddr},
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    body::Bytes,
    http::{HeaderMap, Method, StatusCode, Uri},
    response::IntoResponse,
};
use chrono::{DateTime, TimeDelta, Utc};
use common::{
    SeriesId, promql::PromClient, record::Windows, series::Labels, testing::prometheus_url,
};
use etl::{discovery::Discovery, shard::Shard};
use tokio::net::TcpListener;

use crate::helpers::{SELECTOR, manifest};

/// The label that tells the `synthetic_bulk` series apart.
const BULK_LABEL: &str = "shard";

/// Fails the aggregate queries whose `shard` regex lists `value` and whose text holds
/// `function`, `times` times in all.
#[derive(Default)]
struct Fault {
    value: String,
    function: String,
    times: usize,
    /// The values of the regexes of the queries failed.
    failed: BTreeSet<String>,
    /// The distinct `shard` regexes of the bulk name's queries seen.
    parts: BTreeSet<String>,
}

/// A proxy to the real Prometheus that injects [`Fault`].
struct Proxy {
    port: u16,
    fault: Arc<Mutex<Fault>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Proxy {
    async fn start(fault: Fault) -> Self {
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .await
            .expect("a loopback port");
        let port = listener.local_addr().expect("an address").port();
        let fault = Arc::new(Mutex::new(fault));
        let (state, http) = (fault.clone(), reqwest::Client::new());
        let target = prometheus_url();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let (state, http, target) = (state.clone(), http.clone(), target.clone());
                async move { forward(&state, &http, &target, method, uri, headers, body).await }
            },
        );
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("the proxy serves");
        });
        Self {
            port,
            fault,
            server,
        }
    }

    fn url(&self) -> url::Url {
        format!("http://127.0.0.1:{}", self.port).parse().unwrap()
    }
}

/// The values `shard=~"a|b"` lists in `query`, if it has such a matcher.
fn shard_values(query: &str) -> Option<Vec<String>> {
    let start = query.find(&format!("{BULK_LABEL}=~\""))? + BULK_LABEL.len() + 3;
    let end = start + query[start..].find('"')?;
    Some(query[start..end].split('|').map(str::to_owned).collect())
}

async fn forward(
    fault: &Mutex<Fault>,
    http: &reqwest::Client,
    target: &url::Url,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    let query: Option<String> = url::form_urlencoded::parse(&body)
        .find(|(key, _)| key == "query")
        .map(|(_, value)| value.into_owned());
    if let Some(values) = query.as_deref().and_then(shard_values) {
        let mut fault = fault.lock().unwrap();
        fault.parts.insert(values.join("|"));
        let hit = values.contains(&fault.value)
            && query
                .as_deref()
                .is_some_and(|q| q.contains(&fault.function));
        if fault.times > 0 && hit {
            fault.times -= 1;
            fault.failed.extend(values);
            let refusal = r#"{"status":"error","errorType":"execution","error":"query processing would load too many samples into memory in query execution"}"#;
            return (StatusCode::UNPROCESSABLE_ENTITY, refusal).into_response();
        }
    }
    let url = target
        .join(uri.path_and_query().map_or("/", |p| p.as_str()))
        .unwrap();
    let mut request = http.request(method, url).body(body);
    if let Some(kind) = headers.get("content-type") {
        request = request.header("content-type", kind.as_bytes());
    }
    match request.send().await {
        Ok(answer) => {
            let status = StatusCode::from_u16(answer.status().as_u16()).unwrap();
            let body = answer.bytes().await.unwrap_or_default();
            (status, [("content-type", "application/json")], body).into_response()
        }
        Err(error) => (StatusCode::BAD_GATEWAY, error.to_string()).into_response(),
    }
}

/// Ten minutes before the history's end, the series then, and the windows of every series as
/// the unsplit default queries give them.
async fn baseline() -> (
    DateTime<Utc>,
    Vec<Labels>,
    HashMap<SeriesId, (Labels, Windows)>,
) {
    let manifest = manifest();
    assert!(manifest.bulk.count > 10, "the test history has bulk series");
    let at = DateTime::from_timestamp(manifest.config.end - 600, 0).unwrap();
    let client = PromClient::new(prometheus_url(), Duration::from_secs(30)).unwrap();
    let discovery = Discovery::new(client, SELECTOR, 200, 4);
    let series = discovery
        .series(at - TimeDelta::hours(12), at)
        .await
        .unwrap();
    let whole = discovery
        .aggregates(&series, Shard::WHOLE, at)
        .await
        .unwrap();
    assert!(whole.failures.is_empty());
    assert_eq!(whole.series.len(), manifest.dataset().series().len());
    (at, series, whole.series)
}

/// The aggregates through `proxy`, at most 5 series a query.
async fn split_through(
    proxy: &Proxy,
    series: &[Labels],
    at: DateTime<Utc>,
) -> etl::discovery::Aggregates {
    let client = PromClient::new(proxy.url(), Duration::from_secs(30)).unwrap();
    Discovery::new(client, SELECTOR, 200, 4)
        .with_series_per_query(5)
        .aggregates(series, Shard::WHOLE, at)
        .await
        .expect("the step itself succeeds")
}

fn bulk_value(labels: &Labels) -> Option<&str> {
    (labels.get("__name__").map(String::as_str) == Some(synthetic::BULK_NAME))
        .then(|| labels.get(BULK_LABEL).map(String::as_str))
        .flatten()
}

#[tokio::test]
async fn a_name_over_the_limit_is_split_and_every_series_gets_its_windows() {
    let (at, series, whole) = baseline().await;
    let bulk = series.iter().filter_map(bulk_value).count();
    let proxy = Proxy::start(Fault::default()).await;

    let split = split_through(&proxy, &series, at).await;

    // Several parts of at most 5 series, together every bulk series once.
    let parts = proxy.fault.lock().unwrap().parts.clone();
    assert_eq!(parts.len(), bulk.div_ceil(5), "{parts:?}");
    let listed: Vec<&str> = parts.iter().flat_map(|p| p.split('|')).collect();
    assert!(parts.iter().all(|p| p.split('|').count() <= 5), "{parts:?}");
    assert_eq!(listed.len(), bulk);
    assert_eq!(listed.iter().collect::<BTreeSet<_>>().len(), bulk);
    // The same windows as the unsplit queries, for every series.
    assert!(split.failures.is_empty());
    assert_eq!(split.series, whole);
}

/// The unsplit windows, and the split ones with `times` failures of the queries of the part
/// holding `shard="3"` whose text holds `function`.
async fn failing(
    function: &str,
    times: usize,
) -> (
    HashMap<SeriesId, (Labels, Windows)>,
    etl::discovery::Aggregates,
    Proxy,
) {
    let (at, series, whole) = baseline().await;
    let fault = Fault {
        value: "3".to_owned(),
        function: function.to_owned(),
        times,
        ..Fault::default()
    };
    let proxy = Proxy::start(fault).await;
    let split = split_through(&proxy, &series, at).await;
    (whole, split, proxy)
}

#[tokio::test]
async fn a_part_that_fails_once_is_retried_within_the_cycle() {
    // Each of the part's 15 queries (5 operations x 3 slices) fails its first attempt.
    let (whole, split, proxy) = failing("", 15).await;

    let fault = proxy.fault.lock().unwrap();
    assert_eq!(fault.times, 0, "every query of the part failed once");
    assert!(split.failures.is_empty(), "{:?}", split.failures);
    assert_eq!(split.series, whole);
}

#[tokio::test]
async fn a_part_that_keeps_failing_loses_only_its_own_series() {
    // Only the part's count queries fail: its other answers must not make windows either.
    let (whole, split, proxy) = failing("count_over_time", usize::MAX).await;

    // One failure, for the one part; its series are missing, not half-made, and no other.
    assert_eq!(split.failures.len(), 1, "{:?}", split.failures);
    let lost = proxy.fault.lock().unwrap().failed.clone();
    assert!((1..=5).contains(&lost.len()), "{lost:?}");
    let mut expected = whole.clone();
    expected.retain(|_, (labels, _)| !bulk_value(labels).is_some_and(|v| lost.contains(v)));
    assert_eq!(expected.len(), whole.len() - lost.len());
    assert_eq!(split.series, expected);
}
