//! NaN and ±Inf in the records, the documents and the API answers.
//!
//! Prometheus computes NaN and ±Inf as ordinary results (a summary with no observations has
//! NaN quantiles; `avg_over_time` of such a series is NaN; a `+Inf` sample makes `max` +Inf),
//! and JSON has no literal for them. Every `f64` of [`crate::record`] therefore goes through
//! this module:
//!
//! - **JSON** (the Kafka record, the REST answers): a finite value is a number; NaN, +Inf and
//!   -Inf are the strings `"NaN"`, `"+Inf"` and `"-Inf"`, as Prometheus' own HTTP API writes
//!   them. Read back, those strings (in any case, `"Inf"` and `"Infinity"` too) are accepted,
//!   and `null` means NaN: the etl wrote NaN as `null` before, and records of that form may
//!   still be in the topic. A number written as a string (`"1.5"`) is refused.
//! - **BSON** (MongoDB): a double, which holds NaN and ±Inf as they are. Documents are written
//!   with a non-human-readable serializer (`common::store`) so that the value stays a double.

use std::{collections::BTreeMap, fmt};

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// An `f64` with the encoding above; the record types keep plain `f64` fields and use the
/// `with` modules below.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Float(f64);

impl Serialize for Float {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let value = self.0;
        if value.is_finite() || !serializer.is_human_readable() {
            return serializer.serialize_f64(value);
        }
        serializer.serialize_str(text(value))
    }
}

/// The Prometheus text of a non-finite value.
fn text(value: f64) -> &'static str {
    if value.is_nan() {
        "NaN"
    } else if value > 0.0 {
        "+Inf"
    } else {
        "-Inf"
    }
}

impl<'de> Deserialize<'de> for Float {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(FloatVisitor).map(Float)
    }
}

struct FloatVisitor;

impl<'de> de::Visitor<'de> for FloatVisitor {
    type Value = f64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(r#"a number, "NaN", "+Inf", "-Inf" or null (NaN)"#)
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<f64, E> {
        Ok(value)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<f64, E> {
        Ok(value as f64)
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<f64, E> {
        Ok(value as f64)
    }

    fn visit_i32<E: de::Error>(self, value: i32) -> Result<f64, E> {
        Ok(f64::from(value))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<f64, E> {
        // Rust's parser takes "NaN", "inf", "+Infinity"... in any case, as Prometheus does.
        match value.parse::<f64>() {
            Ok(parsed) if !parsed.is_finite() => Ok(parsed),
            _ => Err(E::invalid_value(de::Unexpected::Str(value), &self)),
        }
    }

    fn visit_unit<E: de::Error>(self) -> Result<f64, E> {
        Ok(f64::NAN)
    }

    fn visit_none<E: de::Error>(self) -> Result<f64, E> {
        Ok(f64::NAN)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<f64, D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// `#[serde(with = "crate::float")]` on an `f64`.
pub fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    Float(*value).serialize(serializer)
}

/// See [`serialize`]; `null` reads as NaN.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    Float::deserialize(deserializer).map(|f| f.0)
}

/// `#[serde(with = "crate::float::option")]` on an `Option<f64>`: here `null` is `None`.
pub mod option {
    use super::*;

    /// Serialises `Some` as [`super::serialize`] does, `None` as `null`.
    pub fn serialize<S: Serializer>(value: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
        value.map(Float).serialize(serializer)
    }

    /// `null` (or absent, with `#[serde(default)]`) is `None`.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<f64>, D::Error> {
        Ok(Option::<Float>::deserialize(deserializer)?.map(|f| f.0))
    }
}

/// `#[serde(with = "crate::float::option_map")]` on an `Option<BTreeMap<String, f64>>`.
pub mod option_map {
    use super::*;

    /// Each value as [`super::serialize`] does.
    pub fn serialize<S: Serializer>(
        value: &Option<BTreeMap<String, f64>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        value
            .as_ref()
            .map(|map| {
                map.iter()
                    .map(|(k, v)| (k, Float(*v)))
                    .collect::<BTreeMap<_, _>>()
            })
            .serialize(serializer)
    }

    /// Each value as [`super::deserialize`] does.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<BTreeMap<String, f64>>, D::Error> {
        Ok(
            Option::<BTreeMap<String, Float>>::deserialize(deserializer)?
                .map(|map| map.into_iter().map(|(k, v)| (k, v.0)).collect()),
        )
    }
}

/// The OpenAPI schema of such a value: a number, or one of the three strings.
#[cfg(feature = "openapi")]
pub fn schema() -> utoipa::openapi::schema::Schema {
    one_of(false)
}

/// The OpenAPI schema of an optional value: also `null`.
#[cfg(feature = "openapi")]
pub fn option_schema() -> utoipa::openapi::schema::Schema {
    one_of(true)
}

/// The OpenAPI schema of a map of such values, by text key.
#[cfg(feature = "openapi")]
pub fn map_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(one_of(false)))
        .build()
        .into()
}

#[cfg(feature = "openapi")]
fn one_of(nullable: bool) -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type};
    let number = ObjectBuilder::new()
        .schema_type(Type::Number)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Double)));
    let special = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["NaN", "+Inf", "-Inf"]));
    let mut builder = OneOfBuilder::new().item(number).item(special).description(Some(
        r#"A number; NaN, +Inf and -Inf are the strings "NaN", "+Inf", "-Inf", as in Prometheus' API"#,
    ));
    if nullable {
        builder = builder.item(ObjectBuilder::new().schema_type(Type::Null));
    }
    builder.build().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Serialize, Deserialize)]
    struct Holder {
        #[serde(with = "crate::float")]
        x: f64,
    }

    fn read(value: serde_json::Value) -> Result<f64, serde_json::Error> {
        serde_json::from_value::<Holder>(json!({ "x": value })).map(|h| h.x)
    }

    #[test]
    fn non_finite_values_are_written_as_prometheus_writes_them() {
        for (value, expected) in [
            (f64::NAN, json!("NaN")),
            (f64::INFINITY, json!("+Inf")),
            (f64::NEG_INFINITY, json!("-Inf")),
            (1.5, json!(1.5)),
        ] {
            assert_eq!(
                serde_json::to_value(Holder { x: value }).unwrap()["x"],
                expected
            );
        }
    }

    #[test]
    fn the_strings_null_and_numbers_are_read() {
        assert!(read(json!("NaN")).unwrap().is_nan());
        assert!(read(json!(null)).unwrap().is_nan());
        assert_eq!(read(json!("+Inf")).unwrap(), f64::INFINITY);
        assert_eq!(read(json!("Inf")).unwrap(), f64::INFINITY);
        assert_eq!(read(json!("-Inf")).unwrap(), f64::NEG_INFINITY);
        assert_eq!(read(json!(2)).unwrap(), 2.0);
        assert_eq!(read(json!(-0.25)).unwrap(), -0.25);
        assert!(read(json!("1.5")).is_err());
        assert!(read(json!("weather")).is_err());
        assert!(read(json!(true)).is_err());
    }

    #[test]
    fn bson_keeps_a_double() {
        for value in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let raw = bson::to_raw_document_buf(&Holder { x: value }).unwrap();
            let document = bson::Document::try_from(raw.as_ref()).unwrap();
            let stored = document.get_f64("x").unwrap();
            assert_eq!(stored.to_bits(), value.to_bits());
            let back: Holder = bson::from_document(document).unwrap();
            assert_eq!(back.x.to_bits(), value.to_bits());
        }
    }
}
