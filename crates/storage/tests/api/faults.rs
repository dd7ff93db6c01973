//! Losing nothing: the database or `storage` itself dies in the middle of a stream of 10,000
//! records, comes back, and afterwards every series holds the newest record produced for it.

use std::time::Duration;

use common::{
    record::{Kind, Record},
    testing::{DatabaseServer, wait_until},
};

use crate::helpers::{Setup, TestApp, marker, record, spawn_app_with};

const SERIES: usize = 500;
const ROUNDS: usize = 20;
const PARTITIONS: i32 = 3;

/// Round `round` of the stream: one record per series, of kind `ALL[round % 3]`, computed at
/// minute `round` and marked with the round, so the newest record of a kind is the last round
/// of that kind.
fn round(round: usize) -> Vec<Record> {
    let kind = Kind::ALL[round % 3];
    (0..SERIES)
        .map(|n| record(n, kind, round as i64, round as f64))
        .collect()
}

fn newest_round(kind: Kind) -> f64 {
    (0..ROUNDS)
        .filter(|r| Kind::ALL[r % 3] == kind)
        .max()
        .expect("every kind has a round") as f64
}

/// Series whose stored results are not the newest produced (missing ones included).
async fn incomplete_series(app: &TestApp) -> usize {
    let documents = app.documents().await;
    (0..SERIES)
        .filter(|n| {
            let id = common::SeriesId::of(&crate::helpers::labels(*n));
            !documents.get(&id).is_some_and(|d| {
                Kind::ALL
                    .iter()
                    .all(|k| marker(d, *k) == Some(newest_round(*k)))
            })
        })
        .count()
}

async fn wait_until_complete(app: &TestApp) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(150);
    loop {
        let incomplete = incomplete_series(app).await;
        if incomplete == 0 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{incomplete} of {SERIES} series lack their newest records"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn produce_rounds(app: &TestApp, rounds: std::ops::Range<usize>) {
    for r in rounds {
        app.produce(&round(r)).await;
    }
}

/// Produces the first half of the stream and waits until `app` has written part of it (a
/// thousand records), so that what comes next happens mid-stream.
async fn produce_first_half(app: &TestApp, what: &str) {
    produce_rounds(app, 0..ROUNDS / 2).await;
    wait_until(what, Duration::from_secs(60), || async {
        app.metric("storage_records_written_total").await >= 1000.0
    })
    .await;
}

#[tokio::test]
async fn the_database_dies_mid_stream_and_nothing_is_lost() {
    let mut database = DatabaseServer::start().await;
    let app = spawn_app_with(Setup::on_database(database.uri(), PARTITIONS).await).await;

    produce_first_half(&app, "storage has written part of the stream").await;
    database.process().kill().await;
    produce_rounds(&app, ROUNDS / 2..ROUNDS).await;
    wait_until(
        "storage pauses and retries",
        Duration::from_secs(30),
        || async {
            app.metric("storage_consumption_paused").await == 1.0
                && crate::helpers::sum_metric(&app.metrics().await, "storage_retries_total") >= 2.0
        },
    )
    .await;
    assert!(
        app.metric("storage_records_written_total").await < (SERIES * ROUNDS) as f64,
        "the kill came mid-stream"
    );

    database.process().start().await;

    wait_until_complete(&app).await;
    wait_until("consumption resumes", Duration::from_secs(10), || async {
        app.metric("storage_consumption_paused").await == 0.0
    })
    .await;
    app.stop().await.expect("storage stops cleanly");
}

#[tokio::test]
async fn storage_dies_mid_stream_and_its_successor_loses_nothing() {
    let setup = Setup::new(PARTITIONS).await;
    let first = spawn_app_with(setup).await;

    produce_first_half(&first, "the first storage has written part of the stream").await;
    let setup = first.kill().await;

    let second = spawn_app_with(setup).await;
    produce_rounds(&second, ROUNDS / 2..ROUNDS).await;

    wait_until_complete(&second).await;
    // The successor resumed from what the first one committed, not from the beginning.
    let handled = second.metric("storage_records_written_total").await
        + second.metric("storage_records_stale_total").await;
    assert!(
        handled < (SERIES * ROUNDS) as f64,
        "the successor handled {handled} records"
    );
    second.stop().await.expect("storage stops cleanly");
}

#[tokio::test]
async fn a_topic_that_does_not_exist_yet_is_waited_for() {
    let setup = Setup::without_topic(common::testing::mongo_uri());
    let app = spawn_app_with(setup.clone()).await;
    wait_until(
        "storage retries the missing topic",
        Duration::from_secs(60),
        || async {
            app.metrics()
                .await
                .contains("storage_retries_total{operation=\"consume\"}")
        },
    )
    .await;

    setup.create_topic(1).await;
    let late = record(0, Kind::Values, 1, 1.0);
    app.produce_stored("the record is stored", &late, Duration::from_secs(90))
        .await;
    app.stop().await.expect("storage stops cleanly");
}

#[tokio::test]
async fn two_replicas_share_the_partitions_and_a_rebalance_loses_nothing() {
    let setup = Setup::new(PARTITIONS).await;
    let staying = spawn_app_with(setup.clone()).await;
    let leaving = spawn_app_with(setup).await;

    produce_rounds(&staying, 0..ROUNDS / 2).await;
    wait_until(
        "both replicas have written part of the stream",
        Duration::from_secs(90),
        || async {
            staying.metric("storage_records_written_total").await > 0.0
                && leaving.metric("storage_records_written_total").await > 0.0
        },
    )
    .await;
    // One replica leaves mid-stream: its partitions move to the other one.
    leaving
        .stop()
        .await
        .expect("the leaving replica stops cleanly");
    produce_rounds(&staying, ROUNDS / 2..ROUNDS).await;

    wait_until_complete(&staying).await;
    staying.stop().await.expect("storage stops cleanly");
}
