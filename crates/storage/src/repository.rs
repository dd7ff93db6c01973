//! The `metrics` collection as `storage` uses it: `common`'s [`MetricsRepository`] with each
//! failure sorted into "the database is away, try again" and "this record is refused".

use common::{
    record::Record,
    retry::RetryPolicy,
    store::{FailureClass, MetricsRepository, StoreError, UpsertSummary},
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
    /// The database refuses this service, not a record (bad credentials, missing rights, a bad
    /// configuration): retrying forever would hide it, so it is reported and stops the service.
    #[error("the database refuses this service")]
    Fatal(#[source] StoreError),
}

impl WriteError {
    fn from_store(error: StoreError) -> Self {
        match (&error, error.class()) {
            (StoreError::Database { .. }, FailureClass::Deterministic) => WriteError::Fatal(error),
            (StoreError::Database { .. } | StoreError::WriteConcern { .. }, _) => {
                WriteError::Unavailable(error)
            }
            (StoreError::Conversion { .. } | StoreError::WritesRejected { .. }, _) => {
                WriteError::Refused(error)
            }
        }
    }
}

/// Writes batches of records into `metrics`.
#[derive(Debug, Clone)]
pub struct MetricsWriter {
    repository: MetricsRepository,
    max_clock_skew: chrono::TimeDelta,
}

impl MetricsWriter {
    /// A writer over `repository`; a stored result more than `max_clock_skew` in the future
    /// does not block a real update.
    pub fn new(repository: MetricsRepository, max_clock_skew: chrono::TimeDelta) -> Self {
        Self {
            repository,
            max_clock_skew,
        }
    }

    /// Upserts `records` in one round trip (a stale record is skipped, not an error): the one
    /// place storage writes a batch.
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
        let horizon = chrono::Utc::now() + self.max_clock_skew;
        self.repository
            .upsert_within(records, horizon)
            .await
            .map_err(WriteError::from_store)
    }

    /// Creates the indexes, retrying while the database is unavailable; `Ok(false)` if
    /// cancelled first, an error when the database refuses this service for good.
    #[tracing::instrument(name = "ensure_indexes", skip_all)]
    pub async fn ensure_indexes(
        &self,
        retry: &RetryPolicy,
        token: &CancellationToken,
    ) -> Result<bool, StoreError> {
        let forever = retry.clone().with_max_elapsed(None);
        let transient = |error: &StoreError| error.class() == FailureClass::Transient;
        tokio::select! {
            _ = token.cancelled() => Ok(false),
            // With no time limit, `run` returns on success or on a deterministic error.
            result = forever.run("ensure_indexes", || self.repository.ensure_indexes(), transient) => {
                result.map(|()| true)
            }
        }
    }

    /// Answers when the database does.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.repository.ping().await
    }
}
