//! Integration tests of the SLA manager against the real database and the target Prometheus
//! with the synthetic history, as `scripts/test.sh` starts them (`TEST_*` variables).
//! Expectations are recomputed from the synthetic generator, never from the service's code.

mod conformance;
mod edges;
mod faults;
mod future;
mod grpc;
mod helpers;
mod minutes;
mod openslo;
mod ratio;
mod ratio_minutes;
mod rules;
#[path = "../../../../conformance/shape.rs"]
mod shape;
mod slaset;
mod slo;
mod state;
mod tls;
mod ui;
