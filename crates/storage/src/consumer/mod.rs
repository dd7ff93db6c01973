//! The Kafka consumer loop: messages in, batches written, offsets committed.
//!
//! # Delivery guarantees
//!
//! Offsets are committed explicitly, per partition, only after every record they cover has
//! been upserted (or, for a message that can never be stored, after it reached the dead-letter
//! topic). Auto-commit and the automatic offset store are off. A crash therefore loses nothing:
//! the next owner of the partition resumes from the last committed offset and receives again
//! whatever was written but not yet committed. Redelivered and reordered records are harmless,
//! because the repository writes a record only when it is newer than the stored result of its
//! kind (a record as old as the stored one is skipped too).
//!
//! # Rebalances
//!
//! This consumer does not flush on revocation; it relies on at-least-once redelivery plus that
//! stale protection. When partitions move to another replica mid-batch, the new owner starts
//! from the last committed offset and writes those records again, and this replica still writes
//! and tries to commit its batch. Either commit only ever covers records that were written, so
//! no record can be skipped: the worst outcome of a rebalance is a record written twice, the
//! second write being skipped as stale (`storage_records_stale_total`), or a commit the broker
//! refuses (`storage_commit_failures_total`), which only means more redelivery.
//!
//! # Database outages
//!
//! When an upsert fails because the database is unavailable, the batch is retried forever with
//! jittered exponential backoff (`storage_retries_total{operation="upsert"}`), and nothing is
//! committed. Meanwhile the assigned partitions are paused, so the broker client stops
//! fetching, but the consumer is still polled so that it keeps its group membership and serves
//! rebalances; the few messages that were already fetched are held (at most one batch's worth
//! before polling stops) and processed after the database returns. Memory is bounded by the
//! batch size and the client's prefetch limit (`STORAGE_PREFETCH_KIB`). Consumption resumes by
//! itself with the first successful write.

use std::{
    collections::{BTreeMap, VecDeque},
    sync::Arc,
    time::Duration,
};

use common::{
    admin::error_chain,
    record::{Kind, Record},
    retry::RetryPolicy,
    store::UpsertSummary,
};
use rdkafka::{
    consumer::{Consumer, StreamConsumer},
    error::KafkaResult,
};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::{
    config::Config,
    dead_letter::DeadLetters,
    domain::{Batch, Limits, Rejection},
    error::StorageError,
    instruments::Instruments,
    repository::{MetricsWriter, WriteError},
};

mod commit;
mod context;
mod errors;
mod incoming;
mod pause;
mod rejected;

pub use context::StorageContext;
pub use errors::{Severity, severity};

use incoming::Incoming;
use pause::Written;

/// How often the client reports statistics, from which the consumer lag is read.
const STATISTICS_INTERVAL: Duration = Duration::from_secs(5);
/// How often the client refreshes the topic's metadata: how soon a topic created after the
/// start, or new partitions, are noticed (librdkafka's default is five minutes).
const METADATA_REFRESH: Duration = Duration::from_secs(10);

/// The consumer loop and everything it writes to.
pub struct Pipeline {
    consumer: Arc<StreamConsumer<StorageContext>>,
    topic: String,
    group: String,
    writer: MetricsWriter,
    dead_letters: DeadLetters,
    instruments: Instruments,
    retry: RetryPolicy,
    batch_size: usize,
    linger: Duration,
    limits: Limits,
    carried: VecDeque<Incoming>,
    /// Per partition, the offset after the last written message, committed again
    /// synchronously at shutdown.
    last_offsets: BTreeMap<i32, i64>,
    /// The commit under way, awaited before the next one so that commits stay in order.
    pending_commit: Option<tokio::task::JoinHandle<KafkaResult<()>>>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("topic", &self.topic)
            .field("group", &self.group)
            .field("batch_size", &self.batch_size)
            .field("linger", &self.linger)
            .finish_non_exhaustive()
    }
}

impl Pipeline {
    /// Creates the consumer (not yet subscribed) from `config`.
    pub fn new(
        config: &Config,
        writer: MetricsWriter,
        dead_letters: DeadLetters,
        instruments: Instruments,
        retry: RetryPolicy,
    ) -> Result<Self, StorageError> {
        let session_ms = config.session_timeout.as_millis().max(6_000);
        let context = StorageContext {
            topic: config.kafka.kafka_topic.clone(),
            lag: instruments.consumer_lag.clone(),
        };
        let consumer: StreamConsumer<StorageContext> =
            crate::dead_letter::client_config(&config.kafka)
                .set("group.id", &config.group_id)
                .set("enable.auto.commit", "false")
                .set("enable.auto.offset.store", "false")
                .set("auto.offset.reset", "earliest")
                .set("session.timeout.ms", session_ms.to_string())
                .set("heartbeat.interval.ms", (session_ms / 3).to_string())
                .set(
                    "max.poll.interval.ms",
                    (session_ms * 10).max(300_000).to_string(),
                )
                .set(
                    "queued.max.messages.kbytes",
                    config.prefetch_kib.to_string(),
                )
                .set(
                    "statistics.interval.ms",
                    STATISTICS_INTERVAL.as_millis().to_string(),
                )
                .set(
                    "topic.metadata.refresh.interval.ms",
                    METADATA_REFRESH.as_millis().to_string(),
                )
                .create_with_context(context)
                .map_err(|source| StorageError::KafkaClient {
                    client: "consumer",
                    source,
                })?;
        Ok(Self {
            consumer: Arc::new(consumer),
            topic: config.kafka.kafka_topic.clone(),
            group: config.group_id.clone(),
            writer,
            dead_letters,
            instruments,
            retry,
            batch_size: config.batch_size as usize,
            linger: config.batch_linger,
            limits: config.limits(),
            carried: VecDeque::new(),
            last_offsets: BTreeMap::new(),
            pending_commit: None,
        })
    }

    /// Consumes until `token` is cancelled (then writes and commits the batch in hand if the
    /// database answers at once), or until consumption fails in a way retrying cannot fix.
    pub async fn run(mut self, token: CancellationToken) -> Result<(), StorageError> {
        let subscription_failed = |source| StorageError::Subscription {
            topic: self.topic.clone(),
            source,
        };
        self.consumer
            .subscribe(&[&self.topic])
            .map_err(subscription_failed)?;
        tracing::info!(topic = %self.topic, group = %self.group, batch_size = self.batch_size, "consuming");
        let consumer = Arc::clone(&self.consumer);
        let mut consecutive_errors: u32 = 0;
        loop {
            let mut batch = Batch::default();
            let mut deadline: Option<Instant> = None;
            let stopping = loop {
                let incoming = match self.carried.pop_front() {
                    Some(incoming) => incoming,
                    None => {
                        let linger = async {
                            match deadline {
                                Some(deadline) => tokio::time::sleep_until(deadline).await,
                                None => std::future::pending().await,
                            }
                        };
                        tokio::select! {
                            biased;
                            _ = token.cancelled() => break true,
                            _ = linger => break false,
                            received = consumer.recv() => match received {
                                Ok(message) => {
                                    consecutive_errors = 0;
                                    Incoming::from_message(&message, &self.limits)
                                }
                                Err(error) => {
                                    consecutive_errors += 1;
                                    if !self.wait_after_consumer_error(error, consecutive_errors, &token).await? {
                                        break true;
                                    }
                                    continue;
                                }
                            },
                        }
                    }
                };
                if !self.accept(&mut batch, incoming, &token).await? {
                    break true;
                }
                deadline.get_or_insert_with(|| Instant::now() + self.linger);
                if batch.len() >= self.batch_size {
                    break false;
                }
            };
            if !batch.is_empty() {
                self.flush(batch, &token).await?;
            }
            if stopping {
                break;
            }
        }
        self.commit_last_offsets().await;
        self.dead_letters.flush(Duration::from_secs(5));
        tracing::info!(topic = %self.topic, "consumer stopped");
        Ok(())
    }

    /// The delay before retry number `attempt` of `operation`, counted in
    /// `storage_retries_total`: the one backoff of the consumer's three retry loops (consume,
    /// dead letter, upsert).
    pub(super) fn backoff(&self, operation: &'static str, attempt: u32) -> Duration {
        self.instruments
            .retries
            .with_label_values(&[operation])
            .inc();
        self.retry.delay(attempt)
    }

    /// Puts a message in the batch, or sends it to the dead-letter topic and counts its offset.
    /// `false` when cancelled before the dead letter was delivered.
    async fn accept(
        &self,
        batch: &mut Batch,
        incoming: Incoming,
        token: &CancellationToken,
    ) -> Result<bool, StorageError> {
        match incoming {
            Incoming::Record { record, position } => batch.push(record, position),
            Incoming::Undecodable {
                position,
                key,
                payload,
                rejection,
            } => {
                tracing::warn!(
                    topic = %self.topic,
                    partition = position.partition,
                    offset = position.offset,
                    reason = rejection.reason(),
                    error = %error_chain(&rejection),
                    "undecodable record sent to the dead-letter topic",
                );
                let sent = self
                    .reject(
                        position,
                        key.as_deref(),
                        payload.as_deref(),
                        &rejection,
                        token,
                    )
                    .await?;
                if !sent {
                    return Ok(false);
                }
                batch.skip(position);
            }
        }
        Ok(true)
    }

    /// Writes a batch kind by kind, then commits its offsets. When cancelled before every
    /// record is written, nothing is committed.
    #[tracing::instrument(name = "batch", skip_all, fields(messages = batch.len()))]
    async fn flush(&mut self, batch: Batch, token: &CancellationToken) -> Result<(), StorageError> {
        let started = Instant::now();
        let messages = batch.len();
        let parts = batch.into_parts();
        for (kind, superseded) in &parts.superseded {
            self.instruments
                .records_stale
                .with_label_values(&[kind.as_str()])
                .inc_by(*superseded);
        }
        for (kind, group) in &parts.by_kind {
            let records: Vec<Record> = group.iter().map(|p| p.record.clone()).collect();
            match self.write_until_done(&records, token).await {
                Written::Done(summary) => self.count(*kind, summary),
                Written::Cancelled => return Ok(()),
                Written::Fatal(error) => return Err(self.refused_for_good(error)),
                Written::Refused(error) => {
                    tracing::warn!(kind = %kind, error = %error_chain(&error), "batch refused; writing its records one by one");
                    for pending in group {
                        match self
                            .write_until_done(std::slice::from_ref(&pending.record), token)
                            .await
                        {
                            Written::Done(summary) => self.count(*kind, summary),
                            Written::Cancelled => return Ok(()),
                            Written::Fatal(error) => return Err(self.refused_for_good(error)),
                            Written::Refused(
                                WriteError::Refused(error)
                                | WriteError::Unavailable(error)
                                | WriteError::Fatal(error),
                            ) => {
                                let rejection = Rejection::RejectedByDatabase(error);
                                let payload = serde_json::to_vec(&pending.record).ok();
                                let key = pending.record.id.to_string();
                                tracing::warn!(
                                    topic = %self.topic,
                                    partition = pending.position.partition,
                                    offset = pending.position.offset,
                                    series_id = %pending.record.id,
                                    error = %error_chain(&rejection),
                                    "record refused by the database sent to the dead-letter topic",
                                );
                                let (position, key) = (pending.position, Some(key.as_bytes()));
                                let sent = self
                                    .reject(position, key, payload.as_deref(), &rejection, token)
                                    .await?;
                                if !sent {
                                    return Ok(());
                                }
                            }
                        }
                    }
                }
            }
        }
        self.commit(&parts.next_offsets).await;
        self.instruments.batches.inc();
        self.instruments
            .batch_seconds
            .observe(started.elapsed().as_secs_f64());
        self.instruments.batch_messages.observe(messages as f64);
        Ok(())
    }

    /// Reports that the database refuses this service (log, metric) and makes the error that
    /// stops it: nothing of the batch is committed, so nothing is lost.
    fn refused_for_good(&self, error: common::store::StoreError) -> StorageError {
        tracing::error!(error = %error_chain(&error), "the database refuses this service (credentials, rights or configuration); stopping without committing");
        self.instruments.database_refusals.inc();
        StorageError::DatabaseRefused(error)
    }

    fn count(&self, kind: Kind, summary: UpsertSummary) {
        self.instruments
            .records_written
            .with_label_values(&[kind.as_str()])
            .inc_by(summary.written as u64);
        self.instruments
            .records_stale
            .with_label_values(&[kind.as_str()])
            .inc_by(summary.stale as u64);
    }
}
