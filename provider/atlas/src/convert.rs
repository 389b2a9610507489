//! Small conversions between Terraform values and the plain Rust types the AWS code uses.

use std::collections::BTreeMap;

use tfplugin::value::{Number, Value};

/// A top-level string attribute, if set and known.
pub(crate) fn opt_string(object: &Value, name: &str) -> Option<String> {
    object.get(name).and_then(Value::as_str).map(str::to_owned)
}

/// A top-level string attribute, or the empty string.
pub(crate) fn string(object: &Value, name: &str) -> String {
    opt_string(object, name).unwrap_or_default()
}

/// A top-level bool attribute, or `default` when null.
pub(crate) fn bool_or(object: &Value, name: &str, default: bool) -> bool {
    object.get(name).and_then(Value::as_bool).unwrap_or(default)
}

/// A top-level whole-number attribute, if set.
pub(crate) fn opt_i64(object: &Value, name: &str) -> Option<i64> {
    object
        .get(name)
        .and_then(Value::as_number)
        .and_then(Number::as_i64)
}

/// A list of strings, if set; unknown or null elements are skipped.
pub(crate) fn opt_string_list(object: &Value, name: &str) -> Option<Vec<String>> {
    let list = object.get(name)?.as_list()?;
    Some(
        list.iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
    )
}

/// A map of strings; empty when null or unknown.
pub(crate) fn string_map(value: Option<&Value>) -> BTreeMap<String, String> {
    value
        .and_then(Value::as_map)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// A list-of-strings value.
pub(crate) fn strings<'a>(items: impl IntoIterator<Item = &'a String>) -> Value {
    Value::List(
        items
            .into_iter()
            .map(|s| Value::String(s.clone()))
            .collect(),
    )
}

/// A map-of-strings value.
pub(crate) fn map(items: &BTreeMap<String, String>) -> Value {
    Value::Map(
        items
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

/// A string value, or null.
pub(crate) fn opt(s: &Option<String>) -> Value {
    s.as_ref().map_or(Value::Null, |s| Value::String(s.clone()))
}
