//! How big is the series? Min, max, mean, population standard deviation and count.

use serde::Serialize;

use crate::error::{Result, ensure_finite, ensure_len};

/// Summary statistics of a window, as PromQL's `*_over_time` functions compute them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Aggregates {
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Arithmetic mean (`avg_over_time`).
    pub avg: f64,
    /// Population standard deviation (`stddev_over_time`, numpy `std(ddof=0)`).
    pub std_dev: f64,
    /// Number of values.
    pub count: usize,
}

/// Min, max, mean, population standard deviation and count of `x`.
///
/// Matches numpy's `min`, `max`, `mean`, `std(ddof=0)` and `len`. The variance uses a
/// two-pass algorithm, so a large common offset does not cost precision.
///
/// # Errors
/// [`crate::Error::NotEnoughData`] on an empty slice, [`crate::Error::NonFinite`] on NaN/inf.
pub fn aggregates(x: &[f64]) -> Result<Aggregates> {
    ensure_len(x, 1)?;
    ensure_finite(x)?;
    let n = x.len() as f64;
    let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
    for &v in x {
        min = min.min(v);
        max = max.max(v);
    }
    let avg = mean(x);
    let var = x.iter().map(|v| (v - avg).powi(2)).sum::<f64>() / n;
    Ok(Aggregates {
        min,
        max,
        avg,
        std_dev: var.sqrt(),
        count: x.len(),
    })
}

/// The aggregates of the union of disjoint windows, from the aggregates of each: min, max and
/// count exactly, the mean weighted by the counts and the variance pooled (Chan, Golub and
/// LeVeque), equal to computing them over all the values to about 1e-14. One window is taken as
/// it is; none gives `None`.
///
/// A NaN min or max of a part is skipped (`f64::min` and `max`), as PromQL's `min_over_time`
/// and `max_over_time` skip NaN samples.
pub fn combine(parts: &[Aggregates]) -> Option<Aggregates> {
    match parts {
        [] => None,
        [one] => Some(*one),
        _ => {
            // Saturating: a caller's absurd counts must not panic the sum.
            let count = parts
                .iter()
                .fold(0usize, |sum, p| sum.saturating_add(p.count));
            let n = count as f64;
            let avg = parts.iter().map(|p| p.count as f64 * p.avg).sum::<f64>() / n;
            let squares: f64 = parts
                .iter()
                .map(|p| p.count as f64 * (p.std_dev * p.std_dev + (p.avg - avg).powi(2)))
                .sum();
            Some(Aggregates {
                min: parts.iter().map(|p| p.min).fold(f64::NAN, f64::min),
                max: parts.iter().map(|p| p.max).fold(f64::NAN, f64::max),
                avg,
                std_dev: (squares / n).sqrt(),
                count,
            })
        }
    }
}

/// Arithmetic mean of a non-empty slice.
pub(crate) fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_checked_values() {
        let a = aggregates(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
        assert_eq!(a.min, 2.0);
        assert_eq!(a.max, 9.0);
        assert_eq!(a.avg, 5.0);
        assert_eq!(a.std_dev, 2.0);
        assert_eq!(a.count, 8);
    }

    #[test]
    fn disjoint_windows_combine_into_the_whole() {
        let values = [3.0, 7.5, -2.0, 10.0, 4.25, 4.25, 1e3, 0.5];
        let whole = aggregates(&values).unwrap();
        for split in 1..values.len() {
            let (recent, older) = values.split_at(split);
            let parts = [aggregates(recent).unwrap(), aggregates(older).unwrap()];
            let combined = combine(&parts).unwrap();
            assert_eq!((combined.min, combined.max, combined.count), (-2.0, 1e3, 8));
            assert!((combined.avg - whole.avg).abs() <= 1e-12 * whole.avg.abs());
            assert!((combined.std_dev - whole.std_dev).abs() <= 1e-12 * whole.std_dev);
        }
        assert_eq!(combine(&[whole]), Some(whole));
        assert_eq!(combine(&[]), None);
    }

    #[test]
    fn empty_and_nan_are_errors() {
        assert!(aggregates(&[]).is_err());
        assert!(aggregates(&[1.0, f64::NAN]).is_err());
    }
}
