//! What storage must not trust or retry forever: non-finite values (stored, not dead-lettered),
//! forged or far-future records (dead-lettered), a write concern not satisfied (retried, not
//! committed), bad credentials (reported, not retried), dead letters over the size bound.

use std::time::Duration;

use common::{
    record::{Kind, Payload},
    testing::{DatabaseServer, unique_name, wait_until},
};
use mongodb::bson::{Document, doc};
use rdkafka::{
    ClientConfig, Message,
    consumer::{Consumer, StreamConsumer},
    message::Headers,
    producer::{FutureProducer, FutureRecord},
};

use crate::helpers::{
    Setup, TestApp, assert_holds, epoch, marker, record, spawn_app, spawn_app_with,
};

/// The raw stored document of series `n`'s record.
async fn raw(app: &TestApp, id: common::SeriesId) -> Option<Document> {
    app.setup
        .collection::<Document>()
        .await
        .find_one(doc! { "_id": id.to_string() })
        .await
        .expect("the database answers")
}

/// The record minute (see `record`) of 2100-01-01T00:00:00Z, far in the future.
fn year_2100_minute() -> i64 {
    let year_2100 = "2100-01-01T00:00:00Z"
        .parse::<chrono::DateTime<chrono::Utc>>()
        .unwrap();
    (year_2100 - epoch()).num_minutes()
}

#[tokio::test]
async fn nan_and_infinite_aggregates_are_stored_and_the_old_null_form_still_reads() {
    let app = spawn_app().await;
    // As the etl writes it now: "NaN", "+Inf", "-Inf".
    let mut nan = record(0, Kind::Values, 1, 1.0);
    if let Payload::Values { values } = &mut nan.payload {
        let h1 = values.h1.as_mut().unwrap();
        h1.min = f64::NEG_INFINITY;
        h1.max = f64::INFINITY;
        h1.avg = f64::NAN;
        h1.std_dev = f64::NAN;
    }
    let text = serde_json::to_value(&nan).unwrap();
    assert_eq!(text["values"]["1h"]["avg"], "NaN");
    // As the etl wrote it before: NaN as null, still in the topic after an upgrade.
    let old = record(1, Kind::Values, 1, 1.0);
    let mut old_text = serde_json::to_value(&old).unwrap();
    old_text["values"]["1h"]["avg"] = serde_json::Value::Null;
    old_text["values"]["3h"]["std_dev"] = serde_json::Value::Null;

    app.produce(std::slice::from_ref(&nan)).await;
    app.produce_raw(&[(old.id.to_string(), serde_json::to_vec(&old_text).unwrap())])
        .await;

    wait_until("both are stored", Duration::from_secs(60), || async {
        app.document(nan.id).await.is_some() && app.document(old.id).await.is_some()
    })
    .await;
    let stored = raw(&app, nan.id).await.unwrap();
    let h1 = stored
        .get_document("values")
        .and_then(|v| v.get_document("1h"))
        .unwrap();
    assert!(h1.get_f64("avg").unwrap().is_nan(), "{h1}");
    assert!(h1.get_f64("std_dev").unwrap().is_nan(), "{h1}");
    assert_eq!(h1.get_f64("max").unwrap(), f64::INFINITY);
    assert_eq!(h1.get_f64("min").unwrap(), f64::NEG_INFINITY);
    let old_stored = raw(&app, old.id).await.unwrap();
    let values = old_stored.get_document("values").unwrap();
    assert!(
        values
            .get_document("1h")
            .unwrap()
            .get_f64("avg")
            .unwrap()
            .is_nan()
    );
    assert!(
        values
            .get_document("3h")
            .unwrap()
            .get_f64("std_dev")
            .unwrap()
            .is_nan()
    );
    // The readers' type reads the doubles back.
    let document = app.document(nan.id).await.unwrap();
    assert!(document.values.unwrap().h1.unwrap().avg.is_nan());
    assert_eq!(app.metric("storage_dead_letters_total").await, 0.0);
    app.stop().await.expect("storage stops cleanly");
}

#[tokio::test]
async fn a_record_from_the_year_2100_is_dead_lettered_and_real_updates_still_land() {
    let app = spawn_app().await;
    let future = record(0, Kind::Values, year_2100_minute(), 99.0);
    let real = record(0, Kind::Values, 1, 1.0);
    let later = record(0, Kind::Values, 2, 2.0);

    app.produce(&[future, real.clone()]).await;
    app.wait_stored("the real record is stored", &real, Duration::from_secs(60))
        .await;
    app.produce(std::slice::from_ref(&later)).await;
    app.wait_marker("the next real update lands", &later, Kind::Values, 2.0)
        .await;
    let metrics = app.metrics().await;
    assert_holds(
        &metrics,
        &["storage_dead_letters_total{reason=\"future_computed_at\"} 1"],
    );
    app.stop().await.expect("storage stops cleanly");
}

#[tokio::test]
async fn a_result_stored_from_the_year_2100_before_records_were_checked_does_not_block_updates() {
    let app = spawn_app().await;
    // Written straight into the database, as an unchecked storage would have.
    let poisoned = record(0, Kind::Values, year_2100_minute(), 99.0);
    app.repository
        .upsert(std::slice::from_ref(&poisoned))
        .await
        .unwrap();
    let real = record(0, Kind::Values, 1, 1.0);

    app.produce(std::slice::from_ref(&real)).await;
    app.wait_marker("the real update replaces it", &real, Kind::Values, 1.0)
        .await;
    app.stop().await.expect("storage stops cleanly");
}

#[tokio::test]
async fn a_record_whose_id_is_not_the_fingerprint_of_its_labels_is_dead_lettered() {
    let app = spawn_app().await;
    let victim = record(1, Kind::Values, 5, 1.0);
    let mut forged = record(0, Kind::Values, 9, 66.0);
    forged.id = victim.id;
    let next = record(2, Kind::Values, 1, 3.0);

    app.produce(&[victim.clone(), forged, next.clone()]).await;
    app.wait_stored(
        "the next good record is stored",
        &next,
        Duration::from_secs(60),
    )
    .await;
    let stored = app.document(victim.id).await.unwrap();
    assert_eq!(stored.name, victim.name, "the forged labels did not land");
    assert_eq!(marker(&stored, Kind::Values), Some(1.0));
    let metrics = app.metrics().await;
    assert_holds(
        &metrics,
        &["storage_dead_letters_total{reason=\"id_mismatch\"} 1"],
    );
    app.stop().await.expect("storage stops cleanly");
}

/// Arms (or disarms) SecantusDB's `failCommand` fail point: every `update` is applied but
/// answered with a `writeConcernError`, as a primary answers when a failover may roll it back.
async fn write_concern_failures(uri: &str, on: bool) {
    let client = mongodb::Client::with_uri_str(uri).await.unwrap();
    let mode = if on { "alwaysOn" } else { "off" };
    client
        .database("admin")
        .run_command(doc! {
            "configureFailPoint": "failCommand",
            "mode": mode,
            "data": {
                "failCommands": ["update"],
                "writeConcernError": { "code": 91, "errmsg": "Replication is being shut down" },
            },
        })
        .await
        .expect("the fail point is set");
}

#[tokio::test]
async fn a_write_concern_error_is_retried_and_its_offset_is_not_committed_meanwhile() {
    let database = DatabaseServer::start_with(&["--enable-test-commands"]).await;
    let app = spawn_app_with(Setup::on_database(database.uri(), 1).await).await;
    let first = record(0, Kind::Values, 1, 1.0);
    app.produce(std::slice::from_ref(&first)).await;
    app.wait_committed("the first record is committed", 1, Duration::from_secs(60))
        .await;

    write_concern_failures(&database.uri(), true).await;
    let second = record(0, Kind::Values, 2, 2.0);
    app.produce(std::slice::from_ref(&second)).await;
    wait_until("the write is retried", Duration::from_secs(60), || async {
        crate::helpers::sum_metric(&app.metrics().await, "storage_retries_total") >= 3.0
    })
    .await;
    assert_eq!(
        app.committed(0).await,
        Some(1),
        "not committed while unacknowledged"
    );

    write_concern_failures(&database.uri(), false).await;
    app.wait_committed(
        "the record is committed once acknowledged",
        2,
        Duration::from_secs(60),
    )
    .await;
    app.stop().await.expect("storage stops cleanly");
}

#[tokio::test]
async fn bad_credentials_stop_storage_instead_of_being_retried_forever() {
    let database = DatabaseServer::start_with(&["--auth"]).await;
    let port = database.uri().rsplit(':').next().unwrap().to_owned();
    let uri = format!("mongodb://nobody:wrong@127.0.0.1:{port}");
    let mut app = spawn_app_with(Setup::on_database(uri, 1).await).await;
    let ended = app
        .ended_within(Duration::from_secs(30))
        .await
        .expect("storage stops instead of retrying forever");
    let error = ended.expect_err("a refusal is an error exit");
    assert!(
        matches!(error, storage::error::StorageError::DatabaseRefused(_)),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_dead_letter_over_the_size_bound_is_cut_to_fit_and_the_partition_moves_on() {
    let app = spawn_app().await;
    // Larger than storage's dead-letter bound (1,000,000 bytes by default) and than
    // librdkafka's default message.max.bytes; the test's own producer is allowed more.
    let big: Vec<u8> = [b"{not json ".as_slice(), &vec![b'x'; 1_200_000]].concat();
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &app.setup.brokers)
        .set("message.max.bytes", "4000000")
        .create()
        .unwrap();
    producer
        .send(
            FutureRecord::to(&app.setup.topic).key("big").payload(&big),
            Duration::from_secs(30),
        )
        .await
        .expect("the broker takes the large message");
    let good = record(0, Kind::Values, 1, 1.0);
    app.produce_stored(
        "the good record after the large one is stored",
        &good,
        Duration::from_secs(90),
    )
    .await;
    let reader: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &app.setup.brokers)
        .set("group.id", unique_name("dlq_reader"))
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    reader
        .subscribe(&[&format!("{}.dlq", app.setup.topic)])
        .unwrap();
    let letter = tokio::time::timeout(Duration::from_secs(60), reader.recv())
        .await
        .expect("a dead letter in time")
        .unwrap();
    let payload = letter.payload().unwrap();
    assert!(payload.len() <= 1_000_000, "{} bytes", payload.len());
    assert_eq!(
        payload,
        &big[..payload.len()],
        "a prefix of what was received"
    );
    let truncated = letter
        .headers()
        .and_then(|h| h.iter().find(|h| h.key == "dlq.truncated"))
        .and_then(|h| h.value)
        .map(|v| String::from_utf8_lossy(v).into_owned());
    assert_eq!(truncated, Some(big.len().to_string()));
    app.stop().await.expect("storage stops cleanly");
}
