//! Deterministic synthetic Prometheus history with known shapes.
//!
//! The `synthetic` binary writes these series as OpenMetrics text that
//! `promtool tsdb create-blocks-from openmetrics` backfills into a Prometheus
//! data directory, plus a [`Manifest`] next to it. Tests load the manifest
//! (its path is in `TEST_SYNTHETIC_MANIFEST` under `scripts/test.sh`) and
//! recompute exactly what was written:
//!
//! ```
//! use synthetic::{Config, Dataset};
//!
//! let data = Dataset::new(Config::new(1_700_000_000));
//! let seasonal = data.series_named("synthetic_seasonal").expect("always present");
//! // The value of any sample is a pure function of the series and the time.
//! let v = seasonal.value(1_700_000_000);
//! assert_eq!(v, seasonal.value(1_700_000_000));
//! // Expected `max_over_time(synthetic_seasonal[12h])` evaluated at the end.
//! let w = data.window_stats(seasonal, data.config().end, 12 * 3600).expect("samples");
//! assert!(w.max >= v);
//! // The SLA series leaves its range in known runs.
//! assert!(!data.sla().runs.is_empty());
//! ```
//!
//! Noise is a hash of (seed, series, timestamp), not a sequential generator, so
//! any sample can be recomputed alone, in any order, on any machine.

mod manifest;
mod noise;
mod openmetrics;
mod series;
mod sla;

pub use manifest::{BulkInfo, MANIFEST_ENV, Manifest, ManifestError, SeriesInfo};
pub use openmetrics::{escape_label_value, write_openmetrics, write_openmetrics_between};
pub use series::{
    BULK_NAME, Config, DEFAULT_DAYS, DEFAULT_SEED, Dataset, STEP_SECONDS, Series, Shape,
    WindowStats, value,
};
pub use sla::{Direction, Run, SLA_FOR_MINUTES, SLA_NAME, SlaRange, SlaSpec};
