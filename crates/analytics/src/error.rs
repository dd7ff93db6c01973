//! The one error type of the crate.

/// Why an analysis could not be computed.
///
/// A constant series is not an error: [`crate::metadata()`] reports it as a result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The series is shorter than the method needs.
    #[error("not enough data: needed at least {needed} values, got {got}")]
    NotEnoughData {
        /// Minimum number of values the method needs.
        needed: usize,
        /// Number of values given.
        got: usize,
    },
    /// The series holds a NaN or an infinity where only finite values are allowed
    /// (fill gaps first with [`crate::gaps::fill_gaps`]).
    #[error("the series holds a non-finite value")]
    NonFinite,
    /// The series has no finite value at all, so gaps cannot be filled.
    #[error("the series holds no finite value")]
    AllMissing,
    /// The series is constant, which the method cannot handle (ADF, ACF).
    #[error("the series is constant")]
    Constant,
    /// An option is out of its valid range.
    #[error("invalid option: {0}")]
    InvalidOption(&'static str),
    /// A least-squares design matrix is rank deficient.
    #[error("singular regression design")]
    Singular,
    /// Series that must be aligned have different lengths.
    #[error("series {series} has {got} values, the first has {expected}")]
    LengthMismatch {
        /// Position of the offending series.
        series: usize,
        /// Length of the first series.
        expected: usize,
        /// Length of the offending series.
        got: usize,
    },
    /// An augurs model (MSTL, ETS) or detector could not be fitted or run.
    #[error("model failed: {0}")]
    Model(String),
}

/// Crate-wide result alias.
pub(crate) type Result<T> = std::result::Result<T, Error>;

/// Fails with [`Error::NonFinite`] if any value is NaN or infinite.
pub(crate) fn ensure_finite(x: &[f64]) -> Result<()> {
    if x.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(Error::NonFinite)
    }
}

/// Fails with [`Error::NotEnoughData`] if `x` holds fewer than `needed` values.
pub(crate) fn ensure_len(x: &[f64], needed: usize) -> Result<()> {
    if x.len() < needed {
        Err(Error::NotEnoughData {
            needed,
            got: x.len(),
        })
    } else {
        Ok(())
    }
}
