//! The `slaset` collection: one document per SLA metric, `{_id: id, name, range, for,
//! position}` (`position` keeps the order the set was given in).

use bson::doc;
use common::{
    SeriesId,
    sla::Sla,
    store::{SLASET_COLLECTION, StoreError},
};
use futures::TryStreamExt;
use mongodb::{
    Collection, Database,
    error::TRANSIENT_TRANSACTION_ERROR,
    options::{Acknowledgment, FindOptions, WriteConcern},
};
use serde::{Deserialize, Serialize};

/// Tries of a replacement that conflicts with a concurrent one.
const REPLACE_ATTEMPTS: u32 = 3;

/// A stored SLA.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredSla {
    /// The series id.
    #[serde(rename = "_id")]
    pub id: SeriesId,
    /// The SLA.
    #[serde(flatten)]
    pub sla: Sla,
    /// Place in the set, from 0.
    #[serde(default)]
    pub position: u32,
}

/// Whether a replacement created the first set or replaced one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replaced {
    /// There was no set before.
    Created,
    /// A set was replaced.
    Updated,
}

/// The `slaset` collection.
#[derive(Debug, Clone)]
pub struct SlaSetRepository {
    database: Database,
    collection: Collection<StoredSla>,
}

fn database_error(operation: &'static str) -> impl Fn(mongodb::error::Error) -> StoreError {
    move |source| StoreError::Database { operation, source }
}

impl SlaSetRepository {
    /// The repository over `database`'s `slaset` collection.
    pub fn new(database: &Database) -> Self {
        Self { database: database.clone(), collection: database.collection(SLASET_COLLECTION) }
    }

    /// Answers when the database does.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.database.run_command(doc! { "ping": 1 }).await.map_err(database_error("ping"))?;
        Ok(())
    }

    /// The stored set in the order it was given; empty when none is defined.
    #[tracing::instrument(name = "slaset.find_all", skip(self))]
    pub async fn find_all(&self) -> Result<Vec<StoredSla>, StoreError> {
        let options = FindOptions::builder().sort(doc! { "position": 1, "_id": 1 }).build();
        let cursor = self.collection.find(doc! {}).with_options(options).await.map_err(database_error("find_slaset"))?;
        cursor.try_collect().await.map_err(database_error("find_slaset"))
    }

    /// Replaces the stored set with `slas` in one transaction, so that a reader sees the old
    /// set or the new one, never a mix or nothing. (A `renameCollection` of a staging
    /// collection is atomic too, but SecantusDB does not always persist a rename before a
    /// crash, and a transaction keeps the documents where readers look.) A transaction that
    /// conflicts with a concurrent one is retried a few times.
    #[tracing::instrument(name = "slaset.replace", skip_all, fields(metrics = slas.len()))]
    pub async fn replace(&self, slas: &[Sla]) -> Result<Replaced, StoreError> {
        let documents: Vec<StoredSla> = slas
            .iter()
            .enumerate()
            .map(|(position, sla)| StoredSla { id: sla.id(), sla: sla.clone(), position: position as u32 })
            .collect();
        let mut attempt = 1;
        loop {
            match self.replace_once(&documents).await {
                Err(error) if attempt < REPLACE_ATTEMPTS && error.contains_label(TRANSIENT_TRANSACTION_ERROR) => {
                    tracing::warn!(attempt, %error, "SLA set transaction conflicted; retrying");
                    attempt += 1;
                }
                outcome => return outcome.map_err(database_error("replace_slaset")),
            }
        }
    }

    async fn replace_once(&self, documents: &[StoredSla]) -> Result<Replaced, mongodb::error::Error> {
        let mut session = self.database.client().start_session().await?;
        // The set is configuration: committed only once a majority has it in its journal.
        let durable = WriteConcern::builder().w(Acknowledgment::Majority).journal(true).build();
        session.start_transaction().write_concern(durable).await?;
        let written = async {
            let deleted = self.collection.delete_many(doc! {}).session(&mut session).await?;
            self.collection.insert_many(documents).session(&mut session).await?;
            Ok::<_, mongodb::error::Error>(deleted.deleted_count)
        }
        .await;
        match written {
            Ok(deleted) => {
                session.commit_transaction().await?;
                Ok(if deleted > 0 { Replaced::Updated } else { Replaced::Created })
            }
            Err(error) => {
                // The transaction is abandoned either way; an abort that fails changes nothing.
                let _ = session.abort_transaction().await;
                Err(error)
            }
        }
    }
}
