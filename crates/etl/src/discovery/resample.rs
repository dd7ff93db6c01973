//! A series' history resampled to a regular grid, for the slow loop's statistics.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::analysis::History;

/// Points placed on the grid `from, from + step, ..., to` (whole seconds), from the first point
/// that has a sample to the last; NaN marks a missed sample in between, which the statistics
/// fill by interpolation.
///
/// The grid points before a series existed, or after it ended, are left out rather than marked
/// missing: filled, they would invent a flat history (two flat days before a seasonal day hide
/// its period) and a forecast would start from it.
pub fn grid(
    points: impl IntoIterator<Item = (f64, f64)>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    step: Duration,
) -> History {
    let step_seconds = step.as_secs().max(1);
    let start = from.timestamp_millis() as f64 / 1000.0;
    let span = (to - from).num_milliseconds() as f64 / 1000.0;
    let n = (span / step_seconds as f64).floor().max(-1.0) as i64 + 1;
    let mut values = vec![f64::NAN; n.max(0) as usize];
    for (timestamp, value) in points {
        let index = ((timestamp - start) / step_seconds as f64).round();
        if index >= 0.0 && (index as usize) < values.len() {
            values[index as usize] = value;
        }
    }
    let lived = match (
        values.iter().position(|v| !v.is_nan()),
        values.iter().rposition(|v| !v.is_nan()),
    ) {
        (Some(first), Some(last)) => first..last + 1,
        _ => 0..0,
    };
    History {
        start: from + TimeDelta::seconds((step_seconds * lived.start as u64) as i64),
        step_seconds,
        values: values.drain(lived).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_places_points_and_marks_gaps() {
        let from = DateTime::from_timestamp(600, 0).unwrap();
        let to = DateTime::from_timestamp(840, 0).unwrap();
        let history = grid(
            [(600.0, 1.0), (720.0, 3.0), (840.0, 5.0), (900.0, 9.0)],
            from,
            to,
            Duration::from_secs(60),
        );
        let values = &history.values;
        assert_eq!(values.len(), 5);
        assert_eq!((values[0], values[2], values[4]), (1.0, 3.0, 5.0));
        assert!(values[1].is_nan() && values[3].is_nan());
        assert_eq!((history.start, history.end()), (from, to));
    }

    #[test]
    fn grid_leaves_out_the_time_before_a_series_began_and_after_it_ended() {
        let from = DateTime::from_timestamp(0, 0).unwrap();
        let to = DateTime::from_timestamp(600, 0).unwrap();
        let history = grid(
            [(180.0, 1.0), (300.0, 3.0), (360.0, 4.0)],
            from,
            to,
            Duration::from_secs(60),
        );
        assert_eq!(history.values.len(), 4);
        assert_eq!(history.values[0], 1.0);
        assert!(history.values[1].is_nan());
        assert_eq!(history.values[3], 4.0);
        assert_eq!(history.start, DateTime::from_timestamp(180, 0).unwrap());
        assert_eq!(history.end(), DateTime::from_timestamp(360, 0).unwrap());

        let none = grid([], from, to, Duration::from_secs(60));
        assert!(none.values.is_empty());
    }
}
