//! The etl's windows against each PromQL engine the tests run (the target Prometheus 2 and
//! VictoriaMetrics, whose range selectors are left-open): at a time on the samples' minute grid,
//! so that a sample sits exactly on every slice boundary (`at-1h`, `at-3h`, `at-12h`), each window
//! must be the engine's own `*_over_time` over the whole range, and the generator's under the
//! semantics the etl detected.

use std::time::Duration;

use chrono::{DateTime, TimeDelta};
use common::{
    promql::PromClient,
    range_semantics::{self, RangeSemantics},
    record::Window,
    series::{replacement, selector},
    testing::{prometheus_url, required_env},
};
use etl::{discovery::Discovery, shard::Shard};

use crate::helpers::{SELECTOR, manifest};

const WINDOWS: [(&str, i64); 3] = [("1h", 3_600), ("3h", 3 * 3_600), ("12h", 12 * 3_600)];
const OPERATIONS: [&str; 5] = [
    "min_over_time",
    "max_over_time",
    "avg_over_time",
    "stddev_over_time",
    "count_over_time",
];

async fn windows_are_the_engines_own(url: url::Url, expected: RangeSemantics) {
    // Arrange: 10 minutes before the history's end, a whole minute: on the grid.
    let manifest = manifest();
    let data = manifest.dataset();
    let at = DateTime::from_timestamp(manifest.config.end - 600, 0).unwrap();
    let client = PromClient::new(url.clone(), Duration::from_secs(30)).unwrap();
    let semantics = range_semantics::detect(&client).await.unwrap();
    assert_eq!(semantics, expected, "{url}");
    let discovery = Discovery::new(client.clone(), SELECTOR, 4, 4);
    let series = discovery
        .series(at - TimeDelta::hours(12), at)
        .await
        .unwrap();

    // Act
    let aggregates = discovery
        .aggregates(&series, Shard::WHOLE, at)
        .await
        .unwrap();

    // Assert: every synthetic series, every window, every field.
    assert!(!data.series().is_empty());
    for synthetic in data.series() {
        let labels = synthetic.label_set();
        let (_, windows) = aggregates
            .series
            .get(&common::SeriesId::of(&labels))
            .unwrap_or_else(|| panic!("{url}: no aggregates of {}", selector(&labels)));
        for ((range, seconds), stored) in WINDOWS.iter().zip([windows.h1, windows.h3, windows.h12])
        {
            let stored = stored.unwrap_or_else(|| panic!("{url}: no {range} window"));
            let mut own = [0.0; 5];
            for (op, value) in OPERATIONS.iter().zip(own.iter_mut()) {
                let query = format!("{op}({}[{range}])", selector(&labels));
                let samples = client.instant(&query, Some(at)).await.unwrap();
                *value = samples[0].value;
            }
            let what = format!("{url}: {} {range}", selector(&labels));
            assert_eq!(stored.count as f64, own[4], "{what}: count vs the engine's");
            assert_eq!((stored.min, stored.max), (own[0], own[1]), "{what}");
            assert!(
                close(stored.avg, own[2]),
                "{what}: avg {stored:?} vs {own:?}"
            );
            assert!(
                close(stored.std_dev, own[3]),
                "{what}: std {stored:?} vs {own:?}"
            );
            let generator = data
                .window_stats_from(
                    synthetic,
                    at.timestamp(),
                    *seconds,
                    semantics == RangeSemantics::Closed,
                )
                .unwrap();
            let generated = Window {
                min: generator.min,
                max: generator.max,
                avg: generator.avg,
                std_dev: generator.std_dev,
                count: generator.count as u64,
            };
            assert_eq!(
                stored.count, generated.count,
                "{what}: count vs the generator"
            );
            assert!(
                close(stored.avg, generated.avg),
                "{what}: {stored:?} vs {generated:?}"
            );
        }
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[tokio::test]
async fn windows_on_prometheus_2_are_its_own_over_time() {
    windows_are_the_engines_own(prometheus_url(), RangeSemantics::Closed).await;
}

#[tokio::test]
async fn windows_on_victoria_metrics_are_its_own_over_time() {
    let url = required_env("TEST_VICTORIA_METRICS_URL").parse().unwrap();
    windows_are_the_engines_own(url, RangeSemantics::LeftOpen).await;
}

/// The names' text where an engine reads it: `label_replace`'s replacement (the batched
/// queries' `__etl_name__`) gives back every name as it is, `$` and quotes included, and a
/// selector with legacy label names that are PromQL keywords parses (an empty answer, not a
/// 400).
async fn names_reach_the_engine_as_they_are(url: url::Url) {
    let client = PromClient::new(url.clone(), Duration::from_secs(30)).unwrap();
    for name in [
        "up",
        "my.metric",
        "$1${x}$name$$",
        "x\"} or vector(1) or {y=\"",
        "back\\slash",
        "température 名前",
    ] {
        let query = format!(
            r#"label_replace(vector(1), "__etl_name__", {}, "", "")"#,
            replacement(name)
        );
        let answer = client.instant(&query, None).await.unwrap();
        let names: Vec<&str> = answer
            .iter()
            .filter_map(|s| s.labels.get("__etl_name__").map(String::as_str))
            .collect();
        assert_eq!(names, [name], "{url}: {query}");
    }
    let keywords = common::testing::labels(&[
        ("__name__", "no_such_metric"),
        ("offset", "1"),
        ("or", "\"}"),
        ("bool", "x"),
    ]);
    let query = format!("count_over_time({}[1h])", selector(&keywords));
    let answer = client.instant(&query, None).await;
    assert!(
        answer.as_ref().is_ok_and(Vec::is_empty),
        "{url}: {query}: {answer:?}"
    );
}

#[tokio::test]
async fn names_reach_prometheus_2_as_they_are() {
    names_reach_the_engine_as_they_are(prometheus_url()).await;
}

#[tokio::test]
async fn names_reach_victoria_metrics_as_they_are() {
    names_reach_the_engine_as_they_are(required_env("TEST_VICTORIA_METRICS_URL").parse().unwrap())
        .await;
}
