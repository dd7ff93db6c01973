use std::time::Duration;

use common::testing::{kafka_brokers, unique_name};
use rdkafka::{
    ClientConfig, Message,
    admin::{AdminClient, AdminOptions, NewTopic, TopicReplication},
    client::DefaultClientContext,
    consumer::{CommitMode, Consumer, StreamConsumer},
    producer::{FutureProducer, FutureRecord},
};

async fn create_topic(brokers: &str, topic: &str) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .expect("an admin client");
    let results = admin
        .create_topics(
            &[NewTopic::new(topic, 1, TopicReplication::Fixed(1))],
            &AdminOptions::new(),
        )
        .await
        .expect("the broker answers CreateTopics");
    for result in results {
        result.expect("the topic is created");
    }
}

fn consumer(brokers: &str, group: &str, topic: &str) -> StreamConsumer {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        // Tansu holds a join until the previous member's session expires: keep it short.
        .set("session.timeout.ms", "6000")
        .create()
        .expect("a consumer");
    consumer.subscribe(&[topic]).expect("a subscription");
    consumer
}

async fn next_payload(consumer: &StreamConsumer) -> (String, String, i64) {
    let message = tokio::time::timeout(Duration::from_secs(30), consumer.recv())
        .await
        .expect("a message within 30 s")
        .expect("a message, not an error");
    let key = String::from_utf8(message.key().expect("a key").to_vec()).unwrap();
    let payload = message
        .payload_view::<str>()
        .expect("a payload")
        .unwrap()
        .to_owned();
    (key, payload, message.offset())
}

#[tokio::test]
async fn produce_with_acks_all_then_consume_with_manual_commit_and_resume() {
    let brokers = kafka_brokers();
    let topic = unique_name("real_parts");
    let group = unique_name("group");
    create_topic(&brokers, &topic).await;

    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .set("compression.type", "lz4")
        .create()
        .expect("a producer");
    for i in 0..3 {
        let payload = format!("{{\"n\":{i}}}");
        producer
            .send(
                FutureRecord::to(&topic)
                    .key(&format!("key{i}"))
                    .payload(&payload),
                Duration::from_secs(10),
            )
            .await
            .expect("the broker acknowledges the record");
    }

    let first = consumer(&brokers, &group, &topic);
    let (key, payload, offset) = next_payload(&first).await;
    assert_eq!(
        (key.as_str(), payload.as_str(), offset),
        ("key0", r#"{"n":0}"#, 0)
    );
    first
        .commit_consumer_state(CommitMode::Sync)
        .expect("the offset is committed");
    drop(first);

    // A new member of the same group resumes after the committed record.
    let second = consumer(&brokers, &group, &topic);
    let (key, payload, _) = next_payload(&second).await;
    assert_eq!((key.as_str(), payload.as_str()), ("key1", r#"{"n":1}"#));
}
