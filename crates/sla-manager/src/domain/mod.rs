//! The SLA logic as pure functions over samples, an SLA and an evaluation time: no database,
//! no Prometheus, no clock. The I/O around them is in [`crate::monitor`].
//!
//! Conventions, shared by every function here:
//! - A history is a slice of [`Sample`]s `(unix seconds, value)` in time order at a
//!   [`STEP_SECONDS`] step, as a PromQL range query returns it (a missing step is a gap).
//! - Each sample stands for one minute: a run of `n` consecutive out-of-range samples lasts
//!   `n` minutes, starts at its first sample and ends one step after its last one.
//! - A window of `W` seconds evaluated at `at` holds the samples with `at - W <= t <= at`, both
//!   ends included, as Prometheus range selectors.

mod future;
mod probability;
mod runs;
mod status;
mod validation;
mod violations;

pub use future::{FutureKind, FutureViolation, future_violations};
pub use probability::out_of_range_probability;
pub use runs::{Run, out_of_range_runs};
pub use status::{State, Status, status};
pub use validation::{
    MAX_FOR_MINUTES, ParsedSet, finish_validation, not_in_prometheus, parse_sla_set,
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

/// A number as the descriptions print it: the shortest text that reads back as the same value.
fn number(value: f64) -> String {
    format!("{value}")
}
