//! Checking a proposed SLA set in full, so that every problem is reported at once.
//!
//! The set is checked in two passes: [`parse_sla_set`] does every check that needs nothing but
//! the body and lists what to look up in Prometheus, then [`finish_validation`] joins what the
//! lookups found. This file holds the set (its size, the positions, how a problem names an
//! entry); each kind of entry is checked in its own file, `range_entry.rs` (the original's
//! range SLA) and `ratio_entry.rs` (a good/total SLI), so that a new field lands beside the
//! checks of its kind.

mod range_entry;
mod ratio_entry;

use common::{Labels, series::selector, sla::Sla};
use serde_json::{Map, Value};

use super::{
    ratio::RatioSli,
    slo::{self, Objective},
};

pub use range_entry::MAX_FOR_MINUTES;
use range_entry::{parse_entry, parse_name};
use ratio_entry::parse_ratio_entry;

/// One valid entry of a set: a range SLA (the original's) or a ratio SLI.
#[derive(Debug, Clone, PartialEq)]
pub enum SetEntry {
    /// A series and its allowed range.
    Range(Sla),
    /// Good and total events (it always has an objective).
    Ratio(RatioSli),
}

/// A proposed set after the checks that need nothing but the body.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedSet {
    /// Each entry whose name is well formed (first occurrence only), by position (0-based):
    /// the ones to look up in Prometheus.
    pub names: Vec<(usize, Labels)>,
    /// Each ratio entry whose expressions are well formed (first occurrence only), by
    /// position: the expressions to check in Prometheus.
    pub ratios: Vec<(usize, RatioSli)>,
    /// Each entry that passed every check, by position.
    slas: Vec<Option<SetEntry>>,
    /// Each entry's objective, by position (none when it has none or did not parse).
    objectives: Vec<Option<Objective>>,
    /// Everything wrong so far.
    pub problems: Vec<String>,
}

/// Checks `body` as an SLA set of `size` metrics: a JSON list of
/// `{"name": {labels}, "range": {"min", "max"}, "for": minutes}`.
pub fn parse_sla_set(body: &Value, size: usize) -> ParsedSet {
    let mut parsed = ParsedSet {
        names: Vec::new(),
        ratios: Vec::new(),
        slas: Vec::new(),
        objectives: Vec::new(),
        problems: Vec::new(),
    };
    let Some(entries) = body.as_array() else {
        parsed
            .problems
            .push(format!("The SLA set must be a JSON list of {size} metrics"));
        return parsed;
    };
    if entries.len() != size {
        parsed.problems.push(format!(
            "SLA set must consist of {size} metrics. {} provided",
            entries.len()
        ));
    }
    for (index, entry) in entries.iter().enumerate() {
        let ratio = entry.as_object().filter(|fields| is_ratio(fields));
        let who = match ratio {
            Some(_) => format!("{} (ratio)", subject(index, None)),
            None => subject(index, parse_name(entry.get("name")).ok().as_ref()),
        };
        let sla = match ratio {
            Some(fields) => {
                parse_ratio_entry(index, fields, &who, &mut parsed).map(SetEntry::Ratio)
            }
            None => parse_entry(index, entry, &mut parsed).map(SetEntry::Range),
        };
        let objective = slo::parse_objective(entry.get("objective")).unwrap_or_else(|list| {
            parsed
                .problems
                .extend(list.into_iter().map(|p| format!("{who}: {p}")));
            None
        });
        let sla = if ratio.is_some() && entry.get("objective").is_none_or(Value::is_null) {
            parsed.problems.push(format!(
                "{who}: objective is missing (a ratio entry needs one)"
            ));
            None
        } else {
            sla
        };
        parsed.slas.push(sla);
        parsed.objectives.push(objective);
    }
    parsed
}

/// The problem of a ratio entry whose expression the target Prometheus rejects.
pub fn bad_expression(index: usize, which: &str, message: &str) -> String {
    format!(
        "{} (ratio): {which} is not a valid PromQL expression: {message}",
        subject(index, None)
    )
}

/// The problem of an entry whose series the target Prometheus does not have.
pub fn not_in_prometheus(index: usize, labels: &Labels) -> String {
    format!(
        "{}: not found in the target Prometheus (no series with exactly these labels)",
        subject(index, Some(labels))
    )
}

impl ParsedSet {
    /// The objective of each entry, in the set's order (call before [`finish_validation`]).
    pub fn objectives(&self) -> Vec<Option<Objective>> {
        self.objectives.clone()
    }
}

/// The valid set, or every problem: those found in the body and `more` (found elsewhere).
pub fn finish_validation(
    parsed: ParsedSet,
    more: Vec<String>,
) -> Result<Vec<SetEntry>, Vec<String>> {
    let mut problems = parsed.problems;
    problems.extend(more);
    if problems.is_empty() {
        // No problem means every entry parsed.
        Ok(parsed.slas.into_iter().flatten().collect())
    } else {
        Err(problems)
    }
}

/// How a problem names an entry: its 1-based position and, when known, its selector.
fn subject(index: usize, labels: Option<&Labels>) -> String {
    match labels {
        Some(labels) => format!("metric {} ({})", index + 1, selector(labels)),
        None => format!("metric {}", index + 1),
    }
}

/// Whether an entry is a ratio SLI: it has `good` or `total`.
fn is_ratio(fields: &Map<String, Value>) -> bool {
    fields.contains_key("good") || fields.contains_key("total")
}

#[cfg(test)]
mod tests;
