//! `GET /metrics/{id}/aggregate`, compared with what the synthetic history holds.

use chrono::{DateTime, Utc};
use common::{
    SeriesId,
    testing::{free_port, synthetic_manifest},
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use synthetic::{Dataset, Manifest, Series};

use crate::helpers::{Options, error_of, labels, spawn_app, spawn_app_with, values_record};

fn dataset() -> Dataset {
    Manifest::load(synthetic_manifest())
        .expect("the synthetic manifest")
        .dataset()
}

/// Relative closeness for sums Prometheus and we add up in different orders.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// `op` of the samples with `start < t <= end`, `None` without samples.
fn expected(data: &Dataset, series: &Series, op: &str, start: i64, end: i64) -> Option<f64> {
    let values: Vec<f64> = data
        .samples(series)
        .filter(|(t, _)| *t > start && *t <= end)
        .map(|(_, v)| v)
        .collect();
    if values.is_empty() {
        return (op == "count").then_some(0.0);
    }
    let n = values.len() as f64;
    let avg = values.iter().sum::<f64>() / n;
    Some(match op {
        "avg" => avg,
        "min" => values.iter().copied().fold(f64::INFINITY, f64::min),
        "max" => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        "count" => n,
        "std_dev" => (values.iter().map(|v| (v - avg).powi(2)).sum::<f64>() / n).sqrt(),
        other => panic!("no such op {other}"),
    })
}

fn time_of(value: &Value) -> i64 {
    value
        .as_str()
        .expect("a time")
        .parse::<DateTime<Utc>>()
        .expect("RFC 3339")
        .timestamp()
}

#[tokio::test]
async fn every_operation_matches_the_synthetic_history_window_by_window() {
    let app = spawn_app().await;
    let data = dataset();
    let end = data.config().end;
    // Two hours well inside the history, in windows of 10 minutes; plus a range that runs past
    // the history's end, whose last windows are empty.
    let spans = [(end - 3 * 3600, end - 3600), (end - 1800, end + 1800)];
    for name in [
        "synthetic_seasonal",
        "synthetic_trend",
        "synthetic_constant",
    ] {
        let series = data.series_named(name).expect("a fixed series");
        app.seed(&[values_record(series.label_set())]).await;
        let id = SeriesId::of(&series.label_set());
        for (from, to) in spans {
            for op in ["avg", "min", "max", "count", "std_dev"] {
                let (status, _, body) = app
                    .get(&format!(
                        "/metrics/{id}/aggregate?op={op}&window=600&from={from}&to={to}"
                    ))
                    .await;
                assert_eq!(status, StatusCode::OK, "{name} {op}: {body}");
                let buckets = body.as_array().expect("an array of windows");
                assert_eq!(buckets.len() as i64, (to - from) / 600);
                for (i, bucket) in buckets.iter().enumerate() {
                    let (start, stop) = (time_of(&bucket["start"]), time_of(&bucket["end"]));
                    assert_eq!(
                        (start, stop),
                        (from + 600 * i as i64, from + 600 * (i as i64 + 1))
                    );
                    let want = expected(&data, series, op, start, stop);
                    let got = bucket["value"].as_f64();
                    let agree = match (got, want) {
                        (Some(got), Some(want)) => close(got, want),
                        (None, None) => true,
                        _ => false,
                    };
                    assert!(
                        agree,
                        "{name} {op} window {start}..{stop}: got {got:?}, expected {want:?}"
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn the_default_span_is_the_last_hour_and_rfc3339_is_accepted() {
    let app = spawn_app().await;
    let name = labels("synthetic_noise", &[]);
    app.seed(&[values_record(name.clone())]).await;
    let id = SeriesId::of(&name);

    let before = Utc::now().timestamp();
    let (status, _, body) = app
        .get(&format!("/metrics/{id}/aggregate?op=count&window=900"))
        .await;
    let after = Utc::now().timestamp();
    assert_eq!(status, StatusCode::OK, "{body}");
    let buckets = body.as_array().unwrap();
    assert_eq!(buckets.len(), 4);
    let last_end = time_of(&buckets[3]["end"]);
    assert!(
        (before..=after).contains(&last_end),
        "the last window ends now"
    );
    assert_eq!(last_end - time_of(&buckets[0]["start"]), 3600);

    let (status, _, body) = app.get(&format!("/metrics/{id}/aggregate?op=max&window=60&from=2026-11-22T05:00:00Z&to=2026-11-22T05:10:00%2B00:00")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body.as_array().unwrap().len(), 10);
    assert_eq!(body[0]["start"], "2026-11-22T05:00:00Z");
}

#[tokio::test]
async fn malformed_parameters_are_400s_naming_each_one() {
    let app = spawn_app().await;
    let name = labels("synthetic_noise", &[]);
    app.seed(&[values_record(name.clone())]).await;
    let id = SeriesId::of(&name);
    let cases = [
        ("op=median&window=60", vec!["`op`", "median"]),
        ("window=60", vec!["`op` is required"]),
        ("op=avg", vec!["`window` is required"]),
        ("op=avg&window=0", vec!["`window`"]),
        ("op=avg&window=-60", vec!["`window`"]),
        ("op=avg&window=1.5", vec!["`window`"]),
        ("op=avg&window=9999999", vec!["`window`"]),
        (
            "op=avg&window=60&from=yesterday",
            vec!["`from`", "yesterday"],
        ),
        ("op=avg&window=60&from=7200&to=3600", vec!["before"]),
        ("op=avg&window=600&from=0&to=60", vec!["longer"]),
        ("op=avg&window=60&from=0&to=3000000", vec!["31 days"]),
        ("op=avg&window=1&from=0&to=86400", vec!["windows"]),
        ("op=avg&window=60&step=5", vec!["step"]),
        (
            "op=median&window=0&from=x",
            vec!["`op`", "`window`", "`from`"],
        ),
    ];
    for (query, mentions) in cases {
        let (status, _, body) = app.get(&format!("/metrics/{id}/aggregate?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        for mention in mentions {
            assert!(
                error_of(&body).contains(mention),
                "{query}: {body} lacks {mention}"
            );
        }
    }
    let (status, _, body) = app
        .get("/metrics/not-an-id/aggregate?op=avg&window=60")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error_of(&body).contains("16 hexadecimal digits"), "{body}");
}

#[tokio::test]
async fn times_at_the_edges_are_400s_naming_the_range() {
    let app = spawn_app().await;
    let name = labels("synthetic_noise", &[]);
    app.seed(&[values_record(name.clone())]).await;
    let id = SeriesId::of(&name);
    // Each once panicked the service (chrono overflow): no answer at all.
    for query in [
        "op=avg&window=60&from=8210266876799",
        "op=avg&window=60&to=8210266876799",
        "op=avg&window=60&to=-8210266876799",
        "op=avg&window=60&from=253402300800",
        "op=avg&window=60&from=1e300",
        "op=avg&window=60&from=-1",
    ] {
        let (status, _, body) = app.get(&format!("/metrics/{id}/aggregate?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        let error = error_of(&body);
        assert!(
            error.contains("9999-12-31T23:59:59Z") && error.contains("253402300799"),
            "{query}: {error}"
        );
    }
    // The last hour of the range is still a valid request (a span, not a crash).
    let (status, _, body) = app
        .get(&format!(
            "/metrics/{id}/aggregate?op=avg&window=3600&to=9999-12-31T23:59:59Z"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (admin_status, metrics) = app.admin_text("/metrics").await;
    assert_eq!(admin_status, StatusCode::OK);
    assert!(metrics.contains("http_handler_panics_total 0"), "{metrics}");
}

#[tokio::test]
async fn an_unknown_series_is_a_404() {
    let app = spawn_app().await;
    let id = SeriesId::of(&labels("never_stored", &[]));
    let (status, _, body) = app
        .get(&format!("/metrics/{id}/aggregate?op=avg&window=60"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(error_of(&body).contains("No series"), "{body}");
}

#[tokio::test]
async fn an_unreachable_prometheus_is_a_502_without_internals() {
    let port = free_port();
    let app = spawn_app_with(Options {
        prometheus_url: format!("http://scraper:hunter2@127.0.0.1:{port}"),
        ..Options::default()
    })
    .await;
    let name = labels("synthetic_noise", &[]);
    app.seed(&[values_record(name.clone())]).await;
    let id = SeriesId::of(&name);

    let (status, _, body) = app
        .get(&format!("/metrics/{id}/aggregate?op=avg&window=60"))
        .await;

    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(
        body,
        json!({"error": "The target Prometheus is not available"})
    );
    // The admin port names the cause, with the password redacted.
    let (status, text) = app.admin_text("/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{text}");
    assert!(text.contains(&port.to_string()), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}
