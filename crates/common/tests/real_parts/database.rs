use chrono::{DateTime, Duration, Utc};
use common::{
    Labels, SeriesId,
    record::{Payload, Record, Window, Windows},
    store::{MetricDocument, MetricsRepository, UpsertSummary},
    testing::{mongo_uri, unique_name},
};
use futures::TryStreamExt;

async fn repository() -> MetricsRepository {
    let client = mongodb::Client::with_uri_str(mongo_uri())
        .await
        .expect("a database client");
    let repository = MetricsRepository::new(&client.database(&unique_name("real_parts")));
    repository.ping().await.expect("the database answers");
    repository
        .ensure_indexes()
        .await
        .expect("the indexes are created");
    repository
}

/// The stored document of the series `labels`, which must be there.
async fn stored(repository: &MetricsRepository, labels: &Labels) -> MetricDocument {
    repository
        .find(SeriesId::of(labels))
        .await
        .expect("the database answers")
        .unwrap_or_else(|| panic!("{labels:?} is stored"))
}

fn labels(name: &str) -> Labels {
    [("__name__", name), ("job", "test")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn values(labels: Labels, at: DateTime<Utc>, max: f64) -> Record {
    let window = Window {
        min: 0.0,
        max,
        avg: max / 2.0,
        std_dev: 1.0,
        count: 60,
    };
    Record::new(
        labels,
        at,
        Payload::Values {
            values: Windows {
                h1: Some(window),
                h3: Some(window),
                h12: Some(window),
            },
        },
    )
}

#[tokio::test]
async fn upserts_are_read_back_and_stale_records_never_overwrite() {
    let repository = repository().await;
    let now = Utc::now();
    let a = labels("a_metric");
    let b = labels("b_metric");

    let summary = repository
        .upsert(&[values(a.clone(), now, 10.0), values(b.clone(), now, 20.0)])
        .await
        .unwrap();
    assert_eq!(
        summary,
        UpsertSummary {
            written: 2,
            stale: 0
        }
    );

    // Redelivered, older and newer records in one batch: only the newer one lands.
    let batch = [
        values(a.clone(), now, 10.0),
        values(a.clone(), now - Duration::minutes(2), 99.0),
        values(b.clone(), now + Duration::minutes(2), 30.0),
    ];
    let summary = repository.upsert(&batch).await.unwrap();
    assert_eq!(
        summary,
        UpsertSummary {
            written: 1,
            stale: 2
        }
    );

    let stored_a = stored(&repository, &a).await;
    assert_eq!(stored_a.values.unwrap().h1.unwrap().max, 10.0);
    assert_eq!(stored_a.name, a);
    assert!(stored_a.metadata.is_none() && stored_a.prediction.is_none());
    let stored_b = stored(&repository, &b).await;
    assert_eq!(stored_b.values.unwrap().h12.unwrap().max, 30.0);

    let all: Vec<_> = repository
        .list(None)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    let only_a: Vec<_> = repository
        .list(Some("a_metric"))
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        only_a.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![SeriesId::of(&a)]
    );
    assert!(
        repository
            .find(SeriesId::of(&labels("absent")))
            .await
            .unwrap()
            .is_none()
    );
}
