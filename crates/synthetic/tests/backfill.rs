//! The target Prometheus started by `scripts/test.sh` serves exactly what the library computes.
//!
//! Skipped (passes) when `TEST_PROMETHEUS_URL` / `TEST_SYNTHETIC_MANIFEST` are not set.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;
use synthetic::{Dataset, Manifest};

/// `GET {base}/api/v1/query?query=..&time=..` over plain HTTP/1.0 (no client dependency).
fn instant_query(base: &str, query: &str, time: i64) -> Vec<Value> {
    let authority = base
        .strip_prefix("http://")
        .expect("TEST_PROMETHEUS_URL is http://host:port");
    let authority = authority.trim_end_matches('/');
    let encoded: String = query
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    let mut stream = TcpStream::connect(authority).expect("connect to the target Prometheus");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("set timeout");
    write!(
        stream,
        "GET /api/v1/query?query={encoded}&time={time} HTTP/1.0\r\nHost: {authority}\r\n\r\n"
    )
    .expect("send the query");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("read the answer");
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP answer");
    assert!(
        head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
        "{head}\n{body}"
    );
    let json: Value = serde_json::from_str(body).expect("JSON");
    json["data"]["result"].as_array().expect("a vector").clone()
}

fn scalar(result: &[Value]) -> f64 {
    assert_eq!(result.len(), 1, "one series expected: {result:?}");
    result[0]["value"][1]
        .as_str()
        .expect("a value")
        .parse()
        .expect("a number")
}

#[test]
fn target_prometheus_serves_the_synthetic_history() {
    let (Ok(url), Some(manifest)) = (std::env::var("TEST_PROMETHEUS_URL"), Manifest::from_env())
    else {
        eprintln!(
            "TEST_PROMETHEUS_URL or TEST_SYNTHETIC_MANIFEST unset: skipped (run scripts/test.sh)"
        );
        return;
    };
    let manifest = manifest.expect("a readable manifest");
    let data: Dataset = manifest.dataset();
    let end = data.config().end;
    for series in data
        .series()
        .iter()
        .filter(|s| s.labels().get("shard").is_none())
    {
        for (range, secs) in [("1h", 3_600), ("12h", 43_200)] {
            let expected = data
                .window_stats(series, end, secs)
                .expect("samples in the window");
            let q = |f: &str| {
                scalar(&instant_query(
                    &url,
                    &format!("{f}({}[{range}])", series.selector()),
                    end,
                ))
            };
            assert_eq!(
                q("max_over_time"),
                expected.max,
                "max {range} {}",
                series.selector()
            );
            assert_eq!(
                q("min_over_time"),
                expected.min,
                "min {range} {}",
                series.selector()
            );
            assert_eq!(
                q("count_over_time") as usize,
                expected.count,
                "count {range} {}",
                series.selector()
            );
            let avg = q("avg_over_time");
            assert!(
                (avg - expected.avg).abs() <= 1e-9 * expected.avg.abs().max(1.0),
                "avg {avg} {expected:?}"
            );
        }
    }
    if manifest.bulk.count > 0 {
        let n = instant_query(
            &url,
            &format!("count(last_over_time({}[1h]))", manifest.bulk.name),
            end,
        );
        assert_eq!(scalar(&n) as u32, manifest.bulk.count);
    }
}
