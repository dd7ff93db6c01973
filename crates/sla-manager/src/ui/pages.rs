//! The three pages as pure functions from the adapter's types to HTML. Every value that
//! comes from outside (labels, descriptions, models) is escaped here or in [`super::svg`].

use std::fmt::Write;

use chrono::DateTime;
use common::{
    Labels,
    record::{Metadata, Window, Windows},
};

use super::{
    data::{SlaDetail, SlaSummary},
    html::{escape, labels_text, name_and_labels, page},
    retrieval::SeriesResults,
    svg::{self, TimeChart, short_number},
};

fn time_text(t: i64) -> String {
    DateTime::from_timestamp(t, 0).map_or_else(|| t.to_string(), |d| d.to_rfc3339())
}

fn badge(state: &str) -> String {
    let class = escape(state);
    format!(r#"<span class="state {class}">{class}</span>"#)
}

fn window<'a>(summary: &'a SlaSummary, name: &str) -> Option<&'a (String, usize, u32)> {
    summary.windows.iter().find(|w| w.0 == name)
}

/// The overview's two budget cells: the share of the error budget left (with the target) and
/// when it is spent at the last hour's burn rate; dashes without an objective.
fn budget_cells(s: &SlaSummary) -> (String, String) {
    let Some(budget) = s.budget else {
        return ("—".to_owned(), "—".to_owned());
    };
    let left = format!(
        r#"<span title="target {target}%">{left}%</span>"#,
        target = short_number(budget.target * 100.0),
        left = short_number((budget.remaining_ratio * 100.0 * 10.0).round() / 10.0),
    );
    let spent_in = match budget.time_to_exhaustion_seconds {
        Some(seconds) if seconds <= 0.0 => "spent".to_owned(),
        Some(seconds) => duration_text(seconds),
        None => "not burning".to_owned(),
    };
    (left, spent_in)
}

/// A duration in the largest whole unit that fits: `3 d 4 h`, `5 h 12 min`, `12 min`.
fn duration_text(seconds: f64) -> String {
    let minutes = (seconds / 60.0).round() as u64;
    let (days, hours, minutes) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    match (days, hours) {
        (0, 0) => format!("{minutes} min"),
        (0, _) => format!("{hours} h {minutes} min"),
        _ => format!("{days} d {hours} h"),
    }
}

/// `/`: every SLA with its state, violations, predicted state and error budget.
pub(crate) fn overview(slas: &[SlaSummary], at: i64) -> String {
    let mut body = String::new();
    let _ = write!(
        body,
        r#"<p>Evaluated at <time datetime="{t}">{t}</time>. Each SLA's series must stay in its range; it <em>fires</em> after <code>for</code> minutes out of it.</p>"#,
        t = time_text(at)
    );
    if slas.is_empty() {
        body.push_str(
            r#"<p id="no-set">No SLA set is stored yet. Store one with <code>curl -X PUT http://HOST:5001/slaset -H 'Content-Type: application/json' --data @sla_set.json</code> (<code>scripts/up.sh</code> does it for the local stack).</p>"#,
        );
        return page("Overview", &body);
    }
    body.push_str(
        r#"<table id="overview"><caption class="muted">The SLA set</caption><thead><tr><th scope="col">series</th><th scope="col">range</th><th scope="col">state</th><th scope="col" class="num">minutes out of range</th><th scope="col" class="num">violations 1h</th><th scope="col" class="num">3h</th><th scope="col" class="num">12h</th><th scope="col">predicted</th><th scope="col" class="num">budget left</th><th scope="col">budget spent in</th></tr></thead><tbody>"#,
    );
    for s in slas {
        let (budget_left, spent_in) = budget_cells(s);
        let count = |name| window(s, name).map_or(0, |w| w.1);
        let id = escape(&s.id);
        let (name, rest) = name_and_labels(&s.labels);
        let _ = write!(
            body,
            r#"<tr><th scope="row"><a href="/sla/{id}">{name}</a><span class="labels">{rest}</span><a class="labels" href="/series/{id}" aria-label="statistics of {name}{rest}">statistics</a></th><td>{} to {}, for {} min</td><td title="{}">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td>{}</td><td class="num">{budget_left}</td><td>{spent_in}</td></tr>"#,
            escape(&short_number(s.min)),
            escape(&short_number(s.max)),
            s.for_minutes,
            escape(&s.description),
            badge(s.state),
            s.out_of_range_minutes,
            count("1h"),
            count("3h"),
            count("12h"),
            badge(s.predicted.word()),
        );
    }
    body.push_str("</tbody></table>");
    page("Overview", &body)
}

/// `/sla/{id}`: the SLA's chart (12 hours, range, violations, forecast) and its numbers.
pub(crate) fn sla(detail: &SlaDetail) -> String {
    let s = &detail.summary;
    let name = labels_text(&s.labels);
    let mut body = String::new();
    let _ = write!(
        body,
        r#"<h2>{name}</h2><p>{} {}</p><p>Allowed range {} to {}; fires after {} minutes out of it. <a href="/series/{}">Statistics of the series</a>.</p>"#,
        badge(s.state),
        escape(&s.description),
        escape(&short_number(s.min)),
        escape(&short_number(s.max)),
        s.for_minutes,
        escape(&s.id),
    );
    // The last 12 hours, or less for a young series (at least 30 minutes), so that a series
    // watched for minutes is not a few pixels at the right edge.
    let first = detail.samples.first().map_or(detail.at, |s| s.0);
    let from = (detail.at - 12 * 3600).max(first.min(detail.at - 1800));
    let to = detail
        .forecast
        .last()
        .map_or(detail.at, |b| b.t.max(detail.at));
    let samples: Vec<(i64, f64)> = detail
        .samples
        .iter()
        .copied()
        .filter(|(t, _)| *t >= from)
        .collect();
    let plain_name = common::series::selector(&s.labels);
    let description = format!(
        "{} values over the last {} minutes, allowed range {} to {}, {} past violations shaded, {}.",
        samples.len(),
        (detail.at - from) / 60,
        short_number(s.min),
        short_number(s.max),
        detail.violations.len(),
        if detail.forecast.is_empty() {
            "no forecast stored".to_owned()
        } else {
            format!(
                "forecast of {} points with its 95% interval",
                detail.forecast.len()
            )
        }
    );
    let title = format!("{plain_name}: the last 12 hours (at most) and the forecast");
    body.push_str(&svg::time_chart(
        "sla-chart",
        &TimeChart {
            title: &title,
            description: &description,
            series: &samples,
            range: Some((s.min, s.max)),
            shaded: &detail.violations,
            forecast: &detail.forecast,
            from,
            to,
        },
    ));
    body.push_str(
        r#"<p class="legend" aria-hidden="true"><span><i class="key" style="background:#1d4ed8"></i>series</span><span><i class="key" style="background:#1b7f3b55"></i>allowed range</span><span><i class="key" style="background:#b4231855"></i>violation</span><span><i class="key" style="background:#c2410c"></i>forecast</span><span><i class="key" style="background:#c2410c44"></i>95% interval</span></p>"#,
    );
    body.push_str(r#"<h2>Violations</h2><table id="windows"><thead><tr><th scope="col">window</th><th scope="col" class="num">violations</th><th scope="col" class="num">minutes</th></tr></thead><tbody>"#);
    for (name, count, minutes) in &s.windows {
        let _ = write!(
            body,
            r#"<tr><th scope="row">{}</th><td class="num">{count}</td><td class="num">{minutes}</td></tr>"#,
            escape(name)
        );
    }
    body.push_str("</tbody></table>");
    body.push_str(&spans_table("past", "Past violations", &detail.violations));
    body.push_str("<h2>Forecast</h2>");
    match &detail.model {
        Some((model, rmse)) if !detail.forecast.is_empty() => {
            let _ = write!(
                body,
                "<p>Model <code>{}</code>, in-sample RMSE {}. Predicted: {}.</p>",
                escape(model),
                escape(&short_number(*rmse)),
                badge(s.predicted.word())
            );
            if !detail.future.is_empty() {
                body.push_str(r#"<table id="future"><thead><tr><th scope="col">from</th><th scope="col">to</th><th scope="col">fires</th><th scope="col" class="num">probability</th></tr></thead><tbody>"#);
                for (start, end, fires, p) in &detail.future {
                    let _ = write!(
                        body,
                        r#"<tr><td>{}</td><td>{}</td><td>{}</td><td class="num">{:.0}%</td></tr>"#,
                        time_text(*start),
                        time_text(*end),
                        if *fires { "yes" } else { "no" },
                        p * 100.0
                    );
                }
                body.push_str("</tbody></table>");
            }
        }
        _ => {
            body.push_str("<p>No forecast stored yet (the etl computes one every fast cycle).</p>")
        }
    }
    // The table fallback of the chart: every 10th value, and the whole forecast.
    body.push_str(r#"<details><summary>The chart's data as a table</summary><table id="chart-data"><thead><tr><th scope="col">time</th><th scope="col" class="num">value</th><th scope="col" class="num">forecast</th><th scope="col" class="num">95% low</th><th scope="col" class="num">95% high</th></tr></thead><tbody>"#);
    for (t, v) in samples.iter().step_by(10) {
        let _ = write!(
            body,
            r#"<tr><td>{}</td><td class="num">{}</td><td></td><td></td><td></td></tr>"#,
            time_text(*t),
            escape(&short_number(*v))
        );
    }
    for b in &detail.forecast {
        let _ = write!(
            body,
            r#"<tr><td>{}</td><td></td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td></tr>"#,
            time_text(b.t),
            escape(&short_number(b.value)),
            escape(&short_number(b.lower)),
            escape(&short_number(b.upper))
        );
    }
    body.push_str("</tbody></table></details>");
    page(&format!("SLA {plain_name}"), &body)
}

fn spans_table(id: &str, caption: &str, spans: &[(i64, i64)]) -> String {
    if spans.is_empty() {
        return format!("<p>{caption}: none in the last 12 hours.</p>");
    }
    let mut out = format!(
        r#"<table id="{id}"><caption>{caption}</caption><thead><tr><th scope="col">from</th><th scope="col">to</th><th scope="col" class="num">minutes</th></tr></thead><tbody>"#
    );
    for (start, end) in spans {
        let _ = write!(
            out,
            r#"<tr><td>{}</td><td>{}</td><td class="num">{}</td></tr>"#,
            time_text(*start),
            time_text(*end),
            (end - start) / 60
        );
    }
    out.push_str("</tbody></table>");
    out
}

fn window_row(out: &mut String, name: &str, w: Option<&Window>) {
    match w {
        Some(w) => {
            let _ = write!(
                out,
                r#"<tr><th scope="row">{name}</th><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td></tr>"#,
                escape(&short_number(w.min)),
                escape(&short_number(w.max)),
                escape(&short_number(w.avg)),
                escape(&short_number(w.std_dev)),
                w.count
            );
        }
        None => {
            let _ = write!(
                out,
                r#"<tr><th scope="row">{name}</th><td colspan="5">no samples</td></tr>"#
            );
        }
    }
}

fn aggregates(out: &mut String, windows: &Windows) {
    out.push_str(r#"<table id="aggregates"><thead><tr><th scope="col">window</th><th scope="col" class="num">min</th><th scope="col" class="num">max</th><th scope="col" class="num">avg</th><th scope="col" class="num">std dev</th><th scope="col" class="num">samples</th></tr></thead><tbody>"#);
    window_row(out, "1h", windows.h1.as_ref());
    window_row(out, "3h", windows.h3.as_ref());
    window_row(out, "12h", windows.h12.as_ref());
    out.push_str("</tbody></table>");
}

fn statistics(out: &mut String, m: &Metadata) {
    let _ = write!(
        out,
        "<p>{} samples at a {} s step analysed.</p>",
        m.samples, m.step_seconds
    );
    if m.constant {
        out.push_str("<p>The series is constant: no statistics.</p>");
        return;
    }
    out.push_str("<h2>Stationarity</h2>");
    match &m.stationarity {
        Some(s) => {
            let _ = write!(
                out,
                r#"<p id="stationarity">Augmented Dickey-Fuller: <strong>{}</strong> (p-value {:.4}, statistic {:.3}, {} lags).</p>"#,
                if s.stationary {
                    "stationary"
                } else {
                    "not stationary"
                },
                s.p_value,
                s.adf_statistic,
                s.used_lag
            );
        }
        None => out.push_str("<p>Not computed.</p>"),
    }
    out.push_str("<h2>Seasonality</h2>");
    match &m.seasonality {
        Some(s) => {
            let period = s
                .period
                .map_or("none significant".to_owned(), |p| format!("{p} min"));
            let _ = write!(out, r#"<p id="seasonality">Period kept: {period}."#);
            for (kind, d) in [("additive", &s.add), ("multiplicative", &s.mul)] {
                if let Some(d) = d {
                    let _ = write!(
                        out,
                        " Best {kind} decomposition: {} min (residual mean square {}).",
                        d.period,
                        escape(&short_number(d.error))
                    );
                }
            }
            out.push_str("</p>");
        }
        None => out.push_str("<p>Not computed.</p>"),
    }
    out.push_str("<h2>Autocorrelation</h2>");
    match &m.autocorrelation {
        Some(acf) if !acf.is_empty() => {
            let mut bars: Vec<(u64, f64)> = acf
                .iter()
                .filter_map(|(lag, v)| lag.parse::<u64>().ok().map(|l| (l, *v)))
                .collect();
            bars.sort_by_key(|b| b.0);
            let bars: Vec<(String, f64)> =
                bars.into_iter().map(|(l, v)| (l.to_string(), v)).collect();
            let description = format!(
                "Autocorrelation at lag 0 and the {} significant lags, in steps of {} s.",
                bars.len().saturating_sub(1),
                m.step_seconds
            );
            out.push_str(&svg::bar_chart(
                "acf-chart",
                "Autocorrelation by lag",
                &description,
                &bars,
            ));
            out.push_str(r#"<details><summary>The autocorrelation as a table</summary><table id="acf-data"><thead><tr><th scope="col" class="num">lag</th><th scope="col" class="num">autocorrelation</th></tr></thead><tbody>"#);
            for (lag, v) in &bars {
                let _ = write!(
                    out,
                    r#"<tr><td class="num">{}</td><td class="num">{v:.4}</td></tr>"#,
                    escape(lag)
                );
            }
            out.push_str("</tbody></table></details>");
        }
        _ => out.push_str("<p>Not computed.</p>"),
    }
}

/// `/series/{id}`: what retrieval stores about one series.
pub(crate) fn series(id: &str, labels: Option<&Labels>, results: &SeriesResults) -> String {
    let mut body = String::new();
    let title = labels.map_or_else(|| format!("series {id}"), common::series::selector);
    let _ = write!(
        body,
        "<h2>{}</h2><p>Series id <code>{}</code>, read from the retrieval service.{}</p>",
        labels.map_or_else(|| escape(&title), labels_text),
        escape(id),
        if labels.is_some() {
            format!(r#" <a href="/sla/{}">Its SLA</a>."#, escape(id))
        } else {
            String::new()
        }
    );
    body.push_str("<h2>Aggregates</h2>");
    match &results.values {
        Some((windows, at)) => {
            if let Some(at) = at {
                let _ = write!(body, "<p>Computed at {}.</p>", at.to_rfc3339());
            }
            aggregates(&mut body, windows);
        }
        None => body.push_str("<p>None stored yet (the etl's fast loop computes them).</p>"),
    }
    match &results.metadata {
        Some((metadata, at)) => {
            if let Some(at) = at {
                let _ = write!(body, "<p>Statistics computed at {}.</p>", at.to_rfc3339());
            }
            body.push_str(r#"<section id="statistics">"#);
            statistics(&mut body, metadata);
            body.push_str("</section>");
        }
        None => body.push_str(
            "<h2>Statistics</h2><p>None stored yet (the etl's slow loop computes them).</p>",
        ),
    }
    page(&title, &body)
}

/// An error page: what failed, in words safe to show (the cause is logged, not sent).
pub(crate) fn error(message: &str) -> String {
    page(
        "Error",
        &format!(r#"<p id="error" role="alert">{}</p>"#, escape(message)),
    )
}

#[cfg(test)]
#[path = "pages_tests.rs"]
mod tests;
