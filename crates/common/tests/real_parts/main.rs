//! Proof that each real part works from Rust the way the services use it: the broker
//! (rdkafka, acks=all, consumer group with manual commit), the database (the `metrics`
//! repository) and the target Prometheus with the synthetic history.
//!
//! Run through `scripts/test.sh`, which starts them and sets `TEST_*`.

mod broker;
mod database;
mod prometheus;
