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
    fn empty_and_nan_are_errors() {
        assert!(aggregates(&[]).is_err());
        assert!(aggregates(&[1.0, f64::NAN]).is_err());
    }
}
