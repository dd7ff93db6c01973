//! What can fail in a cycle, and the bounded `cause` label each failure is counted under.

use common::promql::PromError;
use rdkafka::error::KafkaError;

/// A failed step of a cycle.
#[derive(Debug, thiserror::Error)]
pub enum EtlError {
    /// The target Prometheus did not answer, or refused the query.
    #[error("Prometheus query failed")]
    Prometheus(#[from] PromError),
    /// The sla-manager did not give the SLA set before the cycle's deadline.
    #[error("the sla-manager did not answer")]
    SlaManager(#[source] tonic::Status),
    /// The broker did not acknowledge a record within the delivery budget.
    #[error("delivery to the broker failed")]
    Kafka(#[from] KafkaError),
    /// A statistic could not be computed for a series.
    #[error("analysis failed")]
    Analysis(#[from] analytics::Error),
    /// An analysis task ended without a result (it panicked).
    #[error("an analysis task ended abnormally")]
    Task(#[from] tokio::task::JoinError),
    /// The cycle's deadline passed before the step ended.
    #[error("the cycle's deadline passed")]
    Deadline,
    /// An SLA's labels match several series and none exactly: which one is meant is unknown.
    #[error("the labels match {matched} series and none exactly; give the full label set")]
    AmbiguousSelector {
        /// How many series matched.
        matched: usize,
    },
}

impl EtlError {
    /// The `cause` label of `etl_failures_total`.
    pub fn cause(&self) -> &'static str {
        match self {
            EtlError::Prometheus(_) => "prometheus",
            EtlError::SlaManager(_) => "sla_manager",
            EtlError::Kafka(_) => "broker",
            EtlError::Analysis(_) => "analysis",
            EtlError::Task(_) => "task",
            EtlError::Deadline => "deadline",
            EtlError::AmbiguousSelector { .. } => "ambiguous_selector",
        }
    }
}
