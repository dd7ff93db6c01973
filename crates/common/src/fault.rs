//! Fault switches for the mutation runs of `reliability/` (feature `fault-injection`, never a
//! default feature and never built by the Dockerfile).
//!
//! Each switch breaks one property a reliability script claims to check, so that the script can
//! be shown to fail when the property breaks (`reliability/mutations.sh`). A switch is on only
//! when its environment variable is set in the service's environment:
//!
//! - `FAULT_NO_LOAD_SHED=1`: the REST edge queues without limit instead of answering 503.
//! - `FAULT_STORAGE_DROP_PERCENT=N` (1-100): storage commits N% of the records without writing
//!   them: the first record it consumes, then one in every `100 / N`.
//! - `FAULT_ETL_FAIL_STEPS=1`: every etl cycle fails all its steps and produces nothing.
//! - `FAULT_ETL_DOUBLE_LEADER=1`: an etl replica takes a shard's lease even while another holds
//!   it, wants every shard, and keeps leading after losing its lease.
//! - `FAULT_BAD_INPUT_FAILS=1`: bad input fails the services instead of being answered: an
//!   instant parameter past the year 9000 panics the REST handler (as chrono's overflow did
//!   before issue 14), and a gRPC call with more than four metadata entries of its own (`x-` keys) answers
//!   `UNKNOWN`.
//! - `FAULT_STORAGE_REJECT_NAN=1`: storage dead-letters every record whose value holds a NaN
//!   (`invalid type: null, expected f64`), as it did before issue 14 with the NaN quantiles of
//!   Prometheus' own summaries.

use std::sync::{
    OnceLock,
    atomic::{AtomicU64, Ordering},
};

/// True when the switch `name` is set to `1`.
fn on(name: &str) -> bool {
    std::env::var(name).is_ok_and(|value| value == "1")
}

/// The REST edge does not shed load (`FAULT_NO_LOAD_SHED=1`).
pub fn no_load_shed() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| on("FAULT_NO_LOAD_SHED"))
}

/// Every etl cycle fails all its steps (`FAULT_ETL_FAIL_STEPS=1`).
pub fn etl_fail_steps() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| on("FAULT_ETL_FAIL_STEPS"))
}

/// Several etl replicas lead one shard (`FAULT_ETL_DOUBLE_LEADER=1`).
pub fn etl_double_leader() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| on("FAULT_ETL_DOUBLE_LEADER"))
}

/// Bad input fails the services (`FAULT_BAD_INPUT_FAILS=1`).
pub fn bad_input_fails() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| on("FAULT_BAD_INPUT_FAILS"))
}

/// Storage dead-letters the records that hold a NaN (`FAULT_STORAGE_REJECT_NAN=1`).
pub fn storage_rejects_nan() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| on("FAULT_STORAGE_REJECT_NAN"))
}

/// One in every how many records storage drops (`FAULT_STORAGE_DROP_PERCENT`), if any.
fn storage_drop_every() -> Option<u64> {
    static EVERY: OnceLock<Option<u64>> = OnceLock::new();
    *EVERY.get_or_init(|| {
        let percent: u64 = std::env::var("FAULT_STORAGE_DROP_PERCENT")
            .ok()?
            .parse()
            .ok()?;
        drop_every(percent)
    })
}

/// `percent` as "one in every N records": none outside 1-100.
fn drop_every(percent: u64) -> Option<u64> {
    (1..=100).contains(&percent).then(|| 100 / percent)
}

/// Whether storage drops the next record it consumes: counts every call, and answers true for
/// the first and then one in every `100 / FAULT_STORAGE_DROP_PERCENT`.
pub fn storage_drops_next() -> bool {
    static SEEN: AtomicU64 = AtomicU64::new(0);
    let Some(every) = storage_drop_every() else {
        return false;
    };
    SEEN.fetch_add(1, Ordering::Relaxed).is_multiple_of(every)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_becomes_one_in_every_n() {
        assert_eq!(drop_every(1), Some(100));
        assert_eq!(drop_every(3), Some(33));
        assert_eq!(drop_every(100), Some(1));
        assert_eq!(drop_every(0), None);
        assert_eq!(drop_every(101), None);
    }
}
