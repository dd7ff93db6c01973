//! The SLA model: which series, its allowed range, and how long it may stay outside.

use serde::{Deserialize, Serialize};

use crate::series::{Labels, SeriesId};

/// One SLA: the series `name` must stay within `range`; it fires after `for` minutes outside.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sla {
    /// The series' full label set.
    pub name: Labels,
    /// The allowed range, bounds included.
    pub range: SlaRange,
    /// Minutes out of range before the SLA is violated (`for` on the wire, as in alert rules).
    #[serde(rename = "for")]
    pub for_minutes: u32,
}

impl Sla {
    /// The id of the series under this SLA.
    pub fn id(&self) -> SeriesId {
        SeriesId::of(&self.name)
    }
}

/// An allowed range; a value `v` is in range when `min <= v <= max`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SlaRange {
    /// The lowest allowed value.
    pub min: f64,
    /// The highest allowed value.
    pub max: f64,
}

impl SlaRange {
    /// Whether `value` is allowed. NaN never is.
    pub fn contains(&self, value: f64) -> bool {
        self.min <= value && value <= self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_includes_its_bounds_and_rejects_nan() {
        let range = SlaRange { min: 1.0, max: 2.0 };
        assert!(range.contains(1.0) && range.contains(2.0) && range.contains(1.5));
        assert!(!range.contains(0.99) && !range.contains(2.01) && !range.contains(f64::NAN));
    }

    #[test]
    fn wire_names_follow_the_seed() {
        let text = r#"{"name":{"__name__":"up"},"range":{"min":0,"max":1},"for":5}"#;
        let sla: Sla = serde_json::from_str(text).unwrap();
        assert_eq!(sla.for_minutes, 5);
        assert_eq!(
            serde_json::to_string(&sla).unwrap(),
            r#"{"name":{"__name__":"up"},"range":{"min":0.0,"max":1.0},"for":5}"#
        );
    }
}
