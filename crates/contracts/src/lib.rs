//! The contracts of the SLA monitor: what the services agree on and exchange, as plain data with
//! no runtime. Series identity ([`series`]), the Kafka records ([`record`]) and the NaN/±Inf
//! encoding of their numbers ([`float`]), the SLA model ([`sla`]), the MongoDB documents
//! ([`document`]), and the single definitions of the aggregate windows and operations
//! ([`window`]).
//!
//! It depends on serde (and serde_json, for PromQL selectors), chrono, xxhash, bson and thiserror only (utoipa behind `openapi`), so that a crate
//! that needs a `SeriesId` or a `Record` does not compile a web server, a gRPC stack or a
//! database driver. The service kit (`common`) re-exports every module under its old path.
#![warn(missing_docs)]

pub mod document;
pub mod float;
pub mod record;
pub mod series;
pub mod sla;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
pub mod window;

pub use series::{Labels, SeriesId};
