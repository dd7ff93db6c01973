//! Messages that cannot be stored go to the dead-letter topic, made in one place.

use common::admin::error_chain;
use rdkafka::types::RDKafkaErrorCode;
use tokio_util::sync::CancellationToken;

use super::Pipeline;
use crate::{
    dead_letter::{self, DeadLetter},
    domain::{Position, Rejection},
    error::StorageError,
};

impl Pipeline {
    /// Sends the message at `position` to the dead-letter topic with the reason and the full
    /// error of `rejection`: the one place a dead letter is made. `false` when cancelled
    /// before it was delivered.
    pub(super) async fn reject(
        &self,
        position: Position,
        key: Option<&[u8]>,
        payload: Option<&[u8]>,
        rejection: &Rejection,
        token: &CancellationToken,
    ) -> Result<bool, StorageError> {
        let letter = DeadLetter {
            position,
            key,
            payload,
            reason: rejection.reason(),
            error: error_chain(rejection),
        };
        self.send_dead_letter(&letter, token).await
    }

    /// Delivers a dead letter, retrying transient failures with backoff; `false` when
    /// cancelled first. A dead letter the broker can never take as it is (refused for its
    /// size or form even after its payload was cut) is reported (error log,
    /// `storage_dead_letters_failed_total`) and skipped, so its partition moves on; being
    /// refused the topic stops the service.
    async fn send_dead_letter(
        &self,
        letter: &DeadLetter<'_>,
        token: &CancellationToken,
    ) -> Result<bool, StorageError> {
        let mut attempt = 0;
        loop {
            let error = match self.dead_letters.send(letter).await {
                Ok(()) => {
                    self.instruments
                        .dead_letters
                        .with_label_values(&[letter.reason])
                        .inc();
                    return Ok(true);
                }
                Err(error) => error,
            };
            if dead_letter::is_deterministic(&error) {
                tracing::error!(
                    topic = %self.dead_letters.topic(),
                    partition = letter.position.partition,
                    offset = letter.position.offset,
                    reason = letter.reason,
                    error = %error_chain(&error),
                    "the broker refuses this dead letter for good; skipped",
                );
                self.instruments.dead_letters_failed.inc();
                if matches!(
                    error.rdkafka_error_code(),
                    Some(
                        RDKafkaErrorCode::TopicAuthorizationFailed
                            | RDKafkaErrorCode::ClusterAuthorizationFailed
                    )
                ) {
                    return Err(StorageError::DeadLetterTopic {
                        topic: self.dead_letters.topic().to_owned(),
                        source: error,
                    });
                }
                return Ok(true);
            }
            attempt += 1;
            let delay = self.backoff("dead_letter", attempt);
            tracing::warn!(topic = %self.dead_letters.topic(), attempt, delay_ms = delay.as_millis() as u64, %error, "dead letter not delivered; retrying");
            tokio::select! {
                _ = token.cancelled() => return Ok(false),
                _ = tokio::time::sleep(delay) => {}
            }
        }
    }
}
