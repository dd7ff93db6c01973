//! The aggregate windows of a `values` record (the last 1, 3 and 12 hours) and the aggregate
//! operations (PromQL's `*_over_time` functions), defined once: the etl computes them, the
//! retrieval service answers them on demand, and `pipeline-check` recomputes them to compare.

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

/// The aggregate windows of the `values` record ([`crate::record::Windows`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WindowSpan {
    /// The last hour.
    H1,
    /// The last 3 hours.
    H3,
    /// The last 12 hours.
    H12,
}

impl WindowSpan {
    /// Every window, shortest first.
    pub const ALL: [WindowSpan; 3] = [WindowSpan::H1, WindowSpan::H3, WindowSpan::H12];

    /// The longest window, the span over which the etl's fast loop discovers series.
    pub const LONGEST: TimeDelta = TimeDelta::hours(12);

    /// The PromQL range, also the window's key in a `values` document (`"1h"`).
    pub fn range(self) -> &'static str {
        match self {
            WindowSpan::H1 => "1h",
            WindowSpan::H3 => "3h",
            WindowSpan::H12 => "12h",
        }
    }

    /// The length in hours.
    pub fn hours(self) -> i64 {
        match self {
            WindowSpan::H1 => 1,
            WindowSpan::H3 => 3,
            WindowSpan::H12 => 12,
        }
    }

    /// The length in seconds.
    pub fn secs(self) -> i64 {
        self.hours() * 3_600
    }

    /// The length in milliseconds.
    pub fn millis(self) -> i64 {
        self.secs() * 1_000
    }

    /// The position in [`Self::ALL`] (and in the fields of [`crate::record::Windows`]).
    pub fn index(self) -> usize {
        match self {
            WindowSpan::H1 => 0,
            WindowSpan::H3 => 1,
            WindowSpan::H12 => 2,
        }
    }
}

/// A `*_over_time` aggregation; on the wire (the retrieval's `op`) by its `snake_case` name,
/// which is also its field's name in [`crate::record::Window`].
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AggregateOp {
    /// `avg_over_time`
    Avg,
    /// `min_over_time`
    Min,
    /// `max_over_time`
    Max,
    /// `count_over_time`
    Count,
    /// `stddev_over_time` (population standard deviation)
    StdDev,
}

impl AggregateOp {
    /// Every operation, in the order the documentation lists them.
    pub const ALL: [AggregateOp; 5] = [Self::Avg, Self::Min, Self::Max, Self::Count, Self::StdDev];

    /// Every operation in the order of [`crate::record::Window`]'s fields.
    pub const IN_WINDOW_ORDER: [AggregateOp; 5] =
        [Self::Min, Self::Max, Self::Avg, Self::StdDev, Self::Count];

    /// The name on the wire and of the [`crate::record::Window`] field.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Avg => "avg",
            Self::Min => "min",
            Self::Max => "max",
            Self::Count => "count",
            Self::StdDev => "std_dev",
        }
    }

    /// The PromQL function that computes it.
    pub fn promql_function(self) -> &'static str {
        match self {
            Self::Avg => "avg_over_time",
            Self::Min => "min_over_time",
            Self::Max => "max_over_time",
            Self::Count => "count_over_time",
            Self::StdDev => "stddev_over_time",
        }
    }

    /// The operation named `text` ([`Self::as_str`]), if any.
    pub fn from_name(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.as_str() == text)
    }
}

impl std::fmt::Display for AggregateOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Window, Windows};

    #[test]
    fn windows_are_the_record_keys_and_their_lengths() {
        let keys: Vec<&str> = WindowSpan::ALL.iter().map(|w| w.range()).collect();
        assert_eq!(keys, ["1h", "3h", "12h"]);
        let value = serde_json::to_value(Windows::default()).unwrap();
        for window in WindowSpan::ALL {
            assert!(value.get(window.range()).is_some(), "{window:?}");
            assert_eq!(WindowSpan::ALL[window.index()], window);
        }
        assert_eq!(WindowSpan::H12.millis(), 43_200_000);
        assert_eq!(WindowSpan::LONGEST.num_seconds(), WindowSpan::H12.secs());
    }

    #[test]
    fn operations_name_the_window_fields_in_order() {
        let window = Window {
            min: 1.0,
            max: 2.0,
            avg: 3.0,
            std_dev: 4.0,
            count: 5,
        };
        let value = serde_json::to_value(window).unwrap();
        let fields: Vec<&String> = value.as_object().unwrap().keys().collect();
        let mut names: Vec<&str> = AggregateOp::IN_WINDOW_ORDER
            .iter()
            .map(|op| op.as_str())
            .collect();
        for (k, op) in AggregateOp::IN_WINDOW_ORDER.into_iter().enumerate() {
            assert_eq!(value[op.as_str()], f64::from(k as u8 + 1));
            assert_eq!(AggregateOp::from_name(op.as_str()), Some(op));
            assert!(op.promql_function().ends_with("_over_time"));
        }
        names.sort_unstable();
        let mut fields: Vec<&str> = fields.iter().map(|f| f.as_str()).collect();
        fields.sort_unstable();
        assert_eq!(names, fields);
        assert_eq!(AggregateOp::from_name("median"), None);
        assert_eq!(
            serde_json::to_value(AggregateOp::StdDev).unwrap(),
            "std_dev"
        );
    }
}
