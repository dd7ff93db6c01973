//! Objectives on the SLA set and `GET /slo`: the figures are checked against the synthetic
//! history's planted out-of-range minutes and against PromQL subqueries on the same Prometheus.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

/// The test set with an objective on the SLA series (the first) and on the constant one.
pub(crate) fn set_with_objectives(app: &TestApp) -> Value {
    let mut body = app.sla_set_body();
    body[0]["objective"] = json!({"target": 0.995, "window": "7d"});
    body[1]["objective"] = json!({"target": 0.999, "window": "28d"});
    body
}

#[tokio::test]
async fn objectives_are_stored_and_read_back_and_sets_without_them_read_as_before() {
    let app = spawn_app().await;
    app.define_sla_set().await;
    let (_, plain) = app.get("/slaset").await;
    for item in plain.as_array().expect("a list") {
        assert!(item.get("objective").is_none(), "{item}");
    }

    let body = set_with_objectives(&app);
    let (status, reply) = app.put_slaset(&body).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["slaset"][0]["objective"], body[0]["objective"]);
    let (status, stored) = app.get("/slaset").await;
    assert_eq!(status, StatusCode::OK);
    let stored = stored.as_array().expect("a list");
    assert_eq!(
        stored[0]["objective"],
        json!({"target": 0.995, "window": "7d"})
    );
    assert_eq!(
        stored[1]["objective"],
        json!({"target": 0.999, "window": "28d"})
    );
    assert!(stored[2].get("objective").is_none());
    // What GET answers can be put back as it is.
    let (status, reply) = app.put_slaset(&Value::Array(stored.clone())).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(app.get("/slaset").await.1, Value::Array(stored.clone()));
}

#[tokio::test]
async fn a_bad_objective_is_listed_with_the_other_problems_and_nothing_is_stored() {
    let app = spawn_app().await;
    let mut body = set_with_objectives(&app);
    body[0]["objective"] = json!({"target": 1.5, "window": "14d"});
    body[2]["range"]["min"] = json!(5000);
    body[3]["objective"] = json!("99%");
    let (status, reply) = app.put_slaset(&body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{reply}");
    let details: Vec<String> = serde_json::from_value(reply["details"].clone()).unwrap();
    assert_eq!(details.len(), 4, "{details:?}");
    assert!(
        details[0].starts_with("metric 1 (") && details[0].contains("objective.target must be")
    );
    assert!(
        details[1].starts_with("metric 1 (")
            && details[1].contains(r#"objective.window must be one of 7d, 28d, 30d, got "14d""#)
    );
    assert!(
        details[2].starts_with("metric 3 (") && details[2].contains("range.min (5000) is greater")
    );
    assert!(
        details[3].starts_with("metric 4 (")
            && details[3]
                .ends_with("objective must be an object with target and window (or calendar)")
    );
    assert_eq!(app.get("/slaset").await.0, StatusCode::NOT_FOUND);
}

/// The SRE workbook's alerts: (factor, long window, short window), in seconds.
const ALERTS: [(f64, i64, i64); 4] = [
    (14.4, 3_600, 300),
    (6.0, 21_600, 1_800),
    (3.0, 86_400, 7_200),
    (1.0, 259_200, 21_600),
];

/// The windows `/slo` gives a burn rate over.
const BURN_WINDOWS: [&str; 7] = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"];

/// A window's length in seconds, from its name (`5m`, `2h`, `3d`).
fn window_seconds(name: &str) -> i64 {
    let (count, unit) = name.split_at(name.len() - 1);
    let unit = match unit {
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => panic!("no unit in {name:?}"),
    };
    count.parse::<i64>().expect("a count") * unit
}

/// One number computed by Prometheus at `at` for the series with `labels` (less `__name__`).
pub(crate) async fn promql(query: &str, labels: &common::Labels, at: i64) -> f64 {
    let client = common::promql::PromClient::new(
        common::testing::prometheus_url(),
        std::time::Duration::from_secs(30),
    )
    .unwrap();
    let mut labels = labels.clone();
    labels.remove("__name__");
    let samples = client
        .instant(query, Some(crate::helpers::time(at)))
        .await
        .unwrap();
    samples
        .into_iter()
        .find(|s| s.labels == labels)
        .unwrap_or_else(|| panic!("no value for {query}"))
        .value
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

/// `slo_counts_total{source}` of `app`: objective evaluations by where their counts came from.
pub(crate) async fn counted(app: &TestApp, source: &str) -> u64 {
    app.counter(&format!("slo_counts_total{{source=\"{source}\"}}"))
        .await
}

/// Checks `GET /slo?at=` of the test set with objectives against the planted out-of-range
/// minutes of the synthetic history and against PromQL subqueries on the same Prometheus.
pub(crate) async fn check_planted_figures(app: &TestApp, at: i64) {
    let start = app.manifest.config.start();
    let spec = app.manifest.sla.clone();
    let labels = app.sla_set()[0].0.clone();
    let planted = |at: i64, seconds: i64| -> u64 {
        spec.runs
            .iter()
            .map(|r| u64::from(r.samples_in_window(at, seconds)))
            .sum()
    };
    // Minutes with a sample: the history is 3 days at a 1-minute step.
    let measured = |at: i64, seconds: i64| ((seconds.min(at - start)) / 60 + 1) as u64;
    let (min, max) = (spec.range.min, spec.range.max);
    let indicator = format!(
        "((synthetic_sla_latency >= bool {min:?}) * (synthetic_sla_latency <= bool {max:?}))"
    );

    let items = app.evaluate("/slo", at).await;
    assert_eq!(items.len(), 2, "the two SLAs with objectives");
    let item = &items[0];
    assert_eq!(item["name"], json!(labels));
    assert_eq!(
        (item["target"].clone(), item["window"].clone()),
        (json!(0.995), json!("7d"))
    );

    let bad = planted(at, 7 * 86_400);
    let total = measured(at, 7 * 86_400);
    assert_eq!(item["measured_minutes"], total);
    assert_eq!(item["good_minutes"], total - bad);
    let budget = 0.005 * 7.0 * 1440.0;
    assert!(close(
        item["budget"]["total_minutes"].as_f64().unwrap(),
        budget
    ));
    assert_eq!(item["budget"]["consumed_minutes"], bad as f64);
    assert!(close(
        item["budget"]["remaining_ratio"].as_f64().unwrap(),
        (budget - bad as f64) / budget
    ));
    // Compliance as Prometheus computes it.
    let compliance = promql(&format!("avg_over_time({indicator}[7d:1m])"), &labels, at).await;
    assert!(
        close(item["compliance"].as_f64().unwrap(), compliance),
        "{compliance}"
    );
    assert!(close(compliance, (total - bad) as f64 / total as f64));

    let mut rates = std::collections::BTreeMap::new();
    for name in BURN_WINDOWS {
        let seconds = window_seconds(name);
        let burn = item["burn_rates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["window"] == name)
            .unwrap_or_else(|| panic!("no {name}"));
        assert_eq!(burn["bad_minutes"], planted(at, seconds), "{name} at {at}");
        assert_eq!(
            burn["measured_minutes"],
            measured(at, seconds),
            "{name} at {at}"
        );
        let by_promql = promql(
            &format!("(1 - avg_over_time({indicator}[{seconds}s:1m])) / (1 - 0.995)"),
            &labels,
            at,
        )
        .await;
        let rate = burn["rate"].as_f64().unwrap();
        assert!(
            close(rate, by_promql),
            "{name} at {at}: {rate} vs {by_promql}"
        );
        rates.insert(seconds, rate);
    }
    for (alert, (factor, long, short)) in item["alerts"].as_array().unwrap().iter().zip(ALERTS) {
        assert_eq!(alert["factor"], factor);
        assert_eq!(
            alert["firing"],
            rates[&long] > factor && rates[&short] > factor,
            "{alert}"
        );
    }
    let remaining = budget - bad as f64;
    let expected = if remaining <= 0.0 {
        0.0
    } else {
        remaining / (rates[&3_600] * 0.005) * 60.0
    };
    assert!(close(
        item["time_to_exhaustion_seconds"].as_f64().unwrap(),
        expected
    ));

    // The constant series never leaves its range: the whole budget left, nothing fires.
    let quiet = &items[1];
    assert_eq!(quiet["compliance"], 1.0);
    assert_eq!(quiet["budget"]["remaining_ratio"], 1.0);
    assert!(crate::helpers::no_alert_fires(quiet), "{quiet}");
    assert_eq!(quiet["time_to_exhaustion_seconds"], Value::Null);
}

#[tokio::test]
async fn slo_figures_follow_the_planted_minutes_and_agree_with_promql() {
    let app = spawn_app().await;
    app.assert_error("/slo", StatusCode::BAD_REQUEST, "SLA set not defined")
        .await;
    let (status, _) = app.put_slaset(&set_with_objectives(&app)).await;
    assert_eq!(status, StatusCode::CREATED);
    let end = app.end();
    let before = counted(&app, "subqueries").await;
    // At the end, and half an hour before it (inside the 1h page's reach). Without a refresh
    // the store holds no minutes: the figures come from PromQL subqueries (the stored minutes'
    // path is checked the same way in `minutes.rs`).
    for at in [end, end - 1_800] {
        check_planted_figures(&app, at).await;
    }
    assert_eq!(
        counted(&app, "subqueries").await,
        before + 4,
        "2 objectives x 2 times"
    );
    // At the end the 1h page fires: 27 of the last 61 minutes are planted out of range.
    let items = app.evaluate("/slo", end).await;
    assert_eq!(items[0]["alerts"][0]["firing"], true);
    assert_eq!(
        app.get("/slo?at=yesterday").await.0,
        StatusCode::BAD_REQUEST
    );
    // The ends of the `at` range are answered, with no value to count there.
    for at in [0_i64, 253_402_300_799] {
        let (status, body) = app.get(&format!("/slo?at={at}")).await;
        assert_eq!(status, StatusCode::OK, "{at}: {body}");
        assert_eq!(body[0]["measured_minutes"], 0, "{at}");
        assert_eq!(body[0]["compliance"], Value::Null, "{at}");
    }
}

#[tokio::test]
async fn the_refresh_publishes_the_objectives_as_gauges_and_forgets_them_with_the_objective() {
    let app = crate::helpers::refreshing(None).await;
    let (status, _) = app.put_slaset(&set_with_objectives(&app)).await;
    assert_eq!(status, StatusCode::CREATED);
    let set = app.sla_set();
    let sla = |index: usize| {
        format!(
            "id=\"{}\",metric_name=\"{}\"",
            common::SeriesId::of(&set[index].0),
            set[index].0["__name__"]
        )
    };
    let (burning, quiet, without) = (sla(0), sla(1), sla(2));
    let expected = [
        format!("slo_objective_ratio{{{burning}}} 0.995"),
        format!("slo_objective_ratio{{{quiet}}} 0.999"),
        format!("slo_compliance_ratio{{{quiet}}} 1"),
        format!("slo_error_budget_remaining_ratio{{{quiet}}} 1"),
        format!("slo_burn_rate{{{quiet},window=\"1h\"}} 0"),
        // The planted runs overspend the 7-day budget: exhausted.
        format!(
            "slo_time_to_exhaustion_seconds{{id=\"{}\",method=\"burn_rate\",metric_name=\"{}\"}} 0",
            common::SeriesId::of(&set[0].0),
            set[0].0["__name__"]
        ),
    ];
    app.wait_for_telemetry("a refresh to publish the SLO gauges", |telemetry| {
        expected
            .iter()
            .all(|line| telemetry.contains(line.as_str()))
    })
    .await;
    let telemetry = app.telemetry().await;
    // A burn rate needs measured minutes in its window. The synthetic history ends before the
    // tests run (minutes before, or more when the whole suite runs first): a window that
    // reaches back into it has a rate, one that does not has none, and none is published.
    // (Two minutes either way are left undecided: the refresh ran a moment before this read.)
    let age = chrono::Utc::now().timestamp() - app.end();
    for window in BURN_WINDOWS {
        let seconds = window_seconds(window);
        let line = format!("slo_burn_rate{{{burning},window=\"{window}\"}} ");
        if seconds > age + 120 {
            assert!(telemetry.contains(&line), "{line} not in\n{telemetry}");
        } else if seconds < age - 120 {
            assert!(!telemetry.contains(&line), "{line} in\n{telemetry}");
        }
    }
    assert!(!telemetry.contains(&format!("slo_objective_ratio{{{without}}}")));
    // Nothing burns on the constant series: no time to exhaustion.
    let quiet_exhaustion = format!(
        "slo_time_to_exhaustion_seconds{{{}",
        quiet.replace(",metric_name", ",method=\"burn_rate\",metric_name")
    );
    assert!(!telemetry.contains(&quiet_exhaustion), "{telemetry}");

    // Without objectives the gauges go.
    let (status, body) = app.put_slaset(&app.sla_set_body()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.wait_for_telemetry("a refresh to forget the SLO gauges", |telemetry| {
        !telemetry.contains("slo_objective_ratio{")
    })
    .await;
}

#[tokio::test]
async fn a_calendar_month_counts_from_its_first_minute_and_budgets_the_whole_month() {
    use chrono::{Datelike, NaiveDate};
    let app = spawn_app().await;
    let mut body = app.sla_set_body();
    body[0]["objective"] = json!({"target": 0.99, "calendar": "month", "time_zone": "+02:00"});
    let (status, reply) = app.put_slaset(&body).await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    assert_eq!(
        app.get("/slaset").await.1[0]["objective"],
        body[0]["objective"]
    );

    let end = app.end();
    // The month holding `end` at +02:00, its first minute and its length.
    let local =
        crate::helpers::time(end).with_timezone(&chrono::FixedOffset::east_opt(7_200).unwrap());
    let first = NaiveDate::from_ymd_opt(local.year(), local.month(), 1).unwrap();
    let next = first.checked_add_months(chrono::Months::new(1)).unwrap();
    let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp() - 7_200;
    let (start, month_minutes) = (midnight(first), (midnight(next) - midnight(first)) / 60);
    let elapsed = (end - start).max(1);

    let item = &app.evaluate("/slo", end).await[0];
    assert_eq!(
        (item["calendar"].clone(), item["time_zone"].clone()),
        (json!("month"), json!("+02:00"))
    );
    assert!(close(
        item["budget"]["total_minutes"].as_f64().unwrap(),
        0.01 * month_minutes as f64
    ));
    let spec = &app.manifest.sla;
    let bad: u64 = spec
        .runs
        .iter()
        .map(|r| u64::from(r.samples_in_window(end, elapsed)))
        .sum();
    assert_eq!(item["budget"]["consumed_minutes"], bad as f64);
    let history_start = app.manifest.config.start();
    let measured = ((end - start.max(history_start)) / 60 + 1) as u64;
    assert_eq!(item["measured_minutes"], measured);
    let labels = app.sla_set()[0].0.clone();
    let (min, max) = (spec.range.min, spec.range.max);
    let by_promql = promql(
        &format!(
            "count_over_time(((synthetic_sla_latency >= bool {min:?}) * (synthetic_sla_latency <= bool {max:?}))[{elapsed}s:1m])"
        ),
        &labels,
        end,
    )
    .await;
    assert_eq!(by_promql, measured as f64);
}

/// The constant series (0..100, never left) with a 0.9999 objective over 28 days: a budget of
/// 4.032 minutes. Its forecast: 3 minutes in range, 4 certainly out, then 3 on the max exactly
/// (out with probability 1/2 each).
async fn seed_breaching_forecast(app: &TestApp, from: i64) -> Value {
    let mut body = set_with_objectives(app);
    body[1]["objective"] = json!({"target": 0.9999, "window": "28d"});
    let (status, reply) = app.put_slaset(&body).await;
    assert!(status.is_success(), "{reply}");
    let constant = app.sla_set()[1].0.clone();
    let mut values = vec![42.0; 3];
    values.extend([150.0; 4]);
    values.extend([100.0; 3]);
    // sigma 1 around 42 and 150 is certain either way; on the max it is a coin toss.
    app.seed_prediction(&constant, from, &values, 1.0).await;
    body
}

#[tokio::test]
async fn the_stored_forecast_gives_the_breach_probability_and_the_time_to_breach() {
    let app = spawn_app().await;
    let end = app.end();
    seed_breaching_forecast(&app, end).await;
    let items = app.evaluate("/slo", end).await;
    // The SLA series has no stored prediction.
    assert_eq!(items[0]["forecast"], Value::Null);
    let forecast = &items[1]["forecast"];
    assert_eq!(forecast["model"], "holt_winters_additive");
    assert_eq!(forecast["horizon_seconds"], 600);
    assert!(close(
        items[1]["budget"]["remaining_minutes"].as_f64().unwrap(),
        4.032
    ));
    // 4 certain bad minutes and Binomial(3, 1/2) more: over 4.032 unless all 3 stay in.
    // (The normal CDF is good to about 1e-7.)
    let near = |a: f64, b: f64| (a - b).abs() < 1e-6;
    let expected = forecast["expected_bad_minutes"].as_f64().unwrap();
    assert!(near(expected, 5.5), "{forecast}");
    let breach = forecast["breach_probability"].as_f64().unwrap();
    assert!(near(breach, 0.875), "{forecast}");
    // Expected bad minutes 1, 2, 3, 4 at the 4th to 7th points, 4.5 at the 8th.
    assert_eq!(forecast["time_to_exhaustion_seconds"], 480.0);
    let exit = &forecast["leaves_range"];
    assert_eq!(exit["in_seconds"], 240, "{exit}");
    assert!(exit["probability"].as_f64().unwrap() > 0.999);
    // Once the forecast is behind the evaluation time it says nothing.
    let later = app.evaluate("/slo", end + 600).await;
    assert_eq!(later[1]["forecast"], Value::Null);
}

#[tokio::test]
async fn the_refresh_publishes_the_forecast_s_breach_probability_and_time_to_exhaustion() {
    let app = crate::helpers::refreshing(None).await;
    seed_breaching_forecast(&app, chrono::Utc::now().timestamp()).await;
    let constant = &app.sla_set()[1].0;
    let labels = format!(
        "id=\"{}\",metric_name=\"{}\"",
        common::SeriesId::of(constant),
        constant["__name__"]
    );
    let breach = format!("slo_breach_probability{{{labels}}} 0.87");
    let exhaustion = format!(
        "slo_time_to_exhaustion_seconds{{{}",
        labels.replace(",metric_name", ",method=\"forecast\",metric_name")
    );
    app.wait_for_telemetry("a refresh to publish the forecast's figures", |telemetry| {
        telemetry.contains(&breach) && telemetry.contains(&exhaustion)
    })
    .await;
}
