//! What `storage` does with a Kafka message, as pure functions and data: decoding a record,
//! and gathering records into a batch that knows which offsets it covers.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, TimeDelta, Utc};
use common::{
    SeriesId,
    record::{Kind, Payload, Record},
};

/// Where a message sits in its topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// The partition.
    pub partition: i32,
    /// The message's offset in it.
    pub offset: i64,
}

/// Why a message cannot be stored. Each reason is a bounded metric label.
#[derive(Debug, thiserror::Error)]
pub enum Rejection {
    /// The message has no value.
    #[error("the message has no payload")]
    Empty,
    /// The value is not JSON.
    #[error("the payload is not JSON")]
    MalformedJson(#[source] serde_json::Error),
    /// The value is JSON, but not a record (unknown kind, missing id, wrong field type...).
    #[error("the payload is not a valid record")]
    InvalidRecord(#[source] serde_json::Error),
    /// The record decodes but cannot be trusted (see [`validate`]).
    #[error("the record is not acceptable")]
    Untrusted(#[source] Untrusted),
    /// The database refused the record itself (not a transient failure).
    #[error("the database rejected the record")]
    RejectedByDatabase(#[source] common::store::StoreError),
}

/// Why a decoded record is not stored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Untrusted {
    /// Its id is not the fingerprint of its labels: it would overwrite another series.
    #[error("id {id} is not the fingerprint of its labels ({expected})")]
    IdMismatch {
        /// The record's id.
        id: SeriesId,
        /// The fingerprint of its labels.
        expected: SeriesId,
    },
    /// It claims to be computed later than now plus the allowed clock skew: stored, it would
    /// make every real update of its series look stale.
    #[error("computed_at {computed_at} is later than now plus {skew_seconds} s of clock skew")]
    FromTheFuture {
        /// The record's time.
        computed_at: DateTime<Utc>,
        /// The allowed skew.
        skew_seconds: i64,
    },
    /// It is larger than any record the etl writes.
    #[error("{what} is {got}, more than the bound of {bound}")]
    Oversized {
        /// What is too large.
        what: &'static str,
        /// Its size.
        got: usize,
        /// The bound.
        bound: usize,
    },
}

/// The bounds a record must keep. The etl's records are far within them: a Prometheus series
/// has a few dozen labels at most, the forecast 10 points, the autocorrelation a few dozen lags.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// How far in the future `computed_at` may be (the etl's clock ahead of ours).
    pub max_clock_skew: TimeDelta,
    /// Labels per series.
    pub max_labels: usize,
    /// Bytes of a label name or value.
    pub max_label_bytes: usize,
    /// Predicted points, or autocorrelation lags.
    pub max_values: usize,
}

impl Limits {
    /// Labels per series.
    pub const MAX_LABELS: usize = 128;
    /// Bytes of a label name or value.
    pub const MAX_LABEL_BYTES: usize = 4096;
    /// Predicted points or autocorrelation lags.
    pub const MAX_VALUES: usize = 10_000;

    /// The default bounds with `max_clock_skew`.
    pub fn with_skew(max_clock_skew: TimeDelta) -> Self {
        Self {
            max_clock_skew,
            max_labels: Self::MAX_LABELS,
            max_label_bytes: Self::MAX_LABEL_BYTES,
            max_values: Self::MAX_VALUES,
        }
    }
}

/// Checks what the decoder cannot: the id is the fingerprint of the labels, `computed_at` is
/// not later than `now` plus the skew, and the record keeps the size bounds.
pub fn validate(record: &Record, now: DateTime<Utc>, limits: &Limits) -> Result<(), Untrusted> {
    let bound = |what, got: usize, bound: usize| {
        if got > bound {
            Err(Untrusted::Oversized { what, got, bound })
        } else {
            Ok(())
        }
    };
    bound("the label count", record.name.len(), limits.max_labels)?;
    let longest = record
        .name
        .iter()
        .map(|(name, value)| name.len().max(value.len()))
        .max()
        .unwrap_or(0);
    bound("the longest label", longest, limits.max_label_bytes)?;
    let values = match &record.payload {
        Payload::Values { .. } => 0,
        Payload::Metadata { metadata } => {
            metadata.autocorrelation.as_ref().map_or(0, |a| a.len())
                + metadata
                    .anomalies
                    .as_ref()
                    .map_or(0, |a| a.changepoints.len())
        }
        Payload::Prediction { prediction } => prediction.values.len(),
    };
    bound("the number of values", values, limits.max_values)?;
    if let Payload::Prediction { prediction } = &record.payload {
        bound(
            "the model name",
            prediction.model.len(),
            limits.max_label_bytes,
        )?;
    }
    let outlier = match &record.payload {
        Payload::Metadata { metadata } => {
            metadata.anomalies.as_ref().and_then(|a| a.outlier.as_ref())
        }
        _ => None,
    };
    if let Some(outlier) = outlier {
        bound(
            "the outlier method",
            outlier.method.len(),
            limits.max_label_bytes,
        )?;
    }
    let expected = SeriesId::of(&record.name);
    if record.id != expected {
        return Err(Untrusted::IdMismatch {
            id: record.id,
            expected,
        });
    }
    if record.computed_at > now + limits.max_clock_skew {
        return Err(Untrusted::FromTheFuture {
            computed_at: record.computed_at,
            skew_seconds: limits.max_clock_skew.num_seconds(),
        });
    }
    Ok(())
}

impl Rejection {
    /// The reason as a metric label and dead-letter header.
    pub fn reason(&self) -> &'static str {
        match self {
            Rejection::Empty => "empty",
            Rejection::MalformedJson(_) => "malformed_json",
            Rejection::InvalidRecord(_) => "invalid_record",
            Rejection::Untrusted(Untrusted::IdMismatch { .. }) => "id_mismatch",
            Rejection::Untrusted(Untrusted::FromTheFuture { .. }) => "future_computed_at",
            Rejection::Untrusted(Untrusted::Oversized { .. }) => "oversized",
            Rejection::RejectedByDatabase(_) => "rejected_by_database",
        }
    }
}

/// Decodes a message value into a record.
pub fn decode(payload: Option<&[u8]>) -> Result<Record, Rejection> {
    let payload = payload.filter(|p| !p.is_empty()).ok_or(Rejection::Empty)?;
    serde_json::from_slice(payload).map_err(|error| match error.classify() {
        serde_json::error::Category::Data => Rejection::InvalidRecord(error),
        _ => Rejection::MalformedJson(error),
    })
}

/// Decodes a message value and checks the record ([`validate`]).
pub fn accept(
    payload: Option<&[u8]>,
    now: DateTime<Utc>,
    limits: &Limits,
) -> Result<Record, Rejection> {
    let record = decode(payload)?;
    validate(&record, now, limits).map_err(Rejection::Untrusted)?;
    Ok(record)
}

/// A record waiting in a batch, with where it came from.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The record.
    pub record: Record,
    /// Its message's position.
    pub position: Position,
}

/// Records gathered for one write, at most one per series and kind (the newest), and the
/// offsets that are safe to commit once they are written.
#[derive(Debug, Default)]
pub struct Batch {
    newest: HashMap<(SeriesId, Kind), Pending>,
    next_offsets: BTreeMap<i32, i64>,
    messages: usize,
    superseded: BTreeMap<Kind, u64>,
}

impl Batch {
    /// Adds a decoded record. A record no newer than one already in the batch for the same
    /// series and kind is superseded here, exactly as the database would skip it.
    pub fn push(&mut self, record: Record, position: Position) {
        self.cover(position);
        let kind = record.kind();
        let pending = Pending { record, position };
        match self.newest.entry((pending.record.id, kind)) {
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(pending);
            }
            std::collections::hash_map::Entry::Occupied(mut slot) => {
                if pending.record.computed_at > slot.get().record.computed_at {
                    slot.insert(pending);
                }
                *self.superseded.entry(kind).or_default() += 1;
            }
        }
    }

    /// Counts a message that needs no write (it went to the dead-letter topic), so that its
    /// offset is committed with the batch.
    pub fn skip(&mut self, position: Position) {
        self.cover(position);
    }

    fn cover(&mut self, position: Position) {
        self.messages += 1;
        let next = self
            .next_offsets
            .entry(position.partition)
            .or_insert(position.offset + 1);
        *next = (*next).max(position.offset + 1);
    }

    /// Messages in the batch, records and skipped ones alike.
    pub fn len(&self) -> usize {
        self.messages
    }

    /// Whether no message was added.
    pub fn is_empty(&self) -> bool {
        self.messages == 0
    }

    /// The batch taken apart: the records to write grouped by kind (each group ordered by
    /// position), the offset to commit per partition, and how many records were superseded
    /// per kind.
    pub fn into_parts(self) -> BatchParts {
        let mut by_kind: BTreeMap<Kind, Vec<Pending>> = BTreeMap::new();
        for pending in self.newest.into_values() {
            by_kind
                .entry(pending.record.kind())
                .or_default()
                .push(pending);
        }
        for group in by_kind.values_mut() {
            group.sort_by_key(|p| (p.position.partition, p.position.offset));
        }
        BatchParts {
            by_kind,
            next_offsets: self.next_offsets,
            superseded: self.superseded,
        }
    }
}

/// See [`Batch::into_parts`].
#[derive(Debug)]
pub struct BatchParts {
    /// The records to write, per kind.
    pub by_kind: BTreeMap<Kind, Vec<Pending>>,
    /// Per partition, the offset after the last message of the batch.
    pub next_offsets: BTreeMap<i32, i64>,
    /// Per kind, the records left out because a newer one of the same series was in the batch.
    pub superseded: BTreeMap<Kind, u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Duration, Utc};
    use common::{
        Labels,
        record::{Payload, Windows},
    };

    fn at(minutes: i64) -> DateTime<Utc> {
        "2026-11-22T06:00:00Z".parse::<DateTime<Utc>>().unwrap() + Duration::minutes(minutes)
    }

    fn record(name: &str, minutes: i64) -> Record {
        let labels: Labels = [("__name__".to_owned(), name.to_owned())].into();
        Record::new(
            labels,
            at(minutes),
            Payload::Values {
                values: Windows::default(),
            },
        )
    }

    fn position(partition: i32, offset: i64) -> Position {
        Position { partition, offset }
    }

    #[test]
    fn decoding_tells_bad_json_from_bad_records() {
        let good = serde_json::to_vec(&record("up", 0)).unwrap();
        assert_eq!(decode(Some(&good)).unwrap(), record("up", 0));
        assert_eq!(decode(None).unwrap_err().reason(), "empty");
        assert_eq!(decode(Some(b"")).unwrap_err().reason(), "empty");
        assert_eq!(
            decode(Some(b"{not json")).unwrap_err().reason(),
            "malformed_json"
        );
        let mut unknown_kind: serde_json::Value = serde_json::from_slice(&good).unwrap();
        unknown_kind["kind"] = "weather".into();
        assert_eq!(
            decode(Some(&serde_json::to_vec(&unknown_kind).unwrap()))
                .unwrap_err()
                .reason(),
            "invalid_record"
        );
        let mut missing_id: serde_json::Value = serde_json::from_slice(&good).unwrap();
        missing_id.as_object_mut().unwrap().remove("id");
        assert_eq!(
            decode(Some(&serde_json::to_vec(&missing_id).unwrap()))
                .unwrap_err()
                .reason(),
            "invalid_record"
        );
    }

    fn limits() -> Limits {
        Limits::with_skew(TimeDelta::minutes(5))
    }

    #[test]
    fn a_record_whose_id_is_not_its_fingerprint_is_refused() {
        let mut forged = record("up", 0);
        forged.id = SeriesId::of(&[("__name__".to_owned(), "other".to_owned())].into());
        let error = validate(&forged, at(10), &limits()).unwrap_err();
        assert!(matches!(error, Untrusted::IdMismatch { .. }), "{error}");
        assert_eq!(Rejection::Untrusted(error).reason(), "id_mismatch");
        assert_eq!(validate(&record("up", 0), at(10), &limits()), Ok(()));
    }

    #[test]
    fn computed_at_may_lead_now_by_the_skew_and_no_more() {
        let now = at(0);
        assert_eq!(validate(&record("up", 5), now, &limits()), Ok(()));
        let error = validate(&record("up", 6), now, &limits()).unwrap_err();
        assert!(matches!(error, Untrusted::FromTheFuture { .. }), "{error}");
        let year_2100 = "2100-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let minutes = (year_2100 - at(0)).num_minutes();
        assert!(validate(&record("up", minutes), now, &limits()).is_err());
    }

    #[test]
    fn oversized_records_are_refused() {
        let mut labels: Labels = (0..200)
            .map(|i| (format!("l{i}"), "v".to_owned()))
            .collect();
        labels.insert("__name__".to_owned(), "up".to_owned());
        let many = Record::new(
            labels,
            at(0),
            Payload::Values {
                values: Windows::default(),
            },
        );
        // What bound a record breaks.
        let broken = |record: &Record| match validate(record, at(0), &limits()) {
            Err(Untrusted::Oversized { what, .. }) => what,
            other => panic!("not oversized: {other:?}"),
        };
        assert_eq!(broken(&many), "the label count");
        // Changepoints count as values of the metadata; the outlier method is bounded as a name.
        let labels: Labels = [("__name__".to_owned(), "up".to_owned())].into();
        let mut metadata = common::testing::full_metadata();
        let anomalies = metadata.anomalies.as_mut().unwrap();
        anomalies.changepoints = vec![anomalies.changepoints[0]; limits().max_values + 1];
        let changes = Record::new(labels.clone(), at(0), Payload::Metadata { metadata });
        assert_eq!(broken(&changes), "the number of values");
        let mut metadata = common::testing::full_metadata();
        let anomalies = metadata.anomalies.as_mut().unwrap();
        anomalies.outlier.as_mut().unwrap().method = "m".repeat(limits().max_label_bytes + 1);
        let method = Record::new(labels, at(0), Payload::Metadata { metadata });
        assert_eq!(broken(&method), "the outlier method");
        let long: Labels = [("__name__".to_owned(), "x".repeat(5000))].into();
        let long = Record::new(
            long,
            at(0),
            Payload::Values {
                values: Windows::default(),
            },
        );
        assert!(validate(&long, at(0), &limits()).is_err());
    }

    #[test]
    fn the_newest_record_per_series_and_kind_wins_whatever_the_order() {
        let mut batch = Batch::default();
        batch.push(record("a", 5), position(0, 10));
        batch.push(record("a", 3), position(0, 11));
        batch.push(record("a", 7), position(1, 4));
        batch.push(record("b", 1), position(0, 12));
        assert_eq!(batch.len(), 4);
        let parts = batch.into_parts();
        let values = &parts.by_kind[&Kind::Values];
        assert_eq!(values.len(), 2);
        let a = values
            .iter()
            .find(|p| p.record.name["__name__"] == "a")
            .unwrap();
        assert_eq!((a.record.computed_at, a.position), (at(7), position(1, 4)));
        assert_eq!(parts.superseded[&Kind::Values], 2);
    }

    #[test]
    fn a_tie_keeps_the_first_record_as_the_database_would() {
        let mut batch = Batch::default();
        batch.push(record("a", 5), position(0, 1));
        batch.push(record("a", 5), position(0, 2));
        let parts = batch.into_parts();
        assert_eq!(parts.by_kind[&Kind::Values][0].position, position(0, 1));
    }

    #[test]
    fn offsets_to_commit_cover_every_message_including_skipped_ones() {
        let mut batch = Batch::default();
        batch.push(record("a", 1), position(0, 10));
        batch.skip(position(0, 11));
        batch.push(record("b", 1), position(2, 3));
        batch.skip(position(2, 1));
        assert_eq!(batch.len(), 4);
        let parts = batch.into_parts();
        assert_eq!(parts.next_offsets, BTreeMap::from([(0, 12), (2, 4)]));
    }
}
