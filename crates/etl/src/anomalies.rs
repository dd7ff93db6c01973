//! The anomalies of the slow loop, from `analytics::anomalies` to the record shapes: the
//! changepoints of one history, and the outlier status of each series of one metric name
//! against the others. Pure functions; the slow loop calls them.
//!
//! Comparing a fleet needs every series of the name at once. To keep that cheap for a name with
//! thousands of series, each history is kept only as its [`Footprint`]: the means of blocks of
//! [`BLOCK`] samples on the lookback's common grid (a tenth of the samples), which is also the
//! first thing the outlier detector would compute from the raw values.

use analytics::anomalies::{self, ChangeKind, ChangepointOptions, OutlierOptions};
use chrono::{DateTime, TimeDelta, Utc};
use common::record::{self, Changepoint, OutlierStatus};

use crate::analysis::History;

/// Samples averaged into one block of a [`Footprint`] (the detector's default smoothing).
pub const BLOCK: usize = 10;

/// The level and trend changepoints of `history` (gaps filled first), with a seasonal period of
/// `period_steps` samples removed when given; none for a history without any sample.
///
/// # Errors
/// An invalid option of the detector (a bug), never the data.
pub fn changepoints(
    history: &History,
    period_steps: Option<usize>,
) -> Result<Vec<Changepoint>, analytics::Error> {
    let values = match analytics::fill_gaps(&history.values) {
        Ok(filled) => filled.values,
        Err(analytics::Error::AllMissing) => return Ok(Vec::new()),
        Err(error) => return Err(error),
    };
    let options = ChangepointOptions {
        period: period_steps,
        ..ChangepointOptions::default()
    };
    let step = history.step_seconds;
    Ok(anomalies::changepoints(&values, &options)?
        .into_iter()
        .map(|c| Changepoint {
            timestamp: history.start + TimeDelta::seconds((c.index as u64 * step) as i64),
            kind: match c.kind {
                ChangeKind::Level => record::ChangeKind::Level,
                ChangeKind::Trend => record::ChangeKind::Trend,
            },
            size: match c.kind {
                ChangeKind::Level => c.magnitude,
                ChangeKind::Trend => c.magnitude / step as f64,
            },
            score: c.score,
        })
        .collect())
}

/// A history reduced to what the fleet comparison needs: the means of its whole blocks of
/// [`BLOCK`] samples, block `k` covering the grid steps `k * BLOCK ..` of the lookback.
#[derive(Debug, Clone, PartialEq)]
pub struct Footprint {
    /// Index of its first block on the lookback's grid.
    pub first: usize,
    /// The block means.
    pub means: Vec<f64>,
}

impl Footprint {
    /// The footprint of `history` on the grid that starts at `from` (the lookback's start, on
    /// which every history of the cycle lies); `None` without any sample or before `from`.
    pub fn of(history: &History, from: DateTime<Utc>) -> Option<Self> {
        let step = history.step_seconds.max(1) as i64;
        let offset = usize::try_from((history.start - from).num_seconds() / step).ok()?;
        let values = analytics::fill_gaps(&history.values).ok()?.values;
        // The first whole block at or after the history's start.
        let first = offset.div_ceil(BLOCK);
        let skip = first * BLOCK - offset;
        let means = values
            .get(skip..)?
            .chunks_exact(BLOCK)
            .map(|c| c.iter().sum::<f64>() / BLOCK as f64)
            .collect();
        Some(Self { first, means })
    }
}

/// The outlier status of each of `fleet` (the series of one metric name; `None` where a series
/// has no footprint) against the others, over the blocks they all cover. A series without a
/// footprint, or a fleet of fewer than three comparable series, gets `None`: not compared.
///
/// # Errors
/// An invalid option of the detector (a bug), never the data.
pub fn outlier_statuses(
    fleet: &[Option<Footprint>],
    from: DateTime<Utc>,
    step_seconds: u64,
) -> Result<Vec<Option<OutlierStatus>>, analytics::Error> {
    let mut statuses = vec![None; fleet.len()];
    let present: Vec<(usize, &Footprint)> = fleet
        .iter()
        .enumerate()
        .filter_map(|(i, f)| f.as_ref().map(|f| (i, f)))
        .collect();
    let common_first = present.iter().map(|(_, f)| f.first).max();
    let common_end = present.iter().map(|(_, f)| f.first + f.means.len()).min();
    let (Some(first), Some(end)) = (common_first, common_end) else {
        return Ok(statuses);
    };
    if present.len() < 3 || end <= first {
        return Ok(statuses);
    }
    let rows: Vec<&[f64]> = present
        .iter()
        .map(|(_, f)| &f.means[first - f.first..end - f.first])
        .collect();
    // The footprints are already block means: the detector smooths no further, and its
    // shortest stretch is counted in blocks.
    let defaults = OutlierOptions::default();
    let options = OutlierOptions {
        smoothing: 1,
        min_duration: defaults.min_duration.div_ceil(BLOCK),
        ..defaults
    };
    let found = anomalies::outliers(&rows, &options)?;
    let method = match found.method {
        anomalies::OutlierMethod::Mad => "mad",
        anomalies::OutlierMethod::Dbscan => "dbscan",
    };
    let at = |block: usize| {
        from + TimeDelta::seconds(((first + block) * BLOCK) as i64 * step_seconds as i64)
    };
    for (i, _) in &present {
        statuses[*i] = Some(OutlierStatus {
            method: method.to_owned(),
            compared: present.len() as u64,
            outlying: false,
            since: None,
            until: None,
            score: None,
        });
    }
    for o in found.outliers {
        let index = present[o.series].0;
        statuses[index] = Some(OutlierStatus {
            method: method.to_owned(),
            compared: present.len() as u64,
            outlying: true,
            since: Some(at(o.since)),
            until: o.until.map(at),
            score: Some(o.score),
        });
    }
    Ok(statuses)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from() -> DateTime<Utc> {
        "2026-11-22T00:00:00Z".parse().unwrap()
    }

    /// A host of a fleet: a small deterministic wiggle, `lift` added from minute `since` on,
    /// its history starting `late` minutes into the lookback.
    fn host(h: usize, late: usize, lift: f64, since: usize) -> History {
        let values = (late..1_200)
            .map(|t| {
                let wiggle = ((t * 7 + h * 13) % 11) as f64 * 0.1;
                wiggle + if t >= since { lift } else { 0.0 }
            })
            .collect();
        History {
            start: from() + TimeDelta::minutes(late as i64),
            step_seconds: 60,
            values,
        }
    }

    #[test]
    fn a_planted_outlier_host_is_flagged_since_its_jump_and_the_others_are_not() {
        // Host 3 starts 25 minutes late (its footprint begins at block 3) and jumps at 10:00.
        let fleet: Vec<Option<Footprint>> = (0..12)
            .map(|h| {
                let history = match h {
                    3 => host(h, 25, 5.0, 600),
                    _ => host(h, 0, 0.0, 0),
                };
                Footprint::of(&history, from())
            })
            .chain([None])
            .collect();
        assert_eq!(fleet[3].as_ref().unwrap().first, 3);
        let statuses = outlier_statuses(&fleet, from(), 60).unwrap();
        assert_eq!(
            statuses[12], None,
            "a series without footprint is not compared"
        );
        for (h, status) in statuses[..12].iter().enumerate() {
            let status = status.as_ref().unwrap();
            assert_eq!((status.compared, status.method.as_str()), (12, "mad"));
            assert_eq!(status.outlying, h == 3, "host {h}: {status:?}");
        }
        let flagged = statuses[3].as_ref().unwrap();
        assert_eq!(flagged.since, Some(from() + TimeDelta::minutes(600)));
        assert_eq!(flagged.until, None);
        assert!(flagged.score.unwrap() > 0.0);
    }

    #[test]
    fn a_fleet_of_two_is_not_compared() {
        let fleet: Vec<Option<Footprint>> = (0..2)
            .map(|h| Footprint::of(&host(h, 0, 0.0, 0), from()))
            .collect();
        assert_eq!(
            outlier_statuses(&fleet, from(), 60).unwrap(),
            vec![None, None]
        );
    }

    #[test]
    fn a_level_shift_is_a_changepoint_at_its_time_in_series_units() {
        let mut history = host(0, 0, 8.0, 600);
        history.values[100] = f64::NAN;
        let found = changepoints(&history, None).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].kind, record::ChangeKind::Level);
        assert_eq!(found[0].timestamp, from() + TimeDelta::minutes(600));
        assert!((found[0].size - 8.0).abs() < 0.5, "{}", found[0].size);
        let none = changepoints(&host(0, 0, 0.0, 0), None).unwrap();
        assert!(none.is_empty(), "{none:?}");
        let empty = History {
            values: vec![f64::NAN; 3],
            ..history
        };
        assert!(changepoints(&empty, None).unwrap().is_empty());
    }
}
