//! Shared core of the SLA monitor: the contracts every service agrees on (series identity,
//! Kafka records, MongoDB documents, the SLA model, the gRPC API), and the plumbing every
//! service needs once (configuration, telemetry, the admin listener, retry, shutdown and the
//! PromQL client).
#![warn(missing_docs)]

pub mod admin;
pub mod config;
#[cfg(feature = "fault-injection")]
pub mod fault;
pub mod float;
pub mod http;
pub mod kafka_security;
pub mod params;
pub mod promql;
pub mod proto;
pub mod range_semantics;
pub mod record;
pub mod retry;
pub mod series;
pub mod shutdown;
pub mod sla;
pub mod store;
pub mod telemetry;
#[cfg(feature = "test-support")]
pub mod testing;

pub use series::{Labels, SeriesId};
