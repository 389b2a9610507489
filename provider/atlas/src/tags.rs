//! Tags: validation by AWS's rules and merging with the provider's default tags.

use std::collections::BTreeMap;

use tfplugin::diag::Diagnostics;
use tfplugin::resource::Plan;
use tfplugin::validate::Validator;
use tfplugin::value::{AttributePath, Value};

use crate::convert;

/// Checks a tag map against AWS's limits before anything reaches AWS.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TagsValidator;

impl Validator for TagsValidator {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Some(map) = value.as_map() else { return };
        if map.len() > 40 {
            diags.error_at(
                path.clone(),
                "Too Many Tags",
                format!("{path} has {} tags; AWS allows 50 per object and the provider adds up to 10 of its own, so at most 40 can be set here.", map.len()),
            );
        }
        for (key, v) in map {
            let at = path.clone().key(key);
            let chars = key.chars().count();
            if chars == 0 || chars > 128 {
                diags.error_at(
                    at.clone(),
                    "Invalid Tag Key",
                    format!("The tag key {key:?} must be 1 to 128 characters long."),
                );
            }
            if key.to_ascii_lowercase().starts_with("aws:") {
                diags.error_at(at.clone(), "Invalid Tag Key", format!("The tag key {key:?} uses the prefix \"aws:\", which AWS reserves for itself."));
            }
            if let Some(s) = v.as_str() {
                if s.chars().count() > 256 {
                    diags.error_at(
                        at,
                        "Invalid Tag Value",
                        format!("The value of tag {key:?} is longer than 256 characters."),
                    );
                }
            }
        }
    }
}

/// Plans `tags_all` as `defaults` merged with the planned `tags`: known whenever the
/// tags are, unknown while any tag value is.
pub(crate) fn plan_tags_all(plan: &mut Plan<'_>, defaults: &BTreeMap<String, String>) {
    let tags = plan.get("tags").clone();
    if tags.is_wholly_known() {
        let all = merge(defaults, &convert::string_map(Some(&tags)));
        plan.set("tags_all", convert::map(&all));
    } else {
        plan.set("tags_all", Value::unknown());
    }
}

/// The tags to put on AWS objects: the provider's default tags, overridden by the
/// resource's own.
pub(crate) fn merge(
    defaults: &BTreeMap<String, String>,
    own: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut all = defaults.clone();
    all.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_tags_win_over_defaults() {
        let defaults = BTreeMap::from([
            ("env".to_owned(), "a".to_owned()),
            ("team".to_owned(), "x".to_owned()),
        ]);
        let own = BTreeMap::from([("env".to_owned(), "b".to_owned())]);
        let all = merge(&defaults, &own);
        assert_eq!(all["env"], "b");
        assert_eq!(all["team"], "x");
    }
}
