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
