//! Writing through a database outage: the batch is retried with backoff while the partitions
//! are paused and the consumer is still polled.

use std::{sync::Arc, time::Duration};

use common::{admin::error_chain, record::Record, store::UpsertSummary};
use rdkafka::consumer::Consumer;
use tokio_util::sync::CancellationToken;

use super::{Incoming, Pipeline};
use crate::repository::WriteError;

/// How a write of a group of records ended.
pub(super) enum Written {
    Done(UpsertSummary),
    Refused(WriteError),
    /// The database refuses this service: stop.
    Fatal(common::store::StoreError),
    Cancelled,
}

impl Pipeline {
    /// Upserts `records`, retrying for as long as the database is unavailable, with
    /// consumption paused meanwhile.
    pub(super) async fn write_until_done(
        &mut self,
        records: &[Record],
        token: &CancellationToken,
    ) -> Written {
        let mut attempt = 0;
        let written = loop {
            match self.writer.write(records).await {
                Ok(summary) => break Written::Done(summary),
                Err(error @ WriteError::Refused(_)) => break Written::Refused(error),
                Err(WriteError::Fatal(error)) => break Written::Fatal(error),
                Err(WriteError::Unavailable(error)) => {
                    attempt += 1;
                    let delay = self.backoff("upsert", attempt);
                    tracing::warn!(attempt, records = records.len(), delay_ms = delay.as_millis() as u64, error = %error_chain(&error), "database unavailable; consumption paused, retrying the batch");
                    self.pause();
                    if !self.wait_polling(delay, token).await {
                        break Written::Cancelled;
                    }
                }
            }
        };
        if attempt > 0 {
            self.resume();
            if matches!(written, Written::Done(_)) {
                tracing::info!(attempts = attempt + 1, "database back; consumption resumed");
            }
        }
        written
    }

    /// Pauses fetching on every assigned partition (again, so that partitions assigned since
    /// the last attempt are paused too).
    fn pause(&self) {
        self.set_paused(true);
    }

    fn resume(&self) {
        self.set_paused(false);
    }

    /// Pauses (or resumes) fetching on every assigned partition, and sets the paused gauge.
    fn set_paused(&self, paused: bool) {
        let action = if paused { "pause" } else { "resume" };
        match self.consumer.assignment() {
            Ok(assignment) if assignment.count() > 0 => {
                let done = if paused {
                    self.consumer.pause(&assignment)
                } else {
                    self.consumer.resume(&assignment)
                };
                if let Err(error) = done {
                    tracing::warn!(%error, "cannot {action} the partitions");
                }
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "cannot read the assignment to {action} it"),
        }
        self.instruments.paused.set(i64::from(paused));
    }

    /// Waits `delay` while still polling the consumer (to keep the group membership and serve
    /// rebalances), holding any message that was fetched before the pause took effect, at most
    /// a batch's worth. `false` when cancelled.
    async fn wait_polling(&mut self, delay: Duration, token: &CancellationToken) -> bool {
        let consumer = Arc::clone(&self.consumer);
        let wake = tokio::time::sleep(delay);
        tokio::pin!(wake);
        loop {
            let room = self.carried.len() < self.batch_size;
            tokio::select! {
                biased;
                _ = token.cancelled() => return false,
                _ = &mut wake => return true,
                received = consumer.recv(), if room => match received {
                    Ok(message) => self.carried.push_back(Incoming::from_message(&message, &self.limits)),
                    Err(error) => tracing::debug!(%error, "consumption error while paused"),
                },
            }
        }
    }
}
