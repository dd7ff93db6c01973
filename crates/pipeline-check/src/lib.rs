//! `pipeline-check`: reads every document of a running pipeline's `metrics` collection and checks
//! it against what the target Prometheus answers (`*_over_time` at the document's
//! `computed_at`), against what the synthetic generator wrote, and against the SLA set.
//!
//! - [`compare`]: the comparison rules and the tally of assertions and mismatches (pure).
//! - [`check`]: gathers the documents, the selected series and the SLA set, and runs the rules.
//! - [`config`]: the command line.
//! - [`audit`]: the records of the topic accounted for by identity, and their leaders (pure).
//! - [`fault`]: the faults `fault-proxy` injects, and its corruptions of a Prometheus answer (pure).
//! - [`inject`]: the messages `record-inject` puts in the topic, and what must become of them (pure).
//! - [`proxy`]: `fault-proxy`'s TCP proxy, HTTP front and control endpoint.
//! - [`slaset`]: the stored SLA set's range SLAs, its ratio SLIs checked for shape only.
//! - [`topic`]: reads the topic, the storage group's offsets and the stored timestamps for it.
#![warn(missing_docs)]

pub mod audit;
pub mod check;
pub mod compare;
pub mod config;
pub mod fault;
pub mod inject;
pub mod proxy;
pub mod slaset;
pub mod topic;
