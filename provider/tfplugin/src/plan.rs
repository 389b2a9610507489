//! The planning every resource needs, done once for all of them.
//!
//! Terraform sends the proposed new state (the configuration with prior values filled in
//! for computed attributes the user left null). From it the runtime plans: defaults for
//! null attributes, write-only attributes nulled, computed attributes unknown only when
//! something really changes (or kept from state when the schema says so), and the
//! attributes whose change replaces the object. The resource's own hook runs after that.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::diag::Diagnostics;
use crate::resource::Timeouts;
use crate::schema::{Attribute, Block, NestedBlock, Schema};
use crate::validate::Validator;
use crate::value::{AttributePath, Type, Value};

/// The name of the block that holds user timeouts.
pub const TIMEOUTS_BLOCK: &str = "timeouts";

/// Plans the runtime's part of a change. `prior` is null on create; `proposed` is never
/// null here (a destroy plan does not come this way).
pub fn plan_change(
    schema: &Schema,
    prior: &Value,
    proposed: &Value,
    config: &Value,
) -> (Value, Vec<AttributePath>) {
    let mut planned = proposed.clone();
    let creating = prior.is_null();

    for attr in &schema.block.attributes {
        let configured = config.get(&attr.name).unwrap_or(&Value::Null);
        if attr.write_only {
            set_attr(&mut planned, &attr.name, Value::Null);
        } else if configured.is_null() {
            if let Some(default) = &attr.default {
                set_attr(&mut planned, &attr.name, default.clone());
            }
        }
    }

    let changed = creating || !same_ignoring_timeouts(&planned, prior);
    if changed {
        for attr in &schema.block.attributes {
            let configured = config.get(&attr.name).unwrap_or(&Value::Null);
            if !attr.computed || !configured.is_null() || attr.default.is_some() {
                continue;
            }
            let keep = !creating && attr.plan.use_state_for_unknown;
            let value = if keep {
                prior.get(&attr.name).cloned().unwrap_or(Value::Null)
            } else {
                Value::unknown()
            };
            set_attr(&mut planned, &attr.name, value);
        }
    }

    let mut replace = Vec::new();
    if !creating {
        for attr in &schema.block.attributes {
            let before = prior.get(&attr.name).unwrap_or(&Value::Null);
            let after = planned.get(&attr.name).unwrap_or(&Value::Null);
            let changed = !after.is_wholly_known() || before != after;
            let replaces = attr.plan.requires_replace
                || attr
                    .plan
                    .replace_if
                    .is_some_and(|decide| decide(before, after));
            if changed && replaces {
                replace.push(AttributePath::new().attr(&attr.name));
            }
        }
    }
    (planned, replace)
}

/// Compares two objects, ignoring the `timeouts` block: changing a timeout is not a change
/// of the remote object.
fn same_ignoring_timeouts(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let strip = |m: &BTreeMap<String, Value>| {
                m.iter()
                    .filter(|(k, _)| *k != TIMEOUTS_BLOCK)
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect::<BTreeMap<_, _>>()
            };
            strip(x) == strip(y)
        }
        _ => a == b,
    }
}

/// Runs every attribute validator of `block` on `config`, recursing into nested blocks.
pub fn validate_block(
    block: &Block,
    config: &Value,
    path: &AttributePath,
    diags: &mut Diagnostics,
) {
    for attr in &block.attributes {
        let value = config.get(&attr.name).unwrap_or(&Value::Null);
        let at = path.clone().attr(&attr.name);
        if let Some(message) = &attr.deprecated {
            if !value.is_null() {
                diags.warning_at(at.clone(), "Attribute Deprecated", message.clone());
            }
        }
        if value.is_null() || !value.is_known() {
            continue;
        }
        for validator in &attr.validators {
            validator.validate(value, &at, diags);
        }
    }
    for nested in &block.blocks {
        let value = config.get(&nested.name).unwrap_or(&Value::Null);
        let at = path.clone().attr(&nested.name);
        match value {
            Value::List(items) | Value::Set(items) => {
                for (i, item) in items.iter().enumerate() {
                    validate_block(&nested.block, item, &at.clone().index(i as u64), diags);
                }
            }
            Value::Map(items) => {
                for (k, item) in items {
                    validate_block(&nested.block, item, &at.clone().key(k), diags);
                }
            }
            Value::Object(_) => validate_block(&nested.block, value, &at, diags),
            _ => {}
        }
    }
}

/// Adds the `timeouts` block to a resource schema.
pub fn with_timeouts_block(mut schema: Schema, defaults: &Timeouts) -> Schema {
    let attr = |name: &str, d: Duration| {
        Attribute::optional(name, Type::String)
            .description(&format!(
                "How long to wait for {name} before giving up, such as `30m` or `1h30m` \
                 (default `{}`).",
                format_duration(d)
            ))
            .validate(DurationValidator)
    };
    let block = Block::new(vec![
        attr("create", defaults.create),
        attr("read", defaults.read),
        attr("update", defaults.update),
        attr("delete", defaults.delete),
    ])
    .description("Timeouts of the long operations.");
    schema
        .block
        .blocks
        .push(NestedBlock::single(TIMEOUTS_BLOCK, block));
    schema
}

/// The timeout of `operation` from a state or config object's `timeouts` block, else the
/// default.
pub fn timeout_for(value: &Value, operation: &str, default: Duration) -> Duration {
    value
        .get(TIMEOUTS_BLOCK)
        .and_then(|t| t.get(operation))
        .and_then(Value::as_str)
        .and_then(|s| parse_duration(s).ok())
        .unwrap_or(default)
}

/// Parses a Go-style duration such as `30s`, `10m`, `1h30m`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let mut total = 0f64;
    let mut rest = s.trim();
    if rest.is_empty() {
        return Err("a duration cannot be empty".into());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!(
                "{s:?} is not a duration such as \"30m\" or \"1h30m\""
            ));
        }
        let n: f64 = rest[..digits]
            .parse()
            .map_err(|_| format!("{s:?} is not a duration such as \"30m\" or \"1h30m\""))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(format!("{s:?} has no valid unit; use ms, s, m or h")),
        };
        total += n * scale;
        rest = &rest[unit_len..];
    }
    if total > 7.0 * 24.0 * 3600.0 {
        return Err(format!("{s:?} is longer than a week"));
    }
    Ok(Duration::from_secs_f64(total))
}

fn format_duration(d: Duration) -> String {
    let secs = d.as_secs();
    match (secs / 3600, (secs % 3600) / 60, secs % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (h, 0, 0) => format!("{h}h"),
        (h, m, s) => format!("{h}h{m}m{s}s"),
    }
}

#[derive(Debug)]
struct DurationValidator;

impl Validator for DurationValidator {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        if let Some(s) = value.as_str() {
            if let Err(why) = parse_duration(s) {
                diags.error_at(path.clone(), "Invalid Timeout", format!("{path}: {why}."));
            }
        }
    }
}

/// An object of `ty` whose attributes are all null.
pub fn null_object(ty: &Type) -> Value {
    match ty {
        Type::Object(attrs) => {
            Value::Object(attrs.keys().map(|k| (k.clone(), Value::Null)).collect())
        }
        _ => Value::Null,
    }
}

/// Sets a top-level attribute of an object value; a no-op on anything else.
pub fn set_attr(object: &mut Value, name: &str, value: Value) {
    if let Value::Object(attrs) = object {
        attrs.insert(name.to_owned(), value);
    }
}

/// Checks a planned or new state against the values Terraform will insist on; returns the
/// top-level attributes whose known planned value changed.
pub fn changed_known_values(planned: &Value, new: &Value) -> Vec<String> {
    let (Value::Object(p), Value::Object(n)) = (planned, new) else {
        return Vec::new();
    };
    p.iter()
        .filter(|(k, v)| v.is_wholly_known() && n.get(*k) != Some(v))
        .map(|(k, _)| k.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        Schema::new(Block::new(vec![
            Attribute::required("name", Type::String).requires_replace(),
            Attribute::optional("tags", Type::Map(Box::new(Type::String))),
            Attribute::computed("id", Type::String).use_state_for_unknown(),
            Attribute::computed("arn", Type::String),
            Attribute::optional("flag", Type::Bool).default(Value::Bool(true)),
        ]))
    }

    fn obj(pairs: &[(&str, Value)]) -> Value {
        let mut base = null_object(&schema().value_type());
        for (k, v) in pairs {
            set_attr(&mut base, k, v.clone());
        }
        base
    }

    #[test]
    fn create_plans_computed_unknown_and_defaults() {
        let config = obj(&[("name", Value::String("a".into()))]);
        let (planned, replace) = plan_change(&schema(), &Value::Null, &config, &config);
        assert!(!planned.get("id").unwrap().is_known());
        assert!(!planned.get("arn").unwrap().is_known());
        assert_eq!(planned.get("flag"), Some(&Value::Bool(true)));
        assert!(replace.is_empty());
    }

    #[test]
    fn no_change_keeps_computed_values() {
        let prior = obj(&[
            ("name", Value::String("a".into())),
            ("id", Value::String("i-1".into())),
            ("arn", Value::String("arn:1".into())),
            ("flag", Value::Bool(true)),
        ]);
        let config = obj(&[("name", Value::String("a".into()))]);
        let (planned, replace) = plan_change(&schema(), &prior, &prior, &config);
        assert_eq!(planned, prior);
        assert!(replace.is_empty());
    }

    #[test]
    fn a_change_unknowns_computed_but_keeps_state_for_unknown() {
        let prior = obj(&[
            ("name", Value::String("a".into())),
            ("id", Value::String("i-1".into())),
            ("arn", Value::String("arn:1".into())),
            ("flag", Value::Bool(true)),
        ]);
        let mut proposed = prior.clone();
        set_attr(&mut proposed, "name", Value::String("b".into()));
        let config = obj(&[("name", Value::String("b".into()))]);
        let (planned, replace) = plan_change(&schema(), &prior, &proposed, &config);
        assert_eq!(planned.get("id"), Some(&Value::String("i-1".into())));
        assert!(!planned.get("arn").unwrap().is_known());
        assert_eq!(replace, vec![AttributePath::new().attr("name")]);
    }

    #[test]
    fn conditional_replacement_asks_the_attribute() {
        let schema = Schema::new(Block::new(vec![Attribute::required("size", Type::Number)
            .requires_replace_if(|before, after| {
                // Growing is done in place, shrinking replaces.
                after.as_i64() < before.as_i64()
            })]));
        let obj = |n: i64| {
            let mut v = null_object(&schema.value_type());
            set_attr(
                &mut v,
                "size",
                Value::Number(crate::value::Number::from_i64(n)),
            );
            v
        };
        assert!(plan_change(&schema, &obj(2), &obj(3), &obj(3)).1.is_empty());
        assert_eq!(plan_change(&schema, &obj(3), &obj(2), &obj(2)).1.len(), 1);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("45s").unwrap(), Duration::from_secs(45));
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("1y").is_err());
        assert!(parse_duration("9999h").is_err());
        assert_eq!(format_duration(Duration::from_secs(1800)), "30m");
    }
}
