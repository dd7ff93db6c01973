//! The structure of a JSON answer (keys and JSON types, recursively) against a fixture of the
//! original API (`conformance/original-api/*.json`). Included by the conformance tests of
//! sla-manager and retrieval (`#[path]`), so that both judge by the same rules.
//!
//! Rules: the JSON types must be the same (every number is a `number`, as in JSON); an object
//! must have every key of the fixture's, each with the fixture's structure, and may have more
//! (the project's additions); every element of an array must have the structure of one of the
//! fixture's elements. An object `{"*": sample}` in an expected structure stands for a map with
//! data-dependent keys (a label set, the autocorrelation's lags): every value must have the
//! structure of `sample`.

use serde_json::{Map, Value};

/// A fixture of `conformance/original-api/`, by file stem.
pub(crate) fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../../conformance/original-api/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `{"*": sample}`: a map with any keys, each value like `sample`.
pub(crate) fn map_of(sample: Value) -> Value {
    Value::Object(Map::from_iter([("*".to_owned(), sample)]))
}

/// The object at `pointer` in `value` (a JSON pointer, `/0/name`), for editing an expected
/// structure.
pub(crate) fn at<'a>(value: &'a mut Value, pointer: &str) -> &'a mut Map<String, Value> {
    value
        .pointer_mut(pointer)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("no object at {pointer}"))
}

/// Panics, naming the first difference, unless `actual` has the structure of `expected`.
#[track_caller]
pub(crate) fn assert_conforms(actual: &Value, expected: &Value) {
    if let Err(difference) = conforms("$", actual, expected) {
        panic!("{difference}\nanswer: {actual}");
    }
}

/// Panics unless every element of the array `expected` is matched by an element of `actual`:
/// the answer shows each form the original documents (for example both a prediction and the
/// "Prediction not available" item).
#[track_caller]
pub(crate) fn assert_covers(actual: &Value, expected: &Value) {
    let (Some(got), Some(want)) = (actual.as_array(), expected.as_array()) else {
        panic!("not two arrays: {actual} / {expected}");
    };
    for form in want {
        assert!(
            got.iter().any(|g| conforms("$", g, form).is_ok()),
            "no element of the answer has the form {form}\nanswer: {actual}"
        );
    }
}

/// Panics, naming the first difference, unless the OpenAPI `document` describes the answer of
/// `GET path` (status 200) with the structure of `expected`: every key of the fixture a
/// property (through `$ref`, `allOf` and `oneOf`) with the same JSON type, recursively.
#[track_caller]
pub(crate) fn assert_documented(document: &Value, path: &str, expected: &Value) {
    let schema = document
        .pointer(&format!(
            "/paths/{}/get/responses/200/content/application~1json/schema",
            path.replace('~', "~0").replace('/', "~1")
        ))
        .unwrap_or_else(|| panic!("no JSON answer of GET {path} in the OpenAPI document"));
    if let Err(difference) = documented(document, &format!("GET {path}"), schema, expected) {
        panic!("the OpenAPI document differs from the original: {difference}");
    }
}

/// The branches a schema stands for: itself, or its `$ref` target, or each of its `allOf`
/// (all hold) and `oneOf`/`anyOf` (one holds) branches, resolved.
fn branches<'a>(document: &'a Value, schema: &'a Value) -> Vec<&'a Value> {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let pointer = reference.trim_start_matches('#');
        return document
            .pointer(pointer)
            .map(|target| branches(document, target))
            .unwrap_or_default();
    }
    let mut found = vec![schema];
    for key in ["allOf", "oneOf", "anyOf"] {
        for branch in schema
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            found.extend(branches(document, branch));
        }
    }
    found
}

/// The JSON types a schema allows (`integer` is a `number`); empty when it does not say.
fn schema_kinds(document: &Value, schema: &Value) -> Vec<&'static str> {
    let mut kinds = Vec::new();
    for branch in branches(document, schema) {
        let types: Vec<&str> = match branch.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        for t in types {
            kinds.push(match t {
                "integer" | "number" => "number",
                "string" => "string",
                "boolean" => "boolean",
                "array" => "array",
                "object" => "object",
                _ => "null",
            });
        }
    }
    kinds
}

fn documented(
    document: &Value,
    path: &str,
    schema: &Value,
    expected: &Value,
) -> Result<(), String> {
    let kinds = schema_kinds(document, schema);
    if !kinds.is_empty() && !kinds.contains(&kind(expected)) {
        return Err(format!(
            "{path}: documented as {kinds:?}, the original has {}",
            kind(expected)
        ));
    }
    let all = branches(document, schema);
    match expected {
        Value::Object(want) => {
            if let (1, Some(sample)) = (want.len(), want.get("*")) {
                return match all.iter().find_map(|b| b.get("additionalProperties")) {
                    Some(values) if values.is_object() => {
                        documented(document, &format!("{path}.*"), values, sample)
                    }
                    _ => Ok(()),
                };
            }
            for (key, value) in want {
                let property = all
                    .iter()
                    .find_map(|b| b.get("properties").and_then(|p| p.get(key)))
                    .ok_or_else(|| format!("{path}: no property {key:?}"))?;
                documented(document, &format!("{path}.{key}"), property, value)?;
            }
            Ok(())
        }
        Value::Array(want) => {
            let items = all
                .iter()
                .find_map(|b| b.get("items"))
                .ok_or_else(|| format!("{path}: an array without items"))?;
            for (i, element) in want.iter().enumerate() {
                let here = format!("{path}[{i}]");
                // Each documented form of the elements is one of the items' branches.
                let forms = branches(document, items);
                let fits = forms
                    .iter()
                    .any(|form| documented(document, &here, form, element).is_ok());
                if !fits {
                    return documented(document, &here, items, element);
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn conforms(path: &str, actual: &Value, expected: &Value) -> Result<(), String> {
    match (expected, actual) {
        (Value::Object(want), Value::Object(got)) => {
            if let (1, Some(sample)) = (want.len(), want.get("*")) {
                for (key, value) in got {
                    conforms(&format!("{path}.{key}"), value, sample)?;
                }
                return Ok(());
            }
            for (key, want_value) in want {
                let Some(got_value) = got.get(key) else {
                    let keys: Vec<&String> = got.keys().collect();
                    return Err(format!("{path}: no key {key:?} (keys: {keys:?})"));
                };
                conforms(&format!("{path}.{key}"), got_value, want_value)?;
            }
            Ok(())
        }
        (Value::Array(want), Value::Array(got)) => {
            if want.is_empty() {
                return Ok(());
            }
            for (i, element) in got.iter().enumerate() {
                let here = format!("{path}[{i}]");
                let misses: Vec<String> = want
                    .iter()
                    .filter_map(|form| conforms(&here, element, form).err())
                    .collect();
                if misses.len() == want.len() {
                    return Err(misses.join("\n  or: "));
                }
            }
            Ok(())
        }
        _ if kind(expected) == kind(actual) => Ok(()),
        _ => Err(format!(
            "{path}: {} where the original has {} ({expected})",
            kind(actual),
            kind(expected)
        )),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn types_keys_and_elements_are_checked() {
        let expected = json!([{"a": 1.0, "b": {"c": "x"}, "l": [{"n": 1}]}]);
        assert!(
            conforms(
                "$",
                &json!([{"a": 2, "b": {"c": "y", "extra": 1}, "l": []}]),
                &expected
            )
            .is_ok()
        );
        assert!(
            conforms(
                "$",
                &json!([{"a": "2", "b": {"c": "y"}, "l": []}]),
                &expected
            )
            .is_err()
        );
        assert!(conforms("$", &json!([{"a": 2, "b": {}, "l": []}]), &expected).is_err());
        assert!(
            conforms(
                "$",
                &json!([{"a": 2, "b": {"c": "y"}, "l": [{"m": 1}]}]),
                &expected
            )
            .is_err()
        );
        assert!(conforms("$", &json!({"a": 2}), &expected).is_err());
        let labels = json!({"name": map_of(json!("s"))});
        assert!(
            conforms(
                "$",
                &json!({"name": {"job": "x", "__name__": "y"}}),
                &labels
            )
            .is_ok()
        );
        assert!(conforms("$", &json!({"name": {"job": 1}}), &labels).is_err());
    }

    #[test]
    fn documents_are_read_through_refs_and_branches() {
        let document = json!({"components": {"schemas": {
            "Item": {"allOf": [
                {"type": "object", "properties": {"name": {"type": "string"}}},
                {"type": "object", "properties": {"list": {"type": "array", "items": {"oneOf": [
                    {"$ref": "#/components/schemas/Run"},
                    {"type": "object", "properties": {"avg_value": {"type": "number"}}}
                ]}}}}
            ]},
            "Run": {"type": "object", "properties": {"duration": {"type": "integer"}}}
        }}});
        let schema = json!({"type": "array", "items": {"$ref": "#/components/schemas/Item"}});
        let ok = json!([{"name": "x", "list": [{"duration": 1.0}, {"avg_value": 2.0}]}]);
        assert!(documented(&document, "$", &schema, &ok).is_ok());
        for bad in [
            json!([{"name": 1}]),
            json!([{"nom": "x"}]),
            json!([{"list": [{"min_value": 1.0}]}]),
            json!({"name": "x"}),
        ] {
            assert!(documented(&document, "$", &schema, &bad).is_err(), "{bad}");
        }
    }
}
