//! `storage` against the real broker and database (started by `scripts/test.sh`, which sets
//! `TEST_KAFKA_BROKERS`, `TEST_MONGO_URI` and `SECANTUSD_BIN`).

mod dead_letters;
mod faults;
mod helpers;
mod records;
mod trust;
