//! Undecodable records go to `<topic>.dlq` and never block their partition.

use std::time::Duration;

use common::{record::Kind, testing::unique_name};
use rdkafka::{
    ClientConfig, Message, Offset, TopicPartitionList,
    consumer::{Consumer, StreamConsumer},
    message::Headers,
};

use crate::helpers::{assert_holds, record, spawn_app};

#[tokio::test]
async fn bad_records_go_to_the_dead_letter_topic_and_the_next_good_one_is_written() {
    let app = spawn_app().await;
    let good = record(0, Kind::Values, 1, 1.0);
    let mut unknown_kind = serde_json::to_value(&good).unwrap();
    unknown_kind["kind"] = "weather".into();
    let mut missing_id = serde_json::to_value(&good).unwrap();
    missing_id.as_object_mut().unwrap().remove("id");
    let bad: Vec<(String, Vec<u8>)> = vec![
        ("k1".to_owned(), b"{this is not json".to_vec()),
        ("k2".to_owned(), serde_json::to_vec(&unknown_kind).unwrap()),
        ("k3".to_owned(), serde_json::to_vec(&missing_id).unwrap()),
    ];

    app.produce_raw(&bad).await;
    app.produce_stored(
        "the good record after the bad ones is stored",
        &good,
        Duration::from_secs(60),
    )
    .await;
    let metrics = app.metrics().await;
    assert_holds(
        &metrics,
        &[
            "storage_dead_letters_total{reason=\"malformed_json\"} 1",
            "storage_dead_letters_total{reason=\"invalid_record\"} 2",
        ],
    );

    // The dead letters, as they were sent, with where they came from and why.
    let dlq = format!("{}.dlq", app.setup.topic);
    let reader: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &app.setup.brokers)
        .set("group.id", unique_name("dlq_reader"))
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    reader.subscribe(&[&dlq]).unwrap();
    for (key, payload) in &bad {
        let message = tokio::time::timeout(Duration::from_secs(60), reader.recv())
            .await
            .expect("a dead letter in time")
            .unwrap();
        assert_eq!(message.key(), Some(key.as_bytes()));
        assert_eq!(message.payload(), Some(payload.as_slice()));
        let headers = message.headers().expect("dead letters carry headers");
        let header = |name: &str| {
            headers
                .iter()
                .find(|h| h.key == name)
                .and_then(|h| h.value)
                .map(|v| String::from_utf8_lossy(v).into_owned())
        };
        assert_eq!(
            header("dlq.source.topic").as_deref(),
            Some(app.setup.topic.as_str())
        );
        assert_eq!(header("dlq.source.partition").as_deref(), Some("0"));
        assert!(
            header("dlq.reason").is_some_and(|r| r == "malformed_json" || r == "invalid_record")
        );
    }

    // Their offsets were committed with the good record's: a restart would not see them again.
    let setup = app.setup.clone();
    app.stop().await.expect("storage stops cleanly");
    let group_member: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &setup.brokers)
        .set("group.id", &setup.group)
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut partition = TopicPartitionList::new();
    partition.add_partition(&setup.topic, 0);
    let committed = group_member
        .committed_offsets(partition, Duration::from_secs(10))
        .expect("the broker answers");
    assert_eq!(
        committed.find_partition(&setup.topic, 0).unwrap().offset(),
        Offset::Offset(4)
    );
}
