//! The SLA manager: keeps the SLA set, tells whether each SLA holds, how often it was broken
//! and whether it is about to break (REST), and serves the set to the etl (gRPC).
//!
//! Start reading at [`startup`].

pub mod domain;
