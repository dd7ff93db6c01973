//! Outliers across the series of one metric name: which series behave unlike the rest, and
//! since when.
//!
//! augurs' detectors judge each timestamp on its own (MAD: distance from the median of all
//! values in units of their median absolute deviation; DBSCAN: outside the one cluster that
//! holds most of the values at that timestamp), so on raw samples every noisy minute of some
//! host is flagged. Here the series are first averaged over blocks of
//! [`OutlierOptions::smoothing`] samples and each block is taken relative to the median
//! series at that time (the daily cycle and any fleet-wide shift are common to all and drop
//! out); a series is reported only if it stays outlying for [`OutlierOptions::min_duration`]
//! samples.

use augurs::outlier::{DbscanDetector, MADDetector, OutlierDetector, OutlierOutput};
use serde::{Deserialize, Serialize};

use super::{MAD_TO_SD, median, positive};
use crate::error::{Error, Result, ensure_finite};

/// Which augurs detector judges each timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutlierMethod {
    /// Median absolute deviation from the median of all values.
    Mad,
    /// One-dimensional DBSCAN at each timestamp.
    Dbscan,
}

/// Options of [`outliers`].
#[derive(Debug, Clone, PartialEq)]
pub struct OutlierOptions {
    /// The detector. Default [`OutlierMethod::Mad`].
    pub method: OutlierMethod,
    /// Samples averaged into one block before detection. Default 10.
    pub smoothing: usize,
    /// Shortest outlying stretch reported, in samples (rounded up to whole blocks). Default 30.
    pub min_duration: usize,
    /// MAD: the score above which a block is outlying. Default 4.
    pub mad_threshold: f64,
    /// DBSCAN: the largest gap inside the cluster, in units of the blocks' spread around the
    /// median series (a robust standard deviation). Default 2.
    pub dbscan_epsilon: f64,
}

impl Default for OutlierOptions {
    fn default() -> Self {
        Self {
            method: OutlierMethod::Mad,
            smoothing: 10,
            min_duration: 30,
            mad_threshold: 4.0,
            dbscan_epsilon: 2.0,
        }
    }
}

/// One series found to behave unlike the rest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outlier {
    /// Position of the series in the input.
    pub series: usize,
    /// Index of the first sample of its first outlying stretch.
    pub since: usize,
    /// Index after the last sample of its last outlying stretch; `None` while it lasts to the
    /// end of the input.
    pub until: Option<usize>,
    /// Median distance from the median series over its outlying stretches, in units of the
    /// blocks' spread (signed: positive above the rest).
    pub score: f64,
}

/// What [`outliers`] found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outliers {
    /// The detector used.
    pub method: OutlierMethod,
    /// Number of series compared.
    pub series_count: usize,
    /// The outlying series, in input order.
    pub outliers: Vec<Outlier>,
}

/// The series of `series` (aligned: same length, same timestamps, gaps filled) that behave
/// unlike the rest.
///
/// Fewer than three series, or fewer samples than one block, cannot be judged and give an
/// empty result; so do identical series.
///
/// # Errors
/// [`Error::NonFinite`] for NaN or infinite values, [`Error::LengthMismatch`] for series of
/// different lengths, [`Error::InvalidOption`] for a zero smoothing or a threshold that is not
/// positive.
pub fn outliers(series: &[&[f64]], options: &OutlierOptions) -> Result<Outliers> {
    if options.smoothing == 0 {
        return Err(Error::InvalidOption("smoothing must be at least 1"));
    }
    if !(positive(options.mad_threshold) && positive(options.dbscan_epsilon)) {
        return Err(Error::InvalidOption(
            "mad_threshold and dbscan_epsilon must be positive",
        ));
    }
    let len = series.first().map_or(0, |s| s.len());
    for (i, s) in series.iter().enumerate() {
        if s.len() != len {
            return Err(Error::LengthMismatch {
                series: i,
                expected: len,
                got: s.len(),
            });
        }
        ensure_finite(s)?;
    }
    let none = Outliers {
        method: options.method,
        series_count: series.len(),
        outliers: Vec::new(),
    };
    let blocks = len / options.smoothing;
    if series.len() < 3 || blocks == 0 {
        return Ok(none);
    }
    let residuals = relative_block_means(series, options.smoothing, blocks);
    let spread = {
        let mut all: Vec<f64> = residuals.iter().flatten().map(|v| v.abs()).collect();
        MAD_TO_SD * median(&mut all)
    };
    if !positive(spread) {
        return Ok(none);
    }
    let rows: Vec<&[f64]> = residuals.iter().map(Vec::as_slice).collect();
    let output = match detect(&rows, options, spread) {
        Ok(output) => output,
        // MAD cannot scale values whose deviations on one side are all zero: nothing stands out.
        Err(_) if options.method == OutlierMethod::Mad => return Ok(none),
        Err(e) => return Err(Error::Model(e.to_string())),
    };
    let min_blocks = options.min_duration.div_ceil(options.smoothing).max(1);
    let outliers = output
        .series_results
        .iter()
        .enumerate()
        .filter_map(|(i, result)| {
            let stretches = sustained(
                result
                    .outlier_intervals
                    .intervals
                    .iter()
                    .map(|iv| (iv.start, iv.end.unwrap_or(blocks))),
                min_blocks,
            );
            let (first, last) = (stretches.first()?, stretches.last()?);
            let mut inside: Vec<f64> = stretches
                .iter()
                .flat_map(|&(a, b)| residuals[i][a..b].iter().copied())
                .collect();
            Some(Outlier {
                series: i,
                since: first.0 * options.smoothing,
                until: (last.1 < blocks).then_some(last.1 * options.smoothing),
                score: median(&mut inside) / spread,
            })
        })
        .collect();
    Ok(Outliers { outliers, ..none })
}

/// Runs the chosen augurs detector on the block residuals.
fn detect(
    rows: &[&[f64]],
    options: &OutlierOptions,
    spread: f64,
) -> std::result::Result<OutlierOutput, augurs::outlier::Error> {
    match options.method {
        OutlierMethod::Mad => {
            let detector = MADDetector::with_threshold(options.mad_threshold);
            detector.detect(&detector.preprocess(rows)?)
        }
        OutlierMethod::Dbscan => {
            let detector = DbscanDetector::with_epsilon(options.dbscan_epsilon * spread);
            detector.detect(&detector.preprocess(rows)?)
        }
    }
}

/// Per series, the means of `blocks` blocks of `size` samples, less the median over the series
/// of the same block.
fn relative_block_means(series: &[&[f64]], size: usize, blocks: usize) -> Vec<Vec<f64>> {
    let mut means: Vec<Vec<f64>> = series
        .iter()
        .map(|s| {
            s.chunks_exact(size)
                .take(blocks)
                .map(|c| c.iter().sum::<f64>() / size as f64)
                .collect()
        })
        .collect();
    let mut column = vec![0.0; series.len()];
    for k in 0..blocks {
        for (c, m) in column.iter_mut().zip(&means) {
            *c = m[k];
        }
        let centre = median(&mut column);
        for m in means.iter_mut() {
            m[k] -= centre;
        }
    }
    means
}

/// The stretches (block ranges) at least `min_blocks` long, after joining stretches separated
/// by a single block (one block dipping under the threshold does not end an outlier).
fn sustained(
    intervals: impl Iterator<Item = (usize, usize)>,
    min_blocks: usize,
) -> Vec<(usize, usize)> {
    let mut joined: Vec<(usize, usize)> = Vec::new();
    for (a, b) in intervals {
        match joined.last_mut() {
            Some(last) if a <= last.1 + 1 => last.1 = last.1.max(b),
            _ => joined.push((a, b)),
        }
    }
    joined.retain(|&(a, b)| b - a >= min_blocks);
    joined
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fleet(n: usize, len: usize) -> Vec<Vec<f64>> {
        // Deterministic small differences between hosts and over time.
        (0..n)
            .map(|h| {
                (0..len)
                    .map(|t| ((t * 7 + h * 13) % 11) as f64 * 0.1)
                    .collect()
            })
            .collect()
    }

    #[test]
    fn a_host_that_jumps_is_found_since_the_jump() {
        let mut hosts = fleet(20, 600);
        for v in &mut hosts[7][300..] {
            *v += 5.0;
        }
        let rows: Vec<&[f64]> = hosts.iter().map(Vec::as_slice).collect();
        for method in [OutlierMethod::Mad, OutlierMethod::Dbscan] {
            let opts = OutlierOptions {
                method,
                ..OutlierOptions::default()
            };
            let found = outliers(&rows, &opts).unwrap();
            assert_eq!(found.outliers.len(), 1, "{method:?}: {found:?}");
            let o = &found.outliers[0];
            assert_eq!((o.series, o.since, o.until), (7, 300, None), "{method:?}");
            assert!(o.score > 0.0);
        }
    }

    #[test]
    fn stretches_shorter_than_the_minimum_are_dropped_and_gaps_of_one_joined() {
        let got = sustained([(0, 2), (3, 5), (10, 11)].into_iter(), 3);
        assert_eq!(got, vec![(0, 5)]);
    }

    #[test]
    fn bad_input_is_an_error_and_too_little_is_empty() {
        let opts = OutlierOptions::default();
        let (a, b) = ([1.0; 20], [1.0; 19]);
        assert_eq!(
            outliers(&[&a, &b], &opts),
            Err(Error::LengthMismatch {
                series: 1,
                expected: 20,
                got: 19
            })
        );
        let nan = [f64::NAN; 20];
        assert_eq!(outliers(&[&a, &nan], &opts), Err(Error::NonFinite));
        assert!(outliers(&[&a, &a], &opts).unwrap().outliers.is_empty());
        assert!(outliers(&[&a, &a, &a], &opts).unwrap().outliers.is_empty());
    }
}
