//! What `record-inject` puts in the topic, and what must become of each message, as pure
//! functions: copies of a real record (a duplicate, an older one after a newer one) that storage
//! must take as stale, and bad ones (oversized, not JSON, empty, not a record, an id that is not
//! its labels' fingerprint, computed in the year 2100) that it must dead-letter with the reason.

use std::fmt;

use serde_json::{Value, json};

/// What storage must do with an injected message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Take it, and not dead-letter it; the database keeps the newest record of the series.
    Taken,
    /// Dead-letter it with this `dlq.reason`.
    DeadLettered(&'static str),
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expect::Taken => f.write_str("taken, not dead-lettered"),
            Expect::DeadLettered(reason) => write!(f, "dead-lettered ({reason})"),
        }
    }
}

/// One message to inject.
#[derive(Debug, Clone, PartialEq)]
pub struct Injection {
    /// Its case, also its `fault-inject` header.
    pub case: &'static str,
    /// Its value (none: a message without one).
    pub payload: Option<Vec<u8>>,
    /// What storage must do with it.
    pub expect: Expect,
}

/// The cases, and the class of reliability/fault-classes.sh each belongs to.
pub const CASES: [(&str, &str); 8] = [
    ("duplicate", "topic-duplicate"),
    ("reordered", "topic-reordered"),
    ("oversized", "topic-oversized"),
    ("not-json", "topic-poison"),
    ("empty", "topic-poison"),
    ("not-a-record", "topic-poison"),
    ("id-mismatch", "topic-poison"),
    ("future", "topic-poison"),
];

/// Why no injection can be built.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum InjectError {
    /// A case that is none of [`CASES`].
    #[error(
        "unknown case {0:?}: expected one of duplicate, reordered, oversized, not-json, empty, not-a-record, id-mismatch, future"
    )]
    UnknownCase(String),
    /// The record to copy is not a JSON object with `name` labels and `computed_at`.
    #[error("the record to copy is not a record: {0}")]
    NotARecord(String),
}

/// Bytes of the label the oversized copy carries: over storage's bound of 4096 per label.
pub const OVERSIZED_LABEL_BYTES: usize = 5000;

/// The message of `case`, built from the newest record of a series (`newest`, as read from the
/// topic) and an older one of the same series and kind (`older`).
pub fn injection(case: &str, newest: &[u8], older: &[u8]) -> Result<Injection, InjectError> {
    let record = |bytes: &[u8]| -> Result<Value, InjectError> {
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|error| InjectError::NotARecord(error.to_string()))?;
        let fit = value.get("name").is_some_and(Value::is_object)
            && value.get("computed_at").is_some_and(Value::is_string);
        fit.then_some(value)
            .ok_or_else(|| InjectError::NotARecord("no name labels or computed_at".to_owned()))
    };
    let encode = |value: Value| Some(serde_json::to_vec(&value).expect("a JSON value serialises"));
    let (payload, expect) = match case {
        "duplicate" => (Some(newest.to_vec()), Expect::Taken),
        "reordered" => {
            record(older)?;
            (Some(older.to_vec()), Expect::Taken)
        }
        "oversized" => {
            let mut value = record(newest)?;
            value["name"]["fault_inject_padding"] = json!("x".repeat(OVERSIZED_LABEL_BYTES));
            (encode(value), Expect::DeadLettered("oversized"))
        }
        "not-json" => (
            Some(b"{\"id\": not json".to_vec()),
            Expect::DeadLettered("malformed_json"),
        ),
        "empty" => (None, Expect::DeadLettered("empty")),
        "not-a-record" => (
            encode(json!({"id": "0000000000000000", "kind": "values"})),
            Expect::DeadLettered("invalid_record"),
        ),
        "id-mismatch" => {
            // Another series' labels under this id: stored, it would overwrite this series.
            let mut value = record(newest)?;
            value["name"]["fault_inject"] = json!("another series");
            (encode(value), Expect::DeadLettered("id_mismatch"))
        }
        "future" => {
            let mut value = record(newest)?;
            value["computed_at"] = json!("2100-01-01T00:00:00Z");
            (encode(value), Expect::DeadLettered("future_computed_at"))
        }
        other => return Err(InjectError::UnknownCase(other.to_owned())),
    };
    let case = CASES
        .iter()
        .map(|(name, _)| *name)
        .find(|name| *name == case)
        .expect("every case matched above is in CASES");
    Ok(Injection {
        case,
        payload,
        expect,
    })
}

/// What became of an injected message, as the dead-letter topic and the storage group say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Not yet consumed: the group's committed offset is not past it, and no dead letter.
    Pending,
    /// Consumed (committed past it) without a dead letter.
    Taken,
    /// Dead-lettered with this reason.
    DeadLettered(String),
}

impl Outcome {
    /// Whether it is what `expect` asks.
    pub fn meets(&self, expect: Expect) -> bool {
        match (self, expect) {
            (Outcome::Taken, Expect::Taken) => true,
            (Outcome::DeadLettered(got), Expect::DeadLettered(wanted)) => got == wanted,
            _ => false,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Pending => f.write_str("not consumed yet"),
            Outcome::Taken => f.write_str("taken, not dead-lettered"),
            Outcome::DeadLettered(reason) => write!(f, "dead-lettered ({reason})"),
        }
    }
}

/// The outcome of the message at `offset`, from its dead letter's reason (if one names it as
/// its source) and the group's next offset to consume in its partition.
pub fn outcome(offset: i64, dead_letter_reason: Option<&str>, committed: Option<i64>) -> Outcome {
    match dead_letter_reason {
        Some(reason) => Outcome::DeadLettered(reason.to_owned()),
        None if committed.is_some_and(|next| next > offset) => Outcome::Taken,
        None => Outcome::Pending,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NEWEST: &[u8] = br#"{"id":"19b1adf872c93b50","name":{"__name__":"node_load1","job":"node"},"computed_at":"2026-12-04T02:21:45Z","kind":"values","values":{}}"#;
    const OLDER: &[u8] = br#"{"id":"19b1adf872c93b50","name":{"__name__":"node_load1","job":"node"},"computed_at":"2026-12-04T02:21:30Z","kind":"values","values":{}}"#;

    fn value(injection: &Injection) -> Value {
        serde_json::from_slice(injection.payload.as_deref().unwrap()).unwrap()
    }

    #[test]
    fn the_copies_are_the_records_as_they_were_and_must_be_taken() {
        let duplicate = injection("duplicate", NEWEST, OLDER).unwrap();
        assert_eq!(duplicate.payload.as_deref(), Some(NEWEST));
        assert_eq!(duplicate.expect, Expect::Taken);
        let reordered = injection("reordered", NEWEST, OLDER).unwrap();
        assert_eq!(reordered.payload.as_deref(), Some(OLDER));
        assert_eq!(reordered.expect, Expect::Taken);
    }

    #[test]
    fn each_bad_message_breaks_one_rule_and_names_its_reason() {
        let oversized = injection("oversized", NEWEST, OLDER).unwrap();
        let padding = value(&oversized)["name"]["fault_inject_padding"]
            .as_str()
            .unwrap()
            .len();
        assert_eq!(padding, OVERSIZED_LABEL_BYTES);
        assert_eq!(oversized.expect, Expect::DeadLettered("oversized"));

        let mismatch = value(&injection("id-mismatch", NEWEST, OLDER).unwrap());
        assert_eq!(mismatch["id"], "19b1adf872c93b50", "the id is kept");
        assert_eq!(mismatch["name"]["fault_inject"], "another series");

        let future = value(&injection("future", NEWEST, OLDER).unwrap());
        assert_eq!(future["computed_at"], "2100-01-01T00:00:00Z");
        assert_eq!(
            future["name"],
            value(&injection("duplicate", NEWEST, OLDER).unwrap())["name"]
        );

        let not_json = injection("not-json", NEWEST, OLDER).unwrap();
        assert!(serde_json::from_slice::<Value>(not_json.payload.as_deref().unwrap()).is_err());
        assert_eq!(injection("empty", NEWEST, OLDER).unwrap().payload, None);
        assert_eq!(
            injection("not-a-record", NEWEST, OLDER).unwrap().expect,
            Expect::DeadLettered("invalid_record")
        );
    }

    #[test]
    fn every_case_has_a_class_and_builds() {
        for (case, class) in CASES {
            assert!(class.starts_with("topic-"));
            assert_eq!(injection(case, NEWEST, OLDER).unwrap().case, case);
        }
        assert_eq!(
            injection("sideways", NEWEST, OLDER),
            Err(InjectError::UnknownCase("sideways".to_owned()))
        );
        assert!(matches!(
            injection("future", b"[1]", OLDER),
            Err(InjectError::NotARecord(_))
        ));
    }

    #[test]
    fn an_outcome_meets_only_its_expectation() {
        assert_eq!(outcome(5, None, Some(6)), Outcome::Taken);
        assert_eq!(outcome(5, None, Some(5)), Outcome::Pending);
        assert_eq!(outcome(5, None, None), Outcome::Pending);
        let dead = outcome(5, Some("oversized"), Some(6));
        assert!(dead.meets(Expect::DeadLettered("oversized")));
        assert!(!dead.meets(Expect::DeadLettered("empty")));
        assert!(
            !dead.meets(Expect::Taken),
            "a good record dead-lettered is a failure"
        );
        assert!(!Outcome::Taken.meets(Expect::DeadLettered("empty")));
        assert!(!Outcome::Pending.meets(Expect::Taken));
    }
}
