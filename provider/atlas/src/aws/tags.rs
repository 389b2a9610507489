//! Tags: every object is tagged when it is created, so an interrupted create can be found.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};

/// The tag key AWS consoles show as an object's name.
pub(crate) const NAME_TAG: &str = "Name";

/// EC2 tags: the given `tags` plus `Name = name`, sorted by key.
///
/// `Name` is set per object by the resource that owns it, so it wins over a `Name` in
/// `tags`.
pub(crate) fn ec2_tags(name: &str, tags: &BTreeMap<String, String>) -> Vec<Tag> {
    let mut all = tags.clone();
    all.insert(NAME_TAG.to_owned(), name.to_owned());
    all.into_iter()
        .map(|(key, value)| Tag::builder().key(key).value(value).build())
        .collect()
}

/// A `TagSpecification` that tags an object of `resource_type` when it is created.
pub(crate) fn tag_spec(
    resource_type: ResourceType,
    name: &str,
    tags: &BTreeMap<String, String>,
) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(resource_type)
        .set_tags(Some(ec2_tags(name, tags)))
        .build()
}

/// EC2 tags as a map, for comparing with the configured ones.
pub(crate) fn ec2_tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|tag| {
            Some((
                tag.key()?.to_owned(),
                tag.value().unwrap_or_default().to_owned(),
            ))
        })
        .collect()
}

/// The value of one EC2 tag.
pub(crate) fn ec2_tag<'a>(tags: &'a [Tag], key: &str) -> Option<&'a str> {
    tags.iter()
        .find(|tag| tag.key() == Some(key))
        .and_then(Tag::value)
}

/// What changes between two tag sets: keys to remove, and entries to add or overwrite.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct TagDiff {
    /// Keys present before and absent now.
    pub(crate) removed: Vec<String>,
    /// Entries that are new or whose value changed.
    pub(crate) upserted: BTreeMap<String, String>,
}

impl TagDiff {
    /// The changes that turn `old` into `new`.
    pub(crate) fn between(old: &BTreeMap<String, String>, new: &BTreeMap<String, String>) -> Self {
        TagDiff {
            removed: old
                .keys()
                .filter(|key| !new.contains_key(*key))
                .cloned()
                .collect(),
            upserted: new
                .iter()
                .filter(|(key, value)| old.get(*key) != Some(*value))
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect(),
        }
    }

    /// Whether nothing changes.
    pub(crate) fn is_empty(&self) -> bool {
        self.removed.is_empty() && self.upserted.is_empty()
    }
}

/// The value of the tag `key` on each ELBv2 resource (load balancer, target group,
/// listener or rule) of `arns` that has it, by ARN.
pub(crate) async fn elb_tag_values(
    elbv2: &aws_sdk_elasticloadbalancingv2::Client,
    arns: &[String],
    key: &str,
) -> Result<BTreeMap<String, String>, super::AwsError> {
    let mut values = BTreeMap::new();
    // DescribeTags takes at most 20 ARNs.
    for chunk in arns.chunks(20) {
        let answer = elbv2
            .describe_tags()
            .set_resource_arns(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| {
                super::AwsError::from_sdk("DescribeTags", chunk.first().map(String::as_str), e)
            })?;
        for description in answer.tag_descriptions() {
            let value = description
                .tags()
                .iter()
                .find(|t| t.key() == Some(key))
                .and_then(|t| t.value());
            if let (Some(arn), Some(value)) = (description.resource_arn(), value) {
                values.insert(arn.to_owned(), value.to_owned());
            }
        }
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(entries: &[(&str, &str)]) -> BTreeMap<String, String> {
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn name_wins_over_a_configured_name() {
        let tags = ec2_tags("net-vpc", &map(&[("Name", "mine"), ("team", "core")]));
        assert_eq!(
            ec2_tag_map(&tags),
            map(&[("Name", "net-vpc"), ("team", "core")])
        );
    }

    #[test]
    fn diff_lists_removed_keys_and_changed_values() {
        let diff = TagDiff::between(
            &map(&[("a", "1"), ("b", "2"), ("c", "3")]),
            &map(&[("a", "1"), ("b", "20"), ("d", "4")]),
        );
        assert_eq!(diff.removed, ["c"]);
        assert_eq!(diff.upserted, map(&[("b", "20"), ("d", "4")]));
        assert!(TagDiff::between(&map(&[("a", "1")]), &map(&[("a", "1")])).is_empty());
    }
}
