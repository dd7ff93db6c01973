//! Records of every kind become DESIGN.md's documents; stale records never overwrite.

use std::time::Duration;

use common::{record::Kind, testing::wait_until};
use mongodb::bson::{Bson, Document, doc};

use crate::helpers::{assert_holds, epoch, marker, record, spawn_app};

#[tokio::test]
async fn records_of_all_three_kinds_become_one_document_per_series() {
    let app = spawn_app().await;
    let records = [
        record(0, Kind::Values, 1, 11.0),
        record(0, Kind::Metadata, 2, 12.0),
        record(0, Kind::Prediction, 3, 13.0),
        record(1, Kind::Values, 1, 21.0),
    ];

    app.produce(&records).await;

    let id = records[0].id;
    wait_until(
        "series 0 holds all three kinds",
        Duration::from_secs(60),
        || async {
            app.document(id).await.is_some_and(|d| {
                d.values.is_some() && d.metadata.is_some() && d.prediction.is_some()
            })
        },
    )
    .await;
    app.wait_stored("series 1 is stored", &records[3], Duration::from_secs(10))
        .await;

    // The documents, field by field, as DESIGN.md names them.
    let raw: Document = app
        .setup
        .collection::<Document>()
        .await
        .find_one(doc! { "_id": id.to_string() })
        .await
        .unwrap()
        .unwrap();
    let mut fields: Vec<&str> = raw.keys().map(String::as_str).collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "_id",
            "metadata",
            "metadata_at",
            "name",
            "prediction",
            "prediction_at",
            "values",
            "values_at"
        ]
    );
    assert_eq!(
        raw.get_document("name")
            .unwrap()
            .get_str("__name__")
            .unwrap(),
        "storage_test_metric"
    );
    assert_eq!(
        raw.get("values_at"),
        Some(&Bson::DateTime(
            (epoch() + chrono::Duration::minutes(1)).into()
        ))
    );
    assert_eq!(
        raw.get_document("values")
            .unwrap()
            .get_document("1h")
            .unwrap()
            .get_f64("max")
            .unwrap(),
        11.0
    );

    // The metadata's anomalies are stored with it, in the record's shape.
    let anomalies = raw
        .get_document("metadata")
        .unwrap()
        .get_document("anomalies")
        .unwrap();
    let changepoint = anomalies.get_array("changepoints").unwrap()[0]
        .as_document()
        .unwrap();
    assert_eq!(changepoint.get_str("kind").unwrap(), "level");
    assert_eq!(changepoint.get_f64("size").unwrap(), 12.0);
    let outlier = anomalies.get_document("outlier").unwrap();
    assert!(outlier.get_bool("outlying").unwrap());

    let document = app.document(id).await.unwrap();
    assert_eq!(document.name, records[0].name);
    for (record, kind) in records.iter().zip(Kind::ALL) {
        assert_eq!(
            document.computed_at(kind),
            Some(record.computed_at),
            "{kind}"
        );
    }
    let common::record::Payload::Metadata { metadata } = &records[1].payload else {
        unreachable!()
    };
    assert_eq!(document.metadata.as_ref(), Some(metadata));
    let common::record::Payload::Prediction { prediction } = &records[2].payload else {
        unreachable!()
    };
    assert_eq!(document.prediction.as_ref(), Some(prediction));
    let other = app.document(records[3].id).await.unwrap();
    assert!(
        other.metadata.is_none() && other.prediction.is_none(),
        "a record sets only its own kind"
    );

    // The admin port counts what was written, and the dependencies are ready.
    let metrics = app.metrics().await;
    assert_holds(
        &metrics,
        &[
            "storage_records_written_total{kind=\"values\"} 2",
            "storage_records_written_total{kind=\"metadata\"} 1",
            "storage_records_written_total{kind=\"prediction\"} 1",
        ],
    );
    assert!(crate::helpers::sum_metric(&metrics, "storage_batches_total") >= 1.0);
    let ready = reqwest::get(format!("http://{}/readyz", app.admin))
        .await
        .unwrap();
    assert_eq!(ready.status(), 200, "{}", ready.text().await.unwrap());

    app.stop().await.expect("storage stops cleanly");
}

#[tokio::test]
async fn a_stale_record_does_not_overwrite_a_newer_one() {
    let app = spawn_app().await;
    let newer = record(0, Kind::Values, 10, 10.0);
    app.produce_stored(
        "the newer record is stored",
        &newer,
        Duration::from_secs(60),
    )
    .await;

    // An older record of the same series and kind, then one of another series: once that one
    // is stored, the older one has been processed too (one partition, in order).
    let older = record(0, Kind::Values, 5, 5.0);
    let sentinel = record(1, Kind::Values, 1, 1.0);
    app.produce(&[older, sentinel.clone()]).await;
    app.wait_stored("the sentinel is stored", &sentinel, Duration::from_secs(30))
        .await;

    let stored = app.document(newer.id).await.unwrap();
    assert_eq!(marker(&stored, Kind::Values), Some(10.0));
    assert_eq!(stored.computed_at(Kind::Values), Some(newer.computed_at));
    assert_eq!(app.metric("storage_records_stale_total").await, 1.0);

    // A redelivered copy of the newer record is stale too: as old as what is stored.
    app.produce(&[newer.clone(), record(2, Kind::Values, 1, 1.0)])
        .await;
    let last = record(2, Kind::Values, 1, 1.0).id;
    wait_until(
        "the second sentinel is stored",
        Duration::from_secs(30),
        || async { app.document(last).await.is_some() },
    )
    .await;
    assert_eq!(app.metric("storage_records_stale_total").await, 2.0);
    assert_eq!(
        marker(&app.document(newer.id).await.unwrap(), Kind::Values),
        Some(10.0)
    );

    // Every handled message is committed while storage runs, stale ones included.
    app.wait_committed("the offsets are committed", 5, Duration::from_secs(30))
        .await;

    app.stop().await.expect("storage stops cleanly");
}
