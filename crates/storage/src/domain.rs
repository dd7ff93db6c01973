//! What `storage` does with a Kafka message, as pure functions and data: decoding a record,
//! and gathering records into a batch that knows which offsets it covers.

use std::collections::{BTreeMap, HashMap};

use common::{
    SeriesId,
    record::{Kind, Record},
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
    /// The database refused the record itself (not a transient failure).
    #[error("the database rejected the record")]
    RejectedByDatabase(#[source] common::store::StoreError),
}

impl Rejection {
    /// The reason as a metric label and dead-letter header.
    pub fn reason(&self) -> &'static str {
        match self {
            Rejection::Empty => "empty",
            Rejection::MalformedJson(_) => "malformed_json",
            Rejection::InvalidRecord(_) => "invalid_record",
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
