//! Retry with bounded exponential backoff and full jitter, for dependencies that go away.

use std::time::Duration;

use prometheus::IntCounterVec;
use rand::Rng;

/// How to retry: delays grow from `initial` by `multiplier` up to `max_delay`, each drawn
/// uniformly from `[delay/2, delay]` so that many clients do not retry in lockstep; retrying
/// stops once `max_elapsed` has passed (never, when `None`).
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// The first delay.
    pub initial: Duration,
    /// The largest delay.
    pub max_delay: Duration,
    /// Growth per attempt.
    pub multiplier: f64,
    /// Give up after this long; `None` retries until the operation succeeds.
    pub max_elapsed: Option<Duration>,
    /// Counts retries, labelled by operation, when set.
    pub retries: Option<IntCounterVec>,
}

impl Default for RetryPolicy {
    /// 100 ms doubling to 10 s, for at most one minute.
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
            multiplier: 2.0,
            max_elapsed: Some(Duration::from_secs(60)),
            retries: None,
        }
    }
}

impl RetryPolicy {
    /// This policy, giving up after `max_elapsed` (`None`: never).
    pub fn with_max_elapsed(mut self, max_elapsed: Option<Duration>) -> Self {
        self.max_elapsed = max_elapsed;
        self
    }

    /// This policy, counting retries in `counter` (one label: the operation).
    pub fn counted(mut self, counter: IntCounterVec) -> Self {
        self.retries = Some(counter);
        self
    }

    /// The delay before retry number `attempt` (1-based), jitter included.
    pub fn delay(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(64) as i32;
        let ceiling = self.initial.as_secs_f64() * self.multiplier.powi(exponent);
        let ceiling = ceiling.min(self.max_delay.as_secs_f64());
        Duration::from_secs_f64(rand::rng().random_range(ceiling / 2.0..=ceiling))
    }

    /// Runs `attempt` until it succeeds, `retryable` says an error is final, or the policy's
    /// time is up; then returns the last result. Each retry is logged and counted.
    pub async fn run<T, E, F, Fut>(
        &self,
        operation: &'static str,
        mut attempt: F,
        retryable: impl Fn(&E) -> bool,
    ) -> Result<T, E>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: std::fmt::Display,
    {
        let started = tokio::time::Instant::now();
        let mut attempts = 0;
        loop {
            let error = match attempt().await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            attempts += 1;
            let delay = self.delay(attempts);
            let out_of_time = self
                .max_elapsed
                .is_some_and(|max| started.elapsed() + delay > max);
            if !retryable(&error) || out_of_time {
                return Err(error);
            }
            tracing::warn!(operation, attempt = attempts, delay_ms = delay.as_millis() as u64, %error, "retrying");
            if let Some(counter) = &self.retries {
                counter.with_label_values(&[operation]).inc();
            }
            tokio::time::sleep(delay).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn fast() -> RetryPolicy {
        RetryPolicy {
            initial: Duration::from_millis(1),
            max_delay: Duration::from_millis(4),
            ..RetryPolicy::default()
        }
    }

    #[test]
    fn delays_grow_and_stay_bounded() {
        let policy = RetryPolicy::default();
        for attempt in 1..40 {
            let delay = policy.delay(attempt);
            assert!(delay <= policy.max_delay, "attempt {attempt}: {delay:?}");
        }
        assert!(policy.delay(1) <= Duration::from_millis(100));
        assert!(policy.delay(8) >= Duration::from_millis(100 * 128 / 2).min(policy.max_delay / 2));
    }

    #[tokio::test]
    async fn retries_until_success_and_counts() {
        let counter =
            IntCounterVec::new(prometheus::Opts::new("retries_total", "r"), &["operation"])
                .unwrap();
        let calls = Cell::new(0);
        let result: Result<u32, String> = fast()
            .counted(counter.clone())
            .run(
                "flaky",
                || {
                    calls.set(calls.get() + 1);
                    let n = calls.get();
                    async move { if n < 3 { Err("down".to_owned()) } else { Ok(n) } }
                },
                |_| true,
            )
            .await;
        assert_eq!(result, Ok(3));
        assert_eq!(counter.with_label_values(&["flaky"]).get(), 2);
    }

    #[tokio::test]
    async fn final_errors_are_not_retried() {
        let calls = Cell::new(0);
        let result: Result<(), &str> = fast()
            .run(
                "bad_query",
                || {
                    calls.set(calls.get() + 1);
                    async { Err("syntax error") }
                },
                |_| false,
            )
            .await;
        assert_eq!(result, Err("syntax error"));
        assert_eq!(calls.get(), 1);
    }

    #[tokio::test]
    async fn gives_up_when_time_is_up() {
        let policy = fast().with_max_elapsed(Some(Duration::from_millis(20)));
        let result: Result<(), &str> = policy
            .run("down", || async { Err("refused") }, |_| true)
            .await;
        assert_eq!(result, Err("refused"));
    }
}
