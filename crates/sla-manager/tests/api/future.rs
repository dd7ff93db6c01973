//! `GET /future-violations` from seeded prediction documents and the state the generator
//! gives at the evaluation time.

use serde_json::{Value, json};

use crate::helpers::{TestApp, generator_state, spawn_app, time};

/// Phi(1): the chance that a value one sigma beyond the max is really above it.
const PHI_1: f64 = 0.841_344_746_068_543;

fn close(value: &Value, expected: f64, tolerance: f64) -> bool {
    value
        .as_f64()
        .is_some_and(|v| (v - expected).abs() <= tolerance)
}

fn check_run(v: &Value, start: i64, points: &[f64], description: &str) {
    assert_eq!(v["start"], json!(time(start)), "{v}");
    assert_eq!(
        v["end"],
        json!(time(start + 60 * points.len() as i64)),
        "{v}"
    );
    assert_eq!(v["duration_minutes"], points.len(), "{v}");
    assert!(
        close(
            &v["avg"],
            points.iter().sum::<f64>() / points.len() as f64,
            1e-9
        ),
        "{v}"
    );
    assert_eq!(
        v["max"].as_f64(),
        Some(points.iter().copied().fold(f64::MIN, f64::max)),
        "{v}"
    );
    assert_eq!(
        v["min"].as_f64(),
        Some(points.iter().copied().fold(f64::MAX, f64::min)),
        "{v}"
    );
    assert_eq!(v["description"], description, "{v}");
}

#[tokio::test]
async fn predicted_runs_are_labelled_from_the_state_now_with_probabilities() {
    let app = spawn_app().await;
    app.define_sla_set().await;
    let end = app.end();
    let set = app.sla_set();
    let (max, for_minutes) = (app.manifest.sla.range.max, app.manifest.sla.for_minutes);
    assert_eq!(
        generator_state(&app, end),
        ("pending", 3),
        "the history ends pending for 3 minutes"
    );

    // The SLA series: 3 more minutes one sigma above the max (3 + 3 >= for: it will fire), back
    // in range, then 2 minutes out: too short to fire.
    let up = max + 0.1;
    let ok = max - 0.2;
    app.seed_prediction(
        &set[0].0,
        end,
        &[up, up, up, ok, ok, up, up, ok, ok, ok],
        0.1,
    )
    .await;
    // The seasonal series (inactive, range 0..1000, for 10): a run of 10 certain minutes out.
    let seasonal: Vec<f64> = (0..10).map(|i| 1100.0 + 10.0 * f64::from(i)).collect();
    app.seed_prediction(&set[2].0, end, &seasonal, 0.0).await;
    // The constant series: predicted in range all along.
    app.seed_prediction(&set[1].0, end, &[42.0; 10], 1.0).await;

    let metrics = app.evaluate("/future-violations", end).await;
    let sla = app.find(&metrics, &set[0].0);
    assert_eq!(sla["status"], "pending");
    assert_eq!(sla["rmse"], 0.125);
    assert_eq!(sla["model"], "holt_winters_additive");
    let runs = sla["future_violations"].as_array().expect("a list");
    assert_eq!(runs.len(), 2, "{sla}");
    assert!(3 + 3 >= for_minutes && 2 < for_minutes);
    check_run(&runs[0], end + 60, &[up; 3], "Was pending, will fire");
    check_run(&runs[1], end + 6 * 60, &[up; 2], "Will be pending");
    // Normal errors with sigma 0.1, each point one sigma above the max.
    assert!(close(&runs[0]["probability"], PHI_1, 1e-6), "{}", runs[0]);
    assert!(
        close(&runs[0]["probability_independent"], PHI_1.powi(3), 1e-6),
        "{}",
        runs[0]
    );
    assert!(
        close(&runs[1]["probability_independent"], PHI_1.powi(2), 1e-6),
        "{}",
        runs[1]
    );

    let seasonal_entry = app.find(&metrics, &set[2].0);
    assert_eq!(seasonal_entry["status"], "inactive");
    let runs = seasonal_entry["future_violations"]
        .as_array()
        .expect("a list");
    assert_eq!(runs.len(), 1);
    check_run(&runs[0], end + 60, &seasonal, "Will fire");
    assert_eq!(
        (
            runs[0]["probability"].as_f64(),
            runs[0]["probability_independent"].as_f64()
        ),
        (Some(1.0), Some(1.0))
    );

    assert_eq!(
        app.find(&metrics, &set[1].0)["future_violations"],
        json!([])
    );
    for labels in [&set[3].0, &set[4].0] {
        let entry = app.find(&metrics, labels);
        assert_eq!(entry["error"], "Prediction not available", "{entry}");
        assert!(entry.get("future_violations").is_none());
    }

    // Predicted violations that fire are telemetry: one for the SLA series, one for seasonal.
    let telemetry = app.telemetry().await;
    for (labels, count) in [(&set[0].0, 1), (&set[2].0, 1), (&set[1].0, 0)] {
        let line = format!(
            "sla_predicted_violations{{id=\"{}\",metric_name=\"{}\"}} {count}",
            common::SeriesId::of(labels),
            labels["__name__"]
        );
        assert!(telemetry.contains(&line), "{line} not in\n{telemetry}");
    }
}

/// A time in the history when the SLA series is firing.
fn firing_time(app: &TestApp) -> i64 {
    let spec = &app.manifest.sla;
    let run = spec
        .runs
        .iter()
        .rev()
        .find(|r| r.samples > spec.for_minutes && r.last < app.end())
        .expect("a run long enough to fire");
    assert_eq!(generator_state(app, run.last).0, "firing");
    run.last
}

#[tokio::test]
async fn a_firing_sla_predicted_out_continues_firing() {
    let app = spawn_app().await;
    app.define_sla_set().await;
    let at = firing_time(&app);
    let set = app.sla_set();
    let max = app.manifest.sla.range.max;
    let ok = max / 2.0;
    // Points up to `at` are the past: only the ones after it count.
    app.seed_prediction(
        &set[0].0,
        at - 120,
        &[
            max + 1.0,
            max + 1.0,
            max + 1.0,
            max + 1.0,
            ok,
            ok,
            max + 1.0,
        ],
        0.0,
    )
    .await;
    let metrics = app.evaluate("/future-violations", at).await;
    let sla = app.find(&metrics, &set[0].0);
    assert_eq!(sla["status"], "firing");
    let runs = sla["future_violations"].as_array().expect("a list");
    assert_eq!(runs.len(), 2, "{sla}");
    check_run(
        &runs[0],
        at + 60,
        &[max + 1.0; 2],
        "Was already firing, continuing firing",
    );
    check_run(&runs[1], at + 5 * 60, &[max + 1.0], "Will be pending");

    // Once its last point has passed, the prediction tells nothing.
    let later = app.evaluate("/future-violations", at + 6 * 60).await;
    let sla = app.find(&later, &set[0].0);
    assert_eq!(sla["error"], "Prediction not available", "{sla}");
    assert!(
        sla.get("future_violations").is_none() && sla.get("rmse").is_none(),
        "{sla}"
    );
}
