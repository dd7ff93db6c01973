//! The disjoint slices the aggregate windows are cut into (see [`crate::discovery`]): the 1h
//! window, then what the 3h window holds beyond it, then what the 12h window holds beyond the
//! 3h one, each as `[range] offset offset`. Where a slice ends depends on which end of a range
//! the engine includes ([`RangeSemantics`]):
//!
//! - closed (Prometheus 2, `[t-d, t]`): the 3h slice is `[at-3h, at-1h-1ms]`, i.e.
//!   `[1h59m59s999ms] offset 1h1ms` (samples have millisecond timestamps: none falls between);
//! - left-open (Prometheus 3, VictoriaMetrics, `(t-d, t]`): the 3h slice is `(at-3h, at-1h]`,
//!   i.e. `[2h] offset 1h`. The closed cut would lose a sample exactly at `at-1h`, which is out
//!   of the 1h window and in the 3h one.
//!
//! Either way each sample of a window is in exactly one of its slices, so the combined window
//! equals the engine's own `*_over_time` over the whole range.

use common::range_semantics::RangeSemantics;

/// One slice: the samples `[range] offset offset` selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slice {
    /// The range, in milliseconds.
    pub range_ms: i64,
    /// The offset, in milliseconds (0: none).
    pub offset_ms: i64,
}

impl Slice {
    /// The slice of the window of `window_ms` beyond the next shorter window (`None` for the
    /// shortest, which is its own slice), under `semantics`.
    pub fn of(window_ms: i64, shorter_ms: Option<i64>, semantics: RangeSemantics) -> Self {
        let Some(shorter) = shorter_ms else {
            return Self {
                range_ms: window_ms,
                offset_ms: 0,
            };
        };
        // Closed: end 1 ms before the shorter window's start, which the shorter window holds.
        let offset = match semantics {
            RangeSemantics::Closed => shorter + 1,
            RangeSemantics::LeftOpen => shorter,
        };
        Self {
            range_ms: window_ms - offset,
            offset_ms: offset,
        }
    }

    /// The selector's suffix: `[1h]`, `[2h] offset 1h`.
    pub fn promql(self) -> String {
        let range = format!("[{}]", promql_duration(self.range_ms));
        match self.offset_ms {
            0 => range,
            offset => format!("{range} offset {}", promql_duration(offset)),
        }
    }

    /// Whether the engine selects a sample at `sample_ms` for this slice evaluated at `at_ms`.
    pub fn selects(self, semantics: RangeSemantics, sample_ms: i64, at_ms: i64) -> bool {
        semantics.selects(sample_ms, at_ms - self.offset_ms, self.range_ms)
    }
}

/// A duration in PromQL's notation, e.g. `1h59m59s999ms`.
pub fn promql_duration(millis: i64) -> String {
    let mut text = String::new();
    let mut rest = millis;
    for (unit, length) in [("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1)] {
        if rest >= length {
            text.push_str(&format!("{}{unit}", rest / length));
            rest %= length;
        }
    }
    if text.is_empty() {
        text.push_str("0s");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;
    const WINDOWS: [i64; 3] = [HOUR, 3 * HOUR, 12 * HOUR];
    const BOTH: [RangeSemantics; 2] = [RangeSemantics::Closed, RangeSemantics::LeftOpen];

    /// The slices of the 1h, 3h and 12h windows.
    fn slices(semantics: RangeSemantics) -> [Slice; 3] {
        [
            Slice::of(WINDOWS[0], None, semantics),
            Slice::of(WINDOWS[1], Some(WINDOWS[0]), semantics),
            Slice::of(WINDOWS[2], Some(WINDOWS[1]), semantics),
        ]
    }

    #[test]
    fn slices_are_written_for_each_semantics() {
        let closed = slices(RangeSemantics::Closed).map(Slice::promql);
        assert_eq!(
            closed,
            [
                "[1h]",
                "[1h59m59s999ms] offset 1h1ms",
                "[8h59m59s999ms] offset 3h1ms"
            ]
        );
        let open = slices(RangeSemantics::LeftOpen).map(Slice::promql);
        assert_eq!(open, ["[1h]", "[2h] offset 1h", "[9h] offset 3h"]);
        assert_eq!(promql_duration(0), "0s");
        assert_eq!(promql_duration(61_001), "1m1s1ms");
    }

    /// Each sample the engine's own `op(sel[window])` selects is in exactly one slice of that
    /// window, and no other sample is in any: the combined window is the engine's answer.
    /// Evaluated at times on and off the samples' grid, so that samples fall exactly on every
    /// boundary (`at-1h`, `at-3h`, `at-12h`) and next to them.
    #[test]
    fn the_slices_of_a_window_select_what_the_engine_selects_over_the_window() {
        for semantics in BOTH {
            let slices = slices(semantics);
            // A minute grid, and 1 ms either side of every boundary.
            let at_grid = 1_800_000_000_000_i64;
            for at in [at_grid, at_grid + 1, at_grid - 1, at_grid + 30_000] {
                let mut samples: Vec<i64> = (0..=13 * 60).map(|m| at_grid - m * 60_000).collect();
                for w in WINDOWS {
                    samples.extend([at - w - 1, at - w, at - w + 1]);
                }
                for (k, window) in WINDOWS.iter().enumerate() {
                    for &t in &samples {
                        let in_window = semantics.selects(t, at, *window);
                        let in_slices = slices[..=k]
                            .iter()
                            .filter(|s| s.selects(semantics, t, at))
                            .count();
                        assert_eq!(
                            in_slices,
                            usize::from(in_window),
                            "{semantics}: sample at at{:+} ms, window {window} ms",
                            t - at
                        );
                    }
                }
            }
        }
    }

    /// The cut for the other semantics is wrong on a boundary: the closed cut on a left-open
    /// engine loses the sample at `at-1h` from the 3h window, the left-open cut on a closed
    /// engine counts it twice.
    #[test]
    fn the_other_semantics_cut_miscounts_a_sample_on_a_boundary() {
        let at = 1_800_000_000_000_i64;
        let sample = at - HOUR;
        let count = |cut: RangeSemantics, engine: RangeSemantics| {
            slices(cut)[..2]
                .iter()
                .filter(|s| s.selects(engine, sample, at))
                .count()
        };
        assert_eq!(count(RangeSemantics::Closed, RangeSemantics::LeftOpen), 0);
        assert_eq!(count(RangeSemantics::LeftOpen, RangeSemantics::Closed), 2);
        assert_eq!(count(RangeSemantics::LeftOpen, RangeSemantics::LeftOpen), 1);
        assert_eq!(count(RangeSemantics::Closed, RangeSemantics::Closed), 1);
    }
}
