use std::collections::BTreeMap;

use common::record::{Decomposition, Seasonality, Stationarity};

use super::*;
use crate::ui::{data::Predicted, svg::Band};

const XSS: &str = r#"<script>alert("x")</script>"#;

fn labels() -> Labels {
    [
        ("__name__".to_owned(), "node_load1".to_owned()),
        ("job".to_owned(), XSS.to_owned()),
    ]
    .into()
}

fn summary(state: &'static str) -> SlaSummary {
    SlaSummary {
        id: "00000000000000ab".to_owned(),
        labels: labels(),
        min: 0.0,
        max: 4.0,
        for_minutes: 5,
        state,
        description: format!("Actual value {XSS}"),
        out_of_range_minutes: 3,
        windows: vec![
            ("1h".into(), 1, 6),
            ("3h".into(), 2, 12),
            ("12h".into(), 7, 40),
        ],
        predicted: Predicted::Firing,
        budget: None,
    }
}

const AT: i64 = 1_800_000_000;

fn detail() -> SlaDetail {
    SlaDetail {
        summary: summary("pending"),
        samples: (0..=720).map(|i| (AT - 720 * 60 + i * 60, 3.0)).collect(),
        violations: vec![(AT - 3600, AT - 3000)],
        forecast: (1..=10)
            .map(|i| Band {
                t: AT + 60 * i,
                value: 5.0,
                lower: 4.5,
                upper: 5.5,
            })
            .collect(),
        model: Some((format!("hw{XSS}"), 0.25)),
        future: vec![(AT + 60, AT + 660, true, 0.93)],
        at: AT,
    }
}

fn no_raw_script(html: &str) {
    assert!(!html.contains("<script"), "unescaped markup in {html}");
}

#[test]
fn the_overview_lists_each_sla_with_its_numbers_and_links() {
    let html = overview(&[summary("pending"), summary("firing")], AT);
    no_raw_script(&html);
    assert!(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
    assert_eq!(
        html.matches(r#"<a href="/sla/00000000000000ab">"#).count(),
        2
    );
    assert_eq!(
        html.matches(r#"href="/series/00000000000000ab""#).count(),
        2
    );
    assert!(html.contains(r#"<span class="state pending">pending</span>"#));
    assert!(html.contains(r#"<span class="state firing">firing</span>"#));
    // minutes out of range, then 1h, 3h, 12h.
    assert!(html.contains(
        r#"<td class="num">3</td><td class="num">1</td><td class="num">2</td><td class="num">7</td>"#
    ));
    assert!(html.contains("2027-01-15T08:00:00+00:00"));
}

#[test]
fn the_overview_shows_the_budget_left_and_when_it_is_spent() {
    let mut with_objective = summary("pending");
    with_objective.budget = Some(crate::ui::data::BudgetLeft {
        target: 0.995,
        remaining_ratio: 0.4321,
        time_to_exhaustion_seconds: Some(3.0 * 86_400.0 + 4.0 * 3_600.0),
    });
    let mut spent = summary("firing");
    spent.budget = Some(crate::ui::data::BudgetLeft {
        target: 0.99,
        remaining_ratio: -0.25,
        time_to_exhaustion_seconds: Some(0.0),
    });
    let html = overview(&[with_objective, spent, summary("inactive")], AT);
    assert!(html.contains("budget left"), "{html}");
    assert!(
        html.contains(r#"<span title="target 99.5%">43.2%</span>"#),
        "{html}"
    );
    assert!(html.contains("<td>3 d 4 h</td>"), "{html}");
    assert!(
        html.contains(r#"<span title="target 99%">-25%</span>"#),
        "{html}"
    );
    assert!(html.contains("<td>spent</td>"), "{html}");
    // Without an objective: dashes, not zeros.
    assert!(
        html.contains(r#"<td class="num">—</td><td>—</td>"#),
        "{html}"
    );
}

#[test]
fn an_empty_set_says_how_to_store_one() {
    let html = overview(&[], AT);
    assert!(html.contains(r#"id="no-set""#) && html.contains("PUT"));
    assert!(!html.contains(r#"id="overview""#));
}

#[test]
fn the_sla_page_has_one_chart_with_every_layer_and_a_table_fallback() {
    let html = sla(&detail());
    no_raw_script(&html);
    assert_eq!(html.matches("<svg").count(), 1);
    for class in ["series", "range", "violation", "forecast", "forecast-band"] {
        assert_eq!(
            html.matches(&format!(r#"class="{class}""#)).count(),
            1,
            "{class}"
        );
    }
    assert!(html.contains("721 values over the last 720 minutes"));
    assert!(html.contains(r#"id="chart-data""#));
    // Every 10th of 721 values and the 10 forecast points.
    let rows = html.split(r#"id="chart-data""#).nth(1).unwrap();
    assert_eq!(rows.matches("<tr><td>").count(), 73 + 10);
    assert!(html.contains("<td>yes</td><td class=\"num\">93%</td>"));
}

#[test]
fn a_young_series_gets_a_shorter_axis_and_an_old_one_12_hours() {
    let mut d = detail();
    d.samples = (0..10).map(|i| (AT - 540 + i * 60, 3.0)).collect();
    // 10 values: the axis starts 30 minutes back, not 12 hours.
    assert!(sla(&d).contains("10 values over the last 30 minutes"));
    d.samples = (0..=800).map(|i| (AT - 800 * 60 + i * 60, 3.0)).collect();
    assert!(sla(&d).contains("721 values over the last 720 minutes"));
}

#[test]
fn without_a_forecast_the_chart_has_no_forecast_layer() {
    let mut d = detail();
    d.forecast.clear();
    d.model = None;
    d.future.clear();
    let html = sla(&d);
    assert!(!html.contains(r#"class="forecast""#));
    assert!(html.contains("No forecast stored yet"));
}

#[test]
fn the_series_page_shows_aggregates_statistics_and_the_autocorrelation() {
    let window = Window {
        min: 0.5,
        max: 2.0,
        avg: 1.0,
        std_dev: 0.25,
        count: 240,
    };
    let metadata = Metadata {
        constant: false,
        samples: 4320,
        step_seconds: 60,
        stationarity: Some(Stationarity {
            stationary: true,
            p_value: 0.001,
            adf_statistic: -5.2,
            used_lag: 3,
        }),
        autocorrelation: Some(BTreeMap::from([
            ("0".to_owned(), 1.0),
            ("10".to_owned(), -0.3),
            ("2".to_owned(), 0.6),
        ])),
        seasonality: Some(Seasonality {
            period: Some(60.0),
            periods: Vec::new(),
            add: Some(Decomposition {
                period: 60.0,
                error: 0.01,
            }),
            mul: None,
        }),
        anomalies: None,
    };
    let results = SeriesResults {
        values: Some((
            Windows {
                h1: Some(window),
                h3: Some(window),
                h12: None,
            },
            None,
        )),
        metadata: Some((metadata, None)),
    };
    let labels = labels();
    let html = series("00000000000000ab", Some(&labels), &results);
    no_raw_script(&html);
    assert!(html.contains(r#"<th scope="row">12h</th><td colspan="5">no samples</td>"#));
    assert!(html.contains("<strong>stationary</strong> (p-value 0.0010"));
    assert!(html.contains("Period kept: 60 min."));
    assert!(html.contains(r#"<section id="statistics">"#));
    assert_eq!(html.matches(r#"class="bar""#).count(), 3);
    // Bars in lag order, not in text order.
    let lags: Vec<&str> = html
        .match_indices("<title>lag ")
        .map(|(i, _)| &html[i + 11..i + 13])
        .collect();
    assert_eq!(lags, vec!["0:", "2:", "10"]);
    assert!(html.contains(r#"<a href="/sla/00000000000000ab">"#));
}

#[test]
fn a_series_without_results_says_so() {
    let html = series("00000000000000ab", None, &SeriesResults::default());
    assert!(html.contains("None stored yet (the etl's fast loop"));
    assert!(html.contains("None stored yet (the etl's slow loop"));
    assert!(!html.contains("<svg"));
}

#[test]
fn error_pages_escape_their_message() {
    let html = error(XSS);
    no_raw_script(&html);
    assert!(html.contains(r#"role="alert""#));
}
