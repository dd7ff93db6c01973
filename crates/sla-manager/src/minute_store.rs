//! The `slo_minutes` collection: the per-minute values of each objective's SLI
//! ([`crate::domain::minutes`]: a range SLA's in-range indicator, a ratio's good and total
//! events), so that an objective's windows are sums over stored minutes and only the minutes
//! since the last stored one are asked of Prometheus.
//!
//! Documents, keyed by the SLA id and a fingerprint of its definition (the indicator's PromQL,
//! or a ratio's expressions and `counter`, and the retention, so a changed range, expression or
//! longer window is a new key, back-filled anew):
//! - `{_id: key, from, to, expires}`: the coverage, every minute `from ..= to` (unix seconds)
//!   was read from Prometheus; an absent minute in it had no value;
//! - `{_id: "key:DDDDDD", key, day, expires, m: {"<minute of the day>": 1 | 0}}`: one day of
//!   minutes (`day` = unix seconds / 86,400), 1 in range, 0 out, `[good, total]` events.
//!
//! Writes set the fields of the minutes read, so writing the same minute twice (a restart, two
//! replicas) leaves the same document: nothing is counted twice. The coverage is moved only
//! after the minutes are written, so a crash in between re-reads them. A TTL index on `expires`
//! drops documents a day past their retention (the objective's longest window and a day).

use bson::{Bson, DateTime as BsonDateTime, Document, doc};
use common::store::StoreError;
use futures::{TryStreamExt, future::try_join_all};
use mongodb::{Collection, Database, IndexModel, options::IndexOptions};
use tokio::sync::OnceCell;

use crate::domain::{
    STEP_SECONDS,
    minutes::{Minute, Minutes},
};

/// The collection's name.
pub const MINUTES_COLLECTION: &str = "slo_minutes";

const DAY: i64 = 86_400;

fn database_error(operation: &'static str) -> impl Fn(mongodb::error::Error) -> StoreError {
    move |source| StoreError::Database { operation, source }
}

/// The minutes `from ..= to` a key holds, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coverage {
    /// The first minute read.
    pub from: i64,
    /// The last minute read.
    pub to: i64,
}

/// What a write of minutes read from Prometheus is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// The first minutes of a new key (or of one whose minutes lapsed): the coverage is
    /// these minutes.
    Fresh,
    /// The next minutes of a back-fill: nothing was stored for them, the coverage extends.
    Extended,
    /// Minutes read again or anew after the last one held: a minute without a value now is
    /// unset (a staleness marker may have ended one held before), the coverage extends.
    Settled,
}

/// The `slo_minutes` collection.
#[derive(Debug, Clone)]
pub struct MinuteStore {
    collection: Collection<Document>,
    ttl_index: std::sync::Arc<OnceCell<()>>,
}

/// The stored value of a minute (a missing one is not stored).
fn encode(minute: Minute) -> Option<Bson> {
    match minute {
        Minute::Good => Some(Bson::Int32(1)),
        Minute::Bad => Some(Bson::Int32(0)),
        Minute::Events { good, total } => {
            Some(Bson::Array(vec![Bson::Double(good), Bson::Double(total)]))
        }
        Minute::Missing => None,
    }
}

/// The minute of a stored value (none for one it does not know).
fn decode(value: &Bson) -> Option<Minute> {
    match value {
        Bson::Int32(1) => Some(Minute::Good),
        Bson::Int32(_) => Some(Minute::Bad),
        Bson::Array(events) => match events.as_slice() {
            [good, total] => Some(Minute::Events {
                good: good.as_f64()?,
                total: total.as_f64()?,
            }),
            _ => None,
        },
        _ => None,
    }
}

fn bucket_id(key: &str, day: i64) -> String {
    format!("{key}:{day:06}")
}

fn expires(seconds: i64) -> BsonDateTime {
    BsonDateTime::from_millis(seconds.saturating_mul(1_000))
}

impl MinuteStore {
    /// The store over `database`'s `slo_minutes`.
    pub fn new(database: &Database) -> Self {
        Self {
            collection: database.collection(MINUTES_COLLECTION),
            ttl_index: Default::default(),
        }
    }

    /// Creates the TTL index once per process (at the first write, so that a database down at
    /// start-up delays nothing); a failure is logged and retried at the next write.
    async fn ensure_ttl_index(&self) {
        let created = self
            .ttl_index
            .get_or_try_init(|| async {
                let index = IndexModel::builder()
                    .keys(doc! { "expires": 1 })
                    .options(
                        IndexOptions::builder()
                            .expire_after(std::time::Duration::ZERO)
                            .name("expires_ttl".to_owned())
                            .build(),
                    )
                    .build();
                self.collection.create_index(index).await.map(|_| ())
            })
            .await;
        if let Err(error) = created {
            tracing::warn!(collection = MINUTES_COLLECTION, %error, "cannot create the TTL index");
        }
    }

    /// The coverage of `key`, if any minute was ever stored for it.
    #[tracing::instrument(name = "slo_minutes.coverage", skip(self))]
    pub async fn coverage(&self, key: &str) -> Result<Option<Coverage>, StoreError> {
        let found = self
            .collection
            .find_one(doc! { "_id": key })
            .await
            .map_err(database_error("find_slo_coverage"))?;
        Ok(found.and_then(|document| {
            Some(Coverage {
                from: document.get_i64("from").ok()?,
                to: document.get_i64("to").ok()?,
            })
        }))
    }

    /// The stored minutes `from ..= to` of `key` (minutes not stored are missing).
    #[tracing::instrument(name = "slo_minutes.read", skip(self))]
    pub async fn read(&self, key: &str, from: i64, to: i64) -> Result<Minutes, StoreError> {
        let mut minutes = Minutes::missing(from, to);
        let filter = doc! { "_id": {
            "$gte": bucket_id(key, from.div_euclid(DAY)),
            "$lte": bucket_id(key, to.div_euclid(DAY)),
        }};
        let mut cursor = self
            .collection
            .find(filter)
            .projection(doc! { "day": 1, "m": 1 })
            .await
            .map_err(database_error("find_slo_minutes"))?;
        while let Some(bucket) = cursor
            .try_next()
            .await
            .map_err(database_error("find_slo_minutes"))?
        {
            let (Ok(day), Ok(values)) = (bucket.get_i64("day"), bucket.get_document("m")) else {
                continue;
            };
            for (index, code) in values {
                let (Ok(index), Some(minute)) = (index.parse::<i64>(), decode(code)) else {
                    continue;
                };
                minutes.set(day * DAY + index * STEP_SECONDS, minute);
            }
        }
        Ok(minutes)
    }

    /// Writes the minutes of `run` (every one of them read from Prometheus; a missing one is
    /// unset when [`Written::Settled`]) and then sets the coverage: to `run` alone when
    /// [`Written::Fresh`], else forward to `run`'s last minute. Documents expire `retention`
    /// plus a day after their last minute.
    #[tracing::instrument(name = "slo_minutes.write", skip(self, run), fields(from = run.first(), to = run.last()))]
    pub async fn write(
        &self,
        key: &str,
        run: &Minutes,
        retention: i64,
        written: Written,
    ) -> Result<(), StoreError> {
        self.ensure_ttl_index().await;
        let (first_day, last_day) = (run.first().div_euclid(DAY), run.last().div_euclid(DAY));
        let writes = (first_day..=last_day).filter_map(|day| {
            let (mut set, mut unset) = (Document::new(), Document::new());
            // A back-fill's day the run holds whole is set as one field (much faster on
            // SecantusDB than 1,440 paths): any other writer of that day wrote the same minutes
            // read from Prometheus. A day the run holds in part (a chunk's edge; the last day,
            // where another replica may be a minute ahead) and settled minutes are set minute
            // by minute, so as not to erase the minutes other writes hold.
            let whole = written != Written::Settled
                && run.first() <= day * DAY
                && day * DAY + DAY - STEP_SECONDS <= run.last();
            let mut minutes = Document::new();
            for (minute, value) in run.iter_range(day * DAY, day * DAY + DAY - 1) {
                let index = ((minute - day * DAY) / STEP_SECONDS).to_string();
                match encode(value) {
                    Some(code) if whole => {
                        minutes.insert(index, code);
                    }
                    Some(code) => {
                        set.insert(format!("m.{index}"), code);
                    }
                    None if written == Written::Settled => {
                        unset.insert(format!("m.{index}"), "");
                    }
                    None => {}
                }
            }
            if !minutes.is_empty() {
                set.insert("m", minutes);
            }
            if set.is_empty() && unset.is_empty() {
                return None;
            }
            set.insert("key", key);
            set.insert("day", day);
            set.insert("expires", expires(day * DAY + DAY + retention + DAY));
            let mut update = doc! { "$set": set };
            if !unset.is_empty() {
                update.insert("$unset", unset);
            }
            Some(async move {
                self.collection
                    .update_one(doc! { "_id": bucket_id(key, day) }, update)
                    .upsert(true)
                    .await
                    .map_err(database_error("upsert_slo_minutes"))
            })
        });
        try_join_all(writes).await?;
        let expiry = expires(run.last() + retention + DAY);
        if written == Written::Fresh {
            self.collection
                .update_one(
                    doc! { "_id": key },
                    doc! { "$set": { "from": run.first(), "to": run.last(), "expires": expiry } },
                )
                .upsert(true)
                .await
                .map_err(database_error("upsert_slo_coverage"))?;
        } else {
            // Only forward: a replica a minute behind does not move it back.
            self.collection
                .update_one(
                    doc! { "_id": key, "to": { "$lt": run.last() } },
                    doc! { "$set": { "to": run.last(), "expires": expiry } },
                )
                .await
                .map_err(database_error("update_slo_coverage"))?;
        }
        Ok(())
    }
}
