//! Which samples a PromQL range selector `sel[d]` evaluated at `t` selects on the target engine:
//! Prometheus 2 takes `[t-d, t]` (both ends), Prometheus 3 and VictoriaMetrics `(t-d, t]` (a
//! sample exactly at the window's start is out). A window sliced into disjoint parts must cut
//! them to match, or a sample on a boundary is counted twice or lost.
//!
//! Detected from `/api/v1/status/buildinfo` when it names a Prometheus version (Prometheus' own
//! answer has no `application` field; Mimir's names itself and carries Mimir's version, Thanos'
//! is 0.x, VictoriaMetrics' is empty), else by a probe the engine answers under its own
//! semantics: `count_over_time(vector(1)[2s:1s])` at a whole second counts the subquery's points
//! at `t-2s`, `t-1s` and `t`: 3 with both ends, 2 left-open.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde::Deserialize;

use crate::promql::{PromClient, PromError};

/// Which end of a range selector's window holds its samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RangeSemantics {
    /// `[t-d, t]`: Prometheus 2.
    Closed,
    /// `(t-d, t]`: Prometheus 3 and later, VictoriaMetrics.
    LeftOpen,
}

impl RangeSemantics {
    /// Whether a sample at `sample_ms` is in the window of `range_ms` ending at `end_ms`.
    pub fn selects(self, sample_ms: i64, end_ms: i64, range_ms: i64) -> bool {
        let start = end_ms - range_ms;
        sample_ms <= end_ms
            && match self {
                RangeSemantics::Closed => sample_ms >= start,
                RangeSemantics::LeftOpen => sample_ms > start,
            }
    }

    /// The name logged and shown: `closed` or `left-open`.
    pub fn name(self) -> &'static str {
        match self {
            RangeSemantics::Closed => "closed",
            RangeSemantics::LeftOpen => "left-open",
        }
    }
}

impl std::fmt::Display for RangeSemantics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The part of `/api/v1/status/buildinfo` that tells the engine.
#[derive(Debug, Default, Deserialize)]
pub struct BuildInfo {
    /// The version (`2.42.0+ds`, `3.5.0`); absent on VictoriaMetrics.
    #[serde(default)]
    pub version: Option<String>,
    /// Set by engines that are not Prometheus itself (Grafana Mimir: `"Grafana Mimir"`).
    #[serde(default)]
    pub application: Option<String>,
}

impl BuildInfo {
    /// The semantics this build info implies, when it is Prometheus' own: 2.x is closed,
    /// 3.0 and later left-open. `None` for anything else (another engine, no version).
    pub fn semantics(&self) -> Option<RangeSemantics> {
        if self.application.is_some() {
            return None;
        }
        let major: u32 = self.version.as_deref()?.split('.').next()?.parse().ok()?;
        match major {
            0 | 1 => None,
            2 => Some(RangeSemantics::Closed),
            _ => Some(RangeSemantics::LeftOpen),
        }
    }
}

/// The probe's query: see the module docs.
pub const PROBE_QUERY: &str = "count_over_time(vector(1)[2s:1s])";

/// The semantics of the probe's answer: 3 points both ends, 2 left-open.
pub fn semantics_of_probe(count: f64) -> Option<RangeSemantics> {
    match count {
        3.0 => Some(RangeSemantics::Closed),
        2.0 => Some(RangeSemantics::LeftOpen),
        _ => None,
    }
}

/// Asks the engine behind `client` (see the module docs). A build info that does not name a
/// Prometheus version, or an engine without that endpoint, is probed.
///
/// # Errors
/// The engine did not answer, or answered the probe with something else than 2 or 3 points.
pub async fn detect(client: &PromClient) -> Result<RangeSemantics, PromError> {
    match client.status::<BuildInfo>("api/v1/status/buildinfo").await {
        Ok(info) => {
            if let Some(semantics) = info.semantics() {
                return Ok(semantics);
            }
        }
        Err(error @ PromError::Unreachable { .. }) => return Err(error),
        // 404 (an engine without the endpoint) or an answer of another shape: probe.
        Err(_) => {}
    }
    let now = Utc::now();
    let at = now.duration_trunc(TimeDelta::seconds(1)).unwrap_or(now);
    probe(client, at).await
}

async fn probe(client: &PromClient, at: DateTime<Utc>) -> Result<RangeSemantics, PromError> {
    let samples = client.instant(PROBE_QUERY, Some(at)).await?;
    let count = samples.first().map_or(0.0, |s| s.value);
    semantics_of_probe(count).ok_or_else(|| {
        PromError::Unexpected(format!(
            "{PROBE_QUERY} answered {count} points, neither 3 (closed ranges) nor 2 (left-open)"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(json: &str) -> BuildInfo {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn prometheus_versions_tell_the_semantics() {
        let prom2 = info(r#"{"version":"2.42.0+ds","revision":"x","goVersion":"go1.19"}"#);
        assert_eq!(prom2.semantics(), Some(RangeSemantics::Closed));
        let prom3 = info(r#"{"version":"3.5.0","revision":"x","goVersion":"go1.24"}"#);
        assert_eq!(prom3.semantics(), Some(RangeSemantics::LeftOpen));
    }

    #[test]
    fn other_engines_are_probed() {
        // VictoriaMetrics answers an empty object; Mimir names itself; Thanos is 0.x.
        assert_eq!(info("{}").semantics(), None);
        let mimir = info(r#"{"application":"Grafana Mimir","version":"2.14.0"}"#);
        assert_eq!(mimir.semantics(), None);
        assert_eq!(info(r#"{"version":"0.36.1"}"#).semantics(), None);
        assert_eq!(info(r#"{"version":"main"}"#).semantics(), None);
    }

    #[test]
    fn the_probe_counts_two_or_three_points() {
        assert_eq!(semantics_of_probe(3.0), Some(RangeSemantics::Closed));
        assert_eq!(semantics_of_probe(2.0), Some(RangeSemantics::LeftOpen));
        assert_eq!(semantics_of_probe(1.0), None);
    }

    #[test]
    fn only_closed_ranges_hold_the_start() {
        assert!(RangeSemantics::Closed.selects(0, 10, 10));
        assert!(!RangeSemantics::LeftOpen.selects(0, 10, 10));
        for semantics in [RangeSemantics::Closed, RangeSemantics::LeftOpen] {
            assert!(semantics.selects(10, 10, 10));
            assert!(semantics.selects(1, 10, 10));
            assert!(!semantics.selects(11, 10, 10));
            assert!(!semantics.selects(-1, 10, 10));
        }
    }
}
