//! cty values: the data Terraform and a provider exchange.
//!
//! Terraform describes every value in its type system, cty, and sends values as msgpack
//! (`DynamicValue.msgpack`) or, for stored state only, JSON (`RawState.json`). Decoding
//! needs the schema's [`Type`], because the wire form leaves out what the type already
//! says: an object's attributes arrive as a plain map, a set as a plain array.
//!
//! Two things make cty more than JSON with a schema. A value may be *unknown* until apply,
//! optionally with [`Refinements`] that Terraform relies on while planning. And numbers are
//! exact decimals ([`Number`]), not floats. The codecs here follow go-cty, the library
//! Terraform itself uses, down to the byte, so that a value a provider echoes back is the
//! value Terraform sent.
//!
//! Strings are taken as they arrive: cty normalises strings to Unicode NFC, and this
//! module does not, so a provider that builds a non-NFC string sends it unnormalised and
//! Terraform may then see it differ from its own normalised copy.

use std::collections::BTreeMap;
use std::fmt;

mod json;
mod msgpack;
mod number;
mod types;

pub use number::{Number, ParseNumberError};
pub use types::{Type, TypeError};

/// Values nested deeper than this are refused while decoding, so hostile input (dynamic
/// values can nest their own types) cannot exhaust the stack.
const MAX_VALUE_DEPTH: usize = 256;

/// What Terraform already knows about an unknown value.
///
/// Terraform relies on these while planning (for example to decide that
/// `aws_vpc.main.id != null` is true), so a refinement the provider sends in a plan must
/// still hold for the value it reports after apply. The default is no refinement at all.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Refinements {
    /// The value will not be null.
    pub not_null: bool,
    /// A string value will start with this text. Empty means no refinement.
    pub string_prefix: Option<String>,
    /// A number value will be at least (`true`: or equal to) this bound.
    pub number_lower: Option<(Number, bool)>,
    /// A number value will be at most (`true`: or equal to) this bound.
    pub number_upper: Option<(Number, bool)>,
    /// A list, set or map will have at least this many elements. Zero means no refinement.
    pub length_min: Option<u64>,
    /// A list, set or map will have at most this many elements.
    pub length_max: Option<u64>,
}

impl Refinements {
    /// Only that the value will not be null.
    pub fn not_null() -> Refinements {
        Refinements {
            not_null: true,
            ..Refinements::default()
        }
    }

    /// Whether nothing is known about the value.
    pub fn is_empty(&self) -> bool {
        *self == Refinements::default()
    }
}

/// A cty value of some [`Type`], which the value itself does not carry.
///
/// `Null` and `Unknown` are values of every type. A value whose type is [`Type::Dynamic`]
/// must say which type it really has, with [`Value::Dynamic`], unless it is wholly null or
/// wholly unknown. The accessors look through that wrapper.
///
/// Sets compare as sets: element order does not matter, and equal elements count once.
/// Elements that are not wholly known never count as equal to one another, because
/// Terraform cannot tell whether they will be; decoding keeps them all and drops the
/// repeats of known elements.
#[derive(Clone, Debug, Default)]
pub enum Value {
    /// Null: the absence of a value.
    #[default]
    Null,
    /// Not known until apply.
    Unknown(Refinements),
    /// A `bool`.
    Bool(bool),
    /// A `number`.
    Number(Number),
    /// A `string`.
    String(String),
    /// A `list`.
    List(Vec<Value>),
    /// A `set`; see the type's notes on equality.
    Set(Vec<Value>),
    /// A `map`.
    Map(BTreeMap<String, Value>),
    /// An `object`, with a value (possibly null) for every attribute of its type.
    Object(BTreeMap<String, Value>),
    /// A `tuple`.
    Tuple(Vec<Value>),
    /// A value in a `dynamic` position, with the concrete type it has.
    Dynamic(Type, Box<Value>),
}

impl Value {
    /// An unknown value with no refinements.
    pub fn unknown() -> Value {
        Value::Unknown(Refinements::default())
    }

    /// A string value.
    pub fn string(value: impl Into<String>) -> Value {
        Value::String(value.into())
    }

    /// A list of strings.
    pub fn strings<S: Into<String>>(values: impl IntoIterator<Item = S>) -> Value {
        Value::List(values.into_iter().map(Value::string).collect())
    }

    /// A number value.
    pub fn number(value: impl Into<Number>) -> Value {
        Value::Number(value.into())
    }

    /// An object value from `(attribute, value)` pairs.
    pub fn object<K: Into<String>>(attributes: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Object(
            attributes
                .into_iter()
                .map(|(name, v)| (name.into(), v))
                .collect(),
        )
    }

    /// The value inside any [`Value::Dynamic`] wrappers.
    pub fn unwrap_dynamic(&self) -> &Value {
        let mut value = self;
        while let Value::Dynamic(_, inner) = value {
            value = inner;
        }
        value
    }

    /// Whether the value is null.
    pub fn is_null(&self) -> bool {
        matches!(self.unwrap_dynamic(), Value::Null)
    }

    /// Whether the value itself is known; its elements may still be unknown.
    pub fn is_known(&self) -> bool {
        !matches!(self.unwrap_dynamic(), Value::Unknown(_))
    }

    /// Whether neither the value nor anything inside it is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown(_) => false,
            Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => true,
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
                items.iter().all(Value::is_wholly_known)
            }
            Value::Map(entries) | Value::Object(entries) => {
                entries.values().all(Value::is_wholly_known)
            }
            Value::Dynamic(_, inner) => inner.is_wholly_known(),
        }
    }

    /// The refinements of an unknown value.
    pub fn refinements(&self) -> Option<&Refinements> {
        match self.unwrap_dynamic() {
            Value::Unknown(refinements) => Some(refinements),
            _ => None,
        }
    }

    /// The text of a known string.
    pub fn as_str(&self) -> Option<&str> {
        match self.unwrap_dynamic() {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// A known bool.
    pub fn as_bool(&self) -> Option<bool> {
        match self.unwrap_dynamic() {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// A known number.
    pub fn as_number(&self) -> Option<&Number> {
        match self.unwrap_dynamic() {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// A known number that is an integer within the range of `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_number().and_then(Number::as_i64)
    }

    /// The elements of a known list, set or tuple.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self.unwrap_dynamic() {
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => Some(items),
            _ => None,
        }
    }

    /// The entries of a known map, or the attributes of a known object.
    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self.unwrap_dynamic() {
            Value::Map(entries) | Value::Object(entries) => Some(entries),
            _ => None,
        }
    }

    /// An attribute of a known object (or an entry of a known map).
    pub fn get(&self, attribute: &str) -> Option<&Value> {
        self.as_map()?.get(attribute)
    }

    /// The value at `path`, if every step exists.
    ///
    /// [`PathStep::Index`] counts positions, in sets too (in this value's element order);
    /// [`PathStep::Attr`] and [`PathStep::Key`] both look names up in objects and maps.
    pub fn get_path(&self, path: &AttributePath) -> Option<&Value> {
        path.0.iter().try_fold(self, |value, step| match step {
            PathStep::Attr(name) | PathStep::Key(name) => value.get(name),
            PathStep::Index(index) => value.as_list()?.get(usize::try_from(*index).ok()?),
        })
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Value {
        Value::String(value.to_owned())
    }
}

impl From<String> for Value {
    fn from(value: String) -> Value {
        Value::String(value)
    }
}

impl From<bool> for Value {
    fn from(value: bool) -> Value {
        Value::Bool(value)
    }
}

impl From<i64> for Value {
    fn from(value: i64) -> Value {
        Value::Number(Number::from_i64(value))
    }
}

impl From<Number> for Value {
    fn from(value: Number) -> Value {
        Value::Number(value)
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Unknown(a), Value::Unknown(b)) => a == b,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Number(a), Value::Number(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::List(a), Value::List(b)) | (Value::Tuple(a), Value::Tuple(b)) => a == b,
            (Value::Set(a), Value::Set(b)) => set_eq(a, b),
            (Value::Map(a), Value::Map(b)) | (Value::Object(a), Value::Object(b)) => a == b,
            (Value::Dynamic(ta, a), Value::Dynamic(tb, b)) => ta == tb && a == b,
            _ => false,
        }
    }
}

impl Eq for Value {}

/// The elements of a set with repeats of wholly known elements dropped, first one kept.
fn distinct(items: &[Value]) -> Vec<&Value> {
    let mut kept: Vec<&Value> = Vec::with_capacity(items.len());
    for item in items {
        let known = item.is_wholly_known();
        if !(known && kept.contains(&item)) {
            kept.push(item);
        }
    }
    kept
}

/// Drops repeats of wholly known elements, as cty sets do.
fn dedup_set(items: Vec<Value>) -> Vec<Value> {
    let mut kept: Vec<Value> = Vec::with_capacity(items.len());
    for item in items {
        if !(item.is_wholly_known() && kept.contains(&item)) {
            kept.push(item);
        }
    }
    kept
}

fn set_eq(a: &[Value], b: &[Value]) -> bool {
    let (a, b) = (distinct(a), distinct(b));
    if a.len() != b.len() {
        return false;
    }
    // Element equality is an equivalence, so matching greedily finds a pairing if any.
    let mut used = vec![false; b.len()];
    a.iter().all(|x| {
        let found = b
            .iter()
            .zip(used.iter())
            .position(|(y, used)| !used && x == y);
        match found {
            Some(i) => {
                used[i] = true;
                true
            }
            None => false,
        }
    })
}

/// One step of an [`AttributePath`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathStep {
    /// An object attribute: `.name`.
    Attr(String),
    /// A map key: `["key"]`.
    Key(String),
    /// A list, tuple or set position: `[0]`.
    Index(u64),
}

/// Where in a value something is, as diagnostics report it: `tags["Name"]`,
/// `subnets[1].cidr_block`. The empty path is the whole value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct AttributePath(pub Vec<PathStep>);

impl AttributePath {
    /// The empty path: the whole value.
    pub fn new() -> AttributePath {
        AttributePath(Vec::new())
    }

    /// This path followed by an object attribute.
    pub fn attr(mut self, name: impl Into<String>) -> AttributePath {
        self.0.push(PathStep::Attr(name.into()));
        self
    }

    /// This path followed by a map key.
    pub fn key(mut self, key: impl Into<String>) -> AttributePath {
        self.0.push(PathStep::Key(key.into()));
        self
    }

    /// This path followed by a list, tuple or set position.
    pub fn index(mut self, index: u64) -> AttributePath {
        self.0.push(PathStep::Index(index));
        self
    }

    /// The steps, outermost first.
    pub fn steps(&self) -> &[PathStep] {
        &self.0
    }

    /// Whether this is the path of the whole value.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Vec<PathStep>> for AttributePath {
    fn from(steps: Vec<PathStep>) -> AttributePath {
        AttributePath(steps)
    }
}

impl fmt::Display for AttributePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                PathStep::Attr(name) if i == 0 => f.write_str(name)?,
                PathStep::Attr(name) => write!(f, ".{name}")?,
                PathStep::Key(key) => {
                    let mut quoted = String::with_capacity(key.len() + 2);
                    types::write_json_string(&mut quoted, key);
                    write!(f, "[{quoted}]")?;
                }
                PathStep::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// A value that could not be decoded or encoded, and where in it the problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValueError {
    /// Where the problem is; empty for the whole value.
    pub path: AttributePath,
    /// What is wrong, in lowercase without the path: `string is required`.
    pub message: String,
}

/// The error from decoding a value.
pub type DecodeError = ValueError;

/// The error from encoding a value, which also reports values that do not fit their type.
pub type EncodeError = ValueError;

impl ValueError {
    pub(crate) fn new(path: &[PathStep], message: impl Into<String>) -> ValueError {
        ValueError {
            path: AttributePath(path.to_vec()),
            message: message.into(),
        }
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ValueError {}

/// The message for a value that is not of the type its position requires.
fn type_required(ty: &Type) -> String {
    match ty {
        Type::Bool | Type::Number | Type::String => format!("{ty} is required"),
        Type::Dynamic => "a value with a concrete type (Value::Dynamic) is required".to_owned(),
        Type::List(_) => "a list is required".to_owned(),
        Type::Set(_) => "a set is required".to_owned(),
        Type::Map(_) => "a map is required".to_owned(),
        Type::Object(_) => "an object is required".to_owned(),
        Type::Tuple(_) => "a tuple is required".to_owned(),
    }
}

#[cfg(test)]
pub(crate) mod strategies {
    //! proptest strategies for types and values of those types.

    use super::*;
    use proptest::prelude::*;

    /// Attribute and key names, short so that collisions (and set repeats) happen.
    fn name() -> impl Strategy<Value = String> {
        prop_oneof!["[a-c]{1,2}", "[a-z_]{0,6}", "\\PC{0,4}"]
    }

    pub(crate) fn number() -> impl Strategy<Value = Number> {
        prop_oneof![
            any::<i64>().prop_map(Number::from_i64),
            (-3i64..3).prop_map(Number::from_i64),
            any::<u64>().prop_map(Number::from_u64),
            any::<f64>().prop_filter_map("not a number", Number::from_f64),
            (-1000.0f64..1000.0).prop_filter_map("not a number", Number::from_f64),
            "-?[0-9]{1,40}(\\.[0-9]{1,30})?(e-?[0-9]{1,2})?".prop_map(|s| s.parse().unwrap()),
        ]
    }

    pub(crate) fn ty() -> impl Strategy<Value = Type> {
        let leaf = prop_oneof![
            Just(Type::Bool),
            Just(Type::Number),
            Just(Type::String),
            Just(Type::Dynamic),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                inner.clone().prop_map(Type::list),
                inner.clone().prop_map(Type::set),
                inner.clone().prop_map(Type::map),
                prop::collection::btree_map(name(), inner.clone(), 0..4).prop_map(Type::Object),
                prop::collection::vec(inner, 0..4).prop_map(Type::Tuple),
            ]
        })
    }

    /// Types a dynamic value may take: anything but `dynamic` itself at the top.
    fn concrete_ty() -> impl Strategy<Value = Type> {
        ty().prop_filter("dynamic", |ty| *ty != Type::Dynamic)
    }

    fn refinements(ty: &Type) -> BoxedStrategy<Refinements> {
        let not_null = any::<bool>();
        match ty {
            Type::String => (not_null, proptest::option::of("\\PC{1,8}"))
                .prop_map(|(not_null, string_prefix)| Refinements {
                    not_null,
                    string_prefix,
                    ..Refinements::default()
                })
                .boxed(),
            Type::Number => {
                let bound = || proptest::option::of((number(), any::<bool>()));
                (not_null, bound(), bound())
                    .prop_map(|(not_null, number_lower, number_upper)| Refinements {
                        not_null,
                        number_lower: number_lower.filter(|(n, _)| !n.is_infinite()),
                        number_upper: number_upper.filter(|(n, _)| !n.is_infinite()),
                        ..Refinements::default()
                    })
                    .boxed()
            }
            Type::List(_) | Type::Set(_) | Type::Map(_) => {
                let length = || proptest::option::of(1u64..1_000_000);
                (not_null, length(), length())
                    .prop_map(|(not_null, length_min, length_max)| Refinements {
                        not_null,
                        length_min,
                        length_max,
                        ..Refinements::default()
                    })
                    .boxed()
            }
            Type::Dynamic => Just(Refinements::default()).boxed(),
            _ => not_null
                .prop_map(|not_null| Refinements {
                    not_null,
                    ..Default::default()
                })
                .boxed(),
        }
    }

    /// Values of `ty`, unknown ones included when `unknowns` is set.
    pub(crate) fn value(ty: &Type, unknowns: bool) -> BoxedStrategy<Value> {
        let known = known_value(ty, unknowns);
        if unknowns {
            prop_oneof![
                1 => Just(Value::Null),
                1 => refinements(ty).prop_map(Value::Unknown),
                6 => known,
            ]
            .boxed()
        } else {
            prop_oneof![1 => Just(Value::Null), 6 => known].boxed()
        }
    }

    fn known_value(ty: &Type, unknowns: bool) -> BoxedStrategy<Value> {
        match ty {
            Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
            Type::Number => number().prop_map(Value::Number).boxed(),
            Type::String => "\\PC{0,12}".prop_map(Value::String).boxed(),
            Type::Dynamic => concrete_ty()
                .prop_flat_map(move |ty| {
                    value(&ty, unknowns).prop_map(move |v| Value::Dynamic(ty.clone(), Box::new(v)))
                })
                .boxed(),
            Type::List(element) => prop::collection::vec(value(element, unknowns), 0..4)
                .prop_map(Value::List)
                .boxed(),
            Type::Set(element) => prop::collection::vec(value(element, unknowns), 0..4)
                .prop_map(Value::Set)
                .boxed(),
            Type::Map(element) => {
                prop::collection::btree_map(name(), value(element, unknowns), 0..4)
                    .prop_map(Value::Map)
                    .boxed()
            }
            Type::Object(attributes) => {
                let values: Vec<_> = attributes
                    .iter()
                    .map(|(name, ty)| {
                        let name = name.clone();
                        value(ty, unknowns).prop_map(move |v| (name.clone(), v))
                    })
                    .collect();
                values
                    .prop_map(|pairs| Value::Object(pairs.into_iter().collect()))
                    .boxed()
            }
            Type::Tuple(elements) => {
                let values: Vec<_> = elements.iter().map(|ty| value(ty, unknowns)).collect();
                values.prop_map(Value::Tuple).boxed()
            }
        }
    }

    /// A type together with a value of it.
    pub(crate) fn typed_value(unknowns: bool) -> impl Strategy<Value = (Type, Value)> {
        ty().prop_flat_map(move |ty| {
            let values = value(&ty, unknowns);
            (Just(ty), values)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_display() {
        assert_eq!(
            AttributePath::new().attr("tags").key("a").to_string(),
            r#"tags["a"]"#
        );
        assert_eq!(
            AttributePath::new()
                .attr("subnets")
                .index(1)
                .attr("cidr")
                .to_string(),
            "subnets[1].cidr"
        );
        assert_eq!(
            AttributePath::new().key("say \"hi\"").to_string(),
            r#"["say \"hi\""]"#
        );
        assert_eq!(AttributePath::new().to_string(), "");
    }

    #[test]
    fn sets_compare_without_order_and_repeats() {
        let a = Value::Set(vec![
            Value::string("x"),
            Value::string("y"),
            Value::string("x"),
        ]);
        let b = Value::Set(vec![Value::string("y"), Value::string("x")]);
        assert_eq!(a, b);
        assert_ne!(a, Value::Set(vec![Value::string("x")]));
        // Unknown elements are never the same element.
        let two = Value::Set(vec![Value::unknown(), Value::unknown()]);
        assert_ne!(two, Value::Set(vec![Value::unknown()]));
        assert_eq!(two, two.clone());
    }

    #[test]
    fn numbers_compare_by_value() {
        assert_eq!(Value::number(1), Value::Number("1.0".parse().unwrap()));
    }

    #[test]
    fn accessors_look_through_dynamic() {
        let value = Value::object([
            ("name", Value::string("web")),
            ("count", Value::number(3)),
            (
                "extra",
                Value::Dynamic(Type::String, Box::new(Value::string("x"))),
            ),
            ("subnets", Value::strings(["a", "b"])),
            ("pending", Value::unknown()),
        ]);
        assert_eq!(value.get("name").and_then(Value::as_str), Some("web"));
        assert_eq!(value.get("count").and_then(Value::as_i64), Some(3));
        assert_eq!(value.get("extra").and_then(Value::as_str), Some("x"));
        assert!(value.is_known());
        assert!(!value.is_wholly_known());
        assert!(!value.get("pending").unwrap().is_known());
        let path = AttributePath::new().attr("subnets").index(1);
        assert_eq!(value.get_path(&path).and_then(Value::as_str), Some("b"));
        assert_eq!(value.get_path(&AttributePath::new().attr("nope")), None);
        assert!(Value::Dynamic(Type::String, Box::new(Value::Null)).is_null());
    }

    #[test]
    fn conformance() {
        let ty = Type::object([("a", Type::String)]);
        assert!(ty.conforms(&Value::object([("a", Value::Null)])));
        assert!(!ty.conforms(&Value::object([("a", Value::number(1))])));
        assert!(!ty.conforms(&Value::object([("b", Value::Null)])));
        assert!(!Type::Dynamic.conforms(&Value::string("x")));
    }
}
