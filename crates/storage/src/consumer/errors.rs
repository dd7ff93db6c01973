//! What a consumption error means: retried with backoff, or the end of the service.

use common::admin::error_chain;
use rdkafka::{error::KafkaError, types::RDKafkaErrorCode};
use tokio_util::sync::CancellationToken;

use super::Pipeline;
use crate::error::StorageError;

/// The pause after a [`Severity::ConnectionReport`]: the next poll waits for the next event
/// anyway; this only keeps a burst of queued reports from spinning.
const CONNECTION_REPORT_PAUSE: std::time::Duration = std::time::Duration::from_millis(20);

/// What a consumption error means for the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The broker or the network is having a moment (or the topic does not exist yet): retry.
    Retriable,
    /// News about the broker connections only (all brokers down, a transport failure), which
    /// librdkafka restores by itself: polled again almost at once. librdkafka queues such an
    /// event at every failed reconnection while the broker is away and serves them one per poll
    /// after it is back, so a backoff after each held the consumer back for minutes after a
    /// broker restart (reliability/fault-classes.sh broker-restart-kept: 116 s to over 180 s,
    /// with the consumer's connections to the broker established again meanwhile).
    ConnectionReport,
    /// Retrying cannot help (authorization, invalid configuration, a fatal client state).
    Fatal,
}

/// Sorts a consumption error. Anything not known to be final is retried, with backoff.
pub fn severity(error: &KafkaError) -> Severity {
    match error {
        KafkaError::MessageConsumptionFatal(_)
        | KafkaError::Subscription(_)
        | KafkaError::ClientCreation(_) => Severity::Fatal,
        KafkaError::MessageConsumption(code) | KafkaError::Global(code) if is_final(*code) => {
            Severity::Fatal
        }
        KafkaError::MessageConsumption(
            RDKafkaErrorCode::AllBrokersDown | RDKafkaErrorCode::BrokerTransportFailure,
        )
        | KafkaError::Global(
            RDKafkaErrorCode::AllBrokersDown | RDKafkaErrorCode::BrokerTransportFailure,
        ) => Severity::ConnectionReport,
        _ => Severity::Retriable,
    }
}

fn is_final(code: RDKafkaErrorCode) -> bool {
    matches!(
        code,
        RDKafkaErrorCode::Fatal
            | RDKafkaErrorCode::TopicAuthorizationFailed
            | RDKafkaErrorCode::GroupAuthorizationFailed
            | RDKafkaErrorCode::ClusterAuthorizationFailed
            | RDKafkaErrorCode::SaslAuthenticationFailed
            | RDKafkaErrorCode::Authentication
            | RDKafkaErrorCode::UnsupportedSASLMechanism
            | RDKafkaErrorCode::IllegalSASLState
            | RDKafkaErrorCode::InvalidGroupId
            | RDKafkaErrorCode::InvalidConfig
            | RDKafkaErrorCode::InvalidArgument
            | RDKafkaErrorCode::InvalidTopic
            | RDKafkaErrorCode::InconsistentGroupProtocol
    )
}

impl Pipeline {
    /// Logs and counts a consumption error and waits before polling again; a fatal error is
    /// returned. `false` when cancelled while waiting.
    pub(super) async fn wait_after_consumer_error(
        &self,
        error: KafkaError,
        attempt: u32,
        token: &CancellationToken,
    ) -> Result<bool, StorageError> {
        if severity(&error) == Severity::Fatal {
            tracing::error!(topic = %self.topic, error = %error_chain(&error), "consumption failed for good");
            return Err(StorageError::Subscription {
                topic: self.topic.clone(),
                source: error,
            });
        }
        let delay = if severity(&error) == Severity::ConnectionReport {
            CONNECTION_REPORT_PAUSE
        } else {
            self.backoff("consume", attempt)
        };
        tracing::warn!(topic = %self.topic, attempt, delay_ms = delay.as_millis() as u64, error = %error_chain(&error), "consumption error; retrying");
        Ok(tokio::select! {
            _ = token.cancelled() => false,
            _ = tokio::time::sleep(delay) => true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_errors_are_retried_and_final_ones_are_not() {
        let retried = [
            KafkaError::MessageConsumption(RDKafkaErrorCode::UnknownTopicOrPartition),
            KafkaError::Global(RDKafkaErrorCode::OperationTimedOut),
        ];
        for error in retried {
            assert_eq!(severity(&error), Severity::Retriable, "{error}");
        }
        let fatal = [
            KafkaError::MessageConsumption(RDKafkaErrorCode::TopicAuthorizationFailed),
            KafkaError::MessageConsumption(RDKafkaErrorCode::GroupAuthorizationFailed),
            KafkaError::MessageConsumptionFatal(RDKafkaErrorCode::Fatal),
            KafkaError::Global(RDKafkaErrorCode::Fatal),
        ];
        for error in fatal {
            assert_eq!(severity(&error), Severity::Fatal, "{error}");
        }
    }

    #[test]
    fn connection_reports_are_polled_on_without_a_backoff() {
        let reports = [
            KafkaError::MessageConsumption(RDKafkaErrorCode::AllBrokersDown),
            KafkaError::MessageConsumption(RDKafkaErrorCode::BrokerTransportFailure),
            KafkaError::Global(RDKafkaErrorCode::AllBrokersDown),
        ];
        for error in reports {
            assert_eq!(severity(&error), Severity::ConnectionReport, "{error}");
        }
        assert!(CONNECTION_REPORT_PAUSE < std::time::Duration::from_millis(100));
    }
}
