//! The service's own metrics, registered in the registry that `startup` creates (served on the
//! admin port). Request latency per route comes from `common::http::HttpMetrics`.

use prometheus::{HistogramOpts, HistogramVec, IntCounter, Registry};

/// Counters and histograms of `retrieval`.
#[derive(Debug, Clone)]
pub struct Instruments {
    /// `retrieval_database_request_duration_seconds{operation, outcome}`: time of each database
    /// call (operation: find, list, ping; outcome: ok, error).
    pub database_seconds: HistogramVec,
    /// `retrieval_prometheus_query_duration_seconds{outcome}`: time of each aggregation query
    /// to the target Prometheus.
    pub prometheus_seconds: HistogramVec,
    /// `retrieval_listed_series_total`: series sent by `GET /metrics`.
    pub listed_series: IntCounter,
}

const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

impl Instruments {
    /// Creates the instruments and registers them in `registry`.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let database_seconds = HistogramVec::new(
            HistogramOpts::new(
                "retrieval_database_request_duration_seconds",
                "Time of a database call.",
            )
            .buckets(BUCKETS.to_vec()),
            &["operation", "outcome"],
        )?;
        let prometheus_seconds = HistogramVec::new(
            HistogramOpts::new(
                "retrieval_prometheus_query_duration_seconds",
                "Time of an aggregation query to the target Prometheus.",
            )
            .buckets(BUCKETS.to_vec()),
            &["outcome"],
        )?;
        let listed_series = IntCounter::new(
            "retrieval_listed_series_total",
            "Series sent by GET /metrics.",
        )?;
        registry.register(Box::new(database_seconds.clone()))?;
        registry.register(Box::new(prometheus_seconds.clone()))?;
        registry.register(Box::new(listed_series.clone()))?;
        Ok(Self {
            database_seconds,
            prometheus_seconds,
            listed_series,
        })
    }
}
