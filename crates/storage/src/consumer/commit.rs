//! Offset commits: in the background and in order while consuming, synchronously for the
//! partitions still assigned at shutdown.

use std::{collections::BTreeMap, sync::Arc};

use rdkafka::{
    Offset, TopicPartitionList,
    consumer::{CommitMode, Consumer},
    error::KafkaError,
};

use super::{Pipeline, context::partition_numbers};

impl Pipeline {
    /// Commits, per partition, the offset after the batch's last message. The commit runs in
    /// the background, so the next batch's write overlaps the broker's round trip; it is
    /// awaited (and its outcome counted) before the next commit, so commits stay in order.
    pub(super) async fn commit(&mut self, next_offsets: &BTreeMap<i32, i64>) {
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
    pub(super) async fn commit_last_offsets(&mut self) {
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
