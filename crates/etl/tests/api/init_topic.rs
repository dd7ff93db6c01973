//! `etl init-topic` as an init container runs it: the built binary, twice.

use std::{process::Command, time::Duration};

use common::testing::{kafka_brokers, unique_name};
use rdkafka::{
    ClientConfig,
    consumer::{BaseConsumer, Consumer},
};

#[test]
fn init_topic_creates_the_topic_and_is_idempotent() {
    let brokers = kafka_brokers();
    let topic = unique_name("etl_init");
    for run in 1..=2 {
        let output = Command::new(env!("CARGO_BIN_EXE_etl"))
            .args([
                "init-topic",
                "--kafka-brokers",
                &brokers,
                "--kafka-topic",
                &topic,
                "--partitions",
                "3",
            ])
            .output()
            .expect("the etl binary runs");
        assert!(
            output.status.success(),
            "run {run}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .create()
        .unwrap();
    let metadata = consumer
        .fetch_metadata(Some(&topic), Duration::from_secs(10))
        .expect("metadata");
    let found = metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .expect("the topic exists");
    assert_eq!(found.partitions().len(), 3);
}
