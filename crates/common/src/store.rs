//! The `metrics` repository, which `storage` writes and `retrieval` and `sla-manager` read; the
//! documents themselves are contracts (`contracts::document`, re-exported here).

use bson::{Bson, Document, doc};
use chrono::{DateTime, Utc};
pub use contracts::document::{
    METRICS_COLLECTION, MetricDocument, SLASET_COLLECTION, SeriesSummary, SlaDocument,
};
use futures::{Stream, TryStreamExt};
use mongodb::{
    Collection, Database, IndexModel,
    options::{FindOptions, IndexOptions},
};

use crate::{
    record::{Payload, Record},
    series::{METRIC_NAME_LABEL, SeriesId},
};

/// MongoDB's code for a duplicate key: here, an upsert whose filter did not match because the
/// stored result is newer, so the insert collided with the existing `_id`.
const DUPLICATE_KEY: i32 = 11000;

/// Server error codes that retrying cannot fix: the credentials or the user's rights are wrong
/// (UserNotFound 11, Unauthorized 13, AuthenticationFailed 18, Atlas' AtlasError 8000).
const DETERMINISTIC_CODES: [i32; 4] = [11, 13, 18, 8000];

/// Whether a failure may pass by itself (the network, a timeout, an election: retry with
/// backoff) or is deterministic (bad credentials, missing rights, a bad configuration: retrying
/// forever would hide it, so it is reported and stops the work).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureClass {
    /// Retry with backoff.
    Transient,
    /// Report; retrying cannot help.
    Deterministic,
}

/// The class of a driver error: authentication, authorization and configuration errors are
/// deterministic; everything else (network, timeouts, server selection, not primary, a write
/// concern not satisfied) is transient.
pub fn classify(error: &mongodb::error::Error) -> FailureClass {
    use mongodb::error::{ErrorKind, WriteFailure};
    let code = match error.kind.as_ref() {
        ErrorKind::Authentication { .. }
        | ErrorKind::InvalidArgument { .. }
        | ErrorKind::InvalidTlsConfig { .. }
        | ErrorKind::IncompatibleServer { .. } => return FailureClass::Deterministic,
        ErrorKind::Command(command) => command.code,
        ErrorKind::Write(WriteFailure::WriteError(write)) => write.code,
        _ => return FailureClass::Transient,
    };
    if DETERMINISTIC_CODES.contains(&code) {
        FailureClass::Deterministic
    } else {
        FailureClass::Transient
    }
}

/// A database operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database did not answer or refused the operation; retrying later may succeed.
    #[error("database operation `{operation}` failed")]
    Database {
        /// What we were doing.
        operation: &'static str,
        /// The driver's error.
        #[source]
        source: mongodb::error::Error,
    },
    /// A value could not be converted to or from BSON: a bug or a foreign document.
    #[error("document conversion failed in `{operation}`")]
    Conversion {
        /// What we were doing.
        operation: &'static str,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The database rejected some writes of a batch for a reason other than staleness.
    #[error("{count} writes rejected, first: code {code}: {message}")]
    WritesRejected {
        /// How many writes were rejected.
        count: usize,
        /// The first error's code.
        code: i32,
        /// The first error's message.
        message: String,
    },
    /// The writes were applied on the primary but the write concern was not satisfied (e.g. a
    /// failover may roll them back): the batch must be written again, its offsets not
    /// committed. Transient.
    #[error("write concern not satisfied: code {code}: {message}")]
    WriteConcern {
        /// The server's code.
        code: i32,
        /// The server's message.
        message: String,
    },
}

impl StoreError {
    /// Whether retrying may help; see [`FailureClass`].
    pub fn class(&self) -> FailureClass {
        match self {
            StoreError::Database { source, .. } => classify(source),
            StoreError::WriteConcern { .. } => FailureClass::Transient,
            StoreError::Conversion { .. } | StoreError::WritesRejected { .. } => {
                FailureClass::Deterministic
            }
        }
    }
}

impl StoreError {
    fn database(
        operation: &'static str,
    ) -> impl Fn(mongodb::error::Error) -> Self + Send + Sync + 'static {
        move |source| Self::Database { operation, source }
    }

    fn conversion<E: std::error::Error + Send + Sync + 'static>(
        operation: &'static str,
    ) -> impl FnOnce(E) -> Self {
        move |source| Self::Conversion {
            operation,
            source: Box::new(source),
        }
    }
}

/// What a batch of upserts did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UpsertSummary {
    /// Records that created a document or replaced an older result.
    pub written: usize,
    /// Records older than (or as old as) what is stored, left out.
    pub stale: usize,
}

/// The `metrics` collection.
#[derive(Debug, Clone)]
pub struct MetricsRepository {
    database: Database,
    collection: Collection<MetricDocument>,
}

impl MetricsRepository {
    /// The repository over `database`'s `metrics` collection.
    pub fn new(database: &Database) -> Self {
        Self {
            database: database.clone(),
            collection: database.collection(METRICS_COLLECTION),
        }
    }

    /// Answers when the database does.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.database
            .run_command(doc! { "ping": 1 })
            .await
            .map_err(StoreError::database("ping"))?;
        Ok(())
    }

    /// Creates the indexes the readers need (idempotent).
    pub async fn ensure_indexes(&self) -> Result<(), StoreError> {
        let by_name = IndexModel::builder()
            .keys(doc! { format!("name.{METRIC_NAME_LABEL}"): 1 })
            .options(
                IndexOptions::builder()
                    .name("by_metric_name".to_owned())
                    .build(),
            )
            .build();
        self.collection
            .create_index(by_name)
            .await
            .map_err(StoreError::database("create_index"))?;
        Ok(())
    }

    /// Writes a batch of records in one round trip, each setting only its own kind, and leaving
    /// out each one that is not newer than the stored result of its kind.
    pub async fn upsert(&self, records: &[Record]) -> Result<UpsertSummary, StoreError> {
        self.upsert_with_horizon(records, None).await
    }

    /// Like [`upsert`](Self::upsert), but a stored result computed later than `horizon` (now
    /// plus the allowed clock skew) does not count as newer: it came from a clock far ahead (or
    /// was forged, before records were checked), and would otherwise block every real update
    /// of its series until that time.
    pub async fn upsert_within(
        &self,
        records: &[Record],
        horizon: DateTime<Utc>,
    ) -> Result<UpsertSummary, StoreError> {
        self.upsert_with_horizon(records, Some(horizon)).await
    }

    async fn upsert_with_horizon(
        &self,
        records: &[Record],
        horizon: Option<DateTime<Utc>>,
    ) -> Result<UpsertSummary, StoreError> {
        if records.is_empty() {
            return Ok(UpsertSummary::default());
        }
        let updates = records
            .iter()
            .map(|record| upsert_statement(record, horizon))
            .collect::<Result<Vec<_>, _>>()?;
        let reply = self
            .database
            .run_command(
                doc! { "update": METRICS_COLLECTION, "updates": updates, "ordered": false },
            )
            .await
            .map_err(StoreError::database("upsert"))?;
        summarise_update_reply(&reply, records.len())
    }

    /// The stored results of one series.
    pub async fn find(&self, id: SeriesId) -> Result<Option<MetricDocument>, StoreError> {
        self.collection
            .find_one(doc! { "_id": id.to_string() })
            .await
            .map_err(StoreError::database("find"))
    }

    /// Every stored series, optionally only those named `metric_name`, sorted by id and
    /// streamed from the cursor so that a large listing never sits in memory at once.
    pub async fn list(
        &self,
        metric_name: Option<&str>,
    ) -> Result<impl Stream<Item = Result<SeriesSummary, StoreError>> + Send + 'static, StoreError>
    {
        let filter = match metric_name {
            Some(name) => doc! { format!("name.{METRIC_NAME_LABEL}"): name },
            None => Document::new(),
        };
        let options = FindOptions::builder()
            .projection(doc! { "_id": 1, "name": 1 })
            .sort(doc! { "_id": 1 })
            .batch_size(1000)
            .build();
        let cursor = self
            .collection
            .clone_with_type::<SeriesSummary>()
            .find(filter)
            .with_options(options)
            .await
            .map_err(StoreError::database("list"))?;
        Ok(cursor.map_err(StoreError::database("list")))
    }
    /// The stored series named `metric_name` whose metadata says they are outlying among the
    /// others of the name, sorted by id. Outliers are few by definition (a series unlike most
    /// of the others), so they are read at once.
    pub async fn outliers(&self, metric_name: &str) -> Result<Vec<MetricDocument>, StoreError> {
        let filter = doc! {
            format!("name.{METRIC_NAME_LABEL}"): metric_name,
            "metadata.anomalies.outlier.outlying": true,
        };
        let options = FindOptions::builder().sort(doc! { "_id": 1 }).build();
        self.collection
            .find(filter)
            .with_options(options)
            .await
            .map_err(StoreError::database("outliers"))?
            .try_collect()
            .await
            .map_err(StoreError::database("outliers"))
    }
}

/// `{q, u, upsert}` for one record: match the series only while its stored result of this kind
/// is older, so a stale record matches nothing and its insert collides with the `_id`.
///
/// "Older or absent" is written `{<kind>_at: {$not: {$gte: at}}}` rather than as an `$or` of
/// `$exists: false` and `$lt`: the same documents match, and SecantusDB plans the single-field
/// predicate on the `_id` lookup about ten times faster than the `$or`. With a `horizon`, a
/// stored time beyond it matches too: `{$not: {$gte: at, $lte: horizon}}`.
fn upsert_statement(
    record: &Record,
    horizon: Option<DateTime<Utc>>,
) -> Result<Document, StoreError> {
    let kind = record.kind().as_str();
    let at_field = format!("{kind}_at");
    // The raw serializer is not "human readable", so NaN and ±Inf stay BSON doubles instead of
    // the strings JSON needs (`crate::float`).
    let result = match &record.payload {
        Payload::Values { values } => bson::to_raw_document_buf(values),
        Payload::Metadata { metadata } => bson::to_raw_document_buf(metadata),
        Payload::Prediction { prediction } => bson::to_raw_document_buf(prediction),
    }
    .map_err(StoreError::conversion("upsert"))
    .and_then(|raw| Document::try_from(raw.as_ref()).map_err(StoreError::conversion("upsert")))?;
    let name = bson::to_bson(&record.name).map_err(StoreError::conversion("upsert"))?;
    let at = Bson::DateTime(bson::DateTime::from_chrono(record.computed_at));
    let mut as_new = doc! { "$gte": at.clone() };
    if let Some(horizon) = horizon {
        as_new.insert("$lte", bson::DateTime::from_chrono(horizon));
    }
    Ok(doc! {
        "q": {
            "_id": record.id.to_string(),
            &at_field: { "$not": as_new },
        },
        "u": { "$set": { "name": name, kind: result, &at_field: at } },
        "upsert": true,
    })
}

/// What an `update` reply says: per-write errors (a duplicate key is a stale record), and a
/// `writeConcernError`, which makes the whole batch a failure to retry even though the primary
/// applied it, since a failover can roll it back.
fn summarise_update_reply(reply: &Document, batch: usize) -> Result<UpsertSummary, StoreError> {
    if let Ok(concern) = reply.get_document("writeConcernError") {
        return Err(StoreError::WriteConcern {
            code: concern.get_i32("code").unwrap_or_default(),
            message: concern.get_str("errmsg").unwrap_or_default().to_owned(),
        });
    }
    let errors = reply
        .get_array("writeErrors")
        .map(|a| a.as_slice())
        .unwrap_or_default();
    let mut stale = 0;
    let mut rejected: Vec<(i32, String)> = Vec::new();
    for error in errors.iter().filter_map(Bson::as_document) {
        let code = error.get_i32("code").unwrap_or_default();
        if code == DUPLICATE_KEY {
            stale += 1;
        } else {
            rejected.push((code, error.get_str("errmsg").unwrap_or_default().to_owned()));
        }
    }
    if let Some((code, message)) = rejected.first().cloned() {
        return Err(StoreError::WritesRejected {
            count: rejected.len(),
            code,
            message,
        });
    }
    Ok(UpsertSummary {
        written: batch - stale,
        stale,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        record::{Window, Windows},
        testing::{full_metadata, labels},
    };

    fn record(payload: Payload) -> Record {
        let at = "2026-11-22T06:00:00Z".parse().unwrap();
        Record::new(labels(&[("__name__", "node_load1")]), at, payload)
    }

    fn values_record() -> Record {
        let window = Window {
            min: 0.1,
            max: 2.5,
            avg: 1.0,
            std_dev: 0.4,
            count: 60,
        };
        let (h1, h3, h12) = (Some(window), Some(window), None);
        record(Payload::Values {
            values: Windows { h1, h3, h12 },
        })
    }

    fn metadata_record() -> Record {
        record(Payload::Metadata {
            metadata: full_metadata(),
        })
    }

    #[test]
    fn upsert_sets_only_its_own_kind() {
        let statement = upsert_statement(&values_record(), None).unwrap();
        let set = statement
            .get_document("u")
            .unwrap()
            .get_document("$set")
            .unwrap();
        let mut fields: Vec<&str> = set.keys().map(String::as_str).collect();
        fields.sort();
        assert_eq!(fields, ["name", "values", "values_at"]);
        let metadata = upsert_statement(&metadata_record(), None).unwrap();
        assert!(
            metadata
                .get_document("u")
                .unwrap()
                .get_document("$set")
                .unwrap()
                .contains_key("metadata_at")
        );
    }

    #[test]
    fn a_write_concern_error_fails_the_batch() {
        let reply = doc! { "ok": 1, "n": 1, "writeConcernError": { "code": 91, "errmsg": "Replication is being shut down" } };
        let error = summarise_update_reply(&reply, 1).unwrap_err();
        assert!(
            matches!(error, StoreError::WriteConcern { code: 91, .. }),
            "{error:?}"
        );
        assert_eq!(error.class(), FailureClass::Transient);
    }

    #[test]
    fn non_finite_results_are_stored_as_doubles() {
        let mut record = values_record();
        if let Payload::Values { values } = &mut record.payload {
            values.h1.as_mut().unwrap().avg = f64::NAN;
            values.h1.as_mut().unwrap().max = f64::INFINITY;
        }
        let statement = upsert_statement(&record, None).unwrap();
        let h1 = statement
            .get_document("u")
            .unwrap()
            .get_document("$set")
            .unwrap()
            .get_document("values")
            .unwrap()
            .get_document("1h")
            .unwrap();
        assert!(h1.get_f64("avg").unwrap().is_nan());
        assert_eq!(h1.get_f64("max").unwrap(), f64::INFINITY);
    }

    #[test]
    fn duplicate_keys_count_as_stale_and_other_errors_fail_the_batch() {
        let reply = doc! { "ok": 1, "n": 2, "writeErrors": [ { "index": 1, "code": 11000, "errmsg": "dup" } ] };
        assert_eq!(
            summarise_update_reply(&reply, 3).unwrap(),
            UpsertSummary {
                written: 2,
                stale: 1
            }
        );
        let reply = doc! { "ok": 1, "writeErrors": [ { "index": 0, "code": 2, "errmsg": "bad" } ] };
        assert!(matches!(
            summarise_update_reply(&reply, 1),
            Err(StoreError::WritesRejected {
                count: 1,
                code: 2,
                ..
            })
        ));
    }
}
