//! The binary against the real Prometheus and database of `scripts/test.sh`: documents written
//! through the `metrics` repository from the generator's values pass, and a corrupted one fails.

use std::process::Command;

use bson::doc;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use common::{
    Labels, SeriesId,
    record::{Metadata, Payload, Record, Seasonality, Window, Windows},
    sla::{Sla, SlaRange},
    store::{METRICS_COLLECTION, MetricsRepository, SLASET_COLLECTION, SlaDocument},
    testing::{mongo_uri, prometheus_url, synthetic_manifest, unique_name},
};
use synthetic::{Dataset, Manifest, Series, Shape};

const SELECTOR: &str = r#"{__name__=~"synthetic_.+"}"#;

fn window(data: &Dataset, series: &Series, at: i64, seconds: i64) -> Option<Window> {
    data.window_stats(series, at, seconds).map(|w| Window {
        min: w.min,
        max: w.max,
        avg: w.avg,
        std_dev: w.std_dev,
        count: w.count as u64,
    })
}

/// What the pipeline would have stored for `series` at `now`.
fn records(data: &Dataset, series: &Series, now: DateTime<Utc>) -> Vec<Record> {
    let labels: Labels = series.label_set();
    let at = now.timestamp();
    let values = Windows {
        h1: window(data, series, at, 3_600),
        h3: window(data, series, at, 3 * 3_600),
        h12: window(data, series, at, 12 * 3_600),
    };
    let constant = series.shape() == Shape::Constant;
    let metadata = Metadata {
        constant,
        samples: 4_321,
        step_seconds: 60,
        stationarity: None,
        autocorrelation: None,
        seasonality: (!constant).then(|| Seasonality {
            period: series.shape().periods_minutes().last().copied(),
            periods: Vec::new(),
            add: None,
            mul: None,
        }),
        anomalies: None,
    };
    let mut records = vec![
        Record::new(labels.clone(), now, Payload::Values { values }),
        Record::new(labels.clone(), now, Payload::Metadata { metadata }),
    ];
    if series.shape() == Shape::SlaLatency {
        // Any sound forecast will do: the check looks at its shape, not its values.
        let prediction = common::testing::full_prediction(now);
        records.push(Record::new(labels, now, Payload::Prediction { prediction }));
    }
    records
}

fn run_check(database: &str, manifest: &std::path::Path) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_pipeline-check"))
        .args(["--prometheus-url", prometheus_url().as_str()])
        .args(["--mongo-uri", &mongo_uri(), "--mongo-db", database])
        .args(["--series-selector", SELECTOR])
        .arg("--manifest")
        .arg(manifest)
        .args(["--fast-loop-secs", "60", "--slow-loop-secs", "60"])
        .output()
        .expect("the pipeline-check binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    (
        output.status.code().unwrap_or(-1),
        format!("{stdout}{stderr}"),
    )
}

#[tokio::test]
async fn generator_values_pass_and_a_corrupted_document_fails() {
    // Arrange: every synthetic series as the pipeline stores it, and an SLA on the latency one.
    let manifest_path = synthetic_manifest();
    let data = Manifest::load(&manifest_path)
        .expect("the test manifest")
        .dataset();
    let name = unique_name("pipeline_check");
    let client = mongodb::Client::with_uri_str(mongo_uri()).await.unwrap();
    let database = client.database(&name);
    let repository = MetricsRepository::new(&database);
    let now = Utc::now().duration_trunc(TimeDelta::seconds(1)).unwrap();
    let all: Vec<Record> = data
        .series()
        .iter()
        .flat_map(|s| records(&data, s, now))
        .collect();
    repository.upsert(&all).await.unwrap();
    let latency = data.series_named(synthetic::SLA_NAME).unwrap().label_set();
    let sla = Sla {
        name: latency.clone(),
        range: SlaRange {
            min: 0.05,
            max: 0.5,
        },
        for_minutes: 5,
    };
    database
        .collection::<SlaDocument>(SLASET_COLLECTION)
        .insert_one(SlaDocument { id: sla.id(), sla })
        .await
        .unwrap();

    // Act and assert: all holds.
    let (code, output) = run_check(&name, &manifest_path);
    assert_eq!(code, 0, "{output}");
    assert!(output.contains(" 0 mismatches: PASSED"), "{output}");

    // Corrupt the 12h maximum of the seasonal series by one part in 1e12: caught twice.
    let seasonal = SeriesId::of(&data.series_named("synthetic_seasonal").unwrap().label_set());
    let stored = repository.find(seasonal).await.unwrap().unwrap();
    let max = stored.values.unwrap().h12.expect("12 hours of history").max;
    database
        .collection::<bson::Document>(METRICS_COLLECTION)
        .update_one(
            doc! { "_id": seasonal.to_string() },
            doc! { "$set": { "values.12h.max": max * (1.0 + 1e-12) } },
        )
        .await
        .unwrap();
    let (code, output) = run_check(&name, &manifest_path);
    assert_eq!(code, 1, "{output}");
    assert!(output.contains("values 12h max vs PromQL"), "{output}");
    assert!(
        output.contains("values 12h max vs the generator"),
        "{output}"
    );
    assert!(output.contains(" 2 mismatches: FAILED"), "{output}");

    database.drop().await.unwrap();
}
