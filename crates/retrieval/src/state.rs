//! The state every handler shares.

use common::promql::PromClient;

use crate::{instruments::Instruments, repository::ResultsRepository};

/// What the handlers share: built once in `startup`, cloned into each request (every field is
/// a handle to shared clients and metrics).
#[derive(Debug, Clone)]
pub struct AppState {
    /// The stored results.
    pub repository: ResultsRepository,
    /// The target Prometheus, for aggregations.
    pub prometheus: PromClient,
    /// The service's metrics.
    pub instruments: Instruments,
}
