//! Server-rendered SVG charts: a time chart (series, allowed range, shaded spans, forecast and
//! its band) and a bar chart. Hand-built rather than drawn by a plotting crate so that every
//! element carries the class, `<title>` and ARIA attributes the pages, the keyboard and the
//! browser test rely on; all text goes through [`escape`].

use std::fmt::Write;

use chrono::DateTime;

use super::html::escape;

/// Drawing area, in SVG user units.
const WIDTH: f64 = 900.0;
const HEIGHT: f64 = 320.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 36.0;

/// One forecast point: unix seconds, value, lower and upper 95% bounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Band {
    /// Unix seconds.
    pub(crate) t: i64,
    /// The point forecast.
    pub(crate) value: f64,
    /// Lower bound.
    pub(crate) lower: f64,
    /// Upper bound.
    pub(crate) upper: f64,
}

/// What a time chart shows.
#[derive(Debug, Clone, Default)]
pub(crate) struct TimeChart<'a> {
    /// The chart's accessible name.
    pub(crate) title: &'a str,
    /// The long text alternative.
    pub(crate) description: &'a str,
    /// The series: unix seconds and value, in time order.
    pub(crate) series: &'a [(i64, f64)],
    /// The allowed range, drawn as a band.
    pub(crate) range: Option<(f64, f64)>,
    /// Past spans to shade (unix seconds, start and end).
    pub(crate) shaded: &'a [(i64, i64)],
    /// The forecast, in time order.
    pub(crate) forecast: &'a [Band],
    /// The left and right ends of the time axis.
    pub(crate) from: i64,
    /// See `from`.
    pub(crate) to: i64,
}

/// A linear map from a data interval to a pixel interval.
#[derive(Debug, Clone, Copy)]
struct Scale {
    d0: f64,
    d1: f64,
    p0: f64,
    p1: f64,
}

impl Scale {
    fn new(d0: f64, d1: f64, p0: f64, p1: f64) -> Self {
        // A flat domain would divide by zero: widen it around its value.
        let (d0, d1) = if d1 - d0 > f64::EPSILON * d0.abs().max(1.0) {
            (d0, d1)
        } else {
            let pad = d0.abs().max(1.0) * 0.05;
            (d0 - pad, d1 + pad)
        };
        Self { d0, d1, p0, p1 }
    }

    fn at(&self, v: f64) -> f64 {
        self.p0 + (v - self.d0) / (self.d1 - self.d0) * (self.p1 - self.p0)
    }

    /// `at` clamped to the pixel interval, for shapes reaching beyond the domain.
    fn clamped(&self, v: f64) -> f64 {
        let (lo, hi) = (self.p0.min(self.p1), self.p0.max(self.p1));
        self.at(v).clamp(lo, hi)
    }
}

/// About `n` round tick values covering `[lo, hi]` (steps of 1, 2 or 5 times a power of ten).
pub(crate) fn ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo || n == 0 {
        return vec![lo];
    }
    let raw = (hi - lo) / n as f64;
    let power = 10f64.powf(raw.log10().floor());
    let m = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .find(|m| m * power >= raw)
        .unwrap_or(10.0);
    let step = m * power;
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    // Dividing by a whole 1/power, not multiplying by power, gives 0.6 rather than 0.6000000000000001.
    let value = |k: i64| {
        if power < 1.0 {
            k as f64 * m / (1.0 / power).round()
        } else {
            k as f64 * step
        }
    };
    (first..=last).map(value).collect()
}

/// A number for an axis or a tooltip: short, with SI suffixes for large magnitudes.
pub(crate) fn short_number(v: f64) -> String {
    let a = v.abs();
    let (scaled, suffix) = if a >= 1e12 {
        (v / 1e12, "T")
    } else if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let text = format!("{scaled:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    let text = if text == "-0" { "0" } else { text };
    format!("{text}{suffix}")
}

fn clock(t: i64) -> String {
    DateTime::from_timestamp(t, 0).map_or_else(|| t.to_string(), |d| d.format("%H:%M").to_string())
}

fn path<I: IntoIterator<Item = (f64, f64)>>(points: I) -> String {
    let mut d = String::new();
    for (i, (x, y)) in points.into_iter().enumerate() {
        let _ = write!(d, "{}{x:.1},{y:.1}", if i == 0 { "M" } else { " L" });
    }
    d
}

/// The value domain: the series and the forecast, and the range's edges when they are near
/// enough not to flatten the data (a range of 0..1 TiB beside a few GiB would).
fn value_domain(chart: &TimeChart<'_>) -> (f64, f64) {
    let values = chart.series.iter().map(|s| s.1).chain(
        chart
            .forecast
            .iter()
            .flat_map(|b| [b.value, b.lower, b.upper]),
    );
    let (mut lo, mut hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if let Some((min, max)) = chart.range {
        if !lo.is_finite() {
            return (min, max);
        }
        let span = (hi - lo).max(hi.abs().max(1.0) * 0.1);
        for edge in [min, max] {
            if edge.is_finite() && edge >= lo - span && edge <= hi + span {
                lo = lo.min(edge);
                hi = hi.max(edge);
            }
        }
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = (hi - lo) * 0.05;
    (lo - pad, hi + pad)
}

fn open_svg(out: &mut String, id: &str, title: &str, description: &str) {
    let _ = write!(
        out,
        r#"<svg class="chart" id="{id}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" tabindex="0" aria-labelledby="{id}-title {id}-desc" xmlns="http://www.w3.org/2000/svg"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        escape(title),
        escape(description)
    );
}

fn axes(out: &mut String, x: &Scale, y: &Scale, x_ticks: &[(f64, String)], y_ticks: &[f64]) {
    out.push_str(r#"<g class="axes" aria-hidden="true">"#);
    for &v in y_ticks {
        let py = y.at(v);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{LEFT}" x2="{:.1}" y1="{py:.1}" y2="{py:.1}"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            WIDTH - RIGHT,
            LEFT - 6.0,
            py + 4.0,
            escape(&short_number(v))
        );
    }
    for (v, label) in x_ticks {
        let px = x.at(*v);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{px:.1}" x2="{px:.1}" y1="{TOP}" y2="{:.1}"/><text x="{px:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            HEIGHT - BOTTOM,
            HEIGHT - BOTTOM + 18.0,
            escape(label)
        );
    }
    let _ = write!(
        out,
        r#"<rect class="frame" x="{LEFT}" y="{TOP}" width="{:.1}" height="{:.1}"/></g>"#,
        WIDTH - LEFT - RIGHT,
        HEIGHT - TOP - BOTTOM
    );
}

/// The SVG of a time chart, `id` naming it in the page (letters, digits and dashes).
pub(crate) fn time_chart(id: &str, chart: &TimeChart<'_>) -> String {
    let (from, to) = if chart.to > chart.from {
        (chart.from, chart.to)
    } else {
        (chart.from, chart.from + 60)
    };
    let x = Scale::new(from as f64, to as f64, LEFT, WIDTH - RIGHT);
    let (lo, hi) = value_domain(chart);
    let y = Scale::new(lo, hi, HEIGHT - BOTTOM, TOP);
    let mut out = String::new();
    open_svg(&mut out, id, chart.title, chart.description);
    // At most about 8 ticks at round times: minutes for a young series, hours for 12 hours.
    let every = [
        60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
    ]
    .into_iter()
    .find(|step| (to - from) / step <= 8)
    .unwrap_or(86400);
    let x_ticks: Vec<(f64, String)> = (from / every + 1..=to / every)
        .map(|k| k * every)
        .map(|t| (t as f64, clock(t)))
        .collect();
    axes(&mut out, &x, &y, &x_ticks, &ticks(y.d0, y.d1, 5));

    if let Some((min, max)) = chart.range {
        let (top, bottom) = (y.clamped(max), y.clamped(min));
        let _ = write!(
            out,
            r#"<rect class="range" x="{LEFT}" y="{top:.1}" width="{:.1}" height="{:.1}"><title>allowed range {} to {}</title></rect>"#,
            WIDTH - LEFT - RIGHT,
            (bottom - top).max(0.0),
            escape(&short_number(min)),
            escape(&short_number(max))
        );
    }
    for &(start, end) in chart.shaded {
        let (x0, x1) = (x.clamped(start as f64), x.clamped(end as f64));
        let _ = write!(
            out,
            r#"<rect class="violation" x="{x0:.1}" y="{TOP}" width="{:.1}" height="{:.1}"><title>violation {} to {}</title></rect>"#,
            (x1 - x0).max(1.0),
            HEIGHT - TOP - BOTTOM,
            clock(start),
            clock(end)
        );
    }
    if !chart.forecast.is_empty() {
        let upper = chart
            .forecast
            .iter()
            .map(|b| (x.clamped(b.t as f64), y.clamped(b.upper)));
        let lower = chart
            .forecast
            .iter()
            .rev()
            .map(|b| (x.clamped(b.t as f64), y.clamped(b.lower)));
        let _ = write!(
            out,
            r#"<path class="forecast-band" d="{} Z"><title>95% forecast interval</title></path>"#,
            path(upper.chain(lower))
        );
    }
    // Gaps (a missing step) break the line rather than bridging them.
    let mut segments: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut previous: Option<i64> = None;
    for &(t, v) in chart.series.iter().filter(|(_, v)| v.is_finite()) {
        if previous.is_none_or(|p| t - p > 90) {
            segments.push(Vec::new());
        }
        if let Some(segment) = segments.last_mut() {
            segment.push((x.clamped(t as f64), y.at(v)));
        }
        previous = Some(t);
    }
    if !segments.is_empty() {
        let d: Vec<String> = segments.into_iter().map(path).collect();
        let _ = write!(
            out,
            r#"<path class="series" d="{}"><title>the series, {} points</title></path>"#,
            d.join(" "),
            chart.series.len()
        );
    }
    if !chart.forecast.is_empty() {
        // The forecast line starts at the last actual point, so the two read as one.
        let start = chart
            .series
            .last()
            .filter(|(_, v)| v.is_finite())
            .map(|&(t, v)| (x.clamped(t as f64), y.at(v)));
        let line = start.into_iter().chain(
            chart
                .forecast
                .iter()
                .map(|b| (x.clamped(b.t as f64), y.clamped(b.value))),
        );
        let _ = write!(
            out,
            r#"<path class="forecast" d="{}"><title>forecast</title></path>"#,
            path(line)
        );
    }
    out.push_str("</svg>");
    out
}

/// The SVG of a bar chart of `bars` (label, value in -1..1 or any range), with a zero line.
pub(crate) fn bar_chart(
    id: &str,
    title: &str,
    description: &str,
    bars: &[(String, f64)],
) -> String {
    let lo = bars.iter().map(|b| b.1).fold(0.0f64, f64::min);
    let hi = bars.iter().map(|b| b.1).fold(0.0f64, f64::max);
    let y = Scale::new(lo, hi.max(lo + 1e-9), HEIGHT - BOTTOM, TOP);
    let n = bars.len().max(1) as f64;
    let x = Scale::new(0.0, n, LEFT, WIDTH - RIGHT);
    let mut out = String::new();
    open_svg(&mut out, id, title, description);
    // Label at most about 20 bars, so the labels do not overlap.
    let every = (bars.len() / 20).max(1);
    let x_ticks: Vec<(f64, String)> = bars
        .iter()
        .enumerate()
        .filter(|(i, _)| i % every == 0)
        .map(|(i, (label, _))| (i as f64 + 0.5, label.clone()))
        .collect();
    axes(&mut out, &x, &y, &x_ticks, &ticks(y.d0, y.d1, 5));
    let width = ((WIDTH - LEFT - RIGHT) / n * 0.7).max(1.0);
    let zero = y.at(0.0);
    for (i, (label, value)) in bars.iter().enumerate() {
        let px = x.at(i as f64 + 0.5) - width / 2.0;
        let py = y.at(*value);
        let _ = write!(
            out,
            r#"<rect class="bar" x="{px:.1}" y="{:.1}" width="{width:.1}" height="{:.1}"><title>lag {}: {}</title></rect>"#,
            py.min(zero),
            (py - zero).abs().max(0.5),
            escape(label),
            escape(&format!("{value:.3}"))
        );
    }
    let _ = write!(
        out,
        r#"<line class="zero" x1="{LEFT}" x2="{:.1}" y1="{zero:.1}" y2="{zero:.1}"/></svg>"#,
        WIDTH - RIGHT
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart<'a>(series: &'a [(i64, f64)], forecast: &'a [Band]) -> TimeChart<'a> {
        TimeChart {
            title: "load <1>",
            description: "a & b",
            series,
            range: Some((0.0, 4.0)),
            shaded: &[(600, 1200)],
            forecast,
            from: 0,
            to: 3600,
        }
    }

    #[test]
    fn ticks_are_round_and_cover_the_interval() {
        assert_eq!(ticks(0.0, 10.0, 5), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(ticks(0.13, 0.61, 4), vec![0.2, 0.4, 0.6]);
        assert_eq!(ticks(0.0, 0.5, 5), vec![0.0, 0.1, 0.2, 0.3, 0.4, 0.5]);
        assert_eq!(ticks(1.0, 1.0, 5), vec![1.0]);
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(short_number(0.5), "0.5");
        assert_eq!(short_number(2.0), "2");
        assert_eq!(short_number(1_500_000_000.0), "1.5G");
        assert_eq!(short_number(-0.0001), "0");
        assert_eq!(short_number(12_345.0), "12.345k");
    }

    #[test]
    fn a_time_chart_has_its_series_range_violation_and_forecast() {
        let series: Vec<(i64, f64)> = (0..30).map(|i| (i * 60, 1.0 + i as f64 * 0.1)).collect();
        let forecast = [
            Band {
                t: 1860,
                value: 4.0,
                lower: 3.0,
                upper: 5.0,
            },
            Band {
                t: 1920,
                value: 4.1,
                lower: 2.9,
                upper: 5.3,
            },
        ];
        let svg = time_chart("c1", &chart(&series, &forecast));
        for class in [
            r#"class="series""#,
            r#"class="range""#,
            r#"class="violation""#,
            r#"class="forecast""#,
            r#"class="forecast-band""#,
        ] {
            assert_eq!(svg.matches(class).count(), 1, "{class} in {svg}");
        }
        assert!(svg.contains(r#"<title id="c1-title">load &lt;1&gt;</title>"#));
        assert!(svg.contains(r#"<desc id="c1-desc">a &amp; b</desc>"#));
        assert!(svg.contains(r#"aria-labelledby="c1-title c1-desc""#));
        // The series starts at the left edge and the forecast line starts at its last point.
        assert!(svg.contains(r#"<path class="series" d="M80.0,"#), "{svg}");
        let last = series.last().unwrap();
        let x = Scale::new(0.0, 3600.0, LEFT, WIDTH - RIGHT).at(last.0 as f64);
        assert!(
            svg.contains(&format!(r#"<path class="forecast" d="M{x:.1},"#)),
            "{svg}"
        );
    }

    #[test]
    fn time_ticks_are_round_minutes_or_hours() {
        let labels = |from: i64, to: i64| -> Vec<String> {
            let mut c = chart(&[], &[]);
            (c.from, c.to) = (from, to);
            let svg = time_chart("t", &c);
            svg.match_indices(r#"text-anchor="middle">"#)
                .map(|(i, m)| svg[i + m.len()..i + m.len() + 5].to_owned())
                .collect()
        };
        // 30 minutes from 00:03: every 5 minutes.
        assert_eq!(
            labels(180, 1980),
            vec!["00:05", "00:10", "00:15", "00:20", "00:25", "00:30"]
        );
        // 12 hours: every 2 hours.
        assert_eq!(labels(0, 12 * 3600).len(), 6);
    }

    #[test]
    fn gaps_break_the_line_and_nothing_to_draw_draws_no_series() {
        let series = [(0, 1.0), (60, 2.0), (600, 1.0), (660, f64::NAN)];
        let svg = time_chart("c", &chart(&series, &[]));
        let d = svg.split(r#"class="series" d=""#).nth(1).unwrap();
        let d = &d[..d.find('"').unwrap()];
        assert_eq!(d.matches('M').count(), 2, "{d}");
        assert!(!svg.contains("forecast"));
        let empty = time_chart("e", &chart(&[], &[]));
        assert!(!empty.contains(r#"class="series""#));
        assert!(empty.contains(r#"class="range""#));
    }

    #[test]
    fn a_far_range_edge_does_not_flatten_the_data() {
        let series = [(0, 1e9), (60, 2e9)];
        let mut c = chart(&series, &[]);
        c.range = Some((5e8, 1.1e12));
        let (lo, hi) = value_domain(&c);
        assert!(lo <= 5e8 && hi < 1e10, "{lo} {hi}");
    }

    #[test]
    fn bars_go_up_and_down_from_zero() {
        let bars = vec![("0".to_owned(), 1.0), ("1".to_owned(), -0.5)];
        let svg = bar_chart("b", "acf", "desc", &bars);
        assert_eq!(svg.matches(r#"class="bar""#).count(), 2);
        assert!(svg.contains("<title>lag 1: -0.500</title>"));
        assert!(svg.contains(r#"class="zero""#));
    }
}
