//! The JSON form of values, which Terraform uses for stored state (`RawState.json`).
//!
//! The rules follow go-cty's JSON codec: a dynamic value is `{"type": …, "value": …}`,
//! missing object attributes are null, and primitives convert as Terraform converts them
//! (a number or bool read where a string is expected becomes its text, and so on).
//!
//! `serde_json` is built without `arbitrary_precision` or `float_roundtrip` here, so a
//! JSON number it has parsed holds at most an `f64`, and not always the nearest one: an
//! integer beyond 64 bits in stored state reads back rounded, and a long decimal may come
//! back one unit off in its last digit. Numbers written as JSON strings keep every digit,
//! which is how [`Value::to_json`] writes any number a JSON number would change.

use serde_json::Value as Json;

use super::number::WireNumber;
use super::{
    dedup_set, distinct, type_required, Number, PathStep, Type, Value, ValueError, MAX_VALUE_DEPTH,
};

impl Value {
    /// Reads a value of type `ty` from its JSON form.
    pub fn from_json(json: &Json, ty: &Type) -> Result<Value, ValueError> {
        JsonReader {
            path: Vec::new(),
            depth: 0,
        }
        .value(json, ty)
    }

    /// The JSON form of this value as type `ty`; fails for unknown values, which JSON
    /// cannot hold.
    pub fn to_json(&self, ty: &Type) -> Result<Json, ValueError> {
        JsonWriter { path: Vec::new() }.value(self, ty)
    }
}

struct JsonReader {
    path: Vec<PathStep>,
    depth: usize,
}

impl JsonReader {
    fn error(&self, message: impl Into<String>) -> ValueError {
        ValueError::new(&self.path, message)
    }

    fn value(&mut self, json: &Json, ty: &Type) -> Result<Value, ValueError> {
        self.depth += 1;
        if self.depth > MAX_VALUE_DEPTH {
            return Err(self.error("value is nested too deeply"));
        }
        let value = self.value_inner(json, ty);
        self.depth -= 1;
        value
    }

    fn value_inner(&mut self, json: &Json, ty: &Type) -> Result<Value, ValueError> {
        if json.is_null() {
            return Ok(Value::Null);
        }
        match ty {
            Type::Dynamic => self.dynamic(json),
            Type::Bool => match json {
                Json::Bool(b) => Ok(Value::Bool(*b)),
                Json::String(s) if s == "true" => Ok(Value::Bool(true)),
                Json::String(s) if s == "false" => Ok(Value::Bool(false)),
                _ => Err(self.error(type_required(ty))),
            },
            Type::Number => {
                let text = match json {
                    Json::Number(n) => n.to_string(),
                    Json::String(s) => s.clone(),
                    _ => return Err(self.error(type_required(ty))),
                };
                let number: Number = text.parse().map_err(|_| self.error(type_required(ty)))?;
                Ok(Value::Number(number))
            }
            Type::String => match json {
                Json::String(s) => Ok(Value::String(s.clone())),
                Json::Number(n) => Ok(Value::String(n.to_string())),
                Json::Bool(b) => Ok(Value::String(b.to_string())),
                _ => Err(self.error(type_required(ty))),
            },
            Type::List(element) | Type::Set(element) => {
                let Json::Array(items) = json else {
                    return Err(self.error(type_required(ty)));
                };
                let mut values = Vec::with_capacity(items.len());
                for (index, item) in (0u64..).zip(items) {
                    self.path.push(PathStep::Index(index));
                    values.push(self.value(item, element)?);
                    self.path.pop();
                }
                Ok(match ty {
                    Type::Set(_) => Value::Set(dedup_set(values)),
                    _ => Value::List(values),
                })
            }
            Type::Tuple(elements) => {
                let Json::Array(items) = json else {
                    return Err(self.error(type_required(ty)));
                };
                if items.len() != elements.len() {
                    let expected = elements.len();
                    return Err(self.error(format!("a tuple of length {expected} is required")));
                }
                let mut values = Vec::with_capacity(items.len());
                for ((index, item), element) in (0u64..).zip(items).zip(elements) {
                    self.path.push(PathStep::Index(index));
                    values.push(self.value(item, element)?);
                    self.path.pop();
                }
                Ok(Value::Tuple(values))
            }
            Type::Map(element) => {
                let Json::Object(entries) = json else {
                    return Err(self.error(type_required(ty)));
                };
                let mut values = std::collections::BTreeMap::new();
                for (key, item) in entries {
                    self.path.push(PathStep::Key(key.clone()));
                    values.insert(key.clone(), self.value(item, element)?);
                    self.path.pop();
                }
                Ok(Value::Map(values))
            }
            Type::Object(attributes) => {
                let Json::Object(entries) = json else {
                    return Err(self.error(type_required(ty)));
                };
                if let Some(extra) = entries.keys().find(|name| !attributes.contains_key(*name)) {
                    self.path.push(PathStep::Attr(extra.clone()));
                    return Err(self.error("unsupported attribute"));
                }
                let mut values = std::collections::BTreeMap::new();
                for (name, attribute_ty) in attributes {
                    self.path.push(PathStep::Attr(name.clone()));
                    let value = match entries.get(name) {
                        Some(item) => self.value(item, attribute_ty)?,
                        None => Value::Null,
                    };
                    values.insert(name.clone(), value);
                    self.path.pop();
                }
                Ok(Value::Object(values))
            }
        }
    }

    fn dynamic(&mut self, json: &Json) -> Result<Value, ValueError> {
        let Json::Object(entries) = json else {
            return Err(self.error("a dynamic value must be a JSON object with type and value"));
        };
        if let Some(key) = entries.keys().find(|key| *key != "type" && *key != "value") {
            return Err(self.error(format!("invalid key {key:?} in a dynamic value")));
        }
        let (Some(type_json), Some(value)) = (entries.get("type"), entries.get("value")) else {
            return Err(self.error("a dynamic value needs both type and value"));
        };
        let ty = Type::from_json_value(type_json).map_err(|e| self.error(e.to_string()))?;
        let value = self.value(value, &ty)?;
        Ok(Value::Dynamic(ty, Box::new(value)))
    }
}

struct JsonWriter {
    path: Vec<PathStep>,
}

impl JsonWriter {
    fn error(&self, message: impl Into<String>) -> ValueError {
        ValueError::new(&self.path, message)
    }

    fn value(&mut self, value: &Value, ty: &Type) -> Result<Json, ValueError> {
        let json = match (ty, value) {
            (_, Value::Unknown(_)) => return Err(self.error("value is not known")),
            (_, Value::Null) => Json::Null,
            (Type::Dynamic, Value::Dynamic(inner_ty, inner)) => {
                let mut object = serde_json::Map::new();
                object.insert("type".to_owned(), inner_ty.to_json_value());
                object.insert("value".to_owned(), self.value(inner, inner_ty)?);
                Json::Object(object)
            }
            (Type::Bool, Value::Bool(b)) => Json::Bool(*b),
            (Type::Number, Value::Number(n)) => self.number(n)?,
            (Type::String, Value::String(s)) => Json::String(s.clone()),
            (Type::List(element), Value::List(items)) => self.elements(items.iter(), element)?,
            (Type::Set(element), Value::Set(items)) => {
                self.elements(distinct(items).into_iter(), element)?
            }
            (Type::Tuple(elements), Value::Tuple(items)) => {
                if elements.len() != items.len() {
                    let expected = elements.len();
                    return Err(self.error(format!("a tuple of length {expected} is required")));
                }
                let mut out = Vec::with_capacity(items.len());
                for ((index, item), element) in (0u64..).zip(items).zip(elements) {
                    self.path.push(PathStep::Index(index));
                    out.push(self.value(item, element)?);
                    self.path.pop();
                }
                Json::Array(out)
            }
            (Type::Map(element), Value::Map(entries)) => {
                let mut out = serde_json::Map::new();
                for (key, item) in entries {
                    self.path.push(PathStep::Key(key.clone()));
                    out.insert(key.clone(), self.value(item, element)?);
                    self.path.pop();
                }
                Json::Object(out)
            }
            (Type::Object(attributes), Value::Object(values)) => {
                if let Some(extra) = values.keys().find(|name| !attributes.contains_key(*name)) {
                    self.path.push(PathStep::Attr(extra.clone()));
                    return Err(self.error("unsupported attribute"));
                }
                let mut out = serde_json::Map::new();
                for (name, attribute_ty) in attributes {
                    self.path.push(PathStep::Attr(name.clone()));
                    let Some(item) = values.get(name) else {
                        return Err(self.error("attribute is required (null when unset)"));
                    };
                    out.insert(name.clone(), self.value(item, attribute_ty)?);
                    self.path.pop();
                }
                Json::Object(out)
            }
            _ => return Err(self.error(type_required(ty))),
        };
        Ok(json)
    }

    fn elements<'v>(
        &mut self,
        items: impl Iterator<Item = &'v Value>,
        element: &Type,
    ) -> Result<Json, ValueError> {
        let mut out = Vec::new();
        for (index, item) in (0u64..).zip(items) {
            self.path.push(PathStep::Index(index));
            out.push(self.value(item, element)?);
            self.path.pop();
        }
        Ok(Json::Array(out))
    }

    /// A JSON number when one holds the value exactly, otherwise the decimal text as a
    /// JSON string, which Terraform reads as the same number.
    fn number(&self, number: &Number) -> Result<Json, ValueError> {
        if number.is_infinite() {
            return Err(self.error("an infinite number cannot be written as JSON"));
        }
        if let Some(n) = number.as_i64() {
            return Ok(Json::from(n));
        }
        if let Some(n) = number.as_u64() {
            return Ok(Json::from(n));
        }
        // A non-integer float is written as the shortest text that reads back as the same
        // float, as Terraform writes it, even though the text is a different decimal.
        if let (false, WireNumber::Float(f)) = (number.is_integer(), number.wire()) {
            if let Some(json) = serde_json::Number::from_f64(f) {
                return Ok(Json::Number(json));
            }
        }
        // Otherwise a JSON number only if serde_json writes a float whose text is this
        // very decimal; parsing with std rather than serde_json keeps the check exact.
        let text = number.to_string();
        let exact = text.parse::<f64>().ok().filter(|f| {
            f.is_finite() && format!("{f}").parse::<Number>().ok().as_ref() == Some(number)
        });
        Ok(match exact.and_then(serde_json::Number::from_f64) {
            Some(json) => Json::Number(json),
            None => Json::String(text),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::strategies;
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn n(text: &str) -> Number {
        text.parse().unwrap()
    }

    #[test]
    fn state_round_trip() {
        let ty = Type::object([
            ("id", Type::String),
            ("port", Type::Number),
            ("ratio", Type::Number),
            ("enabled", Type::Bool),
            ("tags", Type::map(Type::String)),
            ("cidrs", Type::set(Type::String)),
            ("extra", Type::Dynamic),
            ("unset", Type::list(Type::String)),
        ]);
        let json = json!({
            "id": "vpc-1",
            "port": 443,
            "ratio": 0.25,
            "enabled": true,
            "tags": {"Name": "main"},
            "cidrs": ["10.0.0.0/16", "10.0.0.0/16"],
            "extra": {"type": ["tuple", ["string", "number"]], "value": ["a", 1]},
        });
        let value = Value::from_json(&json, &ty).unwrap();
        assert_eq!(value.get("port").and_then(Value::as_i64), Some(443));
        assert_eq!(
            value
                .get("cidrs")
                .and_then(Value::as_list)
                .map(<[Value]>::len),
            Some(1)
        );
        assert!(value.get("unset").unwrap().is_null());
        let extra = Value::Tuple(vec![Value::string("a"), Value::number(1)]);
        let extra_ty = Type::tuple([Type::String, Type::Number]);
        assert_eq!(
            value.get("extra"),
            Some(&Value::Dynamic(extra_ty, Box::new(extra)))
        );

        let written = value.to_json(&ty).unwrap();
        let mut expected = json;
        expected["cidrs"] = json!(["10.0.0.0/16"]);
        expected["unset"] = Json::Null;
        assert_eq!(written, expected);
        assert_eq!(Value::from_json(&written, &ty).unwrap(), value);
    }

    #[test]
    fn numbers_keep_every_digit() {
        for text in [
            "123456789012345678901234567890",
            "0.1",
            "-1e-30",
            "18446744073709551615",
        ] {
            let value = Value::Number(n(text));
            let json = value.to_json(&Type::Number).unwrap();
            assert_eq!(
                Value::from_json(&json, &Type::Number).unwrap(),
                value,
                "{json}"
            );
        }
        let big = Value::Number(n("123456789012345678901234567890"));
        assert_eq!(
            big.to_json(&Type::Number).unwrap(),
            json!("123456789012345678901234567890")
        );
        assert_eq!(
            Value::Number(n("0.1")).to_json(&Type::Number).unwrap(),
            json!(0.1)
        );
    }

    #[test]
    fn primitives_convert_as_terraform_does() {
        assert_eq!(
            Value::from_json(&json!("12"), &Type::Number).unwrap(),
            Value::number(12)
        );
        assert_eq!(
            Value::from_json(&json!(12), &Type::String).unwrap(),
            Value::string("12")
        );
        assert_eq!(
            Value::from_json(&json!("true"), &Type::Bool).unwrap(),
            Value::Bool(true)
        );
        assert!(Value::from_json(&json!("yes"), &Type::Bool).is_err());
    }

    #[test]
    fn errors_name_the_attribute() {
        let ty = Type::object([("tags", Type::map(Type::Bool))]);
        let err = Value::from_json(&json!({"tags": {"a": []}}), &ty).unwrap_err();
        assert_eq!(err.to_string(), r#"tags["a"]: bool is required"#);
        let err = Value::from_json(&json!({"nope": 1}), &ty).unwrap_err();
        assert_eq!(err.to_string(), "nope: unsupported attribute");
        let err = Value::from_json(&json!({"type": "string"}), &Type::Dynamic).unwrap_err();
        assert!(err.to_string().contains("both type and value"));
        let unknown = Value::object([("tags", Value::unknown())]);
        assert_eq!(
            unknown.to_json(&ty).unwrap_err().to_string(),
            "tags: value is not known"
        );
    }

    proptest! {
        #[test]
        fn json_round_trip_is_stable(
            (ty, value) in strategies::typed_value(false)
                .prop_filter("infinity", |(_, v)| !any_number(v, &Number::is_infinite)),
        ) {
            let json = value.to_json(&ty).unwrap();
            let read = Value::from_json(&json, &ty).unwrap();
            // A non-integer float reads back as the decimal it prints as, as in Terraform,
            // so compare the second trip; values without such floats are exact.
            prop_assert_eq!(read.to_json(&ty).unwrap(), json);
            let again = Value::from_json(&read.to_json(&ty).unwrap(), &ty).unwrap();
            prop_assert_eq!(again, read);
        }

        #[test]
        fn json_round_trip_is_exact_without_floats(
            (ty, value) in strategies::typed_value(false)
                .prop_filter("infinity or float", |(_, v)| !any_number(v, &|n: &Number| {
                    n.is_infinite() || n.to_string().parse::<Number>().ok().as_ref() != Some(n)
                })),
        ) {
            let json = value.to_json(&ty).unwrap();
            prop_assert_eq!(Value::from_json(&json, &ty).unwrap(), value);
        }
    }

    /// Whether any number in `value` satisfies `predicate`.
    fn any_number(value: &Value, predicate: &dyn Fn(&Number) -> bool) -> bool {
        match value {
            Value::Number(n) => predicate(n),
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
                items.iter().any(|item| any_number(item, predicate))
            }
            Value::Map(entries) | Value::Object(entries) => {
                entries.values().any(|item| any_number(item, predicate))
            }
            Value::Dynamic(_, inner) => any_number(inner, predicate),
            _ => false,
        }
    }
}
