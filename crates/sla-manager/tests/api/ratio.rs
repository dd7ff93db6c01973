//! Ratio SLIs (`{"good", "total", "objective"}`) beside the range SLAs: validation with the rest
//! of the set, `GET /slo` in events, and every original endpoint about the range SLAs only.

use common::series::selector;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

/// The test set with an objective on the SLA series, and its last entry replaced by `ratio`.
pub(crate) fn set_with_ratio(app: &TestApp, ratio: Value) -> Value {
    let mut body = app.sla_set_body();
    body[0]["objective"] = json!({"target": 0.995, "window": "7d"});
    let last = body.as_array().expect("a list").len() - 1;
    body[last] = ratio;
    body
}

/// The SLA series' minutes as events: one good event per minute in range, one event per
/// minute with a value (`counter: false`), so its figures must be the timeslice ones.
pub(crate) fn minutes_as_events(app: &TestApp) -> Value {
    let (labels, min, max, _) = app.sla_set()[0].clone();
    let series = selector(&labels);
    json!({
        "good": format!("count({series} >= {min:?} <= {max:?})"),
        "total": format!("count({series})"),
        "counter": false,
        "objective": {"target": 0.995, "window": "7d"},
    })
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[tokio::test]
async fn a_ratio_entry_is_stored_beside_the_range_ones_and_the_original_endpoints_skip_it() {
    let app = spawn_app().await;
    let body = set_with_ratio(&app, minutes_as_events(&app));
    let (status, reply) = app.put_slaset(&body).await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    let (status, stored) = app.get("/slaset").await;
    assert_eq!(status, StatusCode::OK);
    let stored = stored.as_array().expect("a list").clone();
    assert_eq!(stored.len(), 5);
    let ratio = &stored[4];
    assert_eq!(ratio["good"], body[4]["good"]);
    assert_eq!(ratio["counter"], false);
    assert_eq!(ratio["objective"], json!({"target": 0.995, "window": "7d"}));
    assert_eq!(ratio["id"].as_str().map(str::len), Some(16), "{ratio}");
    assert!(ratio.get("name").is_none() && ratio.get("range").is_none());
    // What GET answers can be put back as it is.
    let (status, reply) = app.put_slaset(&Value::Array(stored.clone())).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(app.get("/slaset").await.1, Value::Array(stored));

    // The original endpoints answer for the four range SLAs, as before.
    let at = app.end();
    for path in ["/status", "/violations", "/future-violations"] {
        let items = app.evaluate(path, at).await;
        assert_eq!(items.len(), 4, "{path}");
        assert!(items.iter().all(|i| i["name"].is_object()), "{path}");
    }
    // And the etl is streamed the range SLAs only: a ratio has no series to forecast.
    let streamed = crate::grpc::stream(&app).await;
    assert_eq!(streamed.len(), 4);
}

#[tokio::test]
async fn a_ratio_of_minutes_has_the_timeslice_figures_in_events() {
    let app = spawn_app().await;
    let (status, reply) = app
        .put_slaset(&set_with_ratio(&app, minutes_as_events(&app)))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    for at in [app.end(), app.end() - 1_800] {
        let items = app.evaluate("/slo", at).await;
        assert_eq!(items.len(), 2, "the range objective and the ratio");
        let (minutes, events) = (&items[0], &items[1]);
        assert_eq!(events["budgeting"], "Occurrences");
        assert!(minutes["measured_minutes"].as_u64().unwrap() > 0);
        assert_eq!(
            events["total_events"].as_f64(),
            minutes["measured_minutes"].as_f64()
        );
        assert_eq!(
            events["good_events"].as_f64(),
            minutes["good_minutes"].as_f64()
        );
        assert_eq!(
            events["budget"]["consumed_events"].as_f64(),
            minutes["budget"]["consumed_minutes"].as_f64()
        );
        // The budget is over the events counted: (1 - 0.995) x the measured minutes.
        let total = 0.005 * minutes["measured_minutes"].as_f64().unwrap();
        assert!(close(
            events["budget"]["total_events"].as_f64().unwrap(),
            total
        ));
        assert_eq!(events["compliance"], minutes["compliance"]);
        for (by_events, by_minutes) in events["burn_rates"]
            .as_array()
            .unwrap()
            .iter()
            .zip(minutes["burn_rates"].as_array().unwrap())
        {
            assert_eq!(by_events["window"], by_minutes["window"]);
            assert_eq!(
                by_events["bad_events"].as_f64(),
                by_minutes["bad_minutes"].as_f64(),
                "{by_events}"
            );
            match (by_events["rate"].as_f64(), by_minutes["rate"].as_f64()) {
                (Some(a), Some(b)) => assert!(close(a, b), "{a} vs {b}"),
                (a, b) => assert_eq!(a, b),
            }
        }
        assert_eq!(
            events["alerts"], minutes["alerts"],
            "the same burn, the same alerts"
        );
    }
}

/// A counter that counts one event a second (`time()`), of which 99% are good.
#[tokio::test]
async fn a_counter_ratio_counts_the_increase_of_its_counters() {
    let app = spawn_app().await;
    let ratio = json!({
        "good": "vector(time() * 0.99)",
        "total": "vector(time())",
        "objective": {"target": 0.9, "window": "7d"},
    });
    let (status, reply) = app.put_slaset(&set_with_ratio(&app, ratio)).await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    // On a minute, as the subqueries' steps are.
    let at = app.end() / 60 * 60;
    let items = app.evaluate("/slo", at).await;
    let events = &items[1];
    let week = 7.0 * 86_400.0;
    assert!(close(events["total_events"].as_f64().unwrap(), week));
    assert!(close(events["good_events"].as_f64().unwrap(), 0.99 * week));
    assert!(close(events["compliance"].as_f64().unwrap(), 0.99));
    // A budget of 10% of the week's events, a tenth of it spent: a burn rate of 0.1 everywhere.
    let budget = &events["budget"];
    assert!(close(budget["total_events"].as_f64().unwrap(), 0.1 * week));
    assert!(close(
        budget["consumed_events"].as_f64().unwrap(),
        0.01 * week
    ));
    assert!(close(budget["remaining_ratio"].as_f64().unwrap(), 0.9));
    for (burn, seconds) in events["burn_rates"].as_array().unwrap().iter().zip([
        300.0, 1_800.0, 3_600.0, 7_200.0, 21_600.0, 86_400.0, 259_200.0,
    ]) {
        assert!(
            close(burn["total_events"].as_f64().unwrap(), seconds),
            "{burn}"
        );
        assert!(close(burn["rate"].as_f64().unwrap(), 0.1), "{burn}");
    }
    // 0.09 x the week's events left, spent at 0.01 a second.
    assert!(close(
        events["time_to_exhaustion_seconds"].as_f64().unwrap(),
        0.09 * week / 0.01
    ));
    assert!(crate::helpers::no_alert_fires(events), "{events}");
}

#[tokio::test]
async fn bad_ratio_entries_are_listed_with_the_other_problems_and_nothing_is_stored() {
    let app = spawn_app().await;
    let mut body = set_with_ratio(
        &app,
        json!({"good": "sum(rate(x[5m])", "total": "sum(up)",
            "objective": {"target": 0.99, "window": "28d"}}),
    );
    body[3] = json!({"good": "sum(up)", "total": "sum(up)", "range": {"min": 0, "max": 1}});
    body[2]["range"]["min"] = json!(5000);
    let (status, reply) = app.put_slaset(&body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{reply}");
    let details: Vec<String> = serde_json::from_value(reply["details"].clone()).unwrap();
    assert_eq!(details.len(), 4, "{details:?}");
    assert!(details[0].starts_with("metric 3 (") && details[0].contains("range.min (5000)"));
    assert_eq!(
        details[1],
        r#"metric 4 (ratio): unknown field "range" (a ratio entry has good, total, counter and objective)"#
    );
    assert_eq!(
        details[2],
        "metric 4 (ratio): objective is missing (a ratio entry needs one)"
    );
    assert!(
        details[3].starts_with("metric 5 (ratio): good is not a valid PromQL expression: "),
        "{}",
        details[3]
    );
    assert_eq!(app.get("/slaset").await.0, StatusCode::NOT_FOUND);
}
