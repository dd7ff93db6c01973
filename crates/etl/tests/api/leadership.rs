//! Leader election among replicas sharing one MongoDB database and one topic: what the records'
//! headers (replica, shard, term, slot) and Kafka timestamps say about who produced what, when.

use std::{collections::BTreeMap, time::Duration};

use bson::doc;
use chrono::{DateTime, Utc};
use common::testing::{free_port, mongo_uri, unique_name, wait_until};
use etl::lease::{CYCLES_COLLECTION, CycleEntry, LEASES_COLLECTION};
use futures::TryStreamExt;
use rdkafka::{
    Message,
    consumer::StreamConsumer,
    message::{BorrowedMessage, Headers},
};

use crate::helpers::{Election, Gate, Options, SlaServer, TestApp, manifest, socket_of, spawn_app};

/// The lease TTL of these tests: short, so takeovers happen within seconds.
const TTL: Duration = Duration::from_secs(2);

/// One record's producer, from its headers, and when it was produced.
#[derive(Debug, Clone, PartialEq)]
struct Stamp {
    replica: String,
    shard: String,
    term: i64,
    slot: String,
    produced_at_ms: i64,
}

impl Stamp {
    fn of(message: &BorrowedMessage<'_>) -> Self {
        let headers = message.headers().expect("every record has headers");
        let header = |key: &str| -> String {
            let value = headers
                .iter()
                .find(|header| header.key == key)
                .and_then(|header| header.value)
                .unwrap_or_else(|| panic!("header {key} missing"));
            String::from_utf8(value.to_vec()).expect("a UTF-8 header")
        };
        Self {
            replica: header("etl-replica"),
            shard: header("etl-shard"),
            term: header("etl-term").parse().expect("a numeric term"),
            slot: header("etl-slot"),
            produced_at_ms: message.timestamp().to_millis().expect("a create time"),
        }
    }
}

/// Every record of the topic, read until none came for a few seconds.
async fn stamps(consumer: &StreamConsumer) -> Vec<Stamp> {
    let mut stamps = Vec::new();
    while let Ok(message) = tokio::time::timeout(Duration::from_secs(5), consumer.recv()).await {
        stamps.push(Stamp::of(&message.expect("a record")));
    }
    assert!(!stamps.is_empty(), "no record at all");
    stamps
}

/// Per shard and term: the replica and the span of production times. Asserts that a term
/// belongs to one replica and that, per shard, the spans of successive terms never overlap:
/// no two replicas produced one shard at the same time.
fn terms_by_shard(stamps: &[Stamp]) -> BTreeMap<String, BTreeMap<i64, (String, i64, i64)>> {
    let mut terms: BTreeMap<String, BTreeMap<i64, (String, i64, i64)>> = BTreeMap::new();
    for stamp in stamps {
        let span = terms
            .entry(stamp.shard.clone())
            .or_default()
            .entry(stamp.term)
            .or_insert_with(|| (stamp.replica.clone(), i64::MAX, i64::MIN));
        assert_eq!(
            span.0, stamp.replica,
            "term {} of shard {} has two replicas",
            stamp.term, stamp.shard
        );
        span.1 = span.1.min(stamp.produced_at_ms);
        span.2 = span.2.max(stamp.produced_at_ms);
    }
    for (shard, spans) in &terms {
        let spans: Vec<_> = spans.iter().collect();
        for pair in spans.windows(2) {
            let ((earlier, (_, _, ended)), (later, (_, started, _))) = (pair[0], pair[1]);
            assert!(
                ended < started,
                "shard {shard}: term {earlier} produced until {ended}, after term {later} began at {started}"
            );
        }
    }
    terms
}

/// The cycles journaled in `database`: each (loop, shard, slot) at most once.
async fn assert_journal_has_no_duplicate(database: &str) -> Vec<CycleEntry> {
    let client = mongodb::Client::with_uri_str(mongo_uri())
        .await
        .expect("a client");
    let entries: Vec<CycleEntry> = client
        .database(database)
        .collection::<CycleEntry>(CYCLES_COLLECTION)
        .find(doc! {})
        .await
        .expect("the journal reads")
        .try_collect()
        .await
        .expect("the journal decodes");
    let mut seen = BTreeMap::new();
    for entry in &entries {
        let key = (entry.loop_name.clone(), entry.shard.clone(), entry.slot);
        if let Some(first) = seen.insert(key, entry.clone()) {
            panic!("cycle journaled twice: {first:?} and {entry:?}");
        }
    }
    entries
}

/// Whether `replica`'s heartbeat in `database` has not expired.
async fn heartbeat_is_current(database: &str, replica: &str) -> bool {
    let client = mongodb::Client::with_uri_str(mongo_uri())
        .await
        .expect("a client");
    let now = bson::DateTime::now();
    client
        .database(database)
        .collection::<bson::Document>(LEASES_COLLECTION)
        .count_documents(doc! { "_id": format!("replica-{replica}"), "expires_at": { "$gt": now } })
        .await
        .expect("the leases read")
        == 1
}

/// Replicas sharing one database, one topic and one SLA server.
struct Cluster {
    database: String,
    topic: String,
    sla_port: u16,
    _sla: SlaServer,
}

impl Cluster {
    async fn new() -> Self {
        let sla_port = free_port();
        Self {
            database: unique_name("etl_leases"),
            topic: unique_name("etl_leaders"),
            sla_port,
            _sla: SlaServer::start(sla_port, vec![]).await,
        }
    }

    /// A replica named `name` reaching the database at `mongo_uri`, with `shards` shards.
    async fn replica(&self, name: &str, mongo_uri: String, shards: u32) -> TestApp {
        let manifest = manifest();
        spawn_app(Options {
            now: DateTime::from_timestamp(manifest.config.end - 600, 0),
            fast_secs: 2,
            topic: Some(self.topic.clone()),
            election: Some(Election {
                mongo_uri,
                database: self.database.clone(),
                replica: name.to_owned(),
                shards,
                ttl: "2s",
            }),
            ..Options::new(self.sla_port)
        })
        .await
    }
}

async fn leads(app: &TestApp) -> f64 {
    app.metric("etl_shard_leader", &[]).await
}

/// Waits until `app` has run `at_least` fast cycles in all.
async fn wait_for_fast_cycles(app: &TestApp, at_least: f64) {
    let fast = [("loop", "fast")];
    app.wait_for_metric(
        "etl_cycle_duration_seconds_count",
        &fast,
        at_least,
        Duration::from_secs(60),
    )
    .await;
}

/// Waits until `app` has run `more` fast cycles beyond those it has run now.
async fn run_more_fast_cycles(app: &TestApp, more: f64) {
    let now = app
        .metric("etl_cycle_duration_seconds_count", &[("loop", "fast")])
        .await;
    wait_for_fast_cycles(app, now + more).await;
}

#[tokio::test]
async fn two_replicas_split_the_shards_and_a_crashed_leader_is_replaced() {
    // Arrange: two replicas, two shards.
    let cluster = Cluster::new().await;
    let mut first = cluster.replica("etl-a", mongo_uri(), 2).await;
    let second = cluster.replica("etl-b", mongo_uri(), 2).await;
    wait_until(
        "each replica leads one shard",
        Duration::from_secs(30),
        || async { leads(&first).await == 1.0 && leads(&second).await == 1.0 },
    )
    .await;
    wait_for_fast_cycles(&first, 2.0).await;

    // Act: the first replica crashes, leases unreleased.
    let mut crashed_shard = None;
    for shard in ["0/2", "1/2"] {
        if first.metric("etl_shard_leader", &[("shard", shard)]).await == 1.0 {
            crashed_shard = Some(shard.to_owned());
        }
    }
    let crashed_shard = crashed_shard.expect("the first replica leads a shard");
    first.crash().await;
    let crashed = tokio::time::Instant::now();
    wait_until(
        "the survivor leads both shards",
        Duration::from_secs(20),
        || async { leads(&second).await == 2.0 },
    )
    .await;
    let takeover = crashed.elapsed();
    run_more_fast_cycles(&second, 4.0).await;
    let consumer = second.consumer();
    drop(second);

    // Assert: takeover within the TTL and a tick (and the time to notice), terms in order.
    assert!(takeover < TTL * 3, "took over after {takeover:?}");
    let stamps = stamps(&consumer).await;
    let terms = terms_by_shard(&stamps);
    assert_eq!(
        terms.keys().map(String::as_str).collect::<Vec<_>>(),
        ["0/2", "1/2"]
    );
    let spans = &terms[&crashed_shard];
    let mut leaders = spans.values().map(|(replica, ..)| replica.as_str()).rev();
    assert_eq!(
        leaders.next(),
        Some("etl-b"),
        "the survivor led the crashed replica's shard last: {spans:?}"
    );
    assert_eq!(
        leaders.next(),
        Some("etl-a"),
        "the crashed replica led it before: {spans:?}"
    );
    let journal = assert_journal_has_no_duplicate(&cluster.database).await;
    assert!(
        journal
            .iter()
            .any(|entry| entry.replica == "etl-b" && entry.shard == crashed_shard)
    );
    // Each cycle's records carry its slot: one replica per shard and slot.
    let mut producers: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for stamp in &stamps {
        let replicas = producers.entry((&stamp.shard, &stamp.slot)).or_default();
        if !replicas.contains(&stamp.replica.as_str()) {
            replicas.push(&stamp.replica);
        }
    }
    let shared: Vec<_> = producers
        .iter()
        .filter(|(_, replicas)| replicas.len() > 1)
        .collect();
    // Only a slot a handover interrupted (a crash, or a release when the second replica came)
    // may be produced twice, by the old leader then the new; never at once, as checked above.
    let handovers: usize = terms.values().map(|spans| spans.len() - 1).sum();
    assert!(
        shared.len() <= handovers,
        "slots produced by two replicas: {shared:?}, handovers: {handovers}"
    );
}

#[tokio::test]
async fn a_leader_cut_off_from_the_database_stops_before_its_successor_starts() {
    // Arrange: one shard; the first replica reaches the database through a gate.
    let cluster = Cluster::new().await;
    let gate = Gate::closed().await;
    gate.open(socket_of(&mongo_uri()));
    // A direct connection: the driver must not discover the server's own address around the gate.
    let gated_uri = format!("mongodb://127.0.0.1:{}/?directConnection=true", gate.port());
    let first = cluster.replica("etl-a", gated_uri, 1).await;
    wait_until(
        "the first replica leads",
        Duration::from_secs(30),
        || async { leads(&first).await == 1.0 },
    )
    .await;
    let second = cluster.replica("etl-b", mongo_uri(), 1).await;
    wait_for_fast_cycles(&first, 2.0).await;
    second
        .wait_for_metric("etl_replicas_live", &[], 2.0, Duration::from_secs(30))
        .await;

    // Act: the leader loses the database.
    gate.close();
    let cut_ms = Utc::now().timestamp_millis();
    wait_until(
        "the standby takes over",
        Duration::from_secs(30),
        || async { leads(&second).await == 1.0 },
    )
    .await;
    wait_until(
        "the cut-off leader knows it lost",
        Duration::from_secs(30),
        || async { leads(&first).await == 0.0 },
    )
    .await;
    run_more_fast_cycles(&second, 2.0).await;
    wait_until(
        "the cut-off replica's heartbeat expires",
        Duration::from_secs(30),
        || async { !heartbeat_is_current(&cluster.database, "etl-a").await },
    )
    .await;
    // The database comes back: the first replica heartbeats again as a standby, unrestarted.
    gate.open(socket_of(&mongo_uri()));
    wait_until(
        "the first replica heartbeats again",
        Duration::from_secs(60),
        || async { heartbeat_is_current(&cluster.database, "etl-a").await },
    )
    .await;
    assert_eq!(leads(&first).await, 0.0);
    assert_eq!(
        first
            .metric("etl_lease_changes_total", &[("change", "lost")])
            .await,
        1.0
    );
    let consumer = second.consumer();
    drop((first, second));

    // Assert: the first term ended within its tenure of the cut, before the second began.
    let terms = terms_by_shard(&stamps(&consumer).await);
    let spans = &terms["0/1"];
    let mut replicas = spans.values().map(|(replica, ..)| replica.as_str());
    assert_eq!(replicas.next(), Some("etl-a"), "{spans:?}");
    assert_eq!(replicas.next(), Some("etl-b"), "{spans:?}");
    let (_, (_, _, first_ended)) = spans.first_key_value().expect("a first term");
    assert!(
        *first_ended <= cut_ms + TTL.as_millis() as i64,
        "the cut-off leader produced {} ms after the cut",
        first_ended - cut_ms
    );
}
