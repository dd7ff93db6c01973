//! `GET /status` and `GET /violations`, checked against the runs the synthetic generator wrote.

use reqwest::StatusCode;
use serde_json::{Value, json};
use synthetic::Run;

use crate::helpers::{TestApp, bound, generator_state, py_float, spawn_app, time};

/// The description the service must give for the SLA series at `at`, from the generator.
fn expected_sla_status(app: &TestApp, at: i64) -> (String, u32, Vec<f64>, String) {
    let series = app.series(synthetic::SLA_NAME);
    let spec = &app.manifest.sla;
    let last: Vec<f64> = [at - 120, at - 60, at]
        .iter()
        .map(|&t| series.value(t))
        .collect();
    let values: Vec<String> = last.iter().map(|&v| py_float(v)).collect();
    let (min, max, for_minutes) = (
        bound(spec.range.min),
        bound(spec.range.max),
        spec.for_minutes,
    );
    let (state, minutes) = generator_state(app, at);
    // The original's templates, word for word.
    let description = match state {
        "inactive" => format!(
            "Actual value [{}] in ({min}, {max})",
            py_float(series.value(at))
        ),
        "pending" => format!(
            "Service level agreement violated for {minutes}/{for_minutes} min ({}%), last three values {} not in ({min}, {max})",
            (f64::from(minutes) * 100.0 / f64::from(for_minutes)).round(),
            values.join(",")
        ),
        _ => format!(
            "Service level agreement violated for more than {for_minutes} min, last three values [{}], allowed range: ({min}, {max})",
            values.join(", ")
        ),
    };
    (state.to_owned(), minutes, last, description)
}

fn check_status(app: &TestApp, metrics: &[Value], at: i64) {
    let sla = &app.sla_set()[0].0;
    let got = app.find(metrics, sla);
    let (state, minutes, last, description) = expected_sla_status(app, at);
    assert_eq!(
        got["status"],
        state.as_str(),
        "at end{:+}m: {got}",
        (at - app.end()) / 60
    );
    assert_eq!(
        got["out_of_range_minutes"],
        minutes,
        "at end{:+}m",
        (at - app.end()) / 60
    );
    assert_eq!(got["last-values"], json!(last));
    assert_eq!(got["description"], description.as_str());
    // The current run began `minutes - 1` steps before `at`.
    let since = (minutes > 0).then(|| {
        time(at - 60 * (i64::from(minutes) - 1))
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    });
    assert_eq!(
        got.get("out_of_range_since").cloned(),
        since.map(Value::from)
    );
}

#[tokio::test]
async fn status_at_the_end_of_the_history_matches_the_generator() {
    let app = spawn_app().await;
    app.define_sla_set().await;
    let end = app.end();
    let metrics = app.evaluate("/status", end).await;
    assert_eq!(metrics.len(), 5);
    // The generator ends in a run of 3 samples: pending, 3/5 minutes.
    assert_eq!(generator_state(&app, end), ("pending", 3));
    check_status(&app, &metrics, end);
    // The other series never leave their ranges.
    for (labels, min, max, for_minutes) in &app.sla_set()[1..] {
        let got = app.find(&metrics, labels);
        let series = app.series(&labels["__name__"]);
        let value = series.value(end);
        assert_eq!(got["status"], "inactive");
        assert_eq!(
            got["description"],
            format!(
                "Actual value [{}] in ({}, {})",
                py_float(value),
                bound(*min),
                bound(*max)
            )
        );
        assert_eq!(got["for"], *for_minutes);
        assert_eq!(
            got["last-values"],
            json!([series.value(end - 120), series.value(end - 60), value])
        );
    }
    // The state is telemetry too: pending is 1.
    let telemetry = app.telemetry().await;
    let id = common::SeriesId::of(&app.sla_set()[0].0);
    let line = format!(
        "sla_status{{id=\"{id}\",metric_name=\"{}\"}} 1",
        synthetic::SLA_NAME
    );
    assert!(telemetry.contains(&line), "{line} not in\n{telemetry}");
    assert!(
        telemetry.contains(
            "http_request_duration_seconds_count{method=\"GET\",route=\"/status\",status=\"200\"}"
        ),
        "{telemetry}"
    );
}

#[tokio::test]
async fn status_through_every_run_of_the_last_hours_matches_the_generator() {
    let app = spawn_app().await;
    app.define_sla_set().await;
    let end = app.end();
    // Every minute from two before to two after each run of the last 3 hours: inactive,
    // pending below `for`, firing at and beyond it.
    let mut times: Vec<i64> = app
        .manifest
        .sla
        .runs
        .iter()
        .filter(|run| run.first >= end - 3 * 3600)
        .flat_map(|run| (run.first - 120..=run.last + 120).step_by(60))
        .filter(|&t| t <= end)
        .collect();
    times.dedup();
    let states: std::collections::BTreeSet<&str> =
        times.iter().map(|&t| generator_state(&app, t).0).collect();
    assert_eq!(
        states.len(),
        3,
        "the history must show every state: {states:?}"
    );
    for at in times {
        let metrics = app.evaluate("/status", at).await;
        check_status(&app, &metrics, at);
    }
}

#[tokio::test]
async fn a_time_without_data_is_unknown_with_a_reason() {
    let app = spawn_app().await;
    app.define_sla_set().await;
    // Long after the history ended, Prometheus has no value.
    let at = app.end() + 24 * 3600;
    let metrics = app.evaluate("/status", at).await;
    let got = app.find(&metrics, &app.sla_set()[0].0);
    assert_eq!(got["status"], "unknown");
    assert_eq!(
        got["description"],
        "Prometheus has no data for this series in the last 12 hours"
    );
    let (status, body) = app.get("/status?at=tomorrow").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

/// The violations the generator wrote as seen at `at`: runs (cut at `at`) of at least `for`
/// samples with a sample in the 12 hours, and the part of the run visible from 12 h + `for`.
fn expected_violations(app: &TestApp, at: i64) -> Vec<Run> {
    let spec = &app.manifest.sla;
    let from = at - 12 * 3600 - i64::from(spec.for_minutes) * 60;
    spec.runs
        .iter()
        .filter(|run| run.first <= at && run.last >= from)
        .map(|run| {
            let first = run.first.max(from);
            let last = run.last.min(at);
            Run {
                first,
                last,
                samples: ((last - first) / 60 + 1) as u32,
                direction: run.direction,
            }
        })
        .filter(|run| run.samples >= spec.for_minutes && run.samples_in_window(at, 12 * 3600) > 0)
        .collect()
}

async fn check_violations(app: &TestApp, at: i64) {
    let metrics = app.evaluate("/violations", at).await;
    let got = app.find(&metrics, &app.sla_set()[0].0);
    let expected = expected_violations(app, at);
    let series = app.series(synthetic::SLA_NAME);
    for (name, seconds) in [("1h", 3600), ("3h", 3 * 3600), ("12h", 12 * 3600)] {
        let inside: Vec<u32> = expected
            .iter()
            .map(|r| r.samples_in_window(at, seconds))
            .filter(|&n| n > 0)
            .collect();
        // Minutes as a float, as in the original (`"time": 60.0`).
        let want = json!({"n": inside.len(), "time": f64::from(inside.iter().sum::<u32>())});
        assert_eq!(
            got[name],
            want,
            "window {name} at end{:+}m",
            (at - app.end()) / 60
        );
    }
    let listed = got["violation_list"].as_array().expect("a list");
    assert_eq!(listed.len(), expected.len(), "{listed:?}");
    for (v, run) in listed.iter().zip(&expected) {
        let values: Vec<f64> = (run.first..=run.last)
            .step_by(60)
            .map(|t| series.value(t))
            .collect();
        assert_eq!(
            v["start_time"],
            time(run.first).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
        );
        assert_eq!(
            v["end_time"],
            time(run.last + 60).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
        );
        assert_eq!(v["duration"], json!(f64::from(run.samples)));
        let avg = values.iter().sum::<f64>() / values.len() as f64;
        assert!(
            (v["avg_value"].as_f64().unwrap() - avg).abs() < 1e-9,
            "{v} vs {avg}"
        );
        assert_eq!(
            v["max_value"].as_f64().unwrap(),
            values.iter().copied().fold(f64::MIN, f64::max)
        );
        assert_eq!(
            v["min_value"].as_f64().unwrap(),
            values.iter().copied().fold(f64::MAX, f64::min)
        );
        assert_eq!(v["ongoing"], run.last == at);
    }
    // Series that never leave their range have no violations.
    for (labels, ..) in &app.sla_set()[1..] {
        let other = app.find(&metrics, labels);
        assert_eq!(other["violation_list"], json!([]));
        assert_eq!(other["12h"], json!({"n": 0, "time": 0.0}));
    }
}

#[tokio::test]
async fn violations_at_the_end_match_the_generator() {
    let app = spawn_app().await;
    app.define_sla_set().await;
    let end = app.end();
    // The history is built for this: runs below, at and above `for`, and across each edge.
    let expected = expected_violations(&app, end);
    assert!(expected.len() >= 5, "{expected:?}");
    check_violations(&app, end).await;
    // The count of the last hour is telemetry too.
    let telemetry = app.telemetry().await;
    let one_hour = expected
        .iter()
        .filter(|r| r.samples_in_window(end, 3600) > 0)
        .count();
    let id = common::SeriesId::of(&app.sla_set()[0].0);
    let line = format!(
        "sla_violations_last_hour{{id=\"{id}\",metric_name=\"{}\"}} {one_hour}",
        synthetic::SLA_NAME
    );
    assert!(telemetry.contains(&line), "{line} not in\n{telemetry}");
}

#[tokio::test]
async fn violations_while_one_is_going_on_and_around_the_edges_match_the_generator() {
    let app = spawn_app().await;
    app.define_sla_set().await;
    let end = app.end();
    let spec = &app.manifest.sla;
    // During each long run of the last 3 hours (ongoing, and counted once it reaches `for`),
    // and a few minutes later, when the windows' edges have moved.
    let long_runs: Vec<&Run> = spec
        .runs
        .iter()
        .filter(|r| r.first >= end - 3 * 3600 && r.samples > spec.for_minutes)
        .collect();
    assert!(!long_runs.is_empty());
    for run in long_runs {
        let reaches_for = run.first + (i64::from(spec.for_minutes) - 1) * 60;
        for at in [reaches_for - 60, reaches_for, run.last, run.last + 180] {
            if at <= end {
                check_violations(&app, at).await;
            }
        }
    }
}

#[tokio::test]
async fn the_periodic_refresh_keeps_the_telemetry_up_to_date_without_requests() {
    let app = crate::helpers::refreshing(None).await;
    app.define_sla_set().await;
    let id = common::SeriesId::of(&app.sla_set()[0].0);
    let line = format!(
        "sla_violations_last_hour{{id=\"{id}\",metric_name=\"{}\"}}",
        synthetic::SLA_NAME
    );
    app.wait_for_telemetry("a refresh to publish the SLA telemetry", |telemetry| {
        telemetry.contains(&line) && telemetry.contains("sla_refresh_total{outcome=\"ok\"}")
    })
    .await;
}
