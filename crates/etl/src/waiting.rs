//! How long a cycle waits on Prometheus: the wall-clock time during which at least one of its
//! requests is in flight. Concurrent requests count once, so the time compares with the cycle's
//! own duration (`etl_prometheus_wait_seconds` against `etl_cycle_duration_seconds`): a share
//! near 1 means the cycle is bound by Prometheus, a small one by the etl's own work.

use std::{
    future::Future,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use std::time::Instant;

/// The time one cycle waited on Prometheus; clones share it.
#[derive(Debug, Clone, Default)]
pub struct Waiting(Arc<Mutex<State>>);

#[derive(Debug, Default)]
struct State {
    in_flight: usize,
    since: Option<Instant>,
    total: Duration,
}

impl State {
    /// A request starts at `now`.
    fn start(&mut self, now: Instant) {
        if self.in_flight == 0 {
            self.since = Some(now);
        }
        self.in_flight += 1;
    }

    /// A request ends at `now`.
    fn end(&mut self, now: Instant) {
        self.in_flight = self.in_flight.saturating_sub(1);
        if self.in_flight == 0
            && let Some(since) = self.since.take()
        {
            self.total += now.saturating_duration_since(since);
        }
    }

    /// The time waited until `now`.
    fn total(&self, now: Instant) -> Duration {
        self.total
            + self
                .since
                .map_or(Duration::ZERO, |since| now.saturating_duration_since(since))
    }
}

/// Ends one request's wait when dropped, whether it finished or was abandoned.
struct InFlight<'a>(&'a Waiting);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.lock().end(Instant::now());
    }
}

impl Waiting {
    /// Awaits `request`, counted as waiting on Prometheus.
    pub async fn on<F: Future>(&self, request: F) -> F::Output {
        self.lock().start(Instant::now());
        let _in_flight = InFlight(self);
        request.await
    }

    /// The time waited so far, the current wait included.
    pub fn total(&self) -> Duration {
        self.lock().total(Instant::now())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is a few numbers updated in one step: still consistent after a panic.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_waits_count_once_and_gaps_not_at_all() {
        // Instants given, not measured: no wall-clock timing.
        let origin = Instant::now();
        let at = |secs: u64| origin + Duration::from_secs(secs);
        let mut state = State::default();
        assert_eq!(state.total(at(0)), Duration::ZERO);
        // Two requests at once, 10 s and 4 s: 10 s of waiting.
        state.start(at(0));
        state.start(at(0));
        state.end(at(4));
        assert_eq!(state.total(at(6)), Duration::from_secs(6), "still waiting");
        state.end(at(10));
        // Work of the etl's own between requests is not waiting.
        state.start(at(17));
        state.end(at(20));
        assert_eq!(state.total(at(25)), Duration::from_secs(13));
        // Staggered: 30..35 and 32..38, 8 s in all.
        state.start(at(30));
        state.start(at(32));
        state.end(at(35));
        state.end(at(38));
        assert_eq!(state.total(at(40)), Duration::from_secs(21));
    }

    #[tokio::test]
    async fn an_abandoned_request_stops_waiting() {
        let waiting = Waiting::default();
        let request = waiting.on(std::future::pending::<()>());
        // Dropped unfinished, as a timed-out or cancelled cycle drops its requests.
        drop(request);
        let abandoned = {
            let request = waiting.on(std::future::pending::<()>());
            futures::FutureExt::now_or_never(request)
        };
        assert!(abandoned.is_none());
        let state = waiting.lock();
        assert_eq!((state.in_flight, state.since), (0, None));
    }
}
