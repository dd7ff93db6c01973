//! The `slaset` collection: one document per entry of the set, `{_id: id, name, range, for,
//! position, objective?}` for a range SLA or `{_id: id, good, total, counter, position,
//! objective}` for a ratio SLI (`position` keeps the order the set was given in).

use bson::doc;
use common::{
    SeriesId,
    sla::Sla,
    store::{SLASET_COLLECTION, StoreError},
};
use futures::TryStreamExt;
use mongodb::{
    Collection, Database,
    options::{Acknowledgment, CollectionOptions, FindOptions, WriteConcern},
};
use serde::{Deserialize, Serialize};

use crate::domain::{SetEntry, ratio::RatioSli, slo::Objective};

/// Staging collections are named `slaset` + this + random hex digits.
pub const STAGING_INFIX: &str = "_staging_";

/// Majority, journaled.
fn durable() -> WriteConcern {
    WriteConcern::builder()
        .w(Acknowledgment::Majority)
        .journal(true)
        .build()
}

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
    /// Its objective, if it has one (absent in sets stored before objectives existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objective: Option<Objective>,
}

/// A stored ratio SLI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredRatio {
    /// The fingerprint of its expressions ([`RatioSli::id`]).
    #[serde(rename = "_id")]
    pub id: SeriesId,
    /// The SLI.
    #[serde(flatten)]
    pub sli: RatioSli,
    /// Place in the set, from 0.
    #[serde(default)]
    pub position: u32,
    /// Its objective.
    pub objective: Objective,
}

/// A stored entry of the set: told apart by its fields (`name` or `good`), so that the
/// documents of a set stored before ratios existed read as they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StoredEntry {
    /// A range SLA.
    Range(StoredSla),
    /// A ratio SLI.
    Ratio(StoredRatio),
}

impl StoredEntry {
    /// The entry `entry` of a set at `position`, with its objective.
    pub fn new(entry: &SetEntry, position: usize, objective: Option<Objective>) -> Option<Self> {
        let position = position as u32;
        Some(match entry {
            SetEntry::Range(sla) => Self::Range(StoredSla {
                id: sla.id(),
                sla: sla.clone(),
                position,
                objective,
            }),
            SetEntry::Ratio(sli) => Self::Ratio(StoredRatio {
                id: sli.id(),
                sli: sli.clone(),
                position,
                objective: objective?,
            }),
        })
    }

    /// The range SLA, if it is one.
    pub fn range(&self) -> Option<&StoredSla> {
        match self {
            Self::Range(stored) => Some(stored),
            Self::Ratio(_) => None,
        }
    }
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
    collection: Collection<StoredEntry>,
}

fn database_error(operation: &'static str) -> impl Fn(mongodb::error::Error) -> StoreError {
    move |source| StoreError::Database { operation, source }
}

impl SlaSetRepository {
    /// The repository over `database`'s `slaset` collection.
    pub fn new(database: &Database) -> Self {
        Self {
            database: database.clone(),
            collection: database.collection(SLASET_COLLECTION),
        }
    }

    /// The database the set is in (the objectives' minutes are stored beside it).
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// Answers when the database does.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.database
            .run_command(doc! { "ping": 1 })
            .await
            .map_err(database_error("ping"))?;
        Ok(())
    }

    /// The stored set in the order it was given; empty when none is defined.
    #[tracing::instrument(name = "slaset.find_all", skip(self))]
    pub async fn find_all(&self) -> Result<Vec<StoredEntry>, StoreError> {
        let options = FindOptions::builder()
            .sort(doc! { "position": 1, "_id": 1 })
            .build();
        let cursor = self
            .collection
            .find(doc! {})
            .with_options(options)
            .await
            .map_err(database_error("find_slaset"))?;
        cursor
            .try_collect()
            .await
            .map_err(database_error("find_slaset"))
    }

    /// Replaces the stored set with `slas` atomically for readers: the new set is written to a
    /// staging collection of its own, which then takes the place of `slaset` in one
    /// `renameCollection` with `dropTarget`, so a reader sees the old set or the new one, never
    /// a mix or nothing. Unlike a transaction, this works on a standalone server as well as on
    /// a replica set. Both writes wait for a majority's journal: the set is configuration.
    #[tracing::instrument(name = "slaset.replace", skip_all, fields(metrics = documents.len()))]
    pub async fn replace(&self, documents: &[StoredEntry]) -> Result<Replaced, StoreError> {
        let existed = self
            .collection
            .estimated_document_count()
            .await
            .map_err(database_error("count_slaset"))?
            > 0;
        let staging_name = format!(
            "{SLASET_COLLECTION}{STAGING_INFIX}{:016x}",
            rand::random::<u64>()
        );
        let staging: Collection<StoredEntry> = self.database.collection_with_options(
            &staging_name,
            CollectionOptions::builder()
                .write_concern(durable())
                .build(),
        );
        let written = async {
            staging
                .insert_many(documents)
                .await
                .map_err(database_error("stage_slaset"))?;
            let database = self.database.name();
            self.database
                .client()
                .database("admin")
                .run_command(doc! {
                    "renameCollection": format!("{database}.{staging_name}"),
                    "to": format!("{database}.{SLASET_COLLECTION}"),
                    "dropTarget": true,
                    "writeConcern": { "w": "majority", "j": true },
                })
                .await
                .map_err(database_error("rename_slaset"))
        }
        .await;
        if let Err(error) = written {
            // Best effort: a staging collection left behind is harmless, and named as such.
            if let Err(cleanup) = staging.drop().await {
                tracing::warn!(collection = %staging_name, error = %cleanup, "cannot drop the staging collection");
            }
            return Err(error);
        }
        Ok(if existed {
            Replaced::Updated
        } else {
            Replaced::Created
        })
    }
}
