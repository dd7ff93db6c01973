//! The etl service: every `ETL_FAST_LOOP_SECS` the windowed aggregates of every selected series
//! of the target Prometheus and the forecasts of the SLA metrics, every `ETL_SLOW_LOOP_SECS`
//! their metadata, all sent to Kafka as `common::record::Record`s. Also `etl analyze`, the same
//! statistics for one CSV file. Start reading at [`startup`].

pub mod analysis;
pub mod analyze;
pub mod anomalies;
pub mod config;
pub mod csv;
pub mod discovery;
pub mod error;
pub mod fast_loop;
pub mod instruments;
pub mod leadership;
pub mod lease;
pub mod producer;
pub mod schedule;
pub mod shard;
pub mod sla_client;
pub mod slicing;
pub mod slow_loop;
pub mod startup;
pub mod waiting;
