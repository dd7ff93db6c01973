//! Whether an SLA holds now: inactive, pending or firing.

use chrono::{DateTime, Utc};
use common::sla::Sla;
use serde::Serialize;
use utoipa::ToSchema;

use super::{STEP_SECONDS, Sample, bound_text, out_of_range_runs, value_text};

/// The state of an SLA, as alert rules name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// The last value is in range.
    Inactive,
    /// Out of range for less than `for` minutes.
    Pending,
    /// Out of range for `for` minutes or more.
    Firing,
    /// Prometheus has no value at the evaluation time.
    Unknown,
}

impl State {
    /// 0, 1, 2 for inactive, pending, firing; none when unknown.
    pub fn level(self) -> Option<i64> {
        match self {
            State::Inactive => Some(0),
            State::Pending => Some(1),
            State::Firing => Some(2),
            State::Unknown => None,
        }
    }
}

/// An SLA's state at one time. `status`, `description` and `last-values` are the original's
/// keys; the others are additions.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Status {
    /// The state: `inactive`, `pending`, `firing`, or `unknown` when Prometheus has no value.
    pub status: State,
    /// What it means, in the original's words.
    pub description: String,
    /// The last (up to) three values at a 1-minute step, oldest first.
    #[serde(rename = "last-values")]
    pub last_values: Vec<f64>,
    /// How long the series has been out of range without interruption, in minutes (0 in range).
    pub out_of_range_minutes: u32,
    /// Time of the first sample of the current out-of-range run (none in range).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out_of_range_since: Option<DateTime<Utc>>,
}

/// The state of `sla` at unix time `at`, from its history up to `at`.
///
/// Unknown when there is no sample at `at` (within half a step): Prometheus has no value now.
pub fn status(samples: &[Sample], sla: &Sla, at: i64) -> Status {
    let range = sla.range;
    let Some(&(last_t, last_value)) = samples.last() else {
        return unknown("Prometheus has no data for this series in the last 12 hours".to_owned());
    };
    if at - last_t > STEP_SECONDS / 2 {
        let when = DateTime::from_timestamp(last_t, 0)
            .map(|t| t.to_rfc3339())
            .unwrap_or_else(|| last_t.to_string());
        return unknown(format!(
            "Prometheus has no current value for this series; the last one is from {when}"
        ));
    }
    let last_values: Vec<f64> = samples[samples.len().saturating_sub(3)..]
        .iter()
        .map(|&(_, v)| v)
        .collect();
    let texts: Vec<String> = last_values.iter().map(|&v| value_text(v)).collect();
    let (min, max, for_minutes) = (
        bound_text(range.min),
        bound_text(range.max),
        sla.for_minutes,
    );
    let current = out_of_range_runs(samples, range)
        .pop()
        .filter(|run| run.last == last_t);
    let Some(run) = current else {
        return Status {
            status: State::Inactive,
            // The original printed the value as a one-element list.
            description: format!(
                "Actual value [{}] in ({min}, {max})",
                value_text(last_value)
            ),
            last_values,
            out_of_range_minutes: 0,
            out_of_range_since: None,
        };
    };
    let minutes = run.minutes();
    let since = DateTime::from_timestamp(run.first, 0);
    if minutes >= for_minutes {
        Status {
            status: State::Firing,
            description: format!(
                // One placeholder in the original, filled with the list of values.
                "Service level agreement violated for more than {for_minutes} min, last three values [{}], allowed range: ({min}, {max})",
                texts.join(", ")
            ),
            last_values,
            out_of_range_minutes: minutes,
            out_of_range_since: since,
        }
    } else {
        let percent = (f64::from(minutes) * 100.0 / f64::from(for_minutes)).round();
        Status {
            status: State::Pending,
            description: format!(
                "Service level agreement violated for {minutes}/{for_minutes} min ({percent}%), last three values {} not in ({min}, {max})",
                texts.join(",")
            ),
            last_values,
            out_of_range_minutes: minutes,
            out_of_range_since: since,
        }
    }
}

fn unknown(description: String) -> Status {
    Status {
        status: State::Unknown,
        description,
        last_values: Vec::new(),
        out_of_range_minutes: 0,
        out_of_range_since: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::sla::SlaRange;

    pub(crate) fn sla(min: f64, max: f64, for_minutes: u32) -> Sla {
        Sla {
            name: [("__name__".to_owned(), "latency".to_owned())].into(),
            range: SlaRange { min, max },
            for_minutes,
        }
    }

    fn history(values: &[f64]) -> (Vec<Sample>, i64) {
        let samples: Vec<Sample> = values
            .iter()
            .enumerate()
            .map(|(i, &v)| (i as i64 * 60, v))
            .collect();
        let at = samples.last().map_or(0, |s| s.0);
        (samples, at)
    }

    #[test]
    fn in_range_is_inactive() {
        let (samples, at) = history(&[9.0, 0.25]);
        let s = status(&samples, &sla(0.05, 0.5, 5), at);
        assert_eq!(s.status, State::Inactive);
        assert_eq!(s.description, "Actual value [0.25] in (0.05, 0.5)");
        assert_eq!(
            (s.last_values, s.out_of_range_minutes),
            (vec![9.0, 0.25], 0)
        );
    }

    #[test]
    fn the_original_example_is_printed_word_for_word() {
        let (samples, at) = history(&[3289759744.0, 3289731072.0, 3289706496.0]);
        let s = status(&samples, &sla(3289686016.0, 3290595328.0, 1), at);
        assert_eq!(
            s.description,
            "Actual value [3289706496.0] in (3289686016, 3290595328)"
        );
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(
            json["last-values"],
            serde_json::json!([3289759744.0, 3289731072.0, 3289706496.0])
        );
    }

    #[test]
    fn out_for_less_than_for_is_pending_with_its_share() {
        let (samples, at) = history(&[0.2, 0.2, 0.9, 0.8, 1.0]);
        let s = status(&samples, &sla(0.05, 0.5, 5), at);
        assert_eq!(s.status, State::Pending);
        assert_eq!(
            s.description,
            "Service level agreement violated for 3/5 min (60%), last three values 0.9,0.8,1.0 not in (0.05, 0.5)"
        );
        assert_eq!(s.out_of_range_minutes, 3);
        assert_eq!(s.out_of_range_since.map(|t| t.timestamp()), Some(120));
    }

    #[test]
    fn out_for_exactly_for_fires() {
        let (samples, at) = history(&[0.2, 0.01, 0.01, 0.9, 0.8, 1.0]);
        let s = status(&samples, &sla(0.05, 0.5, 5), at);
        assert_eq!(s.status, State::Firing);
        assert_eq!(
            s.description,
            "Service level agreement violated for more than 5 min, last three values [0.9, 0.8, 1.0], allowed range: (0.05, 0.5)"
        );
        let (samples, at) = history(&[0.2, 0.01, 0.9, 0.8, 1.0]);
        assert_eq!(
            status(&samples, &sla(0.05, 0.5, 5), at).status,
            State::Pending
        );
    }

    #[test]
    fn percent_is_rounded() {
        let (samples, at) = history(&[0.2, 0.9]);
        let s = status(&samples, &sla(0.05, 0.5, 3), at);
        assert!(
            s.description
                .contains("for 1/3 min (33%), last three values 0.2,0.9 not"),
            "{}",
            s.description
        );
    }

    #[test]
    fn no_value_at_the_evaluation_time_is_unknown() {
        assert_eq!(status(&[], &sla(0.0, 1.0, 5), 600).status, State::Unknown);
        let (samples, _) = history(&[0.5, 0.5]);
        let s = status(&samples, &sla(0.0, 1.0, 5), 600);
        assert_eq!(s.status, State::Unknown);
        assert!(
            s.description.contains("1970-01-01T00:01:00"),
            "{}",
            s.description
        );
    }
}
