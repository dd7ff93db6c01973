//! `sla-manager rules`: Prometheus recording rules and the SRE workbook's burn-rate alerts for
//! the objectives of an SLA set file, as a rule file or a `PrometheusRule` custom resource, and
//! promtool unit tests of them.
//!
//! Output is JSON, which is YAML too: Prometheus, promtool and kubectl read it as it is.
//!
//! Per SLA with an objective (`sla_id` is its series id):
//! - `slo:in_range` = the 0/1 in-range indicator, evaluated each minute (the timeslice);
//! - `slo:error_ratio:<w>` = `1 - avg_over_time(slo:in_range[w])` for each burn window;
//! - one alert per workbook pair, `SloBurnRate<factor>x`, when both windows' error ratios
//!   exceed `factor x (1 - target)`, with `severity` page or ticket.

use std::{
    fs,
    io::{self, Read, Write},
    path::PathBuf,
};

use clap::{Parser, ValueEnum};
use common::{
    Labels,
    series::{METRIC_NAME_LABEL, selector},
    sla::Sla,
};
use serde_json::{Value, json};

use crate::{
    domain::{
        self,
        slo::{ALERTS, BURN_WINDOWS, BurnAlert, Objective, Severity},
    },
    manager::in_range_indicator,
};

/// `sla-manager rules`: writes rules for the objectives of an SLA set file.
#[derive(Debug, Parser)]
#[command(name = "sla-manager rules", bin_name = "sla-manager rules")]
pub struct RulesArgs {
    /// The output format.
    #[arg(long, value_enum, default_value_t = Format::Prometheus)]
    pub format: Format,
    /// The SLA set, as `PUT /slaset` takes it; standard input when absent.
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Where to write the rules; standard output when absent.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Also write promtool unit tests of the rules here (format `prometheus` only): each alert
    /// fires on a series that leaves its range and stays quiet on one that does not.
    #[arg(long)]
    pub tests: Option<PathBuf>,
}

/// A rule file or a custom resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Prometheus' rule file format (`groups: [...]`).
    Prometheus,
    /// A `monitoring.coreos.com/v1` `PrometheusRule`.
    Prometheusrule,
}

/// Why rules could not be written.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// The input could not be read, or the output written.
    #[error("cannot read or write {what}")]
    Io {
        /// Which file.
        what: String,
        /// The cause.
        source: io::Error,
    },
    /// The input is not JSON.
    #[error("the SLA set is not JSON")]
    Json(#[from] serde_json::Error),
    /// The set is invalid: every problem.
    #[error("invalid SLA set:\n{}", .0.join("\n"))]
    Invalid(Vec<String>),
    /// Tests were asked of a custom resource.
    #[error("--tests needs --format prometheus (promtool tests rule files)")]
    TestsNeedRuleFile,
}

/// Runs the subcommand with `args`: `rules`, then its options.
pub fn run(args: impl IntoIterator<Item = std::ffi::OsString>) -> Result<(), RulesError> {
    let args = RulesArgs::parse_from(args);
    if args.tests.is_some() && args.format != Format::Prometheus {
        return Err(RulesError::TestsNeedRuleFile);
    }
    let text = match &args.input {
        Some(path) => fs::read_to_string(path).map_err(|source| RulesError::Io {
            what: path.display().to_string(),
            source,
        })?,
        None => {
            let mut text = String::new();
            io::stdin()
                .read_to_string(&mut text)
                .map_err(|source| RulesError::Io {
                    what: "standard input".into(),
                    source,
                })?;
            text
        }
    };
    let objectives = objectives_of(&serde_json::from_str(&text)?)?;
    let groups = rule_groups(&objectives);
    let document = match args.format {
        Format::Prometheus => groups,
        Format::Prometheusrule => prometheus_rule(groups),
    };
    write(args.output.as_ref(), &document)?;
    if let Some(path) = &args.tests {
        let rule_file = args
            .output
            .as_ref()
            .and_then(|p| p.file_name())
            .map_or("rules.yml".to_owned(), |n| n.to_string_lossy().into_owned());
        write(Some(path), &unit_tests(&objectives, &rule_file))?;
    }
    Ok(())
}

fn write(path: Option<&PathBuf>, document: &Value) -> Result<(), RulesError> {
    let mut text = serde_json::to_string_pretty(document)?;
    text.push('\n');
    match path {
        Some(path) => fs::write(path, text).map_err(|source| RulesError::Io {
            what: path.display().to_string(),
            source,
        }),
        None => io::stdout()
            .write_all(text.as_bytes())
            .map_err(|source| RulesError::Io {
                what: "standard output".into(),
                source,
            }),
    }
}

/// The range SLAs of `body` that have an objective, checked as `PUT /slaset` checks a set (of any
/// size; the series are not looked up).
pub fn objectives_of(body: &Value) -> Result<Vec<(Sla, Objective)>, RulesError> {
    let size = body.as_array().map_or(0, Vec::len);
    let parsed = domain::parse_sla_set(body, size);
    let objectives = parsed.objectives();
    let slas = domain::finish_validation(parsed, vec![]).map_err(RulesError::Invalid)?;
    Ok(slas
        .into_iter()
        .zip(objectives)
        .filter_map(|(entry, objective)| match entry {
            domain::SetEntry::Range(sla) => objective.map(|o| (sla, o)),
            // Ratio SLIs get no generated rules yet: their figures are on /metrics.
            domain::SetEntry::Ratio(_) => None,
        })
        .collect())
}

fn sla_id(sla: &Sla) -> String {
    sla.id().to_string()
}

fn error_ratio(window: &str) -> String {
    format!("slo:error_ratio:{window}")
}

fn alert_name(alert: &BurnAlert) -> String {
    format!("SloBurnRate{}x", alert.factor).replace('.', "_")
}

/// The rule file: one group per SLA with an objective.
pub fn rule_groups(objectives: &[(Sla, Objective)]) -> Value {
    let groups: Vec<Value> = objectives
        .iter()
        .map(|(sla, objective)| {
            let id = sla_id(sla);
            let labels = json!({"sla_id": id});
            let mut rules = vec![json!({
                "record": "slo:in_range",
                "expr": in_range_indicator(sla),
                "labels": labels,
            })];
            rules.extend(BURN_WINDOWS.iter().map(|(window, _)| {
                json!({
                    "record": error_ratio(window),
                    "expr": format!("1 - avg_over_time(slo:in_range{{sla_id=\"{id}\"}}[{window}])"),
                    "labels": labels,
                })
            }));
            rules.extend(ALERTS.iter().map(|alert| {
                let threshold = alert.factor * objective.allowed_bad();
                let side =
                    |w: &str| format!("{}{{sla_id=\"{id}\"}} > {threshold:?}", error_ratio(w));
                json!({
                    "alert": alert_name(alert),
                    "expr": format!("({}) and ({})", side(alert.long), side(alert.short)),
                    "labels": {
                        "severity": severity(alert),
                        "sla_id": id,
                    },
                    "annotations": {"summary": summary(sla, objective, alert)},
                })
            }));
            json!({"name": format!("slo-{id}"), "interval": "1m", "rules": rules})
        })
        .collect();
    json!({ "groups": groups })
}

fn summary(sla: &Sla, objective: &Objective, alert: &BurnAlert) -> String {
    format!(
        "{} burns its error budget faster than {}x over {} and {} (objective {} over {})",
        selector(&sla.name),
        alert.factor,
        alert.long,
        alert.short,
        objective.target,
        objective.window.text()
    )
}

fn severity(alert: &BurnAlert) -> &'static str {
    match alert.severity {
        Severity::Page => "page",
        Severity::Ticket => "ticket",
    }
}

/// `groups` as a `PrometheusRule` custom resource.
pub fn prometheus_rule(groups: Value) -> Value {
    json!({
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "sla-manager-slo", "labels": {"app.kubernetes.io/name": "sla-manager"}},
        "spec": groups,
    })
}

/// A series as promtool's `input_series` writes it: `name{label="value",...}`.
fn series_text(labels: &Labels) -> String {
    let mut rest = labels.clone();
    let name = rest.remove(METRIC_NAME_LABEL).unwrap_or_default();
    format!("{name}{}", selector(&rest))
}

/// promtool unit tests of [`rule_groups`] in `rule_file`: per SLA, a series out of range for
/// the whole test fires every alert that can fire at its target, and one in range fires none.
pub fn unit_tests(objectives: &[(Sla, Objective)], rule_file: &str) -> Value {
    // Three hours at one sample a minute: past every short window and the 1h and 2h long ones.
    const MINUTES: u32 = 180;
    let eval_times = ["30m", "3h"];
    let tests: Vec<Value> = objectives
        .iter()
        .flat_map(|(sla, objective)| {
            let id = sla_id(sla);
            // An alert carries the series' labels (less its name), `sla_id` and `severity`.
            let mut labels: serde_json::Map<String, Value> = sla
                .name
                .iter()
                .filter(|(k, _)| k.as_str() != METRIC_NAME_LABEL)
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect();
            labels.insert("sla_id".into(), json!(id));
            let inside = sla.range.min / 2.0 + sla.range.max / 2.0;
            let outside = sla.range.max + sla.range.max.abs().max(1.0);
            let case = |value: f64, fires: bool| {
                let alerts: Vec<Value> = ALERTS
                    .iter()
                    .flat_map(|alert| {
                        let name = alert_name(alert);
                        let mut labels = labels.clone();
                        labels.insert("severity".into(), json!(severity(alert)));
                        let annotations = json!({"summary": summary(sla, objective, alert)});
                        // Past a threshold of 1 (14.4x of a target below 93%) no error
                        // ratio reaches it: such an alert cannot fire, even on a full burn.
                        let reachable = alert.factor * objective.allowed_bad() < 1.0;
                        eval_times.iter().map(move |at| {
                            let expected = if fires && reachable {
                                vec![json!({"exp_labels": labels, "exp_annotations": annotations})]
                            } else {
                                vec![]
                            };
                            json!({"eval_time": at, "alertname": name, "exp_alerts": expected})
                        }).collect::<Vec<_>>()
                    })
                    .collect();
                json!({
                    "interval": "1m",
                    "input_series": [{
                        "series": series_text(&sla.name),
                        "values": format!("{value:?}+0x{MINUTES}"),
                    }],
                    "alert_rule_test": alerts,
                })
            };
            [case(outside, true), case(inside, false)]
        })
        .collect();
    json!({"rule_files": [rule_file], "evaluation_interval": "1m", "tests": tests})
}
