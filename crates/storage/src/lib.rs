//! `storage`: consumes the etl's results from Kafka and writes them into MongoDB's `metrics`
//! collection, at least once and never letting an older result overwrite a newer one.
//!
//! Read [`startup`] first: it wires the consumer, the dead-letter producer, the repository and
//! the admin listener together.

pub mod config;
pub mod consumer;
pub mod dead_letter;
pub mod domain;
pub mod error;
pub mod instruments;
pub mod repository;
pub mod startup;
