//! The `metrics` collection as `storage` uses it: `common`'s [`MetricsRepository`] with each
//! failure sorted into "the database is away, try again" and "this record is refused".

use common::{
    record::Record,
    retry::RetryPolicy,
    store::{MetricsRepository, StoreError, UpsertSummary},
};
use tokio_util::sync::CancellationToken;

/// How a write failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The database did not answer or failed the whole operation: retry the same records.
    #[error("the database is unavailable")]
    Unavailable(#[source] StoreError),
    /// Something in the records was refused (it cannot be converted, or the database rejected
    /// it): retrying the same records cannot help.
    #[error("the database refused records of the batch")]
    Refused(#[source] StoreError),
}

/// Writes batches of records into `metrics`.
#[derive(Debug, Clone)]
pub struct MetricsWriter {
    repository: MetricsRepository,
}

impl MetricsWriter {
    /// A writer over `repository`.
    pub fn new(repository: MetricsRepository) -> Self {
        Self { repository }
    }

    /// Upserts `records` in one round trip (a stale record is skipped, not an error).
    #[tracing::instrument(name = "upsert", skip_all, fields(records = records.len()))]
    pub async fn write(&self, records: &[Record]) -> Result<UpsertSummary, WriteError> {
        // A mutation run of reliability/ (feature `fault-injection`, FAULT_STORAGE_DROP_PERCENT):
        // some records are left out, yet the batch succeeds and its offsets are committed.
        #[cfg(feature = "fault-injection")]
        let kept: Vec<Record> = records
            .iter()
            .filter(|record| {
                let drop = common::fault::storage_drops_next();
                if drop {
                    tracing::warn!(series_id = %record.id, kind = %record.kind(), "fault injection: record dropped");
                }
                !drop
            })
            .cloned()
            .collect();
        #[cfg(feature = "fault-injection")]
        let records = kept.as_slice();
        self.repository
            .upsert(records)
            .await
            .map_err(|error| match error {
                StoreError::Database { .. } => WriteError::Unavailable(error),
                StoreError::Conversion { .. } | StoreError::WritesRejected { .. } => {
                    WriteError::Refused(error)
                }
            })
    }

    /// Creates the indexes, retrying until the database answers; `false` if cancelled first.
    #[tracing::instrument(name = "ensure_indexes", skip_all)]
    pub async fn ensure_indexes(&self, retry: &RetryPolicy, token: &CancellationToken) -> bool {
        let forever = retry.clone().with_max_elapsed(None);
        tokio::select! {
            _ = token.cancelled() => false,
            result = forever.run("ensure_indexes", || self.repository.ensure_indexes(), |_| true) => {
                // With no time limit and every error retryable, `run` returns only on success.
                result.is_ok()
            }
        }
    }

    /// Answers when the database does.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.repository.ping().await
    }
}
