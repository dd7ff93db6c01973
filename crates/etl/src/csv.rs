//! The input of `etl analyze`: `timestamp,value` lines at a constant step.
//!
//! Timestamps are RFC 3339 (`2026-11-22T06:00:00Z`) or Unix seconds; values are numbers (`NaN`
//! marks a missing sample). An optional header line comes first; blank lines are ignored.

use chrono::DateTime;

use crate::analysis::History;

/// Why the input is not a series; `line` is 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    /// A line is not `timestamp,value`.
    #[error("line {line}: expected `timestamp,value`, got {text:?}")]
    Shape {
        /// The line number.
        line: usize,
        /// The line, shortened.
        text: String,
    },
    /// The timestamp is neither RFC 3339 nor Unix seconds.
    #[error("line {line}: {text:?} is not an RFC 3339 time or Unix seconds")]
    Timestamp {
        /// The line number.
        line: usize,
        /// The field.
        text: String,
    },
    /// The value is not a number.
    #[error("line {line}: {text:?} is not a number")]
    Value {
        /// The line number.
        line: usize,
        /// The field.
        text: String,
    },
    /// The step differs from the first one (or is not positive).
    #[error("line {line}: step of {got} s where the series has a constant step of {expected} s")]
    Step {
        /// The line number.
        line: usize,
        /// The step of the first two samples.
        expected: i64,
        /// The step found.
        got: i64,
    },
    /// Fewer than two samples: no step can be told.
    #[error("need at least two samples, got {0}")]
    TooShort(usize),
}

/// Parses `text` (see the module docs).
///
/// # Errors
/// The first malformed line, with its number.
pub fn parse(text: &str) -> Result<History, CsvError> {
    let mut samples: Vec<(i64, f64)> = Vec::new();
    let mut step: Option<i64> = None;
    let mut first_content_line = true;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            continue;
        }
        let is_first = std::mem::replace(&mut first_content_line, false);
        let mut fields = trimmed.split(',').map(str::trim);
        let (Some(time_field), Some(value_field), None) =
            (fields.next(), fields.next(), fields.next())
        else {
            return Err(CsvError::Shape {
                line,
                text: trimmed.chars().take(80).collect(),
            });
        };
        let Some(timestamp) = parse_timestamp(time_field) else {
            if is_first && value_field.parse::<f64>().is_err() {
                continue; // a header
            }
            return Err(CsvError::Timestamp {
                line,
                text: time_field.chars().take(80).collect(),
            });
        };
        let value = value_field.parse::<f64>().map_err(|_| CsvError::Value {
            line,
            text: value_field.chars().take(80).collect(),
        })?;
        if let Some(&(previous, _)) = samples.last() {
            let got = timestamp - previous;
            let expected = *step.get_or_insert(got);
            if got != expected || got <= 0 {
                return Err(CsvError::Step {
                    line,
                    expected,
                    got,
                });
            }
        }
        samples.push((timestamp, value));
    }
    let (Some(&(start, _)), Some(step)) = (samples.first(), step) else {
        return Err(CsvError::TooShort(samples.len()));
    };
    let start = DateTime::from_timestamp(start, 0).ok_or(CsvError::TooShort(0))?;
    Ok(History {
        start,
        step_seconds: step as u64,
        values: samples.into_iter().map(|(_, v)| v).collect(),
    })
}

/// Unix seconds (whole) or RFC 3339, to Unix seconds.
fn parse_timestamp(field: &str) -> Option<i64> {
    if let Ok(seconds) = field.parse::<i64>() {
        return Some(seconds);
    }
    if let Ok(seconds) = field.parse::<f64>() {
        return (seconds.is_finite() && seconds.fract() == 0.0).then_some(seconds as i64);
    }
    DateTime::parse_from_rfc3339(field)
        .ok()
        .map(|t| t.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_seconds_with_header() {
        let s = parse("timestamp,value\n1700000000,1.5\n1700000060,2\n1700000120,NaN\n").unwrap();
        assert_eq!(s.start.timestamp(), 1_700_000_000);
        assert_eq!(s.step_seconds, 60);
        assert_eq!(s.values.len(), 3);
        assert_eq!(&s.values[..2], &[1.5, 2.0]);
        assert!(s.values[2].is_nan());
        assert_eq!(s.end().timestamp(), 1_700_000_120);
    }

    #[test]
    fn rfc3339_without_header_and_blank_lines() {
        let s = parse("2026-11-22T06:00:00Z, 1\n\n2026-11-22T06:05:00+00:00 ,2\r\n2026-11-22T07:10:00+01:00,3\n").unwrap();
        assert_eq!(s.step_seconds, 300);
        assert_eq!(s.values, vec![1.0, 2.0, 3.0]);
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            ("t,v\n1,1\n2,x\n", "line 3:", "not a number"),
            ("1,1\n2,2\nyesterday,3\n", "line 3:", "RFC 3339"),
            ("1,1\n2,2,2\n", "line 2:", "timestamp,value"),
            ("1,1\n\n2,2\n4,3\n", "line 4:", "constant step of 1 s"),
            ("1,1\n1,2\n", "line 2:", "step of 0 s"),
            ("0,1\n", "", "at least two samples"),
            ("t,v\nnoon,1\n", "line 2:", "RFC 3339"),
        ];
        for (input, line, reason) in cases {
            let error = parse(input).unwrap_err().to_string();
            assert!(
                error.starts_with(line) && error.contains(reason),
                "{input:?}: {error}"
            );
        }
    }

    #[test]
    fn a_header_is_only_allowed_first() {
        assert!(matches!(
            parse("1,1\ntimestamp,value\n"),
            Err(CsvError::Timestamp { line: 2, .. })
        ));
    }
}
