//! Reads of the `metrics` collection, each bounded by the database timeout and measured.

use std::time::{Duration, Instant};

use common::{
    SeriesId,
    store::{MetricDocument, MetricsRepository, SeriesSummary, StoreError},
};
use futures::{StreamExt, TryStreamExt, stream::BoxStream};

use crate::{domain::MetricName, instruments::Instruments};

/// A read that failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The database did not answer within the timeout.
    #[error("database operation `{operation}` got no answer within {after:?}")]
    TimedOut {
        /// What we were doing.
        operation: &'static str,
        /// The timeout.
        after: Duration,
    },
    /// The database or the driver failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The stored results, as `retrieval` reads them.
#[derive(Debug, Clone)]
pub struct ResultsRepository {
    metrics: MetricsRepository,
    timeout: Duration,
    instruments: Instruments,
}

impl ResultsRepository {
    /// Reads through `metrics`, giving up on any call after `timeout`.
    pub fn new(metrics: MetricsRepository, timeout: Duration, instruments: Instruments) -> Self {
        Self {
            metrics,
            timeout,
            instruments,
        }
    }

    async fn bounded<T>(
        &self,
        operation: &'static str,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, ReadError> {
        let started = Instant::now();
        let result = match tokio::time::timeout(self.timeout, call).await {
            Ok(result) => result.map_err(ReadError::from),
            Err(_) => Err(ReadError::TimedOut {
                operation,
                after: self.timeout,
            }),
        };
        let outcome = if result.is_ok() { "ok" } else { "error" };
        self.instruments
            .database_seconds
            .with_label_values(&[operation, outcome])
            .observe(started.elapsed().as_secs_f64());
        result
    }

    /// Answers when the database does.
    pub async fn ping(&self) -> Result<(), ReadError> {
        self.bounded("ping", self.metrics.ping()).await
    }

    /// The stored results of one series.
    #[tracing::instrument(name = "repository.find", skip(self), fields(series_id = %id))]
    pub async fn find(&self, id: SeriesId) -> Result<Option<MetricDocument>, ReadError> {
        self.bounded("find", self.metrics.find(id)).await
    }

    /// The series named `name` that their stored metadata says are outlying, sorted by id.
    #[tracing::instrument(name = "repository.outliers", skip(self), fields(metric_name = name.as_str()))]
    pub async fn outliers(&self, name: &MetricName) -> Result<Vec<MetricDocument>, ReadError> {
        self.bounded("outliers", self.metrics.outliers(name.as_str()))
            .await
    }

    /// Every series (only those named `name` when given), sorted by id, as a stream read from
    /// the cursor batch by batch. Opening the cursor is bounded by the timeout; a failure while
    /// streaming ends the stream with the error.
    #[tracing::instrument(name = "repository.list", skip(self), fields(metric_name = name.map(MetricName::as_str)))]
    pub async fn list(
        &self,
        name: Option<&MetricName>,
    ) -> Result<BoxStream<'static, Result<SeriesSummary, ReadError>>, ReadError> {
        let stream = self
            .bounded("list", self.metrics.list(name.map(MetricName::as_str)))
            .await?;
        let listed = self.instruments.listed_series.clone();
        Ok(stream
            .map_err(ReadError::from)
            .inspect_ok(move |_| listed.inc())
            .boxed())
    }
}
