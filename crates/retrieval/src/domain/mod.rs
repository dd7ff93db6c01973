//! Types that can only hold valid requests, each built by parsing: the listing's filter here,
//! the windowed aggregation in `aggregation`.

use std::str::FromStr;

use serde::Deserialize;
use utoipa::IntoParams;

mod aggregation;

pub use aggregation::{
    AggregateOp, AggregateParams, Aggregation, Bucket, DEFAULT_SPAN_SECS, MAX_SPAN_SECS,
    MAX_WINDOW_SECS, MAX_WINDOWS, Window,
};

/// A metric name (`__name__`) to filter the listing by, as Prometheus spells them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricName(String);

impl MetricName {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for MetricName {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut chars = s.chars();
        let valid_first = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':');
        if valid_first && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!(
                "`name` must be a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*), got {:?}",
                clip(s)
            ))
        }
    }
}

/// The query string of `GET /metrics`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only the series with this metric name (`__name__`).
    #[param(example = "node_load1")]
    pub name: Option<String>,
}

impl ListParams {
    /// The validated filter.
    pub fn metric_name(&self) -> Result<Option<MetricName>, String> {
        self.name.as_deref().map(str::parse).transpose()
    }
}

/// The query string of `GET /outliers`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OutliersParams {
    /// The metric name (`__name__`) whose series are compared; required.
    #[param(required = true, example = "node_load1")]
    pub name: Option<String>,
}

impl OutliersParams {
    /// The validated metric name.
    pub fn metric_name(&self) -> Result<MetricName, String> {
        match self.name.as_deref() {
            None | Some("") => {
                Err("`name` is required: the metric name whose series are compared".to_owned())
            }
            Some(name) => name.parse(),
        }
    }
}

/// At most 64 characters of what the client sent, for error messages.
fn clip(text: &str) -> String {
    text.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outliers_need_a_metric_name() {
        let params = |name: Option<&str>| OutliersParams {
            name: name.map(str::to_owned),
        };
        assert_eq!(
            params(Some("node_load1")).metric_name().unwrap().as_str(),
            "node_load1"
        );
        for missing in [None, Some("")] {
            let error = params(missing).metric_name().unwrap_err();
            assert!(error.contains("`name` is required"), "{error}");
        }
        assert!(params(Some("a-b")).metric_name().is_err());
    }

    #[test]
    fn metric_names_follow_prometheus() {
        assert!("node_load1".parse::<MetricName>().is_ok());
        assert!("job:rate5m:sum".parse::<MetricName>().is_ok());
        for bad in ["", "1abc", "a-b", "a{b}", "x\"y"] {
            assert!(bad.parse::<MetricName>().is_err(), "{bad:?}");
        }
    }
}
