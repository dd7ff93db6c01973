//! Accounting of the records in the topic, by identity: what became of each one in the database
//! (loss), and who produced it under which lease (leaders). Pure: the records, offsets and
//! stored timestamps come from [`crate::topic`].
//!
//! A record's identity is (series id, kind, computed_at to the millisecond, as MongoDB keeps
//! it). The database keeps only the newest result of each (series, kind), so a record is
//! - *written* when the stored result of its series and kind has its computed_at,
//! - *superseded* when the stored one is newer (a later record of the same series and kind),
//! - *dead-lettered* when it is in the dead-letter topic and not written,
//! - *lost* otherwise.
//!
//! A superseded record cannot be told apart from one dropped before a newer one was written,
//! so [`Ledger::observe`] also checks, at every look, that each record the consumer group has
//! committed is written, superseded or dead-lettered: a dropped record is caught at the first
//! look after its commit, as long as no newer record of its series and kind was written first.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use common::{SeriesId, record::Kind};

/// What makes a record itself, as the database can see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Identity {
    /// The series.
    pub id: SeriesId,
    /// The kind of result.
    pub kind: Kind,
    /// When it was computed, in milliseconds since the epoch.
    pub computed_at_ms: i64,
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = chrono::DateTime::from_timestamp_millis(self.computed_at_ms)
            .map_or_else(|| self.computed_at_ms.to_string(), |at| at.to_rfc3339());
        write!(f, "{} {} {}", self.id, self.kind, at)
    }
}

/// Who produced a record, from its headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Producer {
    /// `etl-replica`.
    pub replica: String,
    /// `etl-shard`, e.g. `1/2`.
    pub shard: String,
    /// `etl-term`: the lease's fencing term.
    pub term: i64,
    /// `etl-slot`: the cycle's scheduled slot.
    pub slot: String,
}

/// One message of the topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicRecord {
    /// Its partition.
    pub partition: i32,
    /// Its offset.
    pub offset: i64,
    /// Its identity; none when the payload is not a record.
    pub identity: Option<Identity>,
    /// Its producer; none when a header is missing or malformed.
    pub producer: Option<Producer>,
    /// Put there by `record-inject` (its `fault-inject` header), not by an etl.
    pub injected: bool,
}

/// The newest stored computed_at (milliseconds) of each series and kind.
pub type Stored = BTreeMap<(SeriesId, Kind), i64>;

/// What became of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// The database holds it.
    Written,
    /// The database holds a newer result of its series and kind.
    Superseded,
    /// It went to the dead-letter topic.
    DeadLettered,
    /// None of the above.
    Lost,
}

/// The fate of `identity` given the database and the dead letters.
pub fn fate(identity: &Identity, stored: &Stored, dead: &BTreeSet<Identity>) -> Fate {
    match stored.get(&(identity.id, identity.kind)) {
        Some(&at) if at == identity.computed_at_ms => Fate::Written,
        Some(&at) if at > identity.computed_at_ms => Fate::Superseded,
        _ if dead.contains(identity) => Fate::DeadLettered,
        _ => Fate::Lost,
    }
}

/// Every identity seen in the topic over a run, and the committed records found missing.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Per identity, the most copies seen in one reading of the topic.
    copies: BTreeMap<Identity, u64>,
    dead: BTreeSet<Identity>,
    /// Committed but neither written, superseded nor dead-lettered at some look.
    missing_when_committed: BTreeSet<Identity>,
    undecodable: u64,
    looks: u64,
}

impl Ledger {
    /// One look at the pipeline: the topic as read now, the group's committed offsets (per
    /// partition, the offset after the last committed message), the dead letters and the
    /// database, read after the offsets (it only ever moves forward).
    pub fn observe(
        &mut self,
        records: &[TopicRecord],
        committed: &BTreeMap<i32, i64>,
        dead: &[Identity],
        stored: &Stored,
    ) {
        self.looks += 1;
        self.dead.extend(dead.iter().copied());
        let mut copies: BTreeMap<Identity, u64> = BTreeMap::new();
        let mut undecodable = 0;
        for record in records {
            let Some(identity) = record.identity else {
                undecodable += 1;
                continue;
            };
            *copies.entry(identity).or_default() += 1;
            let is_committed = committed
                .get(&record.partition)
                .is_some_and(|&next| record.offset < next);
            if is_committed && fate(&identity, stored, &self.dead) == Fate::Lost {
                self.missing_when_committed.insert(identity);
            }
        }
        self.undecodable = self.undecodable.max(undecodable);
        for (identity, count) in copies {
            let seen = self.copies.entry(identity).or_default();
            *seen = (*seen).max(count);
        }
    }

    /// The balance against the database as it is now (after the producers stopped and the
    /// consumers drained).
    pub fn report(&self, stored: &Stored) -> LossReport {
        let mut report = LossReport {
            looks: self.looks,
            undecodable: self.undecodable,
            missing_when_committed: self.missing_when_committed.iter().copied().collect(),
            ..LossReport::default()
        };
        for (identity, &count) in &self.copies {
            report.records += count;
            report.identities += 1;
            report.duplicates += count - 1;
            match fate(identity, stored, &self.dead) {
                Fate::Written => report.written += 1,
                Fate::Superseded => report.superseded += 1,
                Fate::DeadLettered => report.dead_lettered += 1,
                Fate::Lost => report.lost.push(*identity),
            }
        }
        report
    }
}

/// What became of the records of a run, by identity.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LossReport {
    /// Looks taken.
    pub looks: u64,
    /// Messages read (the most copies of each identity seen in one reading).
    pub records: u64,
    /// Distinct identities.
    pub identities: u64,
    /// Copies beyond the first (redelivery or produce retries).
    pub duplicates: u64,
    /// Messages that are not records (at the look that saw the most).
    pub undecodable: u64,
    /// Identities the database holds.
    pub written: u64,
    /// Identities the database holds a newer result for.
    pub superseded: u64,
    /// Identities in the dead-letter topic.
    pub dead_lettered: u64,
    /// Identities not accounted for at the end.
    pub lost: Vec<Identity>,
    /// Identities committed by the consumer group but not accounted for at some look.
    pub missing_when_committed: Vec<Identity>,
}

impl LossReport {
    /// No record lost, at the end or at any look.
    pub fn passed(&self) -> bool {
        self.lost.is_empty() && self.missing_when_committed.is_empty()
    }
}

impl fmt::Display for LossReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "records by identity: {} messages, {} identities ({} duplicate copies, {} not records), {} looks",
            self.records, self.identities, self.duplicates, self.undecodable, self.looks
        )?;
        writeln!(
            f,
            "written {}, superseded {}, dead-lettered {}, lost {}, committed but missing at a look {}",
            self.written,
            self.superseded,
            self.dead_lettered,
            self.lost.len(),
            self.missing_when_committed.len()
        )?;
        for identity in self.lost.iter().take(20) {
            writeln!(f, "LOST: {identity}")?;
        }
        for identity in self.missing_when_committed.iter().take(20) {
            writeln!(f, "COMMITTED BUT MISSING: {identity}")?;
        }
        Ok(())
    }
}

/// Who led which shard, as the records' headers say.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LeaderReport {
    /// Records read.
    pub records: u64,
    /// Records without the producer headers.
    pub without_headers: u64,
    /// Records `record-inject` put in the topic: no etl produced them, so they are skipped.
    pub injected: u64,
    /// Distinct (shard, term) pairs.
    pub terms: u64,
    /// (shard, loop, slot) produced under more than one term (a new leader re-running the slot
    /// its predecessor had not journaled): allowed, one after the other.
    pub slots_rerun: u64,
    /// Records of a shard in a term older than one already seen before them in the same
    /// partition: produced by a deposed leader after its successor, i.e. two leaders at once.
    pub stale_terms: Vec<String>,
    /// (shard, term) pairs produced by more than one replica.
    pub shared_terms: Vec<String>,
}

impl LeaderReport {
    /// At most one leader per shard at any time, every record with its headers.
    pub fn passed(&self) -> bool {
        self.without_headers == 0 && self.stale_terms.is_empty() && self.shared_terms.is_empty()
    }
}

impl fmt::Display for LeaderReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "leaders from the record headers: {} records ({} without headers, {} injected by record-inject and skipped), {} shard terms, {} slots re-run by a new leader, {} records of a deposed leader after its successor's, {} terms shared by replicas",
            self.records,
            self.without_headers,
            self.injected,
            self.terms,
            self.slots_rerun,
            self.stale_terms.len(),
            self.shared_terms.len()
        )?;
        for line in self.stale_terms.iter().take(10) {
            writeln!(f, "DUPLICATE LEADER: {line}")?;
        }
        for line in &self.shared_terms {
            writeln!(f, "DUPLICATE LEADER: {line}")?;
        }
        Ok(())
    }
}

/// Reads the leaders off the records (in any order: they are put in partition order first).
pub fn leaders(records: &[TopicRecord]) -> LeaderReport {
    let mut report = LeaderReport::default();
    let mut ordered: Vec<&TopicRecord> = records.iter().collect();
    ordered.sort_by_key(|record| (record.partition, record.offset));
    let mut newest: BTreeMap<(i32, &str), i64> = BTreeMap::new();
    let mut replicas: BTreeMap<(&str, i64), BTreeSet<&str>> = BTreeMap::new();
    let mut slot_terms: BTreeMap<(&str, &str, &str), BTreeSet<i64>> = BTreeMap::new();
    for record in ordered {
        report.records += 1;
        if record.injected {
            report.injected += 1;
            continue;
        }
        let Some(producer) = &record.producer else {
            report.without_headers += 1;
            continue;
        };
        let shard = producer.shard.as_str();
        let seen = newest
            .entry((record.partition, shard))
            .or_insert(producer.term);
        if producer.term < *seen {
            report.stale_terms.push(format!(
                "shard {shard} term {} ({}) at partition {} offset {}, after term {}",
                producer.term, producer.replica, record.partition, record.offset, *seen
            ));
        } else {
            *seen = producer.term;
        }
        replicas
            .entry((shard, producer.term))
            .or_default()
            .insert(&producer.replica);
        let loop_name = match record.identity.map(|identity| identity.kind) {
            Some(Kind::Metadata) => "slow",
            _ => "fast",
        };
        slot_terms
            .entry((shard, loop_name, &producer.slot))
            .or_default()
            .insert(producer.term);
    }
    report.terms = replicas.len() as u64;
    for ((shard, term), names) in &replicas {
        if names.len() > 1 {
            let names: Vec<&str> = names.iter().copied().collect();
            report.shared_terms.push(format!(
                "shard {shard} term {term} produced by {}",
                names.join(", ")
            ));
        }
    }
    report.slots_rerun = slot_terms.values().filter(|terms| terms.len() > 1).count() as u64;
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> SeriesId {
        "0123456789abcdef".parse().expect("a series id")
    }

    fn identity(kind: Kind, at: i64) -> Identity {
        Identity {
            id: id(),
            kind,
            computed_at_ms: at,
        }
    }

    fn message(partition: i32, offset: i64, identity: Identity) -> TopicRecord {
        TopicRecord {
            partition,
            offset,
            identity: Some(identity),
            producer: None,
            injected: false,
        }
    }

    fn stored(at: i64) -> Stored {
        Stored::from([((id(), Kind::Values), at)])
    }

    #[test]
    fn a_duplicate_does_not_hide_a_loss() {
        // Two copies of the record at 1000 and none stored of the one at 2000: totals balance
        // (two messages, two records "consumed"), identities do not.
        let records = [
            message(0, 0, identity(Kind::Values, 1000)),
            message(0, 1, identity(Kind::Values, 1000)),
            message(0, 2, identity(Kind::Metadata, 2000)),
        ];
        let mut ledger = Ledger::default();
        ledger.observe(&records, &BTreeMap::new(), &[], &stored(1000));
        let report = ledger.report(&stored(1000));
        assert_eq!(report.records, 3);
        assert_eq!(report.duplicates, 1);
        assert_eq!(report.written, 1);
        assert_eq!(report.lost, vec![identity(Kind::Metadata, 2000)]);
        assert!(!report.passed());
    }

    #[test]
    fn older_records_are_superseded_and_dead_letters_accounted() {
        let records = [
            message(0, 0, identity(Kind::Values, 1000)),
            message(1, 0, identity(Kind::Values, 2000)),
            message(1, 1, identity(Kind::Prediction, 3000)),
        ];
        let mut ledger = Ledger::default();
        let committed = BTreeMap::from([(0, 1), (1, 2)]);
        ledger.observe(
            &records,
            &committed,
            &[identity(Kind::Prediction, 3000)],
            &stored(2000),
        );
        let report = ledger.report(&stored(2000));
        assert_eq!(
            (report.written, report.superseded, report.dead_lettered),
            (1, 1, 1)
        );
        assert!(report.passed(), "{report}");
    }

    #[test]
    fn a_committed_record_missing_at_a_look_is_a_loss_even_once_superseded() {
        let dropped = identity(Kind::Values, 2000);
        let mut ledger = Ledger::default();
        // Committed through offset 1 while the database still holds the record at 1000.
        let first = [
            message(0, 0, identity(Kind::Values, 1000)),
            message(0, 1, dropped),
        ];
        ledger.observe(&first, &BTreeMap::from([(0, 2)]), &[], &stored(1000));
        // Later a newer record is written: the end state alone would look whole.
        let later = [
            first[0].clone(),
            first[1].clone(),
            message(0, 2, identity(Kind::Values, 3000)),
        ];
        ledger.observe(&later, &BTreeMap::from([(0, 3)]), &[], &stored(3000));
        let report = ledger.report(&stored(3000));
        assert!(report.lost.is_empty());
        assert_eq!(report.missing_when_committed, vec![dropped]);
        assert!(!report.passed());
    }

    #[test]
    fn an_uncommitted_record_not_yet_written_is_not_a_loss_yet() {
        let mut ledger = Ledger::default();
        let records = [message(0, 0, identity(Kind::Values, 2000))];
        ledger.observe(&records, &BTreeMap::from([(0, 0)]), &[], &stored(1000));
        assert!(ledger.report(&stored(2000)).passed());
    }

    fn produced(partition: i32, offset: i64, replica: &str, term: i64, slot: &str) -> TopicRecord {
        TopicRecord {
            partition,
            offset,
            identity: Some(identity(Kind::Values, offset)),
            producer: Some(Producer {
                replica: replica.to_owned(),
                shard: "0/2".to_owned(),
                term,
                slot: slot.to_owned(),
            }),
            injected: false,
        }
    }

    #[test]
    fn a_takeover_is_one_leader_after_another() {
        // Term 2 re-runs the slot term 1 finished but had not journaled.
        let records = [
            produced(0, 0, "a", 1, "s1"),
            produced(1, 0, "a", 1, "s1"),
            produced(0, 1, "b", 2, "s1"),
            produced(1, 1, "b", 2, "s2"),
        ];
        let report = leaders(&records);
        assert_eq!((report.terms, report.slots_rerun), (2, 1));
        assert!(report.passed(), "{report}");
    }

    #[test]
    fn two_leaders_at_once_are_caught_from_the_headers() {
        let interleaved = [
            produced(0, 0, "a", 1, "s1"),
            produced(0, 1, "b", 2, "s1"),
            produced(0, 2, "a", 1, "s2"),
        ];
        let report = leaders(&interleaved);
        assert_eq!(report.stale_terms.len(), 1, "{report}");
        assert!(!report.passed());

        let shared = [produced(0, 0, "a", 3, "s1"), produced(1, 0, "b", 3, "s1")];
        let report = leaders(&shared);
        assert_eq!(report.shared_terms.len(), 1, "{report}");
        assert!(!report.passed());
    }

    #[test]
    fn records_without_headers_fail_the_leader_check() {
        let records = [message(0, 0, identity(Kind::Values, 1))];
        assert_eq!(leaders(&records).without_headers, 1);
        assert!(!leaders(&records).passed());
    }

    #[test]
    fn injected_records_are_skipped_but_only_those() {
        let injected = TopicRecord {
            injected: true,
            ..message(0, 1, identity(Kind::Values, 1))
        };
        let records = [produced(0, 0, "a", 1, "s1"), injected];
        let report = leaders(&records);
        assert_eq!((report.injected, report.without_headers), (1, 0));
        assert!(report.passed(), "{report}");
        assert!(report.to_string().contains("1 injected by record-inject"));
    }
}
