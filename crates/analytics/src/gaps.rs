//! Where are values missing? Linear interpolation of NaN gaps.

use crate::error::{Error, Result};

/// A series with its gaps filled.
#[derive(Debug, Clone, PartialEq)]
pub struct Filled {
    /// The series, every value finite.
    pub values: Vec<f64>,
    /// How many values were filled.
    pub filled: usize,
}

/// Fills NaN (and infinite) values by linear interpolation between the nearest finite
/// neighbours; leading and trailing gaps take the nearest finite value.
///
/// Matches pandas `Series.interpolate(method="linear", limit_direction="both")`
/// followed by `ffill().bfill()` at the edges.
///
/// # Errors
/// [`Error::AllMissing`] when no value is finite (including an empty slice).
pub fn fill_gaps(x: &[f64]) -> Result<Filled> {
    let first = x
        .iter()
        .position(|v| v.is_finite())
        .ok_or(Error::AllMissing)?;
    let mut values = x.to_vec();
    let mut filled = 0;
    for v in values.iter_mut().take(first) {
        *v = x[first];
        filled += 1;
    }
    let mut last = first;
    for i in first + 1..x.len() {
        if x[i].is_finite() {
            let gap = i - last;
            for k in 1..gap {
                let w = k as f64 / gap as f64;
                values[last + k] = x[last] * (1.0 - w) + x[i] * w;
                filled += 1;
            }
            last = i;
        }
    }
    for v in values.iter_mut().skip(last + 1) {
        *v = x[last];
        filled += 1;
    }
    Ok(Filled { values, filled })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_inner_and_edge_gaps() {
        let nan = f64::NAN;
        let f = fill_gaps(&[nan, 1.0, nan, nan, 4.0, nan]).unwrap();
        assert_eq!(f.values, vec![1.0, 1.0, 2.0, 3.0, 4.0, 4.0]);
        assert_eq!(f.filled, 4);
    }

    #[test]
    fn all_missing_is_an_error() {
        assert_eq!(fill_gaps(&[f64::NAN]), Err(Error::AllMissing));
        assert_eq!(fill_gaps(&[]), Err(Error::AllMissing));
    }
}
