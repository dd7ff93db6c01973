//! Series identity: a series is its full label set, and its id a fingerprint of it.

use std::{borrow::Cow, collections::BTreeMap, fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

/// A Prometheus label set, `__name__` included. Sorted by label name, so iteration order, JSON
/// output and the fingerprint never depend on the order labels arrived in.
pub type Labels = BTreeMap<String, String>;

/// The label that holds a series' metric name.
pub const METRIC_NAME_LABEL: &str = "__name__";

/// The id of a series: 16 lowercase hex digits, the Kafka message key and the MongoDB `_id`.
///
/// It is the XXH3-64 hash (seed 0) of the label set sorted by name, each name and value
/// followed by the byte `0xff`, which cannot occur in UTF-8 text, so `{a="bc"}` and `{ab="c"}`
/// differ. XXH3 is specified byte for byte, so the id is the same on every machine and run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesId(u64);

impl SeriesId {
    /// The fingerprint of a label set.
    pub fn of(labels: &Labels) -> Self {
        let mut bytes = Vec::with_capacity(labels.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
        for (name, value) in labels {
            bytes.extend_from_slice(name.as_bytes());
            bytes.push(0xff);
            bytes.extend_from_slice(value.as_bytes());
            bytes.push(0xff);
        }
        Self(xxh3_64(&bytes))
    }

    /// The id as a number, for hash-based sharding.
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for SeriesId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// Why a text is not a series id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a series id is 16 hexadecimal digits, got {0:?}")]
pub struct InvalidSeriesId(String);

impl FromStr for SeriesId {
    type Err = InvalidSeriesId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 16 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(InvalidSeriesId(s.chars().take(64).collect()));
        }
        u64::from_str_radix(s, 16)
            .map(Self)
            .map_err(|_| InvalidSeriesId(s.to_owned()))
    }
}

impl Serialize for SeriesId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SeriesId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The PromQL selector that matches exactly this label set, e.g. `{__name__="up",job="node"}`.
/// Values are escaped, so labels holding quotes or backslashes select what they say; a label
/// name that is not a legacy identifier is quoted ([`label_name`]); the metric name is always a
/// quoted value of `__name__` (Prometheus 3's `{"my.metric"}` is shorthand for the same
/// matcher, and `__name__="my.metric"` still parses on Prometheus 2 and VictoriaMetrics).
pub fn selector(labels: &Labels) -> String {
    let matchers: Vec<String> = labels
        .iter()
        .map(|(name, value)| format!("{}={}", label_name(name), quote(value)))
        .collect();
    format!("{{{}}}", matchers.join(","))
}

/// A PromQL string literal of `value` (double-quoted, escaped).
pub fn quote(value: &str) -> String {
    // JSON string escaping is a valid PromQL double-quoted string.
    serde_json::to_string(value).expect("a string always serialises")
}

/// `name` as a label name in a PromQL matcher: as it is when it is a legacy identifier
/// (`[a-zA-Z_][a-zA-Z0-9_]*`, which every engine parses), else Prometheus 3's quoted form
/// (`"label.name"`), so that a UTF-8 name can neither break the selector nor add a matcher.
/// Only Prometheus 3 (and engines that follow it) parses the quoted form, and only it can hold
/// such a name.
pub fn label_name(name: &str) -> Cow<'_, str> {
    if is_legacy_label_name(name) {
        Cow::Borrowed(name)
    } else {
        Cow::Owned(quote(name))
    }
}

/// Whether `name` is a label name of the legacy character set, `[a-zA-Z_][a-zA-Z0-9_]*`
/// (PromQL keywords such as `offset` or `or` included: inside braces they are plain names).
pub fn is_legacy_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A `label_replace` replacement that yields `value` as it is: `$` doubled (the function expands
/// `$1`, `${name}` and `$name` in its replacement), then quoted.
pub fn replacement(value: &str) -> String {
    quote(&value.replace('$', "$$"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn id_ignores_label_order() {
        let a = labels(&[("__name__", "up"), ("job", "node"), ("instance", "a:9100")]);
        let b = labels(&[("instance", "a:9100"), ("job", "node"), ("__name__", "up")]);
        assert_eq!(SeriesId::of(&a), SeriesId::of(&b));
    }

    #[test]
    fn id_differs_for_different_label_sets() {
        let base = labels(&[("__name__", "up"), ("job", "node")]);
        let other_value = labels(&[("__name__", "up"), ("job", "prometheus")]);
        let extra_label = labels(&[("__name__", "up"), ("job", "node"), ("instance", "x")]);
        let shifted = labels(&[("__name__", "up"), ("jo", "bnode")]);
        let ids = [&base, &other_value, &extra_label, &shifted].map(SeriesId::of);
        for (i, a) in ids.iter().enumerate() {
            for b in &ids[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn id_is_stable_across_runs_and_machines() {
        // Pinned: a change of this value changes every stored `_id` and Kafka key. Python's
        // `xxhash.xxh3_64_hexdigest(b"__name__\xffnode_load1\xffjob\xffnode\xff")` agrees.
        let id = SeriesId::of(&labels(&[("__name__", "node_load1"), ("job", "node")]));
        assert_eq!(id.to_string(), "782517df67d9b98d");
    }

    #[test]
    fn id_round_trips_through_text_and_json() {
        let id = SeriesId::of(&labels(&[("__name__", "x")]));
        assert_eq!(id.to_string().parse::<SeriesId>(), Ok(id));
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(serde_json::from_str::<SeriesId>(&json).unwrap(), id);
    }

    #[test]
    fn malformed_ids_are_rejected() {
        for bad in [
            "",
            "123",
            "0123456789abcdeg",
            "0123456789abcdef0",
            "../../etc/passwd",
        ] {
            assert!(bad.parse::<SeriesId>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn selector_escapes_values() {
        let s = selector(&labels(&[("__name__", "up"), ("path", "a\"b\\c")]));
        assert_eq!(s, r#"{__name__="up",path="a\"b\\c"}"#);
    }

    /// Names and values that would break or extend an unquoted selector: dots, quotes, braces,
    /// backslashes, commas and operators, UTF-8 letters, PromQL keywords, a newline.
    const AWKWARD: [&str; 12] = [
        "my.metric",
        "a\"b",
        "}",
        "x\"} or vector(1) or {y=\"",
        "back\\slash",
        "a,b=\"c\"",
        "température",
        "名前",
        "offset",
        "or",
        "1starts_with_digit",
        "line\nbreak",
    ];

    #[test]
    fn awkward_names_select_exactly_their_label_set() {
        use crate::testing::{Token, promql_tokens};
        for name in AWKWARD {
            for (key, value) in [(name, "v"), ("job", name)] {
                let set = labels(&[("__name__", name), (key, value)]);
                let text = selector(&set);
                // The text lexes as `{` name `=` "value" (`,` ...)* `}`, the names and values
                // being exactly the set's: nothing added, nothing cut.
                let mut expected = vec![Token::Punct("{".into())];
                for (i, (k, v)) in set.iter().enumerate() {
                    if i > 0 {
                        expected.push(Token::Punct(",".into()));
                    }
                    expected.push(if is_legacy_label_name(k) {
                        Token::Ident(k.clone())
                    } else {
                        Token::Str(k.clone())
                    });
                    expected.push(Token::Punct("=".into()));
                    expected.push(Token::Str(v.clone()));
                }
                expected.push(Token::Punct("}".into()));
                assert_eq!(promql_tokens(&text), Ok(expected), "{text}");
            }
        }
    }

    #[test]
    fn legacy_names_stay_bare_and_others_are_quoted() {
        let s = selector(&labels(&[
            ("__name__", "my.metric"),
            ("label.name", "v"),
            ("offset", "1"),
        ]));
        assert_eq!(s, r#"{__name__="my.metric","label.name"="v",offset="1"}"#);
        for legacy in ["a", "_", "job", "__name__", "Z9_", "bool", "by"] {
            assert_eq!(label_name(legacy), legacy);
        }
        for other in ["", "9a", "a-b", "a:b", "é", "a b"] {
            assert_eq!(label_name(other), quote(other), "{other:?}");
        }
    }

    #[test]
    fn replacements_keep_dollars_literal() {
        assert_eq!(replacement("up"), r#""up""#);
        assert_eq!(replacement("a$1${x}$b"), r#""a$$1$${x}$$b""#);
        assert_eq!(replacement("q\"$"), r#""q\"$$""#);
    }
}
