//! The web UI: every page answers HTML with its charts, from the synthetic history, seeded
//! results and a real retrieval service over the same database.

use common::{SeriesId, record::Payload, testing};
use reqwest::StatusCode;

use crate::helpers::{Options, TestApp, generator_state, refreshing, spawn_app_with};

/// A running app whose pages read the series' results from a running retrieval.
async fn with_retrieval() -> TestApp {
    spawn_app_with(Options {
        with_retrieval: true,
        ..Options::default()
    })
    .await
}

fn count(html: &str, needle: &str) -> usize {
    html.matches(needle).count()
}

#[tokio::test]
async fn every_page_answers_html_with_its_charts() {
    let app = with_retrieval().await;
    let end = app.end();

    // Before a set is stored, the overview says how to store one.
    let (status, content_type, html) = app.get_text(&format!("/?at={end}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(html.contains(r#"id="no-set""#), "{html}");

    app.define_sla_set().await;
    let set = app.sla_set();
    let sla_labels = &set[0].0;
    let id = SeriesId::of(sla_labels).to_string();
    let max = app.manifest.sla.range.max;
    app.seed_prediction(sla_labels, end, &[max + 1.0; 10], 0.1)
        .await;
    app.seed_metadata(sla_labels, testing::full_metadata())
        .await;
    app.seed(
        sla_labels,
        Payload::Values {
            values: common::record::Windows::default(),
        },
    )
    .await;

    let (status, _, html) = app.get_text(&format!("/?at={end}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    for (labels, ..) in &set {
        let id = SeriesId::of(labels);
        assert_eq!(
            count(&html, &format!(r#"<a href="/sla/{id}">"#)),
            1,
            "{html}"
        );
        assert_eq!(count(&html, &format!(r#"href="/series/{id}""#)), 1);
    }
    let (state, _) = generator_state(&app, end);
    let row = html
        .split("<tr>")
        .find(|row| row.contains(&format!("/sla/{id}")))
        .expect("the SLA's row");
    assert!(
        row.contains(&format!(r#"<span class="state {state}">"#)),
        "{state}: {row}"
    );
    // Out of range from the next minute for 10 minutes: predicted to fire.
    assert!(row.contains(r#"<span class="state firing">"#), "{row}");

    // The SLA's chart: the series, its range, one shade per violation of the last 12 hours
    // (runs of at least `for` samples, as the generator wrote them) and the forecast.
    let (status, _, html) = app.get_text(&format!("/sla/{id}?at={end}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let spec = &app.manifest.sla;
    let expected = spec
        .runs
        .iter()
        .filter(|r| r.samples >= spec.for_minutes && r.last >= end - 12 * 3600 && r.first <= end)
        .count();
    assert!(
        expected > 0,
        "the history has violations in its last 12 hours"
    );
    assert_eq!(count(&html, r#"class="violation""#), expected, "{html}");
    for class in ["series", "range", "forecast", "forecast-band"] {
        assert_eq!(count(&html, &format!(r#"class="{class}""#)), 1, "{class}");
    }
    assert!(html.contains(r#"<svg class="chart" id="sla-chart""#));
    assert!(html.contains(r#"id="chart-data""#));

    // The series page, through retrieval: aggregates and one bar per autocorrelation lag.
    let (status, _, html) = app.get_text(&format!("/series/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let lags = testing::full_metadata()
        .autocorrelation
        .expect("lags")
        .len();
    assert_eq!(count(&html, r#"class="bar""#), lags, "{html}");
    assert_eq!(
        count(
            &html,
            r#"<th scope="row">1h</th><td colspan="5">no samples</td>"#
        ),
        1
    );
    assert!(html.contains(r#"id="stationarity""#) && html.contains(r#"id="seasonality""#));
    // A series retrieval knows nothing of.
    let (status, _, html) = app.get_text("/series/0000000000000001").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("None stored yet"), "{html}");

    // Bad and unknown ids.
    let (status, content_type, html) = app.get_text("/sla/not-an-id").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    assert!(content_type.starts_with("text/html"));
    assert!(html.contains("16 hexadecimal digits"), "{html}");
    let (status, _, _) = app.get_text("/sla/0000000000000001").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = app.get_text("/series/<script>").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, content_type, html) = app.get_text("/?at=yesterday").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(html.contains("`at` must be an RFC 3339 time"), "{html}");
}

#[tokio::test]
async fn a_retrieval_that_does_not_answer_is_a_502_page() {
    // Nothing listens on port 9 of the loopback (discard, never served here).
    let app = spawn_app_with(Options {
        retrieval_url: Some("http://127.0.0.1:9"),
        ..Options::default()
    })
    .await;
    let (status, content_type, html) = app.get_text("/series/0000000000000001").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{html}");
    assert!(content_type.starts_with("text/html"));
    assert!(
        html.contains("retrieval service is not available"),
        "{html}"
    );
}

#[tokio::test]
async fn the_refresh_exports_the_forecast_and_the_range_for_grafana() {
    let app = refreshing(None).await;
    app.define_sla_set().await;
    let set = app.sla_set();
    let (labels, min, max, _) = &set[0];
    let id = SeriesId::of(labels);
    // A forecast from now on: 1, 2, ... 10, each with bounds value -+ 1.96 * 0.5.
    let values: Vec<f64> = (1..=10).map(f64::from).collect();
    app.seed_prediction(labels, chrono::Utc::now().timestamp(), &values, 0.5)
        .await;
    let name = synthetic::SLA_NAME;
    let series = |rest: &str| format!("{{{rest}id=\"{id}\",metric_name=\"{name}\"");
    let expected = [
        format!("sla_range{}}} {min}", series("bound=\"min\",")),
        format!("sla_range{}}} {max}", series("bound=\"max\",")),
        // The first point is a minute ahead, the last ten minutes ahead.
        format!(
            "sla_forecast{},step=\"next\"}} 1",
            series("bound=\"value\",")
        ),
        format!(
            "sla_forecast{},step=\"horizon\"}} 10",
            series("bound=\"value\",")
        ),
        format!(
            "sla_forecast{},step=\"horizon\"}} {}",
            series("bound=\"upper\","),
            10.0 + 1.959_963_984_540_054 * 0.5
        ),
    ];
    app.wait_for_telemetry("a refresh to export the forecast", |telemetry| {
        expected
            .iter()
            .all(|line| telemetry.contains(&format!("{line}\n")))
    })
    .await;
    // The last value is Prometheus' own answer for the series now. The synthetic history ends
    // before the tests run: once it is more than 5 minutes old (Prometheus' staleness) there is
    // none, and then the export must have none either. Staleness only goes one way, so a
    // value Prometheus has now was there at the last refresh too.
    let telemetry = app.telemetry().await;
    let exported: Option<f64> = telemetry
        .lines()
        .find_map(|l| l.strip_prefix(&format!("sla_value{}}} ", series(""))))
        .map(|v| v.parse().expect("a number"));
    let prometheus = common::promql::PromClient::new(
        testing::prometheus_url(),
        std::time::Duration::from_secs(10),
    )
    .expect("a Prometheus client");
    let now = prometheus
        .instant(&common::series::selector(labels), None)
        .await
        .expect("Prometheus answers");
    match now.first() {
        Some(sample) => {
            let value = exported.unwrap_or_else(|| panic!("no sla_value of {id} in {telemetry}"));
            // The series' last sample, positive like every latency the generator writes.
            assert_eq!(value, sample.value, "{telemetry}");
            assert!(value.is_finite() && value > 0.0, "{value}");
        }
        None => assert_eq!(exported, None, "{telemetry}"),
    }
}

#[tokio::test]
async fn the_overview_shows_each_objectives_budget_as_get_slo_reports_it() {
    let app = with_retrieval().await;
    let end = app.end();
    let mut body = app.sla_set_body();
    body[0]["objective"] = serde_json::json!({"target": 0.995, "window": "7d"});
    body[1]["objective"] = serde_json::json!({"target": 0.999, "window": "28d"});
    let (status, _) = app.put_slaset(&body).await;
    assert_eq!(status, StatusCode::CREATED);

    let (status, slo) = app.get(&format!("/slo?at={end}")).await;
    assert_eq!(status, StatusCode::OK, "{slo}");
    let (status, _, html) = app.get_text(&format!("/?at={end}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let set = app.sla_set();
    let row_of = |labels: &common::Labels| {
        let id = SeriesId::of(labels);
        html.split("<tr>")
            .find(|row| row.contains(&format!("/sla/{id}\"")))
            .unwrap_or_else(|| panic!("the row of {id}: {html}"))
            .to_owned()
    };
    // The SLA series: the share left as /slo computes it, to a tenth of a percent.
    let left = slo[0]["budget"]["remaining_ratio"].as_f64().unwrap();
    let percent = (left * 1000.0).round() / 10.0;
    let row = row_of(&set[0].0);
    assert!(
        row.contains(&format!(r#"<span title="target 99.5%">{percent}%</span>"#)),
        "{percent}: {row}"
    );
    // The constant series never leaves its range: all of its budget, nothing burning.
    let row = row_of(&set[1].0);
    assert!(
        row.contains(r#"<span title="target 99.9%">100%</span></td><td>not burning</td>"#),
        "{row}"
    );
    // No objective: dashes.
    let row = row_of(&set[2].0);
    assert!(row.contains(r#"<td class="num">—</td><td>—</td>"#), "{row}");
}
