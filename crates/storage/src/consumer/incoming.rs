//! A consumed message, decoded and checked, or what the dead letter needs to say why not.

use common::record::Record;
use rdkafka::{Message, message::BorrowedMessage};

use crate::domain::{Limits, Position, Rejection, accept};

/// A consumed message, decoded or not.
#[derive(Debug)]
pub(super) enum Incoming {
    Record {
        record: Record,
        position: Position,
    },
    Undecodable {
        position: Position,
        key: Option<Vec<u8>>,
        payload: Option<Vec<u8>>,
        rejection: Rejection,
    },
}

impl Incoming {
    /// Decodes and checks a message against `limits`, now.
    pub(super) fn from_message(message: &BorrowedMessage<'_>, limits: &Limits) -> Self {
        let position = Position {
            partition: message.partition(),
            offset: message.offset(),
        };
        match accept(message.payload(), chrono::Utc::now(), limits) {
            #[cfg(feature = "fault-injection")]
            Ok(_) if common::fault::storage_rejects_nan() && holds_nan(message.payload()) => {
                Incoming::Undecodable {
                    position,
                    key: message.key().map(<[u8]>::to_vec),
                    payload: message.payload().map(<[u8]>::to_vec),
                    rejection: crate::domain::Rejection::InvalidRecord(
                        serde_json::from_str::<f64>("null").expect_err("null is no f64"),
                    ),
                }
            }
            Ok(record) => Incoming::Record { record, position },
            Err(rejection) => Incoming::Undecodable {
                position,
                key: message.key().map(<[u8]>::to_vec),
                payload: message.payload().map(<[u8]>::to_vec),
                rejection,
            },
        }
    }
}

/// A mutation run of reliability/ (feature `fault-injection`, FAULT_STORAGE_REJECT_NAN): whether
/// a record's payload carries a NaN value (the Prometheus string `"NaN"` records use for it), the
/// records storage dead-lettered before issue 14 (`reliability/soak.sh` must catch it).
#[cfg(feature = "fault-injection")]
fn holds_nan(payload: Option<&[u8]>) -> bool {
    payload.is_some_and(|bytes| bytes.windows(5).any(|window| window == b"\"NaN\""))
}
