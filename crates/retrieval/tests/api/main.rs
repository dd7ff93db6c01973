//! Integration tests of `retrieval` against the real database and the target Prometheus with
//! the synthetic history (run through `scripts/test.sh`, which starts them and sets `TEST_*`).

mod aggregate;
mod anomalies;
mod conformance;
mod edge;
mod faults;
mod helpers;
mod listing;
mod results;
#[path = "../../../../conformance/shape.rs"]
mod shape;
