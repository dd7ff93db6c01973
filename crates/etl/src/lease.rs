//! Leases in MongoDB, the database the system already runs, so that election works the same in
//! compose, Kubernetes and the local stack.
//!
//! Collection `etl_leases`, one document per lease: `{_id, kind, holder, term, expires_at}`.
//! - A shard's lease (`_id` = [`Shard::lease_name`]) is taken only when it is missing (insert;
//!   a duplicate key means someone else was first) or expired (a conditional update that bumps
//!   `term`), and renewed only by its holder in its term. The term is the fencing token carried
//!   on every record produced under the lease.
//! - A replica's heartbeat (`_id` = `replica-<id>`) is a lease of its own; the live ones say how
//!   many replicas share the shards.
//!
//! Collection `etl_cycles`, the journal: one document per completed cycle `{loop, shard, slot,
//! replica, term, started_at, finished_at, records, dropped, fenced, failures}`, from which a new leader learns
//! which slot its predecessor finished last, and an SRE (or `reliability/availability.sh`)
//! which cycles ran on time and under which leader.
//!
//! Expiry is judged on each replica's own clock: the clocks must agree to well within
//! [`Tenure`]'s safety margin (NTP does), and a leader stops producing that margin before its
//! lease expires.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use bson::doc;
use chrono::{DateTime, TimeDelta, Utc};
use mongodb::{
    Collection, Database, IndexModel,
    error::{Error, ErrorKind, WriteFailure},
    options::{FindOneOptions, ReturnDocument},
};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::shard::Shard;

/// The collection of leases and heartbeats.
pub const LEASES_COLLECTION: &str = "etl_leases";
/// The collection of completed cycles.
pub const CYCLES_COLLECTION: &str = "etl_cycles";
/// MongoDB's code for a duplicate key.
const DUPLICATE_KEY: i32 = 11000;

/// Until when this replica may act on a lease: extended by each renewal, checked before every
/// record is produced. Shared by the coordinator and the shard's loops.
#[derive(Debug, Clone)]
pub struct Tenure(Arc<Mutex<Option<Instant>>>);

impl Tenure {
    /// A tenure that never ends: a replica running without election.
    pub fn unbounded() -> Self {
        Self(Arc::new(Mutex::new(None)))
    }

    /// A tenure that ends at `until`.
    pub fn until(until: Instant) -> Self {
        Self(Arc::new(Mutex::new(Some(until))))
    }

    /// Whether this replica may still act.
    pub fn is_valid(&self) -> bool {
        self.end().is_none_or(|end| Instant::now() < end)
    }

    /// When the tenure ends (`None`: never).
    pub fn end(&self) -> Option<Instant> {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Moves the end to `until` (a renewal).
    fn extend_to(&self, until: Instant) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(until);
    }

    /// Ends the tenure now (the lease was lost or released).
    pub fn revoke(&self) {
        self.extend_to(Instant::now());
    }
}

/// A shard this replica leads (or runs alone, without election): the fencing `term` and the
/// `tenure` go with every record it produces.
#[derive(Debug, Clone)]
pub struct Lease {
    /// This replica.
    pub replica: Arc<str>,
    /// The shard.
    pub shard: Shard,
    /// The lease's term: it grows by one at each change of holder; 0 without election.
    pub term: i64,
    /// Until when the replica may produce under it.
    pub tenure: Tenure,
}

impl Lease {
    /// The shard run by `replica` without election.
    pub fn unelected(replica: Arc<str>, shard: Shard) -> Self {
        Self {
            replica,
            shard,
            term: 0,
            tenure: Tenure::unbounded(),
        }
    }
}

/// A lease or a heartbeat as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct LeaseDocument {
    #[serde(rename = "_id")]
    name: String,
    kind: String,
    holder: String,
    term: i64,
    expires_at: bson::DateTime,
}

/// One completed cycle, as journaled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CycleEntry {
    /// `fast` or `slow`.
    #[serde(rename = "loop")]
    pub loop_name: String,
    /// The shard, e.g. `0/2`.
    pub shard: String,
    /// The start of the scheduled slot the cycle ran for.
    pub slot: bson::DateTime,
    /// The replica that ran it.
    pub replica: String,
    /// Its lease's term.
    pub term: i64,
    /// When it started.
    pub started_at: bson::DateTime,
    /// When it ended.
    pub finished_at: bson::DateTime,
    /// Records the broker acknowledged.
    pub records: i64,
    /// Records dropped after the delivery budget (0 in journals written before it was kept).
    #[serde(default)]
    pub dropped: i64,
    /// Records not sent because the lease lapsed (0 in journals written before it was kept).
    #[serde(default)]
    pub fenced: i64,
    /// Failed steps.
    pub failures: i64,
}

/// The leases, heartbeats and cycle journal of one replica.
#[derive(Debug, Clone)]
pub struct LeaseStore {
    database: Database,
    leases: Collection<LeaseDocument>,
    cycles: Collection<CycleEntry>,
    replica: Arc<str>,
    ttl: Duration,
}

impl LeaseStore {
    /// The store of `replica` in `database`, with leases that last `ttl` unless renewed.
    pub fn new(database: &Database, replica: Arc<str>, ttl: Duration) -> Self {
        Self {
            database: database.clone(),
            leases: database.collection(LEASES_COLLECTION),
            cycles: database.collection(CYCLES_COLLECTION),
            replica,
            ttl,
        }
    }

    /// This replica's id.
    pub fn replica(&self) -> &Arc<str> {
        &self.replica
    }

    /// How long a lease lasts unless renewed.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Answers when the database does.
    ///
    /// # Errors
    /// The database did not answer.
    pub async fn ping(&self) -> Result<(), Error> {
        self.database
            .run_command(doc! { "ping": 1 })
            .await
            .map(|_| ())
    }

    /// Creates the journal's index (idempotent).
    ///
    /// # Errors
    /// The database did not answer.
    pub async fn ensure_indexes(&self) -> Result<(), Error> {
        let by_slot = IndexModel::builder()
            .keys(doc! { "loop": 1, "shard": 1, "slot": -1 })
            .build();
        self.cycles.create_index(by_slot).await.map(|_| ())
    }

    /// Renews this replica's heartbeat and returns the live replicas' ids, sorted.
    ///
    /// # Errors
    /// The database did not answer.
    pub async fn heartbeat(&self) -> Result<Vec<String>, Error> {
        let now = Utc::now();
        self.leases
            .update_one(
                doc! { "_id": self.heartbeat_name() },
                doc! { "$set": {
                    "kind": "replica",
                    "holder": self.replica.as_ref(),
                    "term": 0_i64,
                    "expires_at": self.expiry(now),
                } },
            )
            .upsert(true)
            .await?;
        let live: Vec<LeaseDocument> = futures::TryStreamExt::try_collect(
            self.leases
                .find(doc! { "kind": "replica", "expires_at": { "$gt": bson::DateTime::from_chrono(now) } })
                .sort(doc! { "_id": 1 })
                .await?,
        )
        .await?;
        Ok(live.into_iter().map(|document| document.holder).collect())
    }

    /// Removes this replica's heartbeat, at shutdown, so the others rebalance at once.
    ///
    /// # Errors
    /// The database did not answer.
    pub async fn leave(&self) -> Result<(), Error> {
        self.leases
            .delete_one(doc! { "_id": self.heartbeat_name() })
            .await
            .map(|_| ())
    }

    /// Takes `shard`'s lease when it is free (missing or expired), in a new term.
    ///
    /// # Errors
    /// The database did not answer.
    pub async fn acquire(&self, shard: Shard) -> Result<Option<Lease>, Error> {
        let asked = Instant::now();
        let now = Utc::now();
        let name = shard.lease_name();
        let taken = self
            .leases
            .find_one_and_update(
                Self::free(&name, now),
                doc! {
                    "$set": { "holder": self.replica.as_ref(), "expires_at": self.expiry(now) },
                    "$inc": { "term": 1_i64 },
                },
            )
            .return_document(ReturnDocument::After)
            .await?;
        let term = match taken {
            Some(document) => document.term,
            None => {
                let fresh = LeaseDocument {
                    name,
                    kind: "shard".to_owned(),
                    holder: self.replica.to_string(),
                    term: 1,
                    expires_at: self.expiry(now),
                };
                match self.leases.insert_one(&fresh).await {
                    Ok(_) => fresh.term,
                    Err(error) if is_duplicate_key(&error) => return Ok(None),
                    Err(error) => return Err(error),
                }
            }
        };
        Ok(Some(Lease {
            replica: self.replica.clone(),
            shard,
            term,
            tenure: Tenure::until(self.tenure_end(asked)),
        }))
    }

    /// The filter of `name`'s lease when it is free (expired at `now`).
    fn free(name: &str, now: DateTime<Utc>) -> bson::Document {
        // A mutation run of reliability/ (feature `fault-injection`, FAULT_ETL_DOUBLE_LEADER=1):
        // a held lease is taken too.
        #[cfg(feature = "fault-injection")]
        if common::fault::etl_double_leader() {
            return doc! { "_id": name };
        }
        doc! { "_id": name, "expires_at": { "$lte": bson::DateTime::from_chrono(now) } }
    }

    /// Extends `lease` when this replica still holds it in its term; `false` when it was lost.
    ///
    /// # Errors
    /// The database did not answer (the tenure is left to run out).
    pub async fn renew(&self, lease: &Lease) -> Result<bool, Error> {
        let asked = Instant::now();
        let renewed = self
            .leases
            .update_one(
                self.held(lease),
                doc! { "$set": { "expires_at": self.expiry(Utc::now()) } },
            )
            .await?;
        // A mutation run of reliability/ (feature `fault-injection`, FAULT_ETL_DOUBLE_LEADER=1):
        // a lost lease is kept, so the replica that took it over is a second leader.
        let kept = renewed.matched_count == 1;
        #[cfg(feature = "fault-injection")]
        let kept = kept || common::fault::etl_double_leader();
        if kept {
            lease.tenure.extend_to(self.tenure_end(asked));
            Ok(true)
        } else {
            lease.tenure.revoke();
            Ok(false)
        }
    }

    /// Gives `lease` up: it expires now, so another replica may take it at once.
    ///
    /// # Errors
    /// The database did not answer (the lease then expires by itself).
    pub async fn release(&self, lease: &Lease) -> Result<(), Error> {
        lease.tenure.revoke();
        self.leases
            .update_one(
                self.held(lease),
                doc! { "$set": { "expires_at": bson::DateTime::from_chrono(Utc::now()) } },
            )
            .await
            .map(|_| ())
    }

    /// The slot of the last cycle of `loop_name` completed for `shard`, by any replica.
    ///
    /// # Errors
    /// The database did not answer.
    pub async fn last_slot(
        &self,
        loop_name: &str,
        shard: Shard,
    ) -> Result<Option<DateTime<Utc>>, Error> {
        let last = self
            .cycles
            .find_one(doc! { "loop": loop_name, "shard": shard.to_string() })
            .with_options(FindOneOptions::builder().sort(doc! { "slot": -1 }).build())
            .await?;
        Ok(last.map(|entry| entry.slot.to_chrono()))
    }

    /// Journals a completed cycle.
    ///
    /// # Errors
    /// The database did not answer.
    pub async fn record(&self, entry: &CycleEntry) -> Result<(), Error> {
        self.cycles.insert_one(entry).await.map(|_| ())
    }

    fn heartbeat_name(&self) -> String {
        format!("replica-{}", self.replica)
    }

    /// The filter that matches `lease` only while this replica holds it in its term.
    fn held(&self, lease: &Lease) -> bson::Document {
        doc! { "_id": lease.shard.lease_name(), "holder": self.replica.as_ref(), "term": lease.term }
    }

    fn expiry(&self, now: DateTime<Utc>) -> bson::DateTime {
        let ttl = TimeDelta::from_std(self.ttl).unwrap_or(TimeDelta::seconds(15));
        bson::DateTime::from_chrono(now + ttl)
    }

    /// The end of the tenure of a lease written at `asked`: a safety margin (a fifth of the TTL)
    /// before others may see it expire, for clock differences and records in flight.
    fn tenure_end(&self, asked: Instant) -> Instant {
        asked + self.ttl - self.ttl / 5
    }
}

fn is_duplicate_key(error: &Error) -> bool {
    matches!(
        error.kind.as_ref(),
        ErrorKind::Write(WriteFailure::WriteError(write)) if write.code == DUPLICATE_KEY
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenure_ends_at_its_end_and_when_revoked() {
        let hour = Duration::from_secs(3600);
        let tenure = Tenure::until(Instant::now() + hour);
        assert!(tenure.is_valid());
        tenure.revoke();
        assert!(!tenure.is_valid());
        tenure.extend_to(Instant::now() + hour);
        assert!(tenure.is_valid());
        assert!(!Tenure::until(Instant::now()).is_valid());
        assert!(Tenure::unbounded().is_valid());
        assert_eq!(Tenure::unbounded().end(), None);
    }
}
