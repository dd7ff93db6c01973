//! `record-inject`: puts copies of a real record and bad messages in a running pipeline's topic
//! (see `pipeline_check::inject`), each with the header `fault-inject: <case>`, then waits until
//! storage has dealt with each: the copies taken and not dead-lettered, each bad one
//! dead-lettered with its reason; and the series' stored result must still be its newest (not an
//! older copy, nor one from 2100). Exits 0 when every case did what it must, 1 when one did not,
//! 2 when it could not run.

use std::{collections::BTreeMap, process::ExitCode, time::Duration};

use anyhow::{Context, bail};
use chrono::Utc;
use clap::Parser;
use common::{config::parse_duration, record::Kind};
use pipeline_check::{
    config::PipelineArgs,
    inject::{self, Outcome},
    topic::{self, INJECTED_HEADER, RawMessage},
};
use rdkafka::{
    ClientConfig,
    message::{Header, OwnedHeaders},
    producer::{FutureProducer, FutureRecord},
};

/// Inject duplicate, reordered, oversized and poison messages into the topic and check what
/// storage made of them.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    #[command(flatten)]
    pipeline: PipelineArgs,
    /// The cases, space-separated: duplicate reordered oversized not-json empty not-a-record
    /// id-mismatch future.
    #[arg(
        long,
        default_value = "duplicate reordered oversized not-json empty not-a-record id-mismatch future"
    )]
    cases: String,
    /// How long storage may take to deal with them all.
    #[arg(long, default_value = "90s", value_parser = parse_duration)]
    timeout: Duration,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// The newest values record of a series that has at least two in the topic, and an older one.
fn pick(messages: &[RawMessage]) -> Option<(&RawMessage, &RawMessage, i64)> {
    let mut by_series: BTreeMap<_, Vec<(i64, &RawMessage)>> = BTreeMap::new();
    for message in messages {
        if message.header(INJECTED_HEADER).is_some() {
            continue;
        }
        if let Some(identity) = topic::identity(message.payload.as_deref())
            && identity.kind == Kind::Values
        {
            by_series
                .entry(identity.id)
                .or_default()
                .push((identity.computed_at_ms, message));
        }
    }
    by_series.into_values().find_map(|mut records| {
        records.sort_by_key(|(at, _)| *at);
        let (newest_at, newest) = *records.last()?;
        let (older_at, older) = *records.first()?;
        (older_at < newest_at).then_some((newest, older, newest_at))
    })
}

async fn run(cli: Cli) -> anyhow::Result<bool> {
    let (brokers, topic_name) = (
        &cli.pipeline.kafka.kafka_brokers,
        &cli.pipeline.kafka.kafka_topic,
    );
    let messages = topic::read_messages(brokers, topic_name).await?;
    let Some((newest, older, newest_at)) = pick(&messages) else {
        bail!("no series has two values records in {topic_name} yet");
    };
    let (newest_payload, older_payload) = (
        newest.payload.as_deref().unwrap_or_default(),
        older.payload.as_deref().unwrap_or_default(),
    );
    let series = topic::identity(Some(newest_payload))
        .context("the picked record")?
        .id;
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("acks", "all")
        .set("message.max.bytes", "10000000")
        .create()?;
    let mut sent = Vec::new();
    for case in cli.cases.split_whitespace() {
        let injection = inject::injection(case, newest_payload, older_payload)?;
        let headers = OwnedHeaders::new().insert(Header {
            key: INJECTED_HEADER,
            value: Some(injection.case.as_bytes()),
        });
        let mut record: FutureRecord<'_, [u8], [u8]> =
            FutureRecord::to(topic_name).headers(headers);
        if let Some(key) = newest.key.as_deref() {
            record = record.key(key);
        }
        if let Some(payload) = injection.payload.as_deref() {
            record = record.payload(payload);
        }
        let delivery = producer
            .send(record, Duration::from_secs(30))
            .await
            .map_err(|(error, _)| error)
            .with_context(|| format!("producing the {case} message"))?;
        println!(
            "injected {}: partition {} offset {} ({} bytes), expected {}",
            injection.case,
            delivery.partition,
            delivery.offset,
            injection.payload.as_ref().map_or(0, Vec::len),
            injection.expect
        );
        sent.push((injection, delivery.partition, delivery.offset));
    }

    let dead_letter_topic = cli.pipeline.storage.dead_letter_topic(topic_name);
    let deadline = tokio::time::Instant::now() + cli.timeout;
    let outcomes = loop {
        let dead: BTreeMap<(i32, i64), String> = topic::read_messages(brokers, &dead_letter_topic)
            .await?
            .iter()
            .filter(|letter| letter.header("dlq.source.topic") == Some(topic_name.as_str()))
            .filter_map(|letter| {
                let partition = letter.header("dlq.source.partition")?.parse().ok()?;
                let offset = letter.header("dlq.source.offset")?.parse().ok()?;
                Some(((partition, offset), letter.header("dlq.reason")?.to_owned()))
            })
            .collect();
        let committed = topic::committed(brokers, topic_name, &cli.pipeline.storage.group).await?;
        let outcomes: Vec<Outcome> = sent
            .iter()
            .map(|(_, partition, offset)| {
                let reason = dead.get(&(*partition, *offset)).map(String::as_str);
                inject::outcome(*offset, reason, committed.get(partition).copied())
            })
            .collect();
        if !outcomes.contains(&Outcome::Pending) || tokio::time::Instant::now() > deadline {
            break outcomes;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };

    let mut passed = true;
    for ((injection, partition, offset), outcome) in sent.iter().zip(&outcomes) {
        let ok = outcome.meets(injection.expect);
        passed &= ok;
        println!(
            "{} {}: partition {partition} offset {offset}: expected {}, got {outcome}",
            if ok { "ok" } else { "FAILED" },
            injection.case,
            injection.expect
        );
    }
    let stored = topic::stored(&cli.pipeline.mongo.database().await?).await?;
    let at = stored.get(&(series, Kind::Values)).copied();
    let bound = (Utc::now() + chrono::TimeDelta::days(1)).timestamp_millis();
    let kept = at.is_some_and(|at| at >= newest_at && at < bound);
    passed &= kept;
    println!(
        "{} series {series}: stored values computed_at {} ms, newest real record {newest_at} ms (must be at least that, and not in the future)",
        if kept { "ok" } else { "FAILED" },
        at.map_or_else(|| "none".to_owned(), |at| at.to_string()),
    );
    Ok(passed)
}
