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
use prometheus::IntGaugeVec;
use rdkafka::{
    ClientContext, Message, Offset, Statistics, TopicPartitionList,
    config::RDKafkaLogLevel,
    consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer},
    error::{KafkaError, KafkaResult},
    message::BorrowedMessage,
    types::RDKafkaErrorCode,
};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::{
    config::Config,
    dead_letter::{self, DeadLetter, DeadLetters},
    domain::{Batch, Limits, Position, Rejection, accept},
    error::StorageError,
    instruments::Instruments,
    repository::{MetricsWriter, WriteError},
};

/// How often the client reports statistics, from which the consumer lag is read.
const STATISTICS_INTERVAL: Duration = Duration::from_secs(5);
/// How often the client refreshes the topic's metadata: how soon a topic created after the
/// start, or new partitions, are noticed (librdkafka's default is five minutes).
const METADATA_REFRESH: Duration = Duration::from_secs(10);

/// What a consumption error means for the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The broker or the network is having a moment (or the topic does not exist yet): retry.
    Retriable,
    /// Retrying cannot help (authorization, invalid configuration, a fatal client state).
    Fatal,
}

/// Sorts a consumption error. Anything not known to be final is retried, with backoff.
pub fn severity(error: &KafkaError) -> Severity {
    match error {
        KafkaError::MessageConsumptionFatal(_)
        | KafkaError::Subscription(_)
        | KafkaError::ClientCreation(_) => Severity::Fatal,
        KafkaError::MessageConsumption(code) | KafkaError::Global(code) if is_final(*code) => {
            Severity::Fatal
        }
        _ => Severity::Retriable,
    }
}

fn is_final(code: RDKafkaErrorCode) -> bool {
    matches!(
        code,
        RDKafkaErrorCode::Fatal
            | RDKafkaErrorCode::TopicAuthorizationFailed
            | RDKafkaErrorCode::GroupAuthorizationFailed
            | RDKafkaErrorCode::ClusterAuthorizationFailed
            | RDKafkaErrorCode::SaslAuthenticationFailed
            | RDKafkaErrorCode::Authentication
            | RDKafkaErrorCode::UnsupportedSASLMechanism
            | RDKafkaErrorCode::IllegalSASLState
            | RDKafkaErrorCode::InvalidGroupId
            | RDKafkaErrorCode::InvalidConfig
            | RDKafkaErrorCode::InvalidArgument
            | RDKafkaErrorCode::InvalidTopic
            | RDKafkaErrorCode::InconsistentGroupProtocol
    )
}

/// The consumer's callbacks: librdkafka's logs and errors go to tracing, rebalances are
/// logged, and the statistics feed the consumer-lag gauge.
#[derive(Debug)]
pub struct StorageContext {
    topic: String,
    lag: IntGaugeVec,
}

impl ClientContext for StorageContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error => {
                tracing::error!(target: "librdkafka", facility, message)
            }
            RDKafkaLogLevel::Warning => tracing::warn!(target: "librdkafka", facility, message),
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
                tracing::info!(target: "librdkafka", facility, message)
            }
            RDKafkaLogLevel::Debug => tracing::debug!(target: "librdkafka", facility, message),
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        tracing::warn!(target: "librdkafka", %error, reason, "broker client error");
    }

    fn stats(&self, statistics: Statistics) {
        let Some(topic) = statistics.topics.get(&self.topic) else {
            return;
        };
        for partition in topic.partitions.values() {
            // -1 is librdkafka's internal "unassigned" partition; a negative lag is unknown.
            if partition.partition >= 0 && partition.desired && partition.consumer_lag >= 0 {
                self.lag
                    .with_label_values(&[partition.partition.to_string().as_str()])
                    .set(partition.consumer_lag);
            }
        }
    }
}

impl ConsumerContext for StorageContext {
    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(partitions) => {
                tracing::info!(partitions = ?partition_numbers(partitions), "partitions assigned");
            }
            Rebalance::Revoke(partitions) => {
                tracing::info!(partitions = ?partition_numbers(partitions), "partitions revoked");
                for partition in partition_numbers(partitions) {
                    let _ = self
                        .lag
                        .remove_label_values(&[partition.to_string().as_str()]);
                }
            }
            Rebalance::Error(error) => tracing::warn!(%error, "rebalance failed"),
        }
    }
}

fn partition_numbers(list: &TopicPartitionList) -> Vec<i32> {
    list.elements().iter().map(|e| e.partition()).collect()
}

/// A consumed message, decoded or not.
#[derive(Debug)]
enum Incoming {
    Record {
        record: Record,
        position: Position,
    },
    Undecodable {
        position: Position,
        key: Option<Vec<u8>>,
        payload: Option<Vec<u8>>,
        rejection: Rejection,
    },
}

impl Incoming {
    /// Decodes and checks a message against `limits`, now.
    fn from_message(message: &BorrowedMessage<'_>, limits: &Limits) -> Self {
        let position = Position {
            partition: message.partition(),
            offset: message.offset(),
        };
        match accept(message.payload(), chrono::Utc::now(), limits) {
            Ok(record) => Incoming::Record { record, position },
            Err(rejection) => Incoming::Undecodable {
                position,
                key: message.key().map(<[u8]>::to_vec),
                payload: message.payload().map(<[u8]>::to_vec),
                rejection,
            },
        }
    }
}

/// How a write of a group of records ended.
enum Written {
    Done(UpsertSummary),
    Refused(WriteError),
    /// The database refuses this service: stop.
    Fatal(common::store::StoreError),
    Cancelled,
}

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

    /// Logs and counts a consumption error and waits before polling again; a fatal error is
    /// returned. `false` when cancelled while waiting.
    async fn wait_after_consumer_error(
        &self,
        error: KafkaError,
        attempt: u32,
        token: &CancellationToken,
    ) -> Result<bool, StorageError> {
        if severity(&error) == Severity::Fatal {
            tracing::error!(topic = %self.topic, error = %error_chain(&error), "consumption failed for good");
            return Err(StorageError::Subscription {
                topic: self.topic.clone(),
                source: error,
            });
        }
        let delay = self.backoff("consume", attempt);
        tracing::warn!(topic = %self.topic, attempt, delay_ms = delay.as_millis() as u64, error = %error_chain(&error), "consumption error; retrying");
        Ok(tokio::select! {
            _ = token.cancelled() => false,
            _ = tokio::time::sleep(delay) => true,
        })
    }

    /// The delay before retry number `attempt` of `operation`, counted in
    /// `storage_retries_total`: the one backoff of the consumer's three retry loops (consume,
    /// dead letter, upsert).
    fn backoff(&self, operation: &'static str, attempt: u32) -> Duration {
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
                let letter = DeadLetter {
                    position,
                    key: key.as_deref(),
                    payload: payload.as_deref(),
                    reason: rejection.reason(),
                    error: error_chain(&rejection),
                };
                if !self.send_dead_letter(&letter, token).await? {
                    return Ok(false);
                }
                batch.skip(position);
            }
        }
        Ok(true)
    }

    /// Delivers a dead letter, retrying transient failures with backoff; `false` when
    /// cancelled first. A dead letter the broker can never take as it is (refused for its
    /// size or form even after its payload was cut) is reported (error log,
    /// `storage_dead_letters_failed_total`) and skipped, so its partition moves on; being
    /// refused the topic stops the service.
    async fn send_dead_letter(
        &self,
        letter: &DeadLetter<'_>,
        token: &CancellationToken,
    ) -> Result<bool, StorageError> {
        let mut attempt = 0;
        loop {
            let error = match self.dead_letters.send(letter).await {
                Ok(()) => {
                    self.instruments
                        .dead_letters
                        .with_label_values(&[letter.reason])
                        .inc();
                    return Ok(true);
                }
                Err(error) => error,
            };
            if dead_letter::is_deterministic(&error) {
                tracing::error!(
                    topic = %self.dead_letters.topic(),
                    partition = letter.position.partition,
                    offset = letter.position.offset,
                    reason = letter.reason,
                    error = %error_chain(&error),
                    "the broker refuses this dead letter for good; skipped",
                );
                self.instruments.dead_letters_failed.inc();
                if matches!(
                    error.rdkafka_error_code(),
                    Some(
                        RDKafkaErrorCode::TopicAuthorizationFailed
                            | RDKafkaErrorCode::ClusterAuthorizationFailed
                    )
                ) {
                    return Err(StorageError::DeadLetterTopic {
                        topic: self.dead_letters.topic().to_owned(),
                        source: error,
                    });
                }
                return Ok(true);
            }
            attempt += 1;
            let delay = self.backoff("dead_letter", attempt);
            tracing::warn!(topic = %self.dead_letters.topic(), attempt, delay_ms = delay.as_millis() as u64, %error, "dead letter not delivered; retrying");
            tokio::select! {
                _ = token.cancelled() => return Ok(false),
                _ = tokio::time::sleep(delay) => {}
            }
        }
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
                                let letter = DeadLetter {
                                    position: pending.position,
                                    key: Some(key.as_bytes()),
                                    payload: payload.as_deref(),
                                    reason: rejection.reason(),
                                    error: error_chain(&rejection),
                                };
                                if !self.send_dead_letter(&letter, token).await? {
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

    /// Upserts `records`, retrying for as long as the database is unavailable, with
    /// consumption paused meanwhile.
    async fn write_until_done(&mut self, records: &[Record], token: &CancellationToken) -> Written {
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
        match self.consumer.assignment() {
            Ok(assignment) if assignment.count() > 0 => {
                if let Err(error) = self.consumer.pause(&assignment) {
                    tracing::warn!(%error, "cannot pause the partitions");
                }
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "cannot read the assignment to pause it"),
        }
        self.instruments.paused.set(1);
    }

    fn resume(&self) {
        match self.consumer.assignment() {
            Ok(assignment) if assignment.count() > 0 => {
                if let Err(error) = self.consumer.resume(&assignment) {
                    tracing::warn!(%error, "cannot resume the partitions");
                }
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "cannot read the assignment to resume it"),
        }
        self.instruments.paused.set(0);
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

    /// Commits, per partition, the offset after the batch's last message. The commit runs in
    /// the background, so the next batch's write overlaps the broker's round trip; it is
    /// awaited (and its outcome counted) before the next commit, so commits stay in order.
    async fn commit(&mut self, next_offsets: &BTreeMap<i32, i64>) {
        self.settle_commit().await;
        for (partition, offset) in next_offsets {
            self.last_offsets.insert(*partition, *offset);
        }
        let Some(offsets) = self.offset_list(next_offsets) else {
            return;
        };
        let consumer = Arc::clone(&self.consumer);
        self.pending_commit = Some(tokio::task::spawn_blocking(move || {
            consumer.commit(&offsets, CommitMode::Sync)
        }));
    }

    /// Waits for the commit under way, if any, and logs and counts its failure.
    async fn settle_commit(&mut self) {
        let Some(pending) = self.pending_commit.take() else {
            return;
        };
        match pending.await.unwrap_or(Err(KafkaError::Canceled)) {
            Ok(()) => tracing::debug!("offsets committed"),
            Err(error) => {
                self.instruments.commit_failures.inc();
                tracing::warn!(%error, "offset commit refused; the written records will be redelivered and skipped as stale");
            }
        }
    }

    /// Only partitions still assigned are committed: another replica may own the others now.
    async fn commit_last_offsets(&mut self) {
        self.settle_commit().await;
        let assigned: Vec<i32> = self
            .consumer
            .assignment()
            .map(|list| partition_numbers(&list))
            .unwrap_or_default();
        self.last_offsets
            .retain(|partition, _| assigned.contains(partition));
        let Some(offsets) = self.offset_list(&self.last_offsets) else {
            return;
        };
        let consumer = Arc::clone(&self.consumer);
        let committed =
            tokio::task::spawn_blocking(move || consumer.commit(&offsets, CommitMode::Sync))
                .await
                .unwrap_or(Err(KafkaError::Canceled));
        match committed {
            Ok(()) => tracing::info!(offsets = ?self.last_offsets, "final offsets committed"),
            Err(error) => {
                self.instruments.commit_failures.inc();
                tracing::warn!(offsets = ?self.last_offsets, %error, "final offset commit refused; the written records will be redelivered and skipped as stale");
            }
        }
    }

    fn offset_list(&self, next_offsets: &BTreeMap<i32, i64>) -> Option<TopicPartitionList> {
        if next_offsets.is_empty() {
            return None;
        }
        let mut offsets = TopicPartitionList::new();
        for (partition, offset) in next_offsets {
            if let Err(error) =
                offsets.add_partition_offset(&self.topic, *partition, Offset::Offset(*offset))
            {
                tracing::warn!(partition, offset, %error, "cannot list the offset to commit");
            }
        }
        Some(offsets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_errors_are_retried_and_final_ones_are_not() {
        let retried = [
            KafkaError::MessageConsumption(RDKafkaErrorCode::UnknownTopicOrPartition),
            KafkaError::MessageConsumption(RDKafkaErrorCode::BrokerTransportFailure),
            KafkaError::MessageConsumption(RDKafkaErrorCode::AllBrokersDown),
            KafkaError::Global(RDKafkaErrorCode::OperationTimedOut),
        ];
        for error in retried {
            assert_eq!(severity(&error), Severity::Retriable, "{error}");
        }
        let fatal = [
            KafkaError::MessageConsumption(RDKafkaErrorCode::TopicAuthorizationFailed),
            KafkaError::MessageConsumption(RDKafkaErrorCode::GroupAuthorizationFailed),
            KafkaError::MessageConsumptionFatal(RDKafkaErrorCode::Fatal),
            KafkaError::Global(RDKafkaErrorCode::Fatal),
        ];
        for error in fatal {
            assert_eq!(severity(&error), Severity::Fatal, "{error}");
        }
    }
}
