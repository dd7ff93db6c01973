//! HTML building blocks: escaping (labels are user data and land in pages) and the page frame.

use common::Labels;

/// `text` safe inside HTML and SVG text and double-quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A label set as PromQL writes it, `name{a="b"}`, escaped for HTML.
pub(crate) fn labels_text(labels: &Labels) -> String {
    let (name, rest) = split(labels);
    escape(&format!("{name}{rest}"))
}

/// A label set split for display: the metric name and the other labels as `{a="b", ...}`,
/// both escaped for HTML.
pub(crate) fn name_and_labels(labels: &Labels) -> (String, String) {
    let (name, rest) = split(labels);
    (escape(name), escape(&rest))
}

/// The metric name (empty without one) and the other labels as `{a="b", ...}`, unescaped.
fn split(labels: &Labels) -> (&str, String) {
    let name = labels.get("__name__").map(String::as_str).unwrap_or("");
    let rest: Vec<String> = labels
        .iter()
        .filter(|(k, _)| k.as_str() != "__name__")
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    (name, format!("{{{}}}", rest.join(", ")))
}

/// Seconds between automatic reloads of every page: the etl's fast loop is 2 minutes.
pub(crate) const REFRESH_SECONDS: u32 = 60;

const STYLE: &str = "
:root{--fg:#1d2430;--muted:#5b6574;--line:#d5dae1;--ok:#1b7f3b;--warn:#9a6700;--bad:#b42318;--unk:#5b6574}
body{font:15px/1.45 system-ui,sans-serif;color:var(--fg);margin:0 auto;max-width:1100px;padding:0 16px 32px}
.labels{display:block;font-size:12px;font-weight:normal;color:var(--muted);word-break:break-word}
header{display:flex;gap:16px;align-items:baseline;border-bottom:1px solid var(--line);margin-bottom:12px}
header a{color:var(--fg)}
h1{font-size:22px;margin:14px 0 4px}h2{font-size:17px;margin:22px 0 6px}
a{color:#0b57d0}a:focus,svg:focus,summary:focus{outline:3px solid #0b57d0;outline-offset:2px}
table{border-collapse:collapse;width:100%;margin:6px 0}th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
code{font-size:13px;word-break:break-all}
.state{font-weight:600;padding:1px 6px;border-radius:4px;color:#fff}
.inactive{background:var(--ok)}.pending{background:var(--warn)}.firing{background:var(--bad)}.unknown{background:var(--unk)}
.muted{color:var(--muted)}
svg.chart{width:100%;height:auto;border:1px solid var(--line);background:#fff}
svg .grid{stroke:#eef0f3}svg .frame{fill:none;stroke:#c3c9d1}svg text{font-size:12px;fill:var(--muted)}
svg .range{fill:#1b7f3b;fill-opacity:.12;stroke:#1b7f3b;stroke-opacity:.5;stroke-dasharray:4 3}
svg .violation{fill:#b42318;fill-opacity:.18}
svg .series{fill:none;stroke:#1d4ed8;stroke-width:1.6}
svg .forecast{fill:none;stroke:#c2410c;stroke-width:2;stroke-dasharray:6 3}
svg .forecast-band{fill:#c2410c;fill-opacity:.2;stroke:none}
svg .bar{fill:#1d4ed8}svg .zero{stroke:#5b6574}
.legend span{margin-right:14px}.key{display:inline-block;width:14px;height:10px;margin-right:4px;vertical-align:middle}
";

/// A whole page: `title` (escaped here) and `body` (already HTML). It reloads itself every
/// [`REFRESH_SECONDS`]; `data:,` as the icon spares the browser a request for /favicon.ico.
pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="{REFRESH_SECONDS}">
<link rel="icon" href="data:,">
<title>{} - SLA monitor</title>
<style>{STYLE}</style></head>
<body><header><h1><a href="/">SLA monitor</a></h1><span class="muted">refreshes every {REFRESH_SECONDS} s</span></header>
<main>
{body}
</main></body></html>
"#,
        escape(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_special_character_is_escaped() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        assert_eq!(escape("plain"), "plain");
    }

    #[test]
    fn labels_read_as_promql_and_are_escaped() {
        let labels: Labels = [
            ("__name__".to_owned(), "up".to_owned()),
            ("job".to_owned(), "<b>".to_owned()),
        ]
        .into();
        assert_eq!(labels_text(&labels), "up{job=&quot;&lt;b&gt;&quot;}");
        assert_eq!(
            name_and_labels(&labels),
            ("up".to_owned(), "{job=&quot;&lt;b&gt;&quot;}".to_owned())
        );
    }

    #[test]
    fn a_page_escapes_its_title_and_refreshes() {
        let html = page("<x>", "<p>body</p>");
        assert!(html.contains("<title>&lt;x&gt; - SLA monitor</title>"));
        assert!(html.contains(r#"http-equiv="refresh" content="60""#));
        assert!(html.contains("<p>body</p>"));
    }
}
