//! The spectrum the detection reads: the detrended series, its periodogram, and the median
//! that is a bin's local noise floor. Kept apart from the detection so that the significance
//! test in [`super::seasonality`] reads as statistics, not as FFT bookkeeping.

use rustfft::num_complex::Complex;

/// Residuals of the least-squares line through `x`.
pub(crate) fn detrend(x: &[f64]) -> Vec<f64> {
    let n = x.len() as f64;
    let tm = (n - 1.0) / 2.0;
    let xm = x.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (t, v) in x.iter().enumerate() {
        let dt = t as f64 - tm;
        sxy += dt * (v - xm);
        sxx += dt * dt;
    }
    let slope = sxy / sxx;
    x.iter()
        .enumerate()
        .map(|(t, v)| v - xm - slope * (t as f64 - tm))
        .collect()
}

/// `|DFT_k|^2` for `k = 0..=n/2`.
pub(super) fn periodogram(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    let mut buf: Vec<Complex<f64>> = x.iter().map(|&v| Complex::new(v, 0.0)).collect();
    crate::autocorrelation::fft(&mut buf, false);
    buf[..=n / 2].iter().map(|c| c.norm_sqr()).collect()
}

/// Median of a scratch buffer (reordered); `None` when empty.
pub(crate) fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mid = v.len() / 2;
    let (_, m, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    Some(*m)
}

/// The sorted values of a window `values[lo..=hi]` that only moves right (`lo` and `hi`
/// never decrease): neighbouring bins' noise floors share all but a few values, so each
/// step inserts and removes those few in a sorted buffer instead of selecting a median
/// anew (same medians as [`median`], a few times faster over a periodogram).
#[derive(Debug)]
pub(super) struct SlidingWindow<'a> {
    values: &'a [f64],
    lo: usize,
    /// One past the last value held.
    end: usize,
    sorted: Vec<f64>,
}

impl<'a> SlidingWindow<'a> {
    pub(super) fn new(values: &'a [f64]) -> Self {
        Self {
            values,
            lo: 0,
            end: 0,
            sorted: Vec::new(),
        }
    }

    /// Moves the window to `values[lo..=hi]` (`lo` and `hi` at least the previous ones).
    pub(super) fn set(&mut self, lo: usize, hi: usize) {
        if lo >= self.end {
            self.sorted.clear();
            (self.lo, self.end) = (lo, lo);
        }
        while self.end <= hi {
            let v = self.values[self.end];
            let at = self.sorted.partition_point(|w| w.total_cmp(&v).is_lt());
            self.sorted.insert(at, v);
            self.end += 1;
        }
        while self.lo < lo {
            let v = self.values[self.lo];
            let at = self.sorted.partition_point(|w| w.total_cmp(&v).is_lt());
            self.sorted.remove(at);
            self.lo += 1;
        }
    }

    /// What [`median`] returns for the window without the values at the indices `skip`
    /// (at most three, each inside the window); `None` when nothing is left.
    pub(super) fn median_without(&self, skip: &[usize]) -> Option<f64> {
        let mut gone = [0.0; 3];
        let skip = &skip[..skip.len().min(3)];
        for (slot, &j) in gone.iter_mut().zip(skip) {
            *slot = self.values[j];
        }
        let gone = &mut gone[..skip.len()];
        gone.sort_unstable_by(f64::total_cmp);
        let len = self
            .sorted
            .len()
            .checked_sub(gone.len())
            .filter(|&l| l > 0)?;
        // Positions of the skipped values in `sorted`, ascending (equal values take
        // consecutive positions); the median then moves one place up for each skipped
        // position at or below it.
        let mut at = len / 2;
        let mut previous: Option<(f64, usize)> = None;
        for &v in gone.iter() {
            let position = match previous {
                Some((p, i)) if p.total_cmp(&v).is_eq() => i + 1,
                _ => self.sorted.partition_point(|w| w.total_cmp(&v).is_lt()),
            };
            if position <= at {
                at += 1;
            }
            previous = Some((v, position));
        }
        self.sorted.get(at).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_medians_equal_selected_medians() {
        // pseudo-random values with ties, windows of every shape a periodogram sweep makes
        let values: Vec<f64> = (0..300).map(|i| ((i * 7919) % 37) as f64).collect();
        let (w, half) = (24, values.len() - 1);
        let mut sliding = SlidingWindow::new(&values);
        for k in 1..=half {
            let (lo, hi) = (k.saturating_sub(w).max(1), (k + w).min(half));
            sliding.set(lo, hi);
            let own: Vec<usize> = (k - 1..=k + 1).filter(|j| (lo..=hi).contains(j)).collect();
            let mut window: Vec<f64> = (lo..=hi)
                .filter(|j| !own.contains(j))
                .map(|j| values[j])
                .collect();
            assert_eq!(sliding.median_without(&own), median(&mut window), "bin {k}");
        }
    }
}
