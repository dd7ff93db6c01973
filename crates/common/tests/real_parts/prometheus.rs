use std::time::Duration;

use chrono::DateTime;
use common::{
    promql::PromClient,
    testing::{prometheus_url, synthetic_manifest},
};
use synthetic::{Dataset, Manifest};

/// A client of the target Prometheus, and the synthetic history backfilled into it.
fn fixture() -> (PromClient, Dataset) {
    let client =
        PromClient::new(prometheus_url(), Duration::from_secs(30)).expect("a PromQL client");
    let manifest = Manifest::load(synthetic_manifest()).expect("the synthetic manifest");
    (client, manifest.dataset())
}

/// Relative closeness for sums that Prometheus and we add up in different orders.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[tokio::test]
async fn window_aggregates_equal_what_the_generator_wrote() {
    let (client, data) = fixture();
    client.ping().await.expect("the target Prometheus is ready");
    let end = data.config().end;
    let at = DateTime::from_timestamp(end, 0);
    for series in data
        .series()
        .iter()
        .filter(|s| !s.labels().contains_key("shard"))
    {
        for (range, seconds) in [("1h", 3_600), ("3h", 10_800), ("12h", 43_200)] {
            let expected = data
                .window_stats(series, end, seconds)
                .expect("samples in the window");
            let query = |function: &str| format!("{function}({}[{range}])", series.selector());
            let one = |samples: Vec<common::promql::Sample>| {
                assert_eq!(samples.len(), 1, "one series for {}", series.selector());
                samples[0].value
            };
            let max = one(client.instant(&query("max_over_time"), at).await.unwrap());
            let min = one(client.instant(&query("min_over_time"), at).await.unwrap());
            let count = one(client.instant(&query("count_over_time"), at).await.unwrap());
            let avg = one(client.instant(&query("avg_over_time"), at).await.unwrap());
            let std_dev = one(client
                .instant(&query("stddev_over_time"), at)
                .await
                .unwrap());
            assert_eq!(
                max,
                expected.max,
                "max_over_time({}[{range}])",
                series.selector()
            );
            assert_eq!(
                min,
                expected.min,
                "min_over_time({}[{range}])",
                series.selector()
            );
            assert_eq!(
                count as usize,
                expected.count,
                "count_over_time({}[{range}])",
                series.selector()
            );
            assert!(close(avg, expected.avg), "avg {avg} vs {}", expected.avg);
            assert!(
                close(std_dev, expected.std_dev),
                "stddev {std_dev} vs {}",
                expected.std_dev
            );
        }
    }
}

#[tokio::test]
async fn range_queries_return_the_written_samples_across_the_point_limit() {
    let (client, data) = fixture();
    let series = data
        .series_named("synthetic_seasonal")
        .expect("the seasonal series");
    let (start, end) = (data.config().start(), data.config().end);
    // Three days at one minute is 4,321 points; at 20 s it is 12,961, over the 11,000 limit.
    let result = client
        .range(
            &series.selector(),
            DateTime::from_timestamp(start, 0).unwrap(),
            DateTime::from_timestamp(end, 0).unwrap(),
            Duration::from_secs(20),
        )
        .await
        .expect("a range query");
    assert_eq!(result.len(), 1);
    let points = &result[0].points;
    assert_eq!(points.len() as i64, (end - start) / 20 + 1);
    for window in points.windows(2) {
        assert!(
            window[0].0 < window[1].0,
            "points in time order without duplicates"
        );
    }
    // At a whole minute the sample is the one written for that minute.
    for &(timestamp, value) in points.iter().filter(|(t, _)| *t as i64 % 60 == 0) {
        assert_eq!(value, series.value(timestamp as i64), "at {timestamp}");
    }
}

#[tokio::test]
async fn series_discovery_finds_every_synthetic_series_and_bad_queries_say_why() {
    let (client, data) = fixture();
    let end = DateTime::from_timestamp(data.config().end, 0).unwrap();
    let found = client
        .series(
            r#"{__name__=~"synthetic_.+"}"#,
            end - chrono::Duration::hours(1),
            end,
        )
        .await
        .unwrap();
    let written = data.series().len();
    assert_eq!(found.len(), written);
    let error = client.instant("max_over_time(", None).await.unwrap_err();
    assert!(!error.is_transient());
    assert!(error.to_string().contains("parse error"), "{error}");
}
