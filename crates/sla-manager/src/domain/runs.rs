//! Maximal runs of out-of-range samples.

use common::sla::SlaRange;

use super::{STEP_SECONDS, Sample};

/// Consecutive out-of-range samples, `first..=last`, one per step without a gap.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// Unix time of the first out-of-range sample.
    pub first: i64,
    /// Unix time of the last one.
    pub last: i64,
    /// The values, in time order (never empty).
    pub values: Vec<f64>,
}

impl Run {
    /// Minutes the run lasts: each sample stands for one step.
    pub fn minutes(&self) -> u32 {
        (self.values.len() as i64 * STEP_SECONDS / 60) as u32
    }

    /// Samples of the run with `at - window <= t <= at`.
    pub fn samples_in_window(&self, at: i64, window: i64) -> u32 {
        let lo = self.first.max(at - window);
        let hi = self.last.min(at);
        if hi < lo {
            0
        } else {
            ((hi - lo) / STEP_SECONDS + 1) as u32
        }
    }

    /// The mean value.
    pub fn avg(&self) -> f64 {
        self.values.iter().sum::<f64>() / self.values.len() as f64
    }

    /// The largest value.
    pub fn max(&self) -> f64 {
        self.values
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max)
    }

    /// The smallest value.
    pub fn min(&self) -> f64 {
        self.values.iter().copied().fold(f64::INFINITY, f64::min)
    }
}

/// Whether `next` directly follows `previous` (no missing step between them).
fn follows(previous: i64, next: i64) -> bool {
    next - previous <= STEP_SECONDS + STEP_SECONDS / 2
}

/// The maximal runs of samples outside `range` (NaN counts as outside), in time order. A gap in
/// the samples ends a run.
pub fn out_of_range_runs(samples: &[Sample], range: SlaRange) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    let mut previous: Option<i64> = None;
    for &(t, value) in samples {
        if !range.contains(value) {
            match runs.last_mut() {
                Some(run) if previous == Some(run.last) && follows(run.last, t) => {
                    run.last = t;
                    run.values.push(value);
                }
                _ => runs.push(Run {
                    first: t,
                    last: t,
                    values: vec![value],
                }),
            }
        }
        previous = Some(t);
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    const RANGE: SlaRange = SlaRange { min: 1.0, max: 2.0 };

    fn history(values: &[f64]) -> Vec<Sample> {
        values
            .iter()
            .enumerate()
            .map(|(i, &v)| (i as i64 * 60, v))
            .collect()
    }

    #[test]
    fn runs_are_maximal_and_in_order() {
        let runs = out_of_range_runs(&history(&[1.5, 3.0, 3.5, 1.0, 0.5, 2.0, 2.1]), RANGE);
        let spans: Vec<(i64, i64, u32)> = runs
            .iter()
            .map(|r| (r.first, r.last, r.minutes()))
            .collect();
        assert_eq!(spans, vec![(60, 120, 2), (240, 240, 1), (360, 360, 1)]);
        assert_eq!(runs[0].values, vec![3.0, 3.5]);
        assert_eq!(
            (runs[0].avg(), runs[0].max(), runs[0].min()),
            (3.25, 3.5, 3.0)
        );
    }

    #[test]
    fn bounds_are_in_range_and_nan_is_not() {
        assert!(out_of_range_runs(&history(&[1.0, 2.0]), RANGE).is_empty());
        assert_eq!(out_of_range_runs(&history(&[f64::NAN]), RANGE).len(), 1);
    }

    #[test]
    fn a_gap_ends_a_run() {
        let samples = vec![(0, 5.0), (60, 5.0), (180, 5.0)];
        let runs = out_of_range_runs(&samples, RANGE);
        assert_eq!(runs.len(), 2);
        assert_eq!((runs[1].first, runs[1].minutes()), (180, 1));
    }

    #[test]
    fn an_in_range_sample_between_ends_a_run_even_at_the_same_step() {
        let runs = out_of_range_runs(&history(&[5.0, 1.5, 5.0]), RANGE);
        assert_eq!(runs.len(), 2);
    }

    #[test]
    fn samples_in_window_include_both_ends() {
        let run = Run {
            first: 0,
            last: 600,
            values: vec![5.0; 11],
        };
        assert_eq!(run.samples_in_window(600, 600), 11);
        assert_eq!(run.samples_in_window(900, 600), 6);
        assert_eq!(run.samples_in_window(1300, 600), 0);
        assert_eq!(run.samples_in_window(300, 60), 2);
    }
}
