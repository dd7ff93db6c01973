//! `retrieval`: the stored results of the SLA monitor over REST, and ad-hoc windowed
//! aggregations of one series answered by the target Prometheus.
//!
//! Read [`startup`] first: it wires the configuration, the database, the Prometheus client, the
//! routes and the two listeners (API and admin).

pub mod config;
pub mod domain;
pub mod error;
pub mod extract;
pub mod instruments;
pub mod repository;
pub mod routes;
pub mod startup;
pub mod state;
