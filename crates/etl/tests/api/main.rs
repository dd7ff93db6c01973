//! Integration tests of the etl against the real Prometheus (synthetic history), the real
//! broker and a real tonic SLA server; run through scripts/test.sh.

mod analyze_cli;
mod anomalies;
mod bounds;
mod cycles;
mod engines;
mod faults;
mod helpers;
mod init_topic;
mod kafka_security;
mod leadership;
mod non_finite;
mod sla_tls;
mod split;
