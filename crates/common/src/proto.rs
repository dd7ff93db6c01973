//! Generated code of `proto/sla.proto` (package `sla`), compiled once here so that the
//! sla-manager's server and the etl's client share one definition.
#![allow(missing_docs, unreachable_pub, clippy::all)]

tonic::include_proto!("sla");
