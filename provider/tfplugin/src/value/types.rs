//! The cty type system and its JSON form.

use std::collections::BTreeMap;
use std::fmt;

use super::{Value, ValueError};

/// Types nested deeper than this are refused when read from JSON; real schemas nest a
/// handful of levels, and the bound keeps hostile input from exhausting the stack.
const MAX_TYPE_DEPTH: usize = 100;

/// A cty type, as Terraform describes schema attributes and dynamic values.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Type {
    /// `bool`.
    Bool,
    /// `number`: see [`Number`](super::Number).
    Number,
    /// `string`.
    String,
    /// `dynamic`: any type, decided by each value; see [`Value::Dynamic`].
    Dynamic,
    /// An ordered sequence of one element type.
    List(Box<Type>),
    /// An unordered collection of distinct values of one element type.
    Set(Box<Type>),
    /// String keys to values of one element type.
    Map(Box<Type>),
    /// Named attributes, each with its own type.
    Object(BTreeMap<String, Type>),
    /// A fixed-length sequence, each element with its own type.
    Tuple(Vec<Type>),
}

/// The error returned when bytes are not a cty type in JSON form.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TypeError {
    message: String,
}

impl TypeError {
    fn new(message: impl Into<String>) -> TypeError {
        TypeError {
            message: message.into(),
        }
    }
}

impl fmt::Display for TypeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid type: {}", self.message)
    }
}

impl std::error::Error for TypeError {}

impl Type {
    /// `list(element)`.
    pub fn list(element: Type) -> Type {
        Type::List(Box::new(element))
    }

    /// `set(element)`.
    pub fn set(element: Type) -> Type {
        Type::Set(Box::new(element))
    }

    /// `map(element)`.
    pub fn map(element: Type) -> Type {
        Type::Map(Box::new(element))
    }

    /// `object({name = type, ...})`.
    pub fn object<K: Into<String>>(attributes: impl IntoIterator<Item = (K, Type)>) -> Type {
        Type::Object(
            attributes
                .into_iter()
                .map(|(name, ty)| (name.into(), ty))
                .collect(),
        )
    }

    /// `tuple([type, ...])`.
    pub fn tuple(elements: impl IntoIterator<Item = Type>) -> Type {
        Type::Tuple(elements.into_iter().collect())
    }

    /// Reads the JSON form Terraform uses in `Schema.Attribute.type` and in dynamic values:
    /// `"string"`, `["list","string"]`, `["object",{"a":"number"}]` and so on.
    pub fn from_json(bytes: &[u8]) -> Result<Type, TypeError> {
        let json: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| TypeError::new(e.to_string()))?;
        Type::from_json_value(&json)
    }

    /// Reads a type from already parsed JSON; see [`Type::from_json`].
    pub fn from_json_value(json: &serde_json::Value) -> Result<Type, TypeError> {
        type_from_json(json, 0)
    }

    /// The compact JSON form of this type, as Terraform expects in `Schema.Attribute.type`.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = String::new();
        self.write_json(&mut out);
        out.into_bytes()
    }

    /// The JSON form of this type as a [`serde_json::Value`].
    pub fn to_json_value(&self) -> serde_json::Value {
        use serde_json::Value as J;
        let pair = |kind: &str, inner: J| J::Array(vec![J::String(kind.to_owned()), inner]);
        match self {
            Type::Bool => J::String("bool".to_owned()),
            Type::Number => J::String("number".to_owned()),
            Type::String => J::String("string".to_owned()),
            Type::Dynamic => J::String("dynamic".to_owned()),
            Type::List(element) => pair("list", element.to_json_value()),
            Type::Set(element) => pair("set", element.to_json_value()),
            Type::Map(element) => pair("map", element.to_json_value()),
            Type::Object(attributes) => pair(
                "object",
                J::Object(
                    attributes
                        .iter()
                        .map(|(name, ty)| (name.clone(), ty.to_json_value()))
                        .collect(),
                ),
            ),
            Type::Tuple(elements) => pair(
                "tuple",
                J::Array(elements.iter().map(Type::to_json_value).collect()),
            ),
        }
    }

    fn write_json(&self, out: &mut String) {
        let mut pair = |kind: &str, inner: &Type| {
            out.push_str("[\"");
            out.push_str(kind);
            out.push_str("\",");
            inner.write_json(out);
            out.push(']');
        };
        match self {
            Type::Bool => out.push_str("\"bool\""),
            Type::Number => out.push_str("\"number\""),
            Type::String => out.push_str("\"string\""),
            Type::Dynamic => out.push_str("\"dynamic\""),
            Type::List(element) => pair("list", element),
            Type::Set(element) => pair("set", element),
            Type::Map(element) => pair("map", element),
            Type::Object(attributes) => {
                out.push_str("[\"object\",{");
                for (i, (name, ty)) in attributes.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_json_string(out, name);
                    out.push(':');
                    ty.write_json(out);
                }
                out.push_str("}]");
            }
            Type::Tuple(elements) => {
                out.push_str("[\"tuple\",[");
                for (i, ty) in elements.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    ty.write_json(out);
                }
                out.push_str("]]");
            }
        }
    }

    /// Whether this is `bool`, `number` or `string`.
    pub fn is_primitive(&self) -> bool {
        matches!(self, Type::Bool | Type::Number | Type::String)
    }

    /// Whether this is a list, set or map: the types a length refinement applies to.
    pub fn is_collection(&self) -> bool {
        matches!(self, Type::List(_) | Type::Set(_) | Type::Map(_))
    }

    /// The element type of a list, set or map.
    pub fn element_type(&self) -> Option<&Type> {
        match self {
            Type::List(element) | Type::Set(element) | Type::Map(element) => Some(element),
            _ => None,
        }
    }

    /// The attribute types of an object.
    pub fn attribute_types(&self) -> Option<&BTreeMap<String, Type>> {
        match self {
            Type::Object(attributes) => Some(attributes),
            _ => None,
        }
    }

    /// Whether `value` is a valid value of this type; see [`Type::validate`].
    pub fn conforms(&self, value: &Value) -> bool {
        self.validate(value).is_ok()
    }

    /// Checks that `value` is a valid value of this type, naming the offending attribute.
    ///
    /// The rules are exactly those [`Value::encode_msgpack`] applies: a value passes here
    /// if and only if it can be sent to Terraform.
    pub fn validate(&self, value: &Value) -> Result<(), ValueError> {
        value.encode_msgpack(self).map(drop)
    }
}

/// Writes the type's friendly name, as Terraform's messages do: `list of string`.
impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Bool => f.write_str("bool"),
            Type::Number => f.write_str("number"),
            Type::String => f.write_str("string"),
            Type::Dynamic => f.write_str("dynamic"),
            Type::List(element) => write!(f, "list of {element}"),
            Type::Set(element) => write!(f, "set of {element}"),
            Type::Map(element) => write!(f, "map of {element}"),
            Type::Object(_) => f.write_str("object"),
            Type::Tuple(_) => f.write_str("tuple"),
        }
    }
}

fn type_from_json(json: &serde_json::Value, depth: usize) -> Result<Type, TypeError> {
    use serde_json::Value as J;
    if depth > MAX_TYPE_DEPTH {
        return Err(TypeError::new("type is nested too deeply"));
    }
    let items = match json {
        J::String(name) => {
            return match name.as_str() {
                "bool" => Ok(Type::Bool),
                "number" => Ok(Type::Number),
                "string" => Ok(Type::String),
                "dynamic" => Ok(Type::Dynamic),
                other => Err(TypeError::new(format!("unknown primitive type {other:?}"))),
            };
        }
        J::Array(items) => items,
        _ => return Err(TypeError::new("a type must be a string or an array")),
    };
    let Some(J::String(kind)) = items.first() else {
        return Err(TypeError::new(
            "a complex type must start with its kind as a string",
        ));
    };
    // Objects may carry a third element listing optional attributes; that only matters
    // for type constraints, never for the type of a value.
    let arity_ok = items.len() == 2 || (kind == "object" && items.len() == 3);
    if !arity_ok {
        return Err(TypeError::new(format!(
            "a {kind} type needs exactly one argument"
        )));
    }
    let argument = &items[1];
    let element = || type_from_json(argument, depth + 1).map(Box::new);
    match kind.as_str() {
        "list" => Ok(Type::List(element()?)),
        "set" => Ok(Type::Set(element()?)),
        "map" => Ok(Type::Map(element()?)),
        "object" => {
            let J::Object(attributes) = argument else {
                return Err(TypeError::new("object attributes must be a JSON object"));
            };
            let attributes = attributes
                .iter()
                .map(|(name, ty)| Ok((name.clone(), type_from_json(ty, depth + 1)?)))
                .collect::<Result<_, TypeError>>()?;
            Ok(Type::Object(attributes))
        }
        "tuple" => {
            let J::Array(elements) = argument else {
                return Err(TypeError::new("tuple elements must be a JSON array"));
            };
            let elements = elements
                .iter()
                .map(|ty| type_from_json(ty, depth + 1))
                .collect::<Result<_, TypeError>>()?;
            Ok(Type::Tuple(elements))
        }
        other => Err(TypeError::new(format!("unknown type kind {other:?}"))),
    }
}

/// Writes `s` as a JSON string literal.
pub(super) fn write_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_is_compact() {
        let ty = Type::object([
            ("b", Type::list(Type::String)),
            ("a", Type::map(Type::set(Type::Number))),
            ("t", Type::tuple([Type::Bool, Type::Dynamic])),
        ]);
        let json = ty.to_json();
        assert_eq!(
            String::from_utf8(json.clone()).unwrap(),
            concat!(
                r#"["object",{"a":["map",["set","number"]],"b":["list","string"],"#,
                r#""t":["tuple",["bool","dynamic"]]}]"#,
            )
        );
        assert_eq!(Type::from_json(&json).unwrap(), ty);
        assert_eq!(serde_json::to_vec(&ty.to_json_value()).unwrap(), json);
    }

    #[test]
    fn reads_primitives_and_optional_attribute_lists() {
        assert_eq!(Type::from_json(b"\"string\"").unwrap(), Type::String);
        assert_eq!(
            Type::from_json(br#"["object",{"a":"number"},["a"]]"#).unwrap(),
            Type::object([("a", Type::Number)])
        );
    }

    #[test]
    fn rejects_malformed_types() {
        for json in [
            &b"\"str\""[..],
            b"[\"list\"]",
            b"[\"list\",\"string\",\"x\"]",
            b"[\"object\",[]]",
            b"[\"tuple\",{}]",
            b"[\"capsule\",\"x\"]",
            b"42",
            b"[",
        ] {
            assert!(
                Type::from_json(json).is_err(),
                "{}",
                String::from_utf8_lossy(json)
            );
        }
        let deep = format!("{}\"string\"{}", "[\"list\",".repeat(120), "]".repeat(120));
        assert!(Type::from_json(deep.as_bytes()).is_err());
    }

    #[test]
    fn friendly_names() {
        assert_eq!(
            Type::list(Type::map(Type::String)).to_string(),
            "list of map of string"
        );
    }
}
