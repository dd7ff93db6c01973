//! What a consumption error means: retried with backoff, or the end of the service.

use common::admin::error_chain;
use rdkafka::{error::KafkaError, types::RDKafkaErrorCode};
use tokio_util::sync::CancellationToken;

use super::Pipeline;
use crate::error::StorageError;

/// What a consumption error means for the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The broker or the network is having a moment (or the topic does not exist yet): retry.
    Retriable,
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
        let delay = self.backoff("consume", attempt);
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
            KafkaError::MessageConsumption(RDKafkaErrorCode::BrokerTransportFailure),
            KafkaError::MessageConsumption(RDKafkaErrorCode::AllBrokersDown),
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
}
