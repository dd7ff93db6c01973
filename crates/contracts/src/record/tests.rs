use super::*;
use serde_json::json;

pub(crate) fn labels() -> Labels {
    [
        ("__name__", "node_load1"),
        ("instance", "localhost:9100"),
        ("job", "node"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn at() -> DateTime<Utc> {
    "2026-11-22T06:00:00Z".parse().unwrap()
}

pub(crate) fn values_record() -> Record {
    let w = Window {
        min: 0.1,
        max: 2.5,
        avg: 1.0,
        std_dev: 0.4,
        count: 60,
    };
    Record::new(
        labels(),
        at(),
        Payload::Values {
            values: Windows {
                h1: Some(w),
                h3: Some(w),
                h12: None,
            },
        },
    )
}

pub(crate) fn metadata_record() -> Record {
    let metadata = crate::testing::full_metadata();
    Record::new(labels(), at(), Payload::Metadata { metadata })
}

pub(crate) fn prediction_record() -> Record {
    let prediction = crate::testing::full_prediction(at());
    Record::new(labels(), at(), Payload::Prediction { prediction })
}

#[test]
fn seasonal_periods_round_trip_and_old_metadata_reads_without_them() {
    let mut metadata = crate::testing::full_metadata();
    let seasonality = metadata.seasonality.as_mut().unwrap();
    seasonality.periods = vec![
        SeasonalPeriod {
            period: 60.0,
            strength: 40.0,
        },
        SeasonalPeriod {
            period: 1440.0,
            strength: 20.0,
        },
    ];
    let value = serde_json::to_value(&metadata).unwrap();
    assert_eq!(value["seasonality"]["periods"][1]["period"], 1440.0);
    let back: Metadata = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(back, metadata);
    let mut old = value;
    old["seasonality"]
        .as_object_mut()
        .unwrap()
        .remove("periods");
    let back: Metadata = serde_json::from_value(old).unwrap();
    assert!(back.seasonality.unwrap().periods.is_empty());
}

#[test]
fn anomalies_travel_in_the_metadata_and_an_old_record_reads_without_them() {
    let value = serde_json::to_value(metadata_record()).unwrap();
    assert_eq!(
        value["metadata"]["anomalies"],
        json!({
            "changepoints": [{"timestamp": "2026-11-22T04:00:00Z", "kind": "level", "size": 2.5, "score": 8.0}],
            "outlier": {"method": "mad", "compared": 12, "outlying": true,
                        "since": "2026-11-22T04:00:00Z", "until": null, "score": 6.5}
        })
    );
    // A record the etl wrote before it looked for anomalies.
    let mut old = value;
    old["metadata"].as_object_mut().unwrap().remove("anomalies");
    let back: Record = serde_json::from_value(old).unwrap();
    let Payload::Metadata { metadata } = back.payload else {
        unreachable!()
    };
    assert_eq!(metadata.anomalies, None);
    assert!(
        serde_json::to_value(&metadata)
            .unwrap()
            .get("anomalies")
            .is_none()
    );
    // A series not compared with a fleet, and a not-outlying one without its stretch.
    let none: Anomalies =
        serde_json::from_value(json!({"changepoints": [], "outlier": {"method": "mad",
            "compared": 3, "outlying": false}}))
        .unwrap();
    let outlier = none.outlier.unwrap();
    assert_eq!(
        (outlier.since, outlier.until, outlier.score),
        (None, None, None)
    );
    assert!(
        serde_json::from_value::<Anomalies>(json!({}))
            .unwrap()
            .outlier
            .is_none()
    );
}

#[test]
fn a_prediction_written_before_the_candidates_reads_without_them() {
    let mut value = serde_json::to_value(prediction_record()).unwrap();
    assert_eq!(
        value["prediction"]["candidates"],
        json!([{"model": "holt_winters_additive", "holdout_rmse": 0.25}])
    );
    value["prediction"]
        .as_object_mut()
        .unwrap()
        .remove("candidates");
    let back: Record = serde_json::from_value(value).unwrap();
    let Payload::Prediction { prediction } = back.payload else {
        unreachable!()
    };
    assert!(prediction.candidates.is_empty());
    let text = serde_json::to_value(&prediction).unwrap();
    assert!(text.get("candidates").is_none(), "{text}");
}

#[test]
fn every_kind_round_trips_through_json() {
    for record in [values_record(), metadata_record(), prediction_record()] {
        let text = serde_json::to_string(&record).unwrap();
        let back: Record = serde_json::from_str(&text).unwrap();
        assert_eq!(back, record);
    }
}

#[test]
fn wire_shape_is_as_designed() {
    let value = serde_json::to_value(values_record()).unwrap();
    assert_eq!(value["kind"], "values");
    assert_eq!(value["id"], SeriesId::of(&labels()).to_string());
    assert_eq!(value["name"]["__name__"], "node_load1");
    assert_eq!(value["computed_at"], "2026-11-22T06:00:00Z");
    assert_eq!(
        value["values"]["1h"],
        json!({"min": 0.1, "max": 2.5, "avg": 1.0, "std_dev": 0.4, "count": 60})
    );
    assert_eq!(value["values"]["12h"], json!(null));
}

#[test]
fn constant_metadata_omits_the_statistics() {
    let metadata = Metadata {
        constant: true,
        samples: 10,
        step_seconds: 60,
        stationarity: None,
        autocorrelation: None,
        seasonality: None,
        anomalies: None,
    };
    let value = serde_json::to_value(&metadata).unwrap();
    assert_eq!(
        value,
        json!({"constant": true, "samples": 10, "step_seconds": 60})
    );
}

#[test]
fn non_finite_aggregates_travel_as_prometheus_strings_and_old_nulls_read_as_nan() {
    let mut record = values_record();
    let Payload::Values { values } = &mut record.payload else {
        unreachable!()
    };
    let window = values.h1.as_mut().unwrap();
    window.min = f64::NEG_INFINITY;
    window.max = f64::INFINITY;
    window.avg = f64::NAN;
    window.std_dev = f64::NAN;
    let text = serde_json::to_value(&record).unwrap();
    assert_eq!(
        text["values"]["1h"],
        json!({"min": "-Inf", "max": "+Inf", "avg": "NaN", "std_dev": "NaN", "count": 60})
    );
    let back: Record = serde_json::from_value(text.clone()).unwrap();
    let h1 = match back.payload {
        Payload::Values { values } => values.h1.unwrap(),
        _ => unreachable!(),
    };
    assert!(h1.avg.is_nan() && h1.std_dev.is_nan());
    assert_eq!((h1.min, h1.max), (f64::NEG_INFINITY, f64::INFINITY));

    // What the etl wrote before: NaN as `null`.
    let mut old = text;
    old["values"]["1h"]["avg"] = json!(null);
    old["values"]["1h"]["std_dev"] = json!(null);
    let back: Record = serde_json::from_value(old).unwrap();
    let Payload::Values { values } = back.payload else {
        unreachable!()
    };
    assert!(values.h1.unwrap().avg.is_nan());
}

#[test]
fn unknown_kind_is_rejected() {
    let text = r#"{"id":"0123456789abcdef","name":{},"kind":"weather","computed_at":"2026-11-22T06:00:00Z","weather":{}}"#;
    assert!(serde_json::from_str::<Record>(text).is_err());
}
