//! The set's entries as the REST API answers and takes them.

use common::Labels;
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    domain::{
        ratio::RatioSli,
        slo::{Objective, ObjectiveWire},
    },
    repository::{StoredEntry, StoredRatio, StoredSla},
};

/// An allowed range.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct RangeView {
    /// Lowest allowed value.
    pub min: f64,
    /// Highest allowed value.
    pub max: f64,
}

/// One SLA of the set.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SlaView {
    /// The series id (16 hex digits).
    pub id: String,
    /// The series' full label set, `__name__` included.
    pub name: Labels,
    /// The allowed range, bounds included.
    pub range: RangeView,
    /// Minutes out of range before the SLA fires.
    #[serde(rename = "for")]
    pub for_minutes: u32,
}

impl From<&StoredSla> for SlaView {
    fn from(stored: &StoredSla) -> Self {
        Self {
            id: stored.id.to_string(),
            name: stored.sla.name.clone(),
            range: RangeView {
                min: stored.sla.range.min,
                max: stored.sla.range.max,
            },
            for_minutes: stored.sla.for_minutes,
        }
    }
}

/// One entry of the set as `GET /slaset` and `PUT /slaset` answer it: a range SLA (as the
/// original, with its objective if any) or a ratio SLI.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum SlaSetItem {
    /// A range SLA.
    Range(RangeItem),
    /// A ratio SLI.
    Ratio(RatioView),
}

/// A ratio SLI of the set: its id, expressions and objective.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RatioView {
    /// The fingerprint of its two expressions (16 hex digits).
    pub id: String,
    /// Good and total events.
    #[serde(flatten)]
    pub sli: RatioSli,
    /// Its objective.
    #[schema(value_type = ObjectiveWire)]
    pub objective: Objective,
}

impl From<&StoredRatio> for RatioView {
    fn from(stored: &StoredRatio) -> Self {
        Self {
            id: stored.id.to_string(),
            sli: stored.sli.clone(),
            objective: stored.objective,
        }
    }
}

impl From<&StoredEntry> for SlaSetItem {
    fn from(stored: &StoredEntry) -> Self {
        match stored {
            StoredEntry::Range(stored) => Self::Range(RangeItem::from(stored)),
            StoredEntry::Ratio(stored) => Self::Ratio(RatioView::from(stored)),
        }
    }
}

/// A range SLA of the set: with its objective, if any (absent otherwise, so a set without
/// objectives reads as before).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RangeItem {
    /// The SLA.
    #[serde(flatten)]
    pub sla: SlaView,
    /// Its objective.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<ObjectiveWire>)]
    pub objective: Option<Objective>,
}

impl From<&StoredSla> for RangeItem {
    fn from(stored: &StoredSla) -> Self {
        Self {
            sla: SlaView::from(stored),
            objective: stored.objective,
        }
    }
}

/// One SLA as `PUT /slaset` takes it (the validation reads the body as JSON, to report every
/// problem; this is its shape for the OpenAPI document and for clients).
#[derive(Debug, Clone, PartialEq, serde::Deserialize, ToSchema)]
pub struct SlaInput {
    /// The series' full label set, `__name__` included; it must exist in the target Prometheus.
    pub name: Labels,
    /// The allowed range, `min <= max`.
    pub range: RangeInput,
    /// Minutes out of range before the SLA fires: a whole number from 1 to 720 (12 hours).
    #[serde(rename = "for")]
    #[schema(minimum = 1, maximum = 720)]
    pub for_minutes: u32,
    /// An objective over the share of minutes in range, optional.
    #[serde(default)]
    #[schema(value_type = Option<ObjectiveWire>)]
    pub objective: Option<Objective>,
}

/// An allowed range as given.
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize, ToSchema)]
pub struct RangeInput {
    /// Lowest allowed value.
    pub min: f64,
    /// Highest allowed value.
    pub max: f64,
}
