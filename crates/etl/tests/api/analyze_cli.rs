//! `etl analyze` as a user runs it: the built binary on a small CSV file.

use std::{fmt::Write as _, process::Command};

fn etl_analyze(csv: &str, extra: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("series.csv");
    std::fs::write(&path, csv).unwrap();
    Command::new(env!("CARGO_BIN_EXE_etl"))
        .arg("analyze")
        .arg("--input")
        .arg(&path)
        .args(extra)
        .output()
        .expect("the etl binary runs")
}

#[test]
fn analyze_prints_aggregates_metadata_and_prediction() {
    let mut csv = String::from("timestamp,value\n");
    for i in 0..600_i64 {
        let phase = std::f64::consts::TAU * i as f64 / 60.0;
        let noise = ((i * 7919) % 101) as f64 / 101.0 - 0.5;
        writeln!(
            csv,
            "{},{}",
            1_700_000_000 + 60 * i,
            50.0 + 10.0 * phase.sin() + noise
        )
        .unwrap();
    }
    let output = etl_analyze(&csv, &["--period", "60", "--horizon", "5"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("one JSON document");
    assert_eq!(report["aggregates"]["count"], 600);
    assert_eq!(report["metadata"]["constant"], false);
    assert_eq!(report["metadata"]["step_seconds"], 60);
    assert_eq!(report["metadata"]["seasonality"]["period"], 60.0);
    let points = report["prediction"]["values"].as_array().unwrap();
    assert_eq!(points.len(), 5);
    assert_eq!(
        points[0]["timestamp"], "2023-11-15T08:13:20Z",
        "one step after the last sample"
    );
    // A clean seasonal series has no changepoint.
    assert_eq!(report["changepoints"], serde_json::json!([]));
    // The shapes are the record shapes.
    let _: common::record::Metadata = serde_json::from_value(report["metadata"].clone()).unwrap();
    let _: common::record::Prediction =
        serde_json::from_value(report["prediction"].clone()).unwrap();
    let _: common::record::Window = serde_json::from_value(report["aggregates"].clone()).unwrap();
}

#[test]
fn malformed_input_fails_with_the_line_number() {
    let output = etl_analyze("timestamp,value\n1700000000,1\n1700000060,oops\n", &[]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("line 3") && stderr.contains("oops"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}
