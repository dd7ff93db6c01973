//! Query parameters both REST services take, parsed once: points in time (`at`, `from`, `to`)
//! with the range they must lie in, and their OpenAPI schema (behind the `openapi` feature), so
//! that a schema-driven fuzzer knows the edges.
//!
//! The range is what makes every later step safe: chrono panics when a `DateTime` plus a
//! `Duration` leaves its own range (about ±262,000 years), and a service adds hours, windows and
//! `for` minutes to these instants. Bounded to the years 1970 to 9999, every such sum stays
//! representable, and Prometheus (int64 milliseconds) takes each of them.

use chrono::{DateTime, Utc};

/// The earliest instant accepted: 1970-01-01T00:00:00Z (unix 0).
pub const MIN_INSTANT_SECS: i64 = 0;
/// The latest instant accepted: 9999-12-31T23:59:59Z, the last second RFC 3339 can write.
pub const MAX_INSTANT_SECS: i64 = 253_402_300_799;

/// A point in time given as RFC 3339 (`2026-11-22T06:00:00Z`) or unix seconds (`1795327200`,
/// fractions allowed, kept to the millisecond), between [`MIN_INSTANT_SECS`] and
/// [`MAX_INSTANT_SECS`]. The error names `parameter` and the accepted forms and range.
pub fn parse_instant(parameter: &str, text: &str) -> Result<DateTime<Utc>, String> {
    let at = parse_bounded_instant(parameter, text)?;
    #[cfg(feature = "fault-injection")]
    if crate::fault::bad_input_fails() && at.timestamp() > FAULT_PANIC_AFTER_SECS {
        panic!("fault injection: `{parameter}` past the year 9000");
    }
    Ok(at)
}

/// 9000-01-01T00:00:00Z: past it, an instant panics under `FAULT_BAD_INPUT_FAILS=1`.
#[cfg(feature = "fault-injection")]
const FAULT_PANIC_AFTER_SECS: i64 = 221_845_392_000;

fn parse_bounded_instant(parameter: &str, text: &str) -> Result<DateTime<Utc>, String> {
    let out_of_range = || {
        format!(
            "`{parameter}` must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z \
             (unix seconds {MIN_INSTANT_SECS} to {MAX_INSTANT_SECS}), got {:?}",
            clip(text)
        )
    };
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        let at = at.with_timezone(&Utc);
        return (MIN_INSTANT_SECS..=MAX_INSTANT_SECS)
            .contains(&at.timestamp())
            .then_some(at)
            .ok_or_else(out_of_range);
    }
    let Some(secs) = text.parse::<f64>().ok().filter(|secs| secs.is_finite()) else {
        return Err(format!(
            "`{parameter}` must be an RFC 3339 time or unix seconds, got {:?}",
            clip(text)
        ));
    };
    // In range first, so that the conversion to milliseconds cannot saturate.
    if !(MIN_INSTANT_SECS as f64..=MAX_INSTANT_SECS as f64).contains(&secs) {
        return Err(out_of_range());
    }
    DateTime::from_timestamp_millis((secs * 1000.0).round() as i64).ok_or_else(out_of_range)
}

/// At most 64 characters of what the client sent, for error messages.
fn clip(text: &str) -> String {
    text.chars().take(64).collect()
}

/// The OpenAPI schema of an instant parameter: an RFC 3339 date-time, or unix seconds between
/// the bounds (for `#[param(schema_with = ...)]`).
#[cfg(feature = "openapi")]
pub fn instant_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type};
    OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
                .description(Some(
                    "RFC 3339, from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z",
                ))
                .examples([serde_json::json!("2026-11-22T06:00:00Z")]),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Number)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Double)))
                .minimum(Some(MIN_INSTANT_SECS as f64))
                .maximum(Some(MAX_INSTANT_SECS as f64))
                .description(Some("Unix seconds (fractions allowed)"))
                .examples([serde_json::json!(1_795_327_200)]),
        )
        .build()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::at;

    /// Each of `bad` is refused for `param` with a message naming the parameter and `hint`.
    fn assert_refused(param: &str, bad: &[&str], hint: &str) {
        for bad in bad {
            let error = parse_instant(param, bad).unwrap_err();
            assert!(
                error.contains(&format!("`{param}`")) && error.contains(hint),
                "{bad:?}: {error}"
            );
        }
    }

    #[test]
    fn both_forms_parse() {
        assert_eq!(
            parse_instant("from", "2026-11-22T06:00:00Z"),
            Ok(at(1_795_327_200))
        );
        assert_eq!(
            parse_instant("from", "2026-11-22T07:00:00+01:00"),
            Ok(at(1_795_327_200))
        );
        assert_eq!(parse_instant("from", "1795327200"), Ok(at(1_795_327_200)));
        assert_eq!(
            parse_instant("at", "1795327200.5")
                .unwrap()
                .timestamp_millis(),
            1_795_327_200_500
        );
        assert_eq!(parse_instant("at", "0"), Ok(at(0)));
        assert_eq!(
            parse_instant("at", "253402300799"),
            Ok(at(MAX_INSTANT_SECS))
        );
        assert_eq!(
            parse_instant("at", "9999-12-31T23:59:59Z"),
            Ok(at(MAX_INSTANT_SECS))
        );
    }

    #[test]
    fn malformed_times_name_the_parameter_and_the_forms() {
        assert_refused(
            "from",
            &[
                "yesterday",
                "NaN",
                "inf",
                "-inf",
                "",
                "2026-13-01T00:00:00Z",
            ],
            "RFC 3339",
        );
    }

    #[test]
    fn times_outside_1970_to_9999_name_the_range() {
        for bad in [
            "8210266876799",
            "8210266876799000",
            "253402300800",
            "-1",
            "-8210266876799",
            "1e300",
            "1969-12-31T23:59:59Z",
        ] {
            let error = parse_instant("at", bad).unwrap_err();
            assert!(
                error.contains("`at`") && error.contains("9999-12-31T23:59:59Z"),
                "{bad:?}: {error}"
            );
        }
    }
}
