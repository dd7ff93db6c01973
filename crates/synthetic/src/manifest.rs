//! The manifest written next to the OpenMetrics file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::series::{BULK_NAME, Config, Dataset, STEP_SECONDS, Shape};
use crate::sla::SlaSpec;

/// Environment variable with the manifest path of the history loaded in the test Prometheus.
pub const MANIFEST_ENV: &str = "TEST_SYNTHETIC_MANIFEST";

/// What was written: enough to rebuild the [`Dataset`] and to find every series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The generator's configuration (`end`, `days`, `bulk`, `seed`).
    pub config: Config,
    /// Unix time of the first sample.
    pub start: i64,
    /// Sample spacing in seconds.
    pub step_seconds: i64,
    /// Samples per series.
    pub samples_per_series: usize,
    /// The fixed series (not the bulk ones).
    pub series: Vec<SeriesInfo>,
    /// The bulk series.
    pub bulk: BulkInfo,
    /// The SLA series' range, `for` and out-of-range runs.
    pub sla: SlaSpec,
    /// The OpenMetrics file, when one was written (it may have been deleted after backfill).
    pub openmetrics: Option<PathBuf>,
}

/// One fixed series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesInfo {
    /// Full label set, `__name__` included.
    pub labels: BTreeMap<String, String>,
    /// PromQL selector of exactly this series.
    pub selector: String,
    /// Its shape.
    pub shape: Shape,
}

/// The bulk series: `name{job="synthetic",instance="synthetic:0",shard="0".."count-1"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulkInfo {
    /// Metric name.
    pub name: String,
    /// The label that tells them apart.
    pub label: String,
    /// How many.
    pub count: u32,
}

/// Reading a manifest failed.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be read.
    #[error("cannot read synthetic manifest {path}")]
    Read {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a manifest.
    #[error("malformed synthetic manifest {path}")]
    Parse {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
}

impl Manifest {
    /// The manifest of `data`, naming the OpenMetrics file it was written to.
    pub fn of(data: &Dataset, openmetrics: Option<PathBuf>) -> Self {
        let config = *data.config();
        Self {
            config,
            start: config.start(),
            step_seconds: STEP_SECONDS,
            samples_per_series: config.samples_per_series(),
            series: data
                .series()
                .iter()
                .filter(|s| !matches!(s.shape(), Shape::Bulk { .. }))
                .map(|s| SeriesInfo {
                    labels: s.label_set(),
                    selector: s.selector(),
                    shape: s.shape(),
                })
                .collect(),
            bulk: BulkInfo {
                name: BULK_NAME.to_owned(),
                label: "shard".to_owned(),
                count: config.bulk,
            },
            sla: data.sla().clone(),
            openmetrics,
        }
    }

    /// Reads a manifest file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ManifestError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.to_owned(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| ManifestError::Parse {
            path: path.to_owned(),
            source,
        })
    }

    /// The manifest named by `TEST_SYNTHETIC_MANIFEST`, `None` when the variable is unset.
    pub fn from_env() -> Option<Result<Self, ManifestError>> {
        std::env::var_os(MANIFEST_ENV).map(Self::load)
    }

    /// Rebuilds the dataset, so that every written value can be recomputed.
    pub fn dataset(&self) -> Dataset {
        Dataset::new(self.config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rebuilds_the_dataset() {
        let data = Dataset::new(Config {
            bulk: 4,
            ..Config::new(1_700_000_040)
        });
        let m = Manifest::of(&data, Some(PathBuf::from("/tmp/x.om")));
        let json = serde_json::to_string_pretty(&m).unwrap();
        let back: Manifest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.dataset(), data);
        assert_eq!(back.series.len(), 6);
        assert_eq!(back.series[0].labels["__name__"], "synthetic_seasonal");
        assert!(json.contains("\"for\": 5"));
    }
}
