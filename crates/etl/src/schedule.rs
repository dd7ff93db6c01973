//! Running a loop: a cycle at start, then one per period measured from cycle start, never two
//! at once, each summarised in the log and the metrics, until cancelled.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use crate::{error::EtlError, instruments::Instruments};

/// Where the loops read the time from: the system clock in production, a fixed or shifted one
/// in tests (to evaluate the history as of a known instant).
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(Utc::now)
}

/// What one cycle did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Series the cycle found.
    pub series: usize,
    /// Records the broker acknowledged.
    pub produced: usize,
    /// Records dropped.
    pub dropped: usize,
    /// Failed steps.
    pub failures: usize,
    /// Wall-clock seconds the cycle took.
    pub seconds: f64,
}

impl Summary {
    /// Counts `error` as a failure of `loop_name`, and logs it.
    pub fn fail(&mut self, instruments: &Instruments, loop_name: &'static str, error: &EtlError) {
        self.failures += 1;
        instruments.fail(loop_name, error.cause());
        tracing::warn!(r#loop = loop_name, cause = error.cause(), error = %common::admin::error_chain(error), "step failed");
    }
}

/// A loop's cycle: runs once per period with the deadline of the next start.
pub trait Cycle: Send + Sync + 'static {
    /// The loop's name, `fast` or `slow` (a metric label).
    const NAME: &'static str;

    /// One cycle; it should end by `deadline`.
    fn run(&self, deadline: Instant) -> impl Future<Output = Summary> + Send;
}

/// Runs `cycle` at once and then every `period` from cycle start until `token` is cancelled. A
/// cycle longer than its period delays the next one (they never overlap); a cycle still running
/// at cancellation is dropped.
pub async fn run_every<C: Cycle>(
    cycle: Arc<C>,
    period: Duration,
    instruments: Instruments,
    token: CancellationToken,
) {
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = token.cancelled() => break,
            _ = interval.tick() => {}
        }
        let cycle = once(cycle.as_ref(), period, &instruments);
        tokio::select! {
            _ = token.cancelled() => break,
            _ = cycle => {}
        }
    }
}

/// Runs one cycle of `cycle` with a deadline of `period`, then records and logs its summary.
pub async fn once<C: Cycle>(cycle: &C, period: Duration, instruments: &Instruments) -> Summary {
    let started = Instant::now();
    let mut summary = cycle.run(started + period).await;
    let seconds = started.elapsed().as_secs_f64();
    summary.seconds = seconds;
    instruments
        .cycle_duration
        .with_label_values(&[C::NAME])
        .observe(seconds);
    if summary.failures == 0 {
        instruments
            .last_success
            .with_label_values(&[C::NAME])
            .set(Utc::now().timestamp_millis() as f64 / 1000.0);
    }
    tracing::info!(
        r#loop = C::NAME,
        series = summary.series,
        records = summary.produced,
        dropped = summary.dropped,
        failures = summary.failures,
        seconds,
        "cycle done"
    );
    summary
}

/// Runs `work` on the blocking pool inside the current span.
pub async fn spawn_blocking_in_span<T, F>(work: F) -> Result<T, tokio::task::JoinError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(work)).await
}
