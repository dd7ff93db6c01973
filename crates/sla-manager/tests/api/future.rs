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

/// `v`'s fields `names` are the mean (to 1e-9), the largest and the smallest of `values`.
fn check_avg_max_min(v: &Value, [avg, max, min]: [&str; 3], values: &[f64]) {
    assert!(
        close(
            &v[avg],
            values.iter().sum::<f64>() / values.len() as f64,
            1e-9
        ),
        "{v}"
    );
    let largest = values.iter().copied().fold(f64::MIN, f64::max);
    assert_eq!(v[max].as_f64(), Some(largest), "{v}");
    let smallest = values.iter().copied().fold(f64::MAX, f64::min);
    assert_eq!(v[min].as_f64(), Some(smallest), "{v}");
}

/// A predicted run: it starts at `start` (in the past when it continues the run going on now)
/// and lasts `duration` minutes from there; `points` are its predicted values.
fn check_run(v: &Value, start: i64, end: i64, duration: u32, points: &[f64], description: &str) {
    assert_eq!(v["start_time"], json!(time(start)), "{v}");
    assert_eq!(v["end_time"], json!(time(end)), "{v}");
    assert_eq!(v["duration"], duration, "{v}");
    assert_eq!(v["predicted_minutes"], points.len(), "{v}");
    check_avg_max_min(v, ["avg", "max", "min"], points);
    assert_eq!(v["description"], description, "{v}");
}

/// The runs of an entry's `violations`, after checking that its last element is the summary of
/// `predicted` (the values after the evaluation time), also under `summary`.
fn runs_and_summary<'a>(entry: &'a Value, predicted: &[f64]) -> &'a [Value] {
    let items = entry["violations"].as_array().expect("a list");
    let (summary, runs) = items.split_last().expect("the summary is the last element");
    check_avg_max_min(summary, ["avg_value", "max_value", "min_value"], predicted);
    assert_eq!(summary.as_object().map(|o| o.len()), Some(3), "{summary}");
    assert_eq!(&entry["summary"], summary);
    runs
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
    let predicted = [up, up, up, ok, ok, up, up, ok, ok, ok];
    app.seed_prediction(&set[0].0, end, &predicted, 0.1).await;
    // The seasonal series (inactive, range 0..1000, for 10): a run of 10 certain minutes out.
    let seasonal: Vec<f64> = (0..10).map(|i| 1100.0 + 10.0 * f64::from(i)).collect();
    app.seed_prediction(&set[2].0, end, &seasonal, 0.0).await;
    // The constant series: predicted in range all along.
    app.seed_prediction(&set[1].0, end, &[42.0; 10], 1.0).await;

    let metrics = app.evaluate("/future-violations", end).await;
    let sla = app.find(&metrics, &set[0].0);
    assert_eq!(sla["status"], "pending");
    assert_eq!(sla["prediction_rmse"], 0.125);
    assert_eq!(sla["model"], "holt_winters_additive");
    let runs = runs_and_summary(sla, &predicted);
    assert_eq!(runs.len(), 2, "{sla}");
    assert!(3 + 3 >= for_minutes && 2 < for_minutes);
    // The first continues the run going on: it started 2 minutes before the end (3 samples)
    // and lasts 3 + 3 minutes from there.
    let began = app
        .manifest
        .sla
        .run_at(end)
        .expect("a run at the end")
        .first;
    assert_eq!(began, end - 120);
    check_run(
        &runs[0],
        began,
        end + 4 * 60,
        6,
        &[up; 3],
        "Was pending, will fire",
    );
    assert_eq!(runs[0]["continuing"], true);
    check_run(
        &runs[1],
        end + 6 * 60,
        end + 8 * 60,
        2,
        &[up; 2],
        "Will be pending",
    );
    assert_eq!(runs[1]["continuing"], false);
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
    let runs = runs_and_summary(seasonal_entry, &seasonal);
    assert_eq!(runs.len(), 1);
    check_run(
        &runs[0],
        end + 60,
        end + 11 * 60,
        10,
        &seasonal,
        "Will fire",
    );
    assert_eq!(
        (
            runs[0]["probability"].as_f64(),
            runs[0]["probability_independent"].as_f64()
        ),
        (Some(1.0), Some(1.0))
    );

    // In range all along: the list holds only the summary.
    let constant = app.find(&metrics, &set[1].0);
    assert!(
        runs_and_summary(constant, &[42.0; 10]).is_empty(),
        "{constant}"
    );
    for labels in [&set[3].0, &set[4].0] {
        let entry = app.find(&metrics, labels);
        assert_eq!(entry["error"], "Prediction not available", "{entry}");
        assert!(entry.get("violations").is_none() && entry.get("prediction_rmse").is_none());
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
    let runs = runs_and_summary(sla, &[max + 1.0, max + 1.0, ok, ok, max + 1.0]);
    assert_eq!(runs.len(), 2, "{sla}");
    // It continues the firing run: from the run's first sample, its minutes so far plus 2.
    let run = app.manifest.sla.run_at(at).expect("firing at `at`");
    let so_far = generator_state(&app, at).1;
    check_run(
        &runs[0],
        run.first,
        at + 3 * 60,
        so_far + 2,
        &[max + 1.0; 2],
        "Was already firing, continuing firing",
    );
    check_run(
        &runs[1],
        at + 5 * 60,
        at + 6 * 60,
        1,
        &[max + 1.0],
        "Will be pending",
    );

    // Once its last point has passed, the prediction tells nothing.
    let later = app.evaluate("/future-violations", at + 6 * 60).await;
    let sla = app.find(&later, &set[0].0);
    assert_eq!(sla["error"], "Prediction not available", "{sla}");
    assert!(
        sla.get("violations").is_none() && sla.get("prediction_rmse").is_none(),
        "{sla}"
    );
}
