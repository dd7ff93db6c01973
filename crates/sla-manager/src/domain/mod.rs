//! The SLA logic as pure functions over samples, an SLA and an evaluation time: no database,
//! no Prometheus, no clock. The I/O around them is in [`crate::manager`].
//!
//! Conventions, shared by every function here:
//! - A history is a slice of [`Sample`]s `(unix seconds, value)` in time order at a
//!   [`STEP_SECONDS`] step, as a PromQL range query returns it (a missing step is a gap).
//! - Each sample stands for one minute: a run of `n` consecutive out-of-range samples lasts
//!   `n` minutes, starts at its first sample and ends one step after its last one.
//! - A window of `W` seconds evaluated at `at` holds the samples with `at - W <= t <= at`, both
//!   ends included, as Prometheus range selectors.

pub mod breach;
mod future;
pub mod minutes;
mod objective;
mod probability;
pub mod ratio;
mod runs;
pub mod slo;
mod status;
mod validation;
mod violations;
mod zone;

pub use future::{
    ForecastSummary, FutureForecast, FutureItem, FutureKind, FutureViolation, future_violations,
};
pub use probability::out_of_range_probability;
pub use runs::{Run, out_of_range_runs};
pub use status::{State, Status, status};
pub use validation::{
    MAX_FOR_MINUTES, ParsedSet, SetEntry, bad_expression, finish_validation, not_in_prometheus,
    parse_sla_set,
};
pub use violations::{Violation, ViolationReport, WINDOWS, WindowCount, violations};

/// One sample: unix seconds and value.
pub type Sample = (i64, f64);

/// The step of every history and of the windows' arithmetic.
pub const STEP_SECONDS: i64 = 60;

/// How far back the history reaches: the longest window.
pub const HISTORY_SECONDS: i64 = 12 * 3600;

/// Seconds of history to query for an SLA evaluated at `at`: the 12 hours plus `for` minutes
/// before them, so that a run crossing the 12-hour edge is judged by its whole length.
pub fn history_start(at: i64, for_minutes: u32) -> i64 {
    at - HISTORY_SECONDS - i64::from(for_minutes) * 60
}

/// A value as the original system's descriptions print it: Python's `repr` of a float, the
/// shortest text that reads back as the same value, always with a `.` or an exponent
/// (`3289706496.0`, `0.25`, `1e-05`, `1e+16`).
fn value_text(value: f64) -> String {
    if value.is_nan() {
        return "nan".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    // Rust's `Debug` switches to an exponent at the same magnitudes as Python (below 1e-4, from
    // 1e16 on) and differs only in writing the exponent: `1e-5` where Python writes `1e-05`.
    let text = format!("{value:?}");
    match text.split_once('e') {
        None => text,
        Some((mantissa, exponent)) => {
            let (sign, digits) = match exponent.strip_prefix('-') {
                Some(digits) => ('-', digits),
                None => ('+', exponent),
            };
            format!("{mantissa}e{sign}{digits:0>2}")
        }
    }
}

/// A range bound as the original printed it: as the SLA set gave it. The stored bound is a
/// float, so a whole number is taken to have been given as an integer (`3289686016`, as in the
/// original's example) and any other as a float.
fn bound_text(value: f64) -> String {
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 1e16 {
        format!("{value:.0}")
    } else {
        value_text(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_print_as_python_floats() {
        let cases = [
            (3289706496.0, "3289706496.0"),
            (0.25, "0.25"),
            (1.0, "1.0"),
            (-2.5, "-2.5"),
            (1e-4, "0.0001"),
            (1e-5, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (2.5e100, "2.5e+100"),
            (f64::NAN, "nan"),
            (f64::NEG_INFINITY, "-inf"),
        ];
        for (value, text) in cases {
            assert_eq!(value_text(value), text, "{value}");
        }
    }

    #[test]
    fn bounds_print_as_given() {
        assert_eq!(bound_text(3289686016.0), "3289686016");
        assert_eq!(bound_text(0.05), "0.05");
        assert_eq!(bound_text(-1000.0), "-1000");
        assert_eq!(bound_text(1e20), "1e+20");
    }
}
