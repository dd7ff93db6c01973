//! Running a loop: one cycle per slot of its period, slots aligned to the Unix epoch so that
//! replicas agree on them; a cycle at start (or takeover) unless the current slot is done,
//! never two at once, each summarised in the log, the metrics and the journal, until cancelled
//! or the lease is lost.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, TimeDelta, Utc};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::{
    error::EtlError,
    instruments::Instruments,
    lease::{CycleEntry, Lease, LeaseStore},
    producer::Sent,
};

/// Where the loops read the time from: the system clock in production, a fixed or shifted one
/// in tests (to evaluate the history as of a known instant).
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(Utc::now)
}

/// `clock` read `offset` earlier: the time the loops evaluate their queries at and date their
/// records with (`ETL_QUERY_OFFSET`), so that an engine that makes samples searchable late
/// (VictoriaMetrics' `-search.latencyOffset`) answers with every sample of the window. The
/// cycles' slots stay on the real clock.
pub fn offset_clock(clock: Clock, offset: Duration) -> Clock {
    if offset.is_zero() {
        return clock;
    }
    let offset = TimeDelta::from_std(offset).unwrap_or(TimeDelta::MAX);
    Arc::new(move || {
        let now = clock();
        now.checked_sub_signed(offset).unwrap_or(now)
    })
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
    /// Records not sent because the lease lapsed.
    pub fenced: usize,
    /// Failed steps.
    pub failures: usize,
    /// Wall-clock seconds the cycle took.
    pub seconds: f64,
    /// Wall-clock seconds of the cycle with a Prometheus request in flight (the fast loop's).
    pub prometheus_seconds: f64,
}

impl Summary {
    /// Counts `error` as a failure of `loop_name`, and logs it.
    pub fn fail(&mut self, instruments: &Instruments, loop_name: &'static str, error: &EtlError) {
        self.failures += 1;
        instruments.fail(loop_name, error.cause());
        tracing::warn!(r#loop = loop_name, cause = error.cause(), error = %common::admin::error_chain(error), "step failed");
    }
}

/// How often a loop whose tenure lapsed looks whether it was restored.
const TENURE_POLL: Duration = Duration::from_millis(100);

/// One turn of a loop: the cycle of one shard for one scheduled slot, under a lease.
#[derive(Debug, Clone)]
pub struct Turn {
    /// The shard and the lease the records are produced under.
    pub lease: Lease,
    /// The start of the scheduled slot.
    pub slot: DateTime<Utc>,
    /// When the slot ends: the cycle should be done by then.
    pub deadline: Instant,
}

/// A loop's cycle: runs once per slot of its period.
pub trait Cycle: Send + Sync + 'static {
    /// The loop's name, `fast` or `slow` (a metric label).
    const NAME: &'static str;

    /// One cycle of `turn`'s shard; it should end by the turn's deadline.
    fn run(&self, turn: &Turn) -> impl Future<Output = Summary> + Send;
}

/// The start of the slot of `period` that holds `at`. Slots are aligned to the Unix epoch, so
/// every replica agrees on them and a new leader knows whether the current one was done.
pub fn slot_start(at: DateTime<Utc>, period: Duration) -> DateTime<Utc> {
    let period_ms = (period.as_millis() as i64).max(1);
    let start_ms = at.timestamp_millis().div_euclid(period_ms) * period_ms;
    DateTime::from_timestamp_millis(start_ms).unwrap_or(at)
}

/// Slots of `period` strictly between `last` and `current`: those no cycle completed.
pub fn slots_missed(last: DateTime<Utc>, current: DateTime<Utc>, period: Duration) -> u64 {
    let period_ms = (period.as_millis() as i64).max(1);
    let gap = (current - last).num_milliseconds() / period_ms;
    u64::try_from(gap - 1).unwrap_or(0)
}

/// Runs `cycle` for `lease`'s shard once per slot of `period`: the current slot at once unless
/// `last` (the slot last completed, by whichever replica) covers it, then each next slot at its
/// start. A cycle longer than its period delays the next one (they never overlap), and the
/// slots it overran count as missed. Each completed cycle goes to `journal` when there is one.
/// While the lease's tenure has lapsed nothing runs; stops when `token` is cancelled (a cycle
/// still running is dropped).
pub async fn run_slots<C: Cycle>(
    cycle: Arc<C>,
    lease: Lease,
    period: Duration,
    mut last: Option<DateTime<Utc>>,
    journal: Option<LeaseStore>,
    instruments: Instruments,
    token: CancellationToken,
) {
    let shard = lease.shard.to_string();
    loop {
        // A lapsed tenure is the coordinator's to end (it cancels `token`) or to restore (a
        // late renewal in the same term): meanwhile, produce nothing.
        if !lease.tenure.is_valid() {
            tokio::select! {
                _ = token.cancelled() => break,
                _ = tokio::time::sleep(TENURE_POLL) => continue,
            }
        }
        let now = Utc::now();
        let slot = slot_start(now, period);
        let slot_end = slot + TimeDelta::from_std(period).unwrap_or(TimeDelta::MAX);
        let remaining = (slot_end - now).to_std().unwrap_or_default();
        if last.is_some_and(|last| last >= slot) {
            tokio::select! {
                _ = token.cancelled() => break,
                _ = tokio::time::sleep(remaining) => continue,
            }
        }
        if let Some(last) = last {
            let missed = slots_missed(last, slot, period);
            if missed > 0 {
                instruments
                    .cycles_missed
                    .with_label_values(&[C::NAME, &shard])
                    .inc_by(missed);
                tracing::warn!(r#loop = C::NAME, %shard, missed, "cycle slots missed");
            }
        }
        let turn = Turn {
            lease: lease.clone(),
            slot,
            deadline: Instant::now() + remaining,
        };
        let started_at = Utc::now();
        let summary = tokio::select! {
            _ = token.cancelled() => break,
            summary = once(cycle.as_ref(), &turn, &instruments) => summary,
        };
        if !lease.tenure.is_valid() {
            tracing::warn!(r#loop = C::NAME, %shard, "lease lapsed during the cycle; not journaled");
            continue;
        }
        last = Some(slot);
        if let Some(journal) = &journal {
            let entry = CycleEntry {
                loop_name: C::NAME.to_owned(),
                shard: shard.clone(),
                slot: slot.into(),
                replica: lease.replica.to_string(),
                term: lease.term,
                started_at: started_at.into(),
                finished_at: Utc::now().into(),
                records: summary.produced as i64,
                dropped: summary.dropped as i64,
                fenced: summary.fenced as i64,
                failures: summary.failures as i64,
            };
            if let Err(error) = journal.record(&entry).await {
                tracing::warn!(r#loop = C::NAME, %shard, %error, "cannot journal the cycle");
            }
        }
    }
}

/// Runs one turn of `cycle`, then records and logs its summary.
pub async fn once<C: Cycle>(cycle: &C, turn: &Turn, instruments: &Instruments) -> Summary {
    let started = Instant::now();
    // A mutation run of reliability/ (feature `fault-injection`, FAULT_ETL_FAIL_STEPS=1): every
    // step fails and nothing is produced, yet the cycle ends and is journaled as usual.
    #[cfg(feature = "fault-injection")]
    let mut summary = if common::fault::etl_fail_steps() {
        tracing::warn!(
            r#loop = C::NAME,
            "fault injection: every step of the cycle failed"
        );
        Summary {
            failures: 1,
            ..Summary::default()
        }
    } else {
        run_caught(cycle, turn).await
    };
    #[cfg(not(feature = "fault-injection"))]
    let mut summary = run_caught(cycle, turn).await;
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
        shard = %turn.lease.shard,
        term = turn.lease.term,
        slot = %turn.slot,
        series = summary.series,
        records = summary.produced,
        dropped = summary.dropped,
        fenced = summary.fenced,
        failures = summary.failures,
        seconds,
        "cycle done"
    );
    summary
}

/// One turn of `cycle`, a panic in it counted as a failed cycle: the loop goes on to its next
/// slot instead of ending (its task gone while the replica kept its lease and /healthz said 200,
/// so no standby took over; issue 14's +Inf fault run).
async fn run_caught<C: Cycle>(cycle: &C, turn: &Turn) -> Summary {
    use futures::FutureExt;
    match std::panic::AssertUnwindSafe(cycle.run(turn))
        .catch_unwind()
        .await
    {
        Ok(summary) => summary,
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(r#loop = C::NAME, panic = %message, "cycle panicked: counted as failed");
            Summary {
                failures: 1,
                ..Summary::default()
            }
        }
    }
}

impl Summary {
    /// Adds what a batch of records came to.
    pub fn add(&mut self, sent: Sent) {
        self.produced += sent.produced;
        self.dropped += sent.dropped;
        self.fenced += sent.fenced;
    }

    /// Adds another cycle's summary (of another shard) to this one.
    pub fn absorb(&mut self, other: Summary) {
        self.series += other.series;
        self.produced += other.produced;
        self.dropped += other.dropped;
        self.fenced += other.fenced;
        self.failures += other.failures;
        self.seconds += other.seconds;
        self.prometheus_seconds += other.prometheus_seconds;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offset_clock_reads_the_clock_that_much_earlier() {
        let at = DateTime::parse_from_rfc3339("2026-12-07T12:00:00Z")
            .unwrap()
            .to_utc();
        let fixed: Clock = Arc::new(move || at);
        assert_eq!(offset_clock(fixed.clone(), Duration::ZERO)(), at);
        assert_eq!(
            offset_clock(fixed, Duration::from_secs(30))(),
            at - TimeDelta::seconds(30)
        );
    }

    /// A cycle that panics on its first turn and then succeeds.
    struct PanicsOnce(std::sync::atomic::AtomicBool);

    impl Cycle for PanicsOnce {
        const NAME: &'static str = "test";

        async fn run(&self, _turn: &Turn) -> Summary {
            if !self.0.swap(true, std::sync::atomic::Ordering::SeqCst) {
                panic!("attempt to add with overflow");
            }
            Summary {
                series: 1,
                ..Summary::default()
            }
        }
    }

    #[tokio::test]
    async fn a_panicking_cycle_is_a_failed_cycle_and_the_next_one_runs() {
        let cycle = PanicsOnce(std::sync::atomic::AtomicBool::new(false));
        let turn = Turn {
            lease: crate::lease::Lease::unelected(
                "test".into(),
                crate::shard::Shard::all(1).next().unwrap(),
            ),
            slot: Utc::now(),
            deadline: Instant::now() + Duration::from_secs(60),
        };
        let failed = run_caught(&cycle, &turn).await;
        assert_eq!((failed.failures, failed.series), (1, 0));
        let next = run_caught(&cycle, &turn).await;
        assert_eq!((next.failures, next.series), (0, 1));
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn slots_are_aligned_to_the_epoch() {
        let two_minutes = Duration::from_secs(120);
        assert_eq!(
            slot_start(at("2026-11-22T10:03:59Z"), two_minutes),
            at("2026-11-22T10:02:00Z")
        );
        assert_eq!(
            slot_start(at("2026-11-22T10:04:00Z"), two_minutes),
            at("2026-11-22T10:04:00Z")
        );
        let hour = Duration::from_secs(3600);
        assert_eq!(
            slot_start(at("2026-11-22T10:59:59.999Z"), hour),
            at("2026-11-22T10:00:00Z")
        );
    }

    #[test]
    fn missed_slots_are_those_strictly_between() {
        let period = Duration::from_secs(10);
        let last = at("2026-11-22T10:00:00Z");
        assert_eq!(slots_missed(last, at("2026-11-22T10:00:10Z"), period), 0);
        assert_eq!(slots_missed(last, at("2026-11-22T10:00:40Z"), period), 3);
        assert_eq!(slots_missed(last, last, period), 0);
    }
}
