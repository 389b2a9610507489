//! Attribute validators.
//!
//! Validators run when Terraform validates a configuration, before anything reaches a cloud
//! API, and report on the exact attribute path so the user's editor points at the line.
//! They only look at known, non-null values: an unknown value is checked again at apply.

use std::fmt;
use std::net::IpAddr;

use crate::diag::Diagnostics;
use crate::value::{AttributePath, Value};

/// Checks one attribute's value.
pub trait Validator: Send + Sync {
    /// Adds a diagnostic at `path` for each problem with `value` (known and non-null).
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics);
}

impl fmt::Debug for dyn Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Validator")
    }
}

/// A string's length in characters lies in `min..=max`.
#[derive(Debug, Clone, Copy)]
pub struct StringLength {
    /// The fewest characters.
    pub min: usize,
    /// The most characters.
    pub max: usize,
}

/// Builds a [`StringLength`] validator.
pub fn string_length(min: usize, max: usize) -> StringLength {
    StringLength { min, max }
}

impl Validator for StringLength {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Some(s) = value.as_str() else { return };
        let n = s.chars().count();
        if n < self.min || n > self.max {
            diags.error_at(
                path.clone(),
                "Invalid Attribute Value Length",
                format!(
                    "{path} must be {} to {} characters long, but it is {n} characters long.",
                    self.min, self.max
                ),
            );
        }
    }
}

/// A string is one of a fixed set.
#[derive(Debug, Clone)]
pub struct OneOf(pub Vec<String>);

/// Builds a [`OneOf`] validator.
pub fn one_of(values: &[&str]) -> OneOf {
    OneOf(values.iter().map(|s| (*s).to_owned()).collect())
}

impl Validator for OneOf {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Some(s) = value.as_str() else { return };
        if !self.0.iter().any(|v| v == s) {
            diags.error_at(
                path.clone(),
                "Invalid Attribute Value",
                format!(
                    "{path} must be one of {}, but it is {s:?}.",
                    quoted_list(&self.0)
                ),
            );
        }
    }
}

/// A string matches a simple character-class pattern: every character is allowed by the
/// predicate. Used for names where a full regular expression would be overkill.
#[derive(Clone)]
pub struct Chars {
    allowed: fn(char) -> bool,
    what: &'static str,
}

impl fmt::Debug for Chars {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chars").field("what", &self.what).finish()
    }
}

/// Builds a [`Chars`] validator; `what` describes the allowed characters in prose.
pub fn chars(allowed: fn(char) -> bool, what: &'static str) -> Chars {
    Chars { allowed, what }
}

impl Validator for Chars {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Some(s) = value.as_str() else { return };
        if let Some(bad) = s.chars().find(|c| !(self.allowed)(*c)) {
            diags.error_at(
                path.clone(),
                "Invalid Attribute Value",
                format!(
                    "{path} may only contain {}, but it contains {bad:?}.",
                    self.what
                ),
            );
        }
    }
}

/// A string matches a regular expression (anchor it with `^...$` to match the whole
/// string).
#[derive(Debug, Clone)]
pub struct Regex {
    re: regex_lite::Regex,
    what: String,
}

/// Builds a [`Regex`] validator; `what` says in prose what the pattern allows.
///
/// # Panics
///
/// When `pattern` is not a valid regular expression: patterns are constants of the
/// provider, so this is a bug caught by its schema tests.
pub fn regex(pattern: &str, what: &str) -> Regex {
    let re = regex_lite::Regex::new(pattern)
        .unwrap_or_else(|e| panic!("invalid validator pattern {pattern:?}: {e}"));
    Regex {
        re,
        what: what.to_owned(),
    }
}

impl Validator for Regex {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Some(s) = value.as_str() else { return };
        if !self.re.is_match(s) {
            diags.error_at(
                path.clone(),
                "Invalid Attribute Value",
                format!("{path} must be {}, but it is {s:?}.", self.what),
            );
        }
    }
}

/// A string is an IP network in CIDR notation, with no host bits set.
#[derive(Debug, Clone, Copy)]
pub struct Cidr {
    /// Accept IPv4 networks.
    pub ipv4: bool,
    /// Accept IPv6 networks.
    pub ipv6: bool,
}

/// Builds a [`Cidr`] validator that accepts IPv4 networks only.
pub fn ipv4_cidr() -> Cidr {
    Cidr {
        ipv4: true,
        ipv6: false,
    }
}

/// Builds a [`Cidr`] validator that accepts IPv4 and IPv6 networks.
pub fn cidr() -> Cidr {
    Cidr {
        ipv4: true,
        ipv6: true,
    }
}

/// Parses a CIDR block and checks that it is a network address; the error is a sentence.
pub fn parse_cidr(s: &str) -> Result<ipnet::IpNet, String> {
    let net: ipnet::IpNet = s
        .parse()
        .map_err(|_| format!("{s:?} is not a CIDR block such as \"10.0.0.0/16\""))?;
    if net.network() != net.addr() {
        return Err(format!(
            "{s:?} has host bits set; the network address is \"{}/{}\"",
            net.network(),
            net.prefix_len()
        ));
    }
    Ok(net)
}

impl Validator for Cidr {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Some(s) = value.as_str() else { return };
        match parse_cidr(s) {
            Err(why) => diags.error_at(
                path.clone(),
                "Invalid CIDR Block",
                format!("{path}: {why}."),
            ),
            Ok(net) => {
                let v4 = matches!(net.addr(), IpAddr::V4(_));
                if (v4 && !self.ipv4) || (!v4 && !self.ipv6) {
                    let want = if self.ipv4 { "an IPv4" } else { "an IPv6" };
                    diags.error_at(
                        path.clone(),
                        "Invalid CIDR Block",
                        format!("{path} must be {want} CIDR block, but it is {s:?}."),
                    );
                }
            }
        }
    }
}

/// A number is a whole number in `min..=max`.
#[derive(Debug, Clone, Copy)]
pub struct IntBetween {
    /// The smallest value.
    pub min: i64,
    /// The largest value.
    pub max: i64,
}

/// Builds an [`IntBetween`] validator.
pub fn int_between(min: i64, max: i64) -> IntBetween {
    IntBetween { min, max }
}

/// Builds an [`IntBetween`] validator for TCP and UDP ports.
pub fn port() -> IntBetween {
    IntBetween { min: 1, max: 65535 }
}

impl Validator for IntBetween {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Some(n) = value.as_number() else { return };
        match n.as_i64() {
            Some(i) if i >= self.min && i <= self.max => {}
            _ => diags.error_at(
                path.clone(),
                "Invalid Attribute Value",
                format!(
                    "{path} must be a whole number from {} to {}, but it is {n}.",
                    self.min, self.max
                ),
            ),
        }
    }
}

/// A list, set or map has between `min` and `max` elements.
#[derive(Debug, Clone, Copy)]
pub struct SizeBetween {
    /// The fewest elements.
    pub min: usize,
    /// The most elements.
    pub max: usize,
}

/// Builds a [`SizeBetween`] validator.
pub fn size_between(min: usize, max: usize) -> SizeBetween {
    SizeBetween { min, max }
}

impl Validator for SizeBetween {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let n = match value {
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => v.len(),
            Value::Map(m) => m.len(),
            _ => return,
        };
        if n < self.min || n > self.max {
            let range = if self.min == self.max {
                format!("exactly {}", self.min)
            } else {
                format!("{} to {}", self.min, self.max)
            };
            diags.error_at(
                path.clone(),
                "Invalid Attribute Value",
                format!("{path} must have {range} elements, but it has {n}."),
            );
        }
    }
}

/// Applies a validator to every element of a list, set or map, with the element's path.
#[derive(Debug)]
pub struct Each<V>(pub V);

/// Builds an [`Each`] validator.
pub fn each<V: Validator>(inner: V) -> Each<V> {
    Each(inner)
}

impl<V: Validator> Validator for Each<V> {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        match value {
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => {
                for (i, elem) in v.iter().enumerate() {
                    if elem.is_wholly_known() && !elem.is_null() {
                        self.0.validate(elem, &path.clone().index(i as u64), diags);
                    }
                }
            }
            Value::Map(m) => {
                for (k, elem) in m {
                    if elem.is_wholly_known() && !elem.is_null() {
                        self.0.validate(elem, &path.clone().key(k), diags);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Map keys satisfy a validator (applied to the key as a string value).
#[derive(Debug)]
pub struct Keys<V>(pub V);

/// Builds a [`Keys`] validator.
pub fn keys<V: Validator>(inner: V) -> Keys<V> {
    Keys(inner)
}

impl<V: Validator> Validator for Keys<V> {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        if let Value::Map(m) = value {
            for k in m.keys() {
                self.0
                    .validate(&Value::String(k.clone()), &path.clone().key(k), diags);
            }
        }
    }
}

/// Checks a whole configuration object; for rules across attributes.
pub trait ConfigValidator: Send + Sync {
    /// Adds diagnostics for each problem with `config`.
    fn validate(&self, config: &Value, diags: &mut Diagnostics);
}

/// At most one of these attributes is set.
#[derive(Debug, Clone)]
pub struct ConflictsWith(pub Vec<&'static str>);

impl ConfigValidator for ConflictsWith {
    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let set: Vec<_> = self.0.iter().filter(|a| is_set(config, a)).collect();
        if set.len() > 1 {
            diags.error_at(
                AttributePath::new().attr(*set[1]),
                "Conflicting Attributes",
                format!(
                    "{} cannot be set together with {}; set only one of them.",
                    set[1], set[0]
                ),
            );
        }
    }
}

/// Exactly one of these attributes is set.
#[derive(Debug, Clone)]
pub struct ExactlyOneOf(pub Vec<&'static str>);

impl ConfigValidator for ExactlyOneOf {
    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if self
            .0
            .iter()
            .any(|a| config.get(a).is_some_and(|v| !v.is_known()))
        {
            return;
        }
        let set: Vec<_> = self.0.iter().filter(|a| is_set(config, a)).collect();
        if set.len() != 1 {
            let names: Vec<String> = self.0.iter().map(|s| (*s).to_owned()).collect();
            let path = set
                .get(1)
                .map(|a| AttributePath::new().attr(**a))
                .unwrap_or_default();
            diags.error_at(
                path,
                "Invalid Attribute Combination",
                format!(
                    "Exactly one of {} must be set, but {} are.",
                    quoted_list(&names),
                    set.len()
                ),
            );
        }
    }
}

fn is_set(config: &Value, attr: &str) -> bool {
    config.get(attr).is_some_and(|v| !v.is_null())
}

fn quoted_list(items: &[String]) -> String {
    items
        .iter()
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(v: &dyn Validator, value: Value) -> Diagnostics {
        let mut d = Diagnostics::new();
        v.validate(&value, &AttributePath::new().attr("a"), &mut d);
        d
    }

    #[test]
    fn cidr_rejects_host_bits_and_garbage() {
        assert!(!run(&ipv4_cidr(), Value::String("10.0.0.1/16".into())).is_empty());
        assert!(!run(&ipv4_cidr(), Value::String("10.0.0.0/33".into())).is_empty());
        assert!(!run(&ipv4_cidr(), Value::String("not a cidr".into())).is_empty());
        assert!(!run(&ipv4_cidr(), Value::String("2001:db8::/32".into())).is_empty());
        assert!(run(&cidr(), Value::String("2001:db8::/32".into())).is_empty());
        assert!(run(&ipv4_cidr(), Value::String("10.0.0.0/16".into())).is_empty());
    }

    #[test]
    fn each_reports_the_element_index() {
        let d = run(
            &each(ipv4_cidr()),
            Value::List(vec![
                Value::String("10.0.0.0/24".into()),
                Value::String("x".into()),
            ]),
        );
        let diag = d.iter().next().expect("one diagnostic");
        assert_eq!(
            diag.path.as_ref().map(ToString::to_string).as_deref(),
            Some("a[1]")
        );
    }

    #[test]
    fn ports_and_lengths() {
        assert!(!run(
            &port(),
            Value::Number(crate::value::Number::from_i64(70000))
        )
        .is_empty());
        assert!(run(&port(), Value::Number(crate::value::Number::from_i64(443))).is_empty());
        assert!(!run(&string_length(1, 3), Value::String("abcd".into())).is_empty());
        assert!(run(&string_length(1, 3), Value::String("äöü".into())).is_empty());
        assert!(!run(&one_of(&["a", "b"]), Value::String("c".into())).is_empty());
        assert!(!run(&size_between(2, 2), Value::List(vec![])).is_empty());
        let name = regex("^[a-z][a-z0-9-]*$", "a lowercase name");
        assert!(run(&name, Value::String("atlas-1".into())).is_empty());
        assert!(!run(&name, Value::String("Atlas".into())).is_empty());
    }
}
