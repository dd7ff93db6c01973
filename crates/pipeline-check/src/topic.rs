//! Reading a running pipeline for [`crate::audit`]: every message of a topic from its beginning
//! (with the producer headers), a consumer group's committed offsets, and the newest stored
//! computed_at of each series and kind.

use std::{collections::BTreeMap, time::Duration};

use bson::{Document, doc};
use chrono::{DateTime, Utc};
use common::{SeriesId, record::Kind, store::METRICS_COLLECTION};
use futures::TryStreamExt;
use rdkafka::{
    ClientConfig, Message, Offset, TopicPartitionList,
    consumer::{BaseConsumer, Consumer},
    error::KafkaError,
    message::Headers,
};
use serde::Deserialize;

use crate::audit::{Identity, Producer, Stored, TopicRecord};

/// How long one broker request may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How long reading a whole topic may take.
const READ_DEADLINE: Duration = Duration::from_secs(60);

/// What could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The broker did not answer or refused.
    #[error("broker: {0}")]
    Kafka(#[from] KafkaError),
    /// The database did not answer or refused.
    #[error("database: {0}")]
    Database(#[from] mongodb::error::Error),
    /// The topic was not read to its end in time.
    #[error("topic {topic} not read to its end within {seconds} s")]
    Deadline {
        /// The topic.
        topic: String,
        /// The deadline.
        seconds: u64,
    },
    /// A reading thread ended abnormally.
    #[error("reader task: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// The part of a record that says what it is.
#[derive(Deserialize)]
struct Head {
    id: SeriesId,
    kind: Kind,
    computed_at: DateTime<Utc>,
}

/// The identity of a record's payload; none when it is not a record.
pub fn identity(payload: Option<&[u8]>) -> Option<Identity> {
    let head: Head = serde_json::from_slice(payload?).ok()?;
    Some(Identity {
        id: head.id,
        kind: head.kind,
        computed_at_ms: head.computed_at.timestamp_millis(),
    })
}

fn producer(message: &RawMessage) -> Option<Producer> {
    let value = |key: &str| message.header(key).map(str::to_owned);
    Some(Producer {
        replica: value("etl-replica")?,
        shard: value("etl-shard")?,
        term: value("etl-term")?.parse().ok()?,
        slot: value("etl-slot")?,
    })
}

/// The header `record-inject` puts on each message it injects.
pub const INJECTED_HEADER: &str = "fault-inject";

/// A message as it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMessage {
    /// Its partition.
    pub partition: i32,
    /// Its offset.
    pub offset: i64,
    /// Its key.
    pub key: Option<Vec<u8>>,
    /// Its value.
    pub payload: Option<Vec<u8>>,
    /// Its headers, in order.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

impl RawMessage {
    /// The first header `key` as text, when it is some.
    pub fn header(&self, key: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(name, _)| name == key)
            .and_then(|(_, value)| value.as_deref())
            .and_then(|value| std::str::from_utf8(value).ok())
    }
}

fn consumer(brokers: &str, group: &str) -> Result<BaseConsumer, KafkaError> {
    ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "true")
        .set("log_level", "3")
        .create()
}

fn partitions(consumer: &BaseConsumer, topic: &str) -> Result<Vec<i32>, KafkaError> {
    let metadata = consumer.fetch_metadata(Some(topic), TIMEOUT)?;
    Ok(metadata
        .topics()
        .iter()
        .filter(|found| found.name() == topic && found.error().is_none())
        .flat_map(|found| found.partitions().iter().map(|partition| partition.id()))
        .collect())
}

/// Every record of `topic` from the beginning to its end as of now (none when the topic does
/// not exist), in partition order.
pub async fn read_topic(brokers: &str, topic: &str) -> Result<Vec<TopicRecord>, ReadError> {
    Ok(read_messages(brokers, topic)
        .await?
        .into_iter()
        .map(|message| TopicRecord {
            partition: message.partition,
            offset: message.offset,
            identity: identity(message.payload.as_deref()),
            producer: producer(&message),
            injected: message.header(INJECTED_HEADER).is_some(),
        })
        .collect())
}

/// Per partition of `topic`, its log end offset (the high watermark) as of now; empty when the
/// topic does not exist. Unlike a read of the messages, it cannot stop short of the end.
pub async fn ends(brokers: &str, topic: &str) -> Result<BTreeMap<i32, i64>, ReadError> {
    let (brokers, topic) = (brokers.to_owned(), topic.to_owned());
    tokio::task::spawn_blocking(move || {
        let consumer = consumer(&brokers, &format!("record-audit-{}", std::process::id()))?;
        let mut ends = BTreeMap::new();
        for partition in partitions(&consumer, &topic)? {
            let (_, high) = consumer.fetch_watermarks(&topic, partition, TIMEOUT)?;
            ends.insert(partition, high);
        }
        Ok(ends)
    })
    .await?
}

/// Every message of `topic` from the beginning to its end as of now, in partition order.
pub async fn read_messages(brokers: &str, topic: &str) -> Result<Vec<RawMessage>, ReadError> {
    let (brokers, topic) = (brokers.to_owned(), topic.to_owned());
    tokio::task::spawn_blocking(move || read_messages_blocking(&brokers, &topic)).await?
}

fn read_messages_blocking(brokers: &str, topic: &str) -> Result<Vec<RawMessage>, ReadError> {
    let consumer = consumer(brokers, &format!("record-audit-{}", std::process::id()))?;
    let mut ends = BTreeMap::new();
    let mut assignment = TopicPartitionList::new();
    for partition in partitions(&consumer, topic)? {
        let (low, high) = consumer.fetch_watermarks(topic, partition, TIMEOUT)?;
        if high > low {
            ends.insert(partition, high);
            assignment.add_partition_offset(topic, partition, Offset::Beginning)?;
        }
    }
    let mut records = Vec::new();
    if ends.is_empty() {
        return Ok(records);
    }
    consumer.assign(&assignment)?;
    let deadline = std::time::Instant::now() + READ_DEADLINE;
    while !ends.is_empty() {
        if std::time::Instant::now() > deadline {
            return Err(ReadError::Deadline {
                topic: topic.to_owned(),
                seconds: READ_DEADLINE.as_secs(),
            });
        }
        match consumer.poll(Duration::from_millis(200)) {
            None => {}
            Some(Err(KafkaError::PartitionEOF(partition))) => {
                ends.remove(&partition);
            }
            Some(Err(error)) => return Err(error.into()),
            Some(Ok(message)) => {
                let (partition, offset) = (message.partition(), message.offset());
                let headers = message.headers().map_or_else(Vec::new, |headers| {
                    headers
                        .iter()
                        .map(|header| (header.key.to_owned(), header.value.map(<[u8]>::to_vec)))
                        .collect()
                });
                records.push(RawMessage {
                    partition,
                    offset,
                    key: message.key().map(<[u8]>::to_vec),
                    payload: message.payload().map(<[u8]>::to_vec),
                    headers,
                });
                if ends.get(&partition).is_some_and(|&end| offset + 1 >= end) {
                    ends.remove(&partition);
                }
            }
        }
    }
    records.sort_by_key(|record| (record.partition, record.offset));
    Ok(records)
}

/// Per partition of `topic`, the offset after the last message `group` committed.
pub async fn committed(
    brokers: &str,
    topic: &str,
    group: &str,
) -> Result<BTreeMap<i32, i64>, ReadError> {
    let (brokers, topic, group) = (brokers.to_owned(), topic.to_owned(), group.to_owned());
    tokio::task::spawn_blocking(move || {
        // Asking for a group's offsets does not join it: the group's members are undisturbed.
        let consumer = consumer(&brokers, &group)?;
        let mut list = TopicPartitionList::new();
        for partition in partitions(&consumer, &topic)? {
            list.add_partition(&topic, partition);
        }
        let offsets = consumer.committed_offsets(list, TIMEOUT)?;
        Ok(offsets
            .elements()
            .iter()
            .filter_map(|element| match element.offset() {
                Offset::Offset(next) => Some((element.partition(), next)),
                _ => None,
            })
            .collect())
    })
    .await?
}

/// The newest stored computed_at of each series and kind in `metrics`.
pub async fn stored(database: &mongodb::Database) -> Result<Stored, ReadError> {
    let collection = database.collection::<Document>(METRICS_COLLECTION);
    let projection = doc! { "values_at": 1, "metadata_at": 1, "prediction_at": 1 };
    let documents: Vec<Document> = collection
        .find(doc! {})
        .projection(projection)
        .await?
        .try_collect()
        .await?;
    let mut stored = Stored::new();
    for document in documents {
        let Some(id) = document
            .get_str("_id")
            .ok()
            .and_then(|id| id.parse::<SeriesId>().ok())
        else {
            continue;
        };
        for kind in Kind::ALL {
            if let Ok(at) = document.get_datetime(format!("{}_at", kind.as_str())) {
                stored.insert((id, kind), at.timestamp_millis());
            }
        }
    }
    Ok(stored)
}
