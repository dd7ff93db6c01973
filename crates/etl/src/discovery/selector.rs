//! The etl's series selector, split into its metric name and its matchers so that each query
//! can name one metric (and a shard's narrowing) on top of it.

use common::series::METRIC_NAME_LABEL;

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
                [name_matcher(name), inner.to_owned()]
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
    format!("{METRIC_NAME_LABEL}={}", serde_json::Value::from(name))
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
    }
}
