//! A ratio objective's events from the stored minutes (`slo_minutes`): `GET /slo` from them
//! equals the `increase` / `sum_over_time` subqueries on the same Prometheus (on a minute, as
//! the stored minutes are defined), the back-fill happens once, a restart neither loses nor
//! double-counts events, and a changed expression is back-filled anew.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, refreshing},
    minutes::{BACKFILL_7D, backfilled, wait_for_backfill, wait_for_stored_evaluations},
    ratio::{minutes_as_events, set_with_ratio},
    slo::{counted, promql},
};

/// The windows of a 7-day objective's figures: the whole window, then the burn windows.
const WINDOWS: [i64; 8] = [604_800, 300, 1_800, 3_600, 7_200, 21_600, 86_400, 259_200];

/// A counter reset every 2 hours (`time() % 7200`: one event a second), 99% of it good.
fn resetting_counter(good_share: f64) -> Value {
    json!({
        "good": format!("vector(time() % 7200 * {good_share:?})"),
        "total": "vector(time() % 7200)",
        "objective": {"target": 0.9, "window": "7d"},
    })
}

/// The test set: the range objective, the resetting counter and the SLA series' minutes as
/// events (`counter: false`).
fn set(app: &TestApp, counter: Value) -> Value {
    let mut body = set_with_ratio(app, minutes_as_events(app));
    body[3] = counter;
    body
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

/// The ratio items of `GET /slo` at `at` (a minute) against the subqueries' events of each
/// window at `at`, on the same Prometheus.
async fn check_against_subqueries(app: &TestApp, at: i64) {
    let items = app.evaluate("/slo", at).await;
    assert_eq!(items.len(), 3, "the range objective and two ratios");
    for item in &items[1..] {
        let function = if item["counter"] == true {
            "increase"
        } else {
            "sum_over_time"
        };
        let events = |which: &str, seconds: i64| {
            let expression = item[which].as_str().unwrap().to_owned();
            async move {
                let query = format!("sum({function}(({expression})[{seconds}s:1m]))");
                promql(&query, &common::Labels::new(), at).await
            }
        };
        let mut figures = vec![(item["good_events"].clone(), item["total_events"].clone())];
        for burn in item["burn_rates"].as_array().unwrap() {
            let (bad, total) = (burn["bad_events"].as_f64().unwrap(), &burn["total_events"]);
            figures.push((json!(total.as_f64().unwrap() - bad), total.clone()));
        }
        for (seconds, (good, total)) in WINDOWS.into_iter().zip(figures) {
            let (expected_good, expected_total) = (
                events("good", seconds).await,
                events("total", seconds).await,
            );
            let (good, total) = (good.as_f64().unwrap(), total.as_f64().unwrap());
            assert!(expected_total > 0.0, "{function} over {seconds}s");
            assert!(
                close(total, expected_total),
                "{function} total over {seconds}s at {at}: {total} stored, {expected_total} by PromQL"
            );
            // (A burn window's good events are total - bad, bad never below 0.)
            assert!(
                close(good, expected_good.min(expected_total)),
                "{function} good over {seconds}s at {at}: {good} stored, {expected_good} by PromQL"
            );
        }
    }
}

/// Checks the figures at two minutes, from the stored minutes only.
async fn check_figures(app: &TestApp) {
    let subqueries = counted(app, "subqueries").await;
    let end = app.end() / 60 * 60;
    for at in [end, end - 1_800] {
        check_against_subqueries(app, at).await;
    }
    assert_eq!(counted(app, "subqueries").await, subqueries, "none asked");
}

#[tokio::test]
async fn ratio_events_from_the_stored_minutes_equal_the_subqueries_once_back_filled_and_after_a_restart()
 {
    let first = refreshing(None).await;
    let (status, reply) = first
        .put_slaset(&set(&first, resetting_counter(0.99)))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    // The range objective and the two ratios, each 7 days (and the 3-day burn window's day).
    wait_for_backfill(&first, 3 * BACKFILL_7D).await;
    check_figures(&first).await;
    let evaluated = counted(&first, "minutes").await;
    wait_for_stored_evaluations(&first, evaluated + 6).await;
    assert_eq!(backfilled(&first).await, 3 * BACKFILL_7D, "once each");
    let database = first.database.name().to_owned();
    drop(first);

    let second = refreshing(Some(database)).await;
    wait_for_stored_evaluations(&second, 6).await;
    assert_eq!(backfilled(&second).await, 0, "the stored minutes are used");
    check_figures(&second).await;
}

#[tokio::test]
async fn a_changed_ratio_expression_is_back_filled_anew() {
    let app = refreshing(None).await;
    let (status, reply) = app.put_slaset(&set(&app, resetting_counter(0.99))).await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    wait_for_backfill(&app, 3 * BACKFILL_7D).await;
    let (status, reply) = app.put_slaset(&set(&app, resetting_counter(0.5))).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    wait_for_backfill(&app, 4 * BACKFILL_7D).await;
    check_figures(&app).await;
    let compliance = app.evaluate("/slo", app.end() / 60 * 60).await[1]["compliance"].clone();
    assert!(close(compliance.as_f64().unwrap(), 0.5), "{compliance}");
    assert_eq!(
        backfilled(&app).await,
        4 * BACKFILL_7D,
        "only the changed one"
    );
}
