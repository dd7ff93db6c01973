//! OpenMetrics text output, as `promtool tsdb create-blocks-from openmetrics` reads it.

use std::io::{self, Write};

use crate::series::Dataset;

/// Escapes a label value for the text format (`\\`, `"` and newline).
pub fn escape_label_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Writes every sample of `data`, family by family (one `# TYPE name gauge` each),
/// series by series, ascending in time, with timestamps in seconds, then `# EOF`.
///
/// Returns the number of samples written. Wrap `w` in a `BufWriter`.
pub fn write_openmetrics<W: Write>(data: &Dataset, w: &mut W) -> io::Result<u64> {
    write_openmetrics_between(data, i64::MIN, i64::MAX, w)
}

/// Like [`write_openmetrics`], for the samples with `from <= t < to` only.
///
/// `promtool tsdb create-blocks-from openmetrics` (2.42) re-reads its whole input
/// once per 2h block, so a long history is much faster to backfill as one file per
/// 2h-aligned window (see `synthetic --split-hours`).
pub fn write_openmetrics_between<W: Write>(
    data: &Dataset,
    from: i64,
    to: i64,
    w: &mut W,
) -> io::Result<u64> {
    let mut written = 0u64;
    let mut family: Option<&str> = None;
    for series in data.series() {
        if family != Some(series.name()) {
            writeln!(
                w,
                "# HELP {} Synthetic series ({:?}).",
                series.name(),
                shape_name(series.shape())
            )?;
            writeln!(w, "# TYPE {} gauge", series.name())?;
            family = Some(series.name());
        }
        let selector = series.selector();
        for (t, v) in data.samples_between(series, from, to) {
            writeln!(w, "{selector} {v} {t}")?;
            written += 1;
        }
    }
    w.write_all(b"# EOF\n")?;
    Ok(written)
}

fn shape_name(shape: crate::Shape) -> &'static str {
    match shape {
        crate::Shape::Seasonal => "seasonal",
        crate::Shape::TrendNoise => "trend_noise",
        crate::Shape::Noise => "noise",
        crate::Shape::Constant => "constant",
        crate::Shape::SlaLatency => "sla_latency",
        crate::Shape::MulSeasonal => "mul_seasonal",
        crate::Shape::Bulk { .. } => "bulk",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;

    /// One day of history ending at a minute boundary.
    fn one_day() -> Dataset {
        Dataset::new(Config {
            days: 1,
            ..Config::new(1_700_000_040)
        })
    }

    #[test]
    fn format_is_openmetrics() {
        let end = 1_700_000_040;
        let data = Dataset::new(Config {
            days: 1,
            bulk: 2,
            ..Config::new(end)
        });
        let mut buf = Vec::new();
        let n = write_openmetrics(&data, &mut buf).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(n, 8 * 1441);
        assert!(text.ends_with("\n# EOF\n"));
        assert_eq!(
            text.matches("# TYPE synthetic_bulk gauge\n").count(),
            1,
            "families are not repeated"
        );
        assert_eq!(text.matches("# TYPE ").count(), 7);
        let constant =
            format!("synthetic_constant{{instance=\"synthetic:0\",job=\"synthetic\"}} 42 {end}\n");
        assert!(
            text.contains(&constant),
            "samples are `name{{labels}} value seconds`"
        );
        assert!(
            text.contains(
                "synthetic_bulk{instance=\"synthetic:0\",job=\"synthetic\",shard=\"1\"} "
            )
        );
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let mut parts = line.rsplitn(3, ' ');
            let ts: i64 = parts.next().unwrap().parse().unwrap();
            let v: f64 = parts.next().unwrap().parse().unwrap();
            assert!(v.is_finite() && ts % 60 == 0, "{line}");
        }
    }

    #[test]
    fn written_values_parse_back_exactly() {
        let data = one_day();
        let mut buf = Vec::new();
        write_openmetrics(&data, &mut buf).unwrap();
        let text = String::from_utf8(buf).unwrap();
        let s = data.series_named("synthetic_seasonal").unwrap();
        let prefix = format!("{} ", s.selector());
        let parsed: Vec<(i64, f64)> = text
            .lines()
            .filter_map(|l| l.strip_prefix(&prefix))
            .map(|rest| {
                let (v, t) = rest.split_once(' ').unwrap();
                (t.parse().unwrap(), v.parse().unwrap())
            })
            .collect();
        let expected: Vec<(i64, f64)> = data.samples(s).collect();
        assert_eq!(parsed, expected);
    }

    #[test]
    fn windows_partition_the_samples() {
        let data = one_day();
        let mut all = Vec::new();
        let total = write_openmetrics(&data, &mut all).unwrap();
        let start = data.config().start();
        let cut = start + 7_200 - start.rem_euclid(7_200);
        let mut a = Vec::new();
        let mut b = Vec::new();
        let n = write_openmetrics_between(&data, i64::MIN, cut, &mut a).unwrap()
            + write_openmetrics_between(&data, cut, i64::MAX, &mut b).unwrap();
        assert_eq!(n, total);
        assert!(String::from_utf8(b).unwrap().ends_with("# EOF\n"));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
