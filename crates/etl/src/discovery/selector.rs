//! The etl's series selector, split into its metric name and its matchers so that each query
//! can name one metric (and a shard's narrowing) on top of it.

use common::series::{METRIC_NAME_LABEL, quote};

/// A series selector split into its metric name and its matchers, so that a name matcher can
/// be added: `up{job="x"}` is name `up` and matchers `job="x"`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Selector {
    /// The selector as configured.
    pub(super) text: String,
    /// Its matchers, the name as a `__name__` matcher among them.
    matchers: String,
}

impl Selector {
    /// The selector `text` (`up{job="x"}`, `{job="x"}` or `up`).
    pub(super) fn parse(text: &str) -> Self {
        let text = text.trim().to_owned();
        let matchers = match (text.find('{'), text.rfind('}')) {
            (Some(open), Some(close)) if open < close => {
                let name = text[..open].trim();
                let inner = text[open + 1..close].trim().trim_end_matches(',');
                [name_matcher(name), quoted_name_as_matcher(inner)]
                    .into_iter()
                    .filter(|m| !m.is_empty())
                    .collect::<Vec<_>>()
                    .join(",")
            }
            _ => name_matcher(&text),
        };
        Self { text, matchers }
    }

    /// The selector restricted to the metric `name`, and narrowed by `extra` when given.
    pub(super) fn with_name(&self, name: &str, extra: Option<&str>) -> String {
        let name = name_matcher(name);
        let matchers: Vec<&str> = [name.as_str(), &self.matchers, extra.unwrap_or("")]
            .into_iter()
            .filter(|m| !m.is_empty())
            .collect();
        format!("{{{}}}", matchers.join(","))
    }
}

/// `__name__="name"`, or nothing for no name.
fn name_matcher(name: &str) -> String {
    if name.is_empty() {
        return String::new();
    }
    format!("{METRIC_NAME_LABEL}={}", quote(name))
}

/// The matchers `inner` with Prometheus 3's bare quoted metric name (`"my.metric", job="x"`)
/// written as the `__name__` matcher it stands for, so that the name matcher added per query
/// sits beside an ordinary matcher on every engine.
fn quoted_name_as_matcher(inner: &str) -> String {
    let Some(rest) = inner.strip_prefix('"') else {
        return inner.to_owned();
    };
    // The end of the string: the first `"` not escaped by a backslash.
    let mut escaped = false;
    let Some(end) = rest.char_indices().find_map(|(i, c)| {
        let closes = c == '"' && !escaped;
        escaped = c == '\\' && !escaped;
        closes.then_some(i)
    }) else {
        return inner.to_owned();
    };
    let after = rest[end + 1..].trim_start();
    if after.is_empty() || after.starts_with(',') {
        format!("{METRIC_NAME_LABEL}=\"{}\"{after}", &rest[..end])
    } else {
        // A quoted label name (`"label.name"="v"`): left as it is.
        inner.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_split_into_name_and_matchers() {
        assert_eq!(
            Selector::parse(r#"{__name__=~".+"}"#).with_name("up", None),
            r#"{__name__="up",__name__=~".+"}"#
        );
        assert_eq!(
            Selector::parse(r#"up{job="a,b}"}"#).with_name("up", None),
            r#"{__name__="up",__name__="up",job="a,b}"}"#
        );
        assert_eq!(
            Selector::parse("node_load1").with_name("node_load1", None),
            r#"{__name__="node_load1",__name__="node_load1"}"#
        );
        assert_eq!(
            Selector::parse(r#"{job="x",}"#).with_name("a", None),
            r#"{__name__="a",job="x"}"#
        );
        assert_eq!(
            Selector::parse(r#"{job="x"}"#).with_name("a", Some(r#"shard=~"1|3""#)),
            r#"{__name__="a",job="x",shard=~"1|3"}"#
        );
        // Prometheus 3's quoted forms: a bare quoted name becomes the `__name__` matcher it
        // stands for; a quoted label name stays.
        assert_eq!(
            Selector::parse(r#"{"my.metric", "label.name"="v"}"#).with_name("my.metric", None),
            r#"{__name__="my.metric",__name__="my.metric", "label.name"="v"}"#
        );
        assert_eq!(
            Selector::parse(r#"{"a\"b,c"}"#).with_name("x", None),
            r#"{__name__="x",__name__="a\"b,c"}"#
        );
        assert_eq!(
            Selector::parse(r#"{"label.name"="v"}"#).with_name("x", None),
            r#"{__name__="x","label.name"="v"}"#
        );
    }
}
