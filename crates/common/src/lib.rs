//! The service kit of the SLA monitor: the plumbing every service needs once (configuration,
//! telemetry, the admin listener, the REST edge, retry, shutdown, the PromQL client, the MongoDB
//! store, the gRPC API and test support).
//!
//! The contracts the services exchange (series identity, Kafka records, documents, the SLA
//! model, the aggregate windows and operations) live in the pure `contracts` crate; they are
//! re-exported here under their old paths (`common::record::Record`), so that a service needs
//! only this crate.
#![warn(missing_docs)]

pub use contracts::{document, float, record, series, sla, window};

pub mod admin;
pub mod config;
#[cfg(feature = "fault-injection")]
pub mod fault;
pub mod grpc_tls;
pub mod http;
pub mod kafka_security;
pub mod params;
pub mod promql;
pub mod proto;
pub mod range_semantics;
pub mod rest;
pub mod retry;
pub mod shutdown;
pub mod store;
pub mod telemetry;
#[cfg(feature = "test-support")]
pub mod testing;

pub use series::{Labels, SeriesId};
