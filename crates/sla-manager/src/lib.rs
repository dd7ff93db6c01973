//! The SLA manager: keeps the SLA set, tells whether each SLA holds, how often it was broken
//! and whether it is about to break (REST), and serves the set to the etl (gRPC).
//!
//! Start reading at [`startup`].

pub mod config;
pub mod domain;
pub mod error;
pub mod extract;
pub mod grpc;
pub mod instruments;
pub mod manager;
pub mod minute_store;
pub mod openslo;
pub mod repository;
pub mod routes;
pub mod rules;
pub mod startup;
pub mod state;
pub mod ui;
