//! The security model in AWS: finding, creating, changing and deleting its groups and
//! rules.
//!
//! A model is found again by its group names (`<name_prefix>-<role>`, unique per VPC and
//! never changed by AWS) in one `DescribeSecurityGroups` call, whose answer holds every
//! rule of every group with its description. Rules are changed per group and direction,
//! one call for all the rules that a step adds, revokes or rewords, with authorizations
//! before revocations so that a changed CIDR never leaves a gap.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::time::Instant;

use aws_sdk_ec2::types::{
    IpPermission, IpRange, Ipv6Range, PrefixListId, ResourceType, SecurityGroup, Tag,
    TagSpecification, UserIdGroupPair,
};
use futures::future::join_all;
use tokio_util::sync::CancellationToken;

use super::model::{is_ipv6, Direction, Role, Rule, RuleDiff, Source, ALL_PROTOCOLS, MODEL_TAG};
use crate::aws::{
    ec2_tag_map, filter, interfaces_using, retry_while, tag_spec, AwsClients, AwsError, TagDiff,
    NAME_TAG,
};

/// The AWS error code of a group that is not visible yet, or no longer exists.
const GROUP_NOT_FOUND: &str = "InvalidGroup.NotFound";

/// Which model to work on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// The VPC the groups live in.
    pub(crate) vpc_id: String,
    /// The prefix of every group name and the value of the `atlas:security-model` tag.
    pub(crate) name_prefix: String,
}

/// A model as AWS holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Found {
    /// The group id of each role that has a group.
    pub(crate) group_ids: BTreeMap<Role, String>,
    /// Every rule of those groups, sorted.
    pub(crate) rules: Vec<Rule>,
    /// The tags of the first group, without `Name` and `atlas:security-model`.
    pub(crate) tags: BTreeMap<String, String>,
}

/// Whether a tag key is set by the resource itself rather than by the configuration.
pub(crate) fn is_reserved_tag(key: &str) -> bool {
    key == NAME_TAG || key == MODEL_TAG
}

// ---------------------------------------------------------------------------------------
// read

/// Reads the model's groups and rules in one `DescribeSecurityGroups` call (more only if
/// AWS pages the answer); `None` when none of its groups exists.
pub(crate) async fn read(c: &AwsClients, target: &Target) -> Result<Option<Found>, AwsError> {
    let groups = describe_groups(c, target).await?;
    if groups.is_empty() {
        return Ok(None);
    }
    Ok(Some(found(target, &groups)))
}

/// The model's groups, by VPC and by their ten names.
async fn describe_groups(c: &AwsClients, target: &Target) -> Result<Vec<SecurityGroup>, AwsError> {
    let names = Role::ALL.map(|role| role.group_name(&target.name_prefix));
    c.ec2
        .describe_security_groups()
        .filters(filter("vpc-id", [target.vpc_id.as_str()]))
        .filters(filter("group-name", names))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|err| AwsError::from_sdk("DescribeSecurityGroups", Some(&target.vpc_id), err))
}

/// The model in `groups`, the answer of [`describe_groups`].
fn found(target: &Target, groups: &[SecurityGroup]) -> Found {
    let mut result = Found::default();
    let mut roles: BTreeMap<String, Role> = BTreeMap::new();
    let mut first: Option<(Role, &SecurityGroup)> = None;
    for group in groups {
        let (Some(id), Some(name)) = (group.group_id(), group.group_name()) else {
            continue;
        };
        let Some(role) = Role::from_group_name(&target.name_prefix, name) else {
            continue;
        };
        result.group_ids.insert(role, id.to_owned());
        roles.insert(id.to_owned(), role);
        if first.is_none_or(|(r, _)| role < r) {
            first = Some((role, group));
        }
    }
    for group in groups {
        let Some(role) = group.group_id().and_then(|id| roles.get(id)) else {
            continue;
        };
        for (direction, permissions) in [
            (Direction::Ingress, group.ip_permissions()),
            (Direction::Egress, group.ip_permissions_egress()),
        ] {
            for permission in permissions {
                result
                    .rules
                    .extend(rules_of(*role, direction, permission, &roles));
            }
        }
    }
    result.rules.sort();
    if let Some((_, group)) = first {
        result.tags = ec2_tag_map(group.tags())
            .into_iter()
            .filter(|(key, _)| !is_reserved_tag(key))
            .collect();
    }
    result
}

/// The rules in one `IpPermission`: one per CIDR, group or prefix list.
fn rules_of(
    group: Role,
    direction: Direction,
    permission: &IpPermission,
    roles: &BTreeMap<String, Role>,
) -> Vec<Rule> {
    let protocol = permission.ip_protocol().unwrap_or(ALL_PROTOCOLS).to_owned();
    let (from_port, to_port) = if protocol == ALL_PROTOCOLS {
        (-1, -1)
    } else {
        (
            permission.from_port().unwrap_or(-1),
            permission.to_port().unwrap_or(-1),
        )
    };
    let rule = |source: Source, description: Option<&str>| Rule {
        group,
        direction,
        from_port,
        to_port,
        protocol: protocol.clone(),
        source,
        description: description.filter(|d| !d.is_empty()).map(str::to_owned),
    };
    let mut rules = Vec::new();
    for range in permission.ip_ranges() {
        if let Some(cidr) = range.cidr_ip() {
            rules.push(rule(Source::Cidr(cidr.to_owned()), range.description()));
        }
    }
    for range in permission.ipv6_ranges() {
        if let Some(cidr) = range.cidr_ipv6() {
            rules.push(rule(Source::Cidr(cidr.to_owned()), range.description()));
        }
    }
    for pair in permission.user_id_group_pairs() {
        if let Some(id) = pair.group_id() {
            let source = match roles.get(id) {
                Some(role) => Source::Group(*role),
                None => Source::ForeignGroup(id.to_owned()),
            };
            rules.push(rule(source, pair.description()));
        }
    }
    for list in permission.prefix_list_ids() {
        if let Some(id) = list.prefix_list_id() {
            rules.push(rule(Source::PrefixList(id.to_owned()), list.description()));
        }
    }
    rules
}

// ---------------------------------------------------------------------------------------
// create

/// Creates the groups of `roles`, all at once, each tagged at creation with its `Name`,
/// `atlas:security-model` and `tags`.
///
/// Returns the ids of every group created, together with the first error if one failed,
/// so that the caller records what exists.
pub(crate) async fn create_groups(
    c: &AwsClients,
    target: &Target,
    roles: &[Role],
    tags: &BTreeMap<String, String>,
    cancel: &CancellationToken,
    deadline: Instant,
) -> (BTreeMap<Role, String>, Result<(), AwsError>) {
    let mut tags: BTreeMap<String, String> = tags
        .iter()
        .filter(|(key, _)| !is_reserved_tag(key))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    tags.insert(MODEL_TAG.to_owned(), target.name_prefix.clone());
    let tags = &tags;

    let results = join_all(roles.iter().map(|role| async move {
        let name = role.group_name(&target.name_prefix);
        // InvalidVpcID.NotFound: the VPC may have been created a moment ago.
        let created = retry_while(&["InvalidVpcID.NotFound"], deadline, cancel, || async {
            tracing::debug!(vpc_id = %target.vpc_id, group_name = %name, "creating security group");
            c.ec2
                .create_security_group()
                .vpc_id(&target.vpc_id)
                .group_name(&name)
                .description(role.group_description())
                .tag_specifications(tag_spec(ResourceType::SecurityGroup, &name, tags))
                .send()
                .await
                .map_err(|err| AwsError::from_sdk("CreateSecurityGroup", Some(&name), err))
        })
        .await?;
        let id = created
            .group_id()
            .ok_or_else(|| AwsError::missing("CreateSecurityGroup", Some(&name), "group id"))?;
        Ok::<_, AwsError>((*role, id.to_owned()))
    }))
    .await;

    let mut ids = BTreeMap::new();
    let mut outcome = Ok(());
    for result in results {
        match result {
            Ok((role, id)) => {
                ids.insert(role, id);
            }
            Err(err) => {
                if outcome.is_ok() {
                    outcome = Err(err);
                }
            }
        }
    }
    (ids, outcome)
}

// ---------------------------------------------------------------------------------------
// update

/// Applies `diff` to the groups in `group_ids`: first every authorization, then every
/// revocation, then every new description. Each step makes at most one call per group
/// and direction, and runs the groups concurrently.
pub(crate) async fn apply_diff(
    c: &AwsClients,
    target: &Target,
    group_ids: &BTreeMap<Role, String>,
    diff: &RuleDiff,
    cancel: &CancellationToken,
    deadline: Instant,
) -> Result<(), AwsError> {
    let rule_tags = TagSpecification::builder()
        .resource_type(ResourceType::SecurityGroupRule)
        .tags(
            Tag::builder()
                .key(MODEL_TAG)
                .value(&target.name_prefix)
                .build(),
        )
        .build();
    let rule_tags = &rule_tags;

    for_each_group(
        &diff.authorize,
        group_ids,
        |group_id, direction, permissions| async move {
            // InvalidGroup.NotFound: a group created a moment ago, this one or a source
            // group, is not visible everywhere in EC2 yet.
            retry_while(&[GROUP_NOT_FOUND], deadline, cancel, || {
                let permissions = permissions.clone();
                async move {
                    tracing::debug!(
                        group_id,
                        ?direction,
                        rules = permissions.len(),
                        "authorizing rules"
                    );
                    match direction {
                        Direction::Ingress => c
                            .ec2
                            .authorize_security_group_ingress()
                            .group_id(group_id)
                            .set_ip_permissions(Some(permissions))
                            .tag_specifications(rule_tags.clone())
                            .send()
                            .await
                            .map(drop)
                            .map_err(|err| {
                                AwsError::from_sdk(
                                    "AuthorizeSecurityGroupIngress",
                                    Some(group_id),
                                    err,
                                )
                            }),
                        Direction::Egress => c
                            .ec2
                            .authorize_security_group_egress()
                            .group_id(group_id)
                            .set_ip_permissions(Some(permissions))
                            .tag_specifications(rule_tags.clone())
                            .send()
                            .await
                            .map(drop)
                            .map_err(|err| {
                                AwsError::from_sdk(
                                    "AuthorizeSecurityGroupEgress",
                                    Some(group_id),
                                    err,
                                )
                            }),
                    }
                }
            })
            .await
        },
    )
    .await?;

    for_each_group(
        &diff.revoke,
        group_ids,
        |group_id, direction, permissions| async move {
            revoke(c, group_id, direction, permissions).await
        },
    )
    .await?;

    for_each_group(
        &diff.describe,
        group_ids,
        |group_id, direction, permissions| async move {
            tracing::debug!(
                group_id,
                ?direction,
                rules = permissions.len(),
                "rewording rules"
            );
            match direction {
                Direction::Ingress => c
                    .ec2
                    .update_security_group_rule_descriptions_ingress()
                    .group_id(group_id)
                    .set_ip_permissions(Some(permissions))
                    .send()
                    .await
                    .map(drop)
                    .map_err(|err| {
                        AwsError::from_sdk(
                            "UpdateSecurityGroupRuleDescriptionsIngress",
                            Some(group_id),
                            err,
                        )
                    }),
                Direction::Egress => c
                    .ec2
                    .update_security_group_rule_descriptions_egress()
                    .group_id(group_id)
                    .set_ip_permissions(Some(permissions))
                    .send()
                    .await
                    .map(drop)
                    .map_err(|err| {
                        AwsError::from_sdk(
                            "UpdateSecurityGroupRuleDescriptionsEgress",
                            Some(group_id),
                            err,
                        )
                    }),
            }
        },
    )
    .await
}

/// Revokes `permissions` from one group; a group or rule already gone counts as done.
async fn revoke(
    c: &AwsClients,
    group_id: &str,
    direction: Direction,
    permissions: Vec<IpPermission>,
) -> Result<(), AwsError> {
    tracing::debug!(
        group_id,
        ?direction,
        rules = permissions.len(),
        "revoking rules"
    );
    let result = match direction {
        Direction::Ingress => c
            .ec2
            .revoke_security_group_ingress()
            .group_id(group_id)
            .set_ip_permissions(Some(permissions))
            .send()
            .await
            .map(drop)
            .map_err(|err| AwsError::from_sdk("RevokeSecurityGroupIngress", Some(group_id), err)),
        Direction::Egress => c
            .ec2
            .revoke_security_group_egress()
            .group_id(group_id)
            .set_ip_permissions(Some(permissions))
            .send()
            .await
            .map(drop)
            .map_err(|err| AwsError::from_sdk("RevokeSecurityGroupEgress", Some(group_id), err)),
    };
    match result {
        // InvalidPermission.NotFound: the rule went away on its own in the meantime.
        Err(err) if err.is_not_found() => Ok(()),
        other => other,
    }
}

/// Runs `step` once per group and direction that `rules` touch, with their permissions,
/// all at once; returns the first error after every step has ended.
async fn for_each_group<'a, F, Fut>(
    rules: &[Rule],
    group_ids: &'a BTreeMap<Role, String>,
    step: F,
) -> Result<(), AwsError>
where
    F: Fn(&'a str, Direction, Vec<IpPermission>) -> Fut,
    Fut: Future<Output = Result<(), AwsError>>,
{
    let mut batches: BTreeMap<(Role, Direction), Vec<&Rule>> = BTreeMap::new();
    for rule in rules {
        batches
            .entry((rule.group, rule.direction))
            .or_default()
            .push(rule);
    }
    let mut steps = Vec::new();
    for ((role, direction), rules) in batches {
        let group_id = group_id(group_ids, role)?;
        steps.push(step(group_id, direction, permissions(&rules, group_ids)?));
    }
    join_all(steps)
        .await
        .into_iter()
        .find(Result::is_err)
        .unwrap_or(Ok(()))
}

fn group_id(group_ids: &BTreeMap<Role, String>, role: Role) -> Result<&str, AwsError> {
    group_ids
        .get(&role)
        .map(String::as_str)
        .ok_or_else(|| AwsError::InvalidInput {
            detail: format!("the {} security group does not exist", role.name()),
        })
}

/// `rules` as EC2 permissions, one per protocol and port range.
fn permissions(
    rules: &[&Rule],
    group_ids: &BTreeMap<Role, String>,
) -> Result<Vec<IpPermission>, AwsError> {
    let mut by_ports: BTreeMap<(&str, i32, i32), Vec<&Rule>> = BTreeMap::new();
    for rule in rules {
        by_ports
            .entry((rule.protocol.as_str(), rule.from_port, rule.to_port))
            .or_default()
            .push(rule);
    }
    let mut result = Vec::new();
    for ((protocol, from_port, to_port), rules) in by_ports {
        let mut permission = IpPermission::builder().ip_protocol(protocol);
        if protocol != ALL_PROTOCOLS {
            permission = permission.from_port(from_port).to_port(to_port);
        }
        for rule in rules {
            let description = rule.description.clone();
            permission = match &rule.source {
                Source::Cidr(cidr) if is_ipv6(cidr) => permission.ipv6_ranges(
                    Ipv6Range::builder()
                        .cidr_ipv6(cidr)
                        .set_description(description)
                        .build(),
                ),
                Source::Cidr(cidr) => permission.ip_ranges(
                    IpRange::builder()
                        .cidr_ip(cidr)
                        .set_description(description)
                        .build(),
                ),
                Source::Group(role) => permission.user_id_group_pairs(
                    UserIdGroupPair::builder()
                        .group_id(group_id(group_ids, *role)?)
                        .set_description(description)
                        .build(),
                ),
                Source::ForeignGroup(id) => permission.user_id_group_pairs(
                    UserIdGroupPair::builder()
                        .group_id(id)
                        .set_description(description)
                        .build(),
                ),
                Source::PrefixList(id) => permission.prefix_list_ids(
                    PrefixListId::builder()
                        .prefix_list_id(id)
                        .set_description(description)
                        .build(),
                ),
            };
        }
        result.push(permission.build());
    }
    Ok(result)
}

/// Replaces `old` with `new` on every group: one `DeleteTags` and one `CreateTags` for
/// all of them. `Name` and `atlas:security-model` are left alone.
pub(crate) async fn update_tags(
    c: &AwsClients,
    group_ids: &BTreeMap<Role, String>,
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let keep = |tags: &BTreeMap<String, String>| -> BTreeMap<String, String> {
        tags.iter()
            .filter(|(key, _)| !is_reserved_tag(key))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect()
    };
    let diff = TagDiff::between(&keep(old), &keep(new));
    let resources: Vec<String> = group_ids.values().cloned().collect();
    if diff.is_empty() || resources.is_empty() {
        return Ok(());
    }
    let first = resources.first().cloned();
    if !diff.removed.is_empty() {
        tracing::debug!(group_ids = ?resources, keys = ?diff.removed, "removing tags");
        c.ec2
            .delete_tags()
            .set_resources(Some(resources.clone()))
            .set_tags(Some(
                diff.removed
                    .iter()
                    .map(|key| Tag::builder().key(key).build())
                    .collect(),
            ))
            .send()
            .await
            .map_err(|err| AwsError::from_sdk("DeleteTags", first.as_deref(), err))?;
    }
    if !diff.upserted.is_empty() {
        tracing::debug!(group_ids = ?resources, "setting tags");
        c.ec2
            .create_tags()
            .set_resources(Some(resources))
            .set_tags(Some(
                diff.upserted
                    .iter()
                    .map(|(key, value)| Tag::builder().key(key).value(value).build())
                    .collect(),
            ))
            .send()
            .await
            .map_err(|err| AwsError::from_sdk("CreateTags", first.as_deref(), err))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// delete

/// Deletes the model: revokes every rule that references a group (which would otherwise
/// keep that group from being deleted), then deletes all groups at once, each retrying
/// `DependencyViolation` until `deadline`. A group that is still in use then fails with
/// [`AwsError::StillInUse`] naming what uses it.
pub(crate) async fn delete(
    c: &AwsClients,
    target: &Target,
    cancel: &CancellationToken,
    deadline: Instant,
) -> Result<(), AwsError> {
    let groups = describe_groups(c, target).await?;
    if groups.is_empty() {
        return Ok(());
    }
    let found = found(target, &groups);

    let referencing: Vec<Rule> = found
        .rules
        .iter()
        .filter(|rule| matches!(rule.source, Source::Group(_) | Source::ForeignGroup(_)))
        .cloned()
        .collect();
    for_each_group(
        &referencing,
        &found.group_ids,
        |group_id, direction, permissions| async move {
            revoke(c, group_id, direction, permissions).await
        },
    )
    .await?;

    let results = join_all(
        found
            .group_ids
            .values()
            .map(|id| delete_group(c, id, cancel, deadline)),
    )
    .await;
    results.into_iter().find(Result::is_err).unwrap_or(Ok(()))
}

async fn delete_group(
    c: &AwsClients,
    id: &str,
    cancel: &CancellationToken,
    deadline: Instant,
) -> Result<(), AwsError> {
    // DependencyViolation: network interfaces of tasks, load balancers or brokers that
    // were just deleted keep the group in use until EC2 releases them.
    let result = retry_while(&["DependencyViolation"], deadline, cancel, || async {
        tracing::debug!(group_id = id, "deleting security group");
        match c.ec2.delete_security_group().group_id(id).send().await {
            Ok(_) => Ok(()),
            Err(err) => match AwsError::from_sdk("DeleteSecurityGroup", Some(id), err) {
                err if err.is_not_found() => Ok(()),
                err => Err(err),
            },
        }
    })
    .await;
    match result {
        Err(err) if err.is_code(&["DependencyViolation"]) => Err(AwsError::StillInUse {
            operation: "DeleteSecurityGroup",
            resource: id.to_owned(),
            holders: holders(c, id).await,
            last: Box::new(err),
        }),
        other => other,
    }
}

/// What still uses group `id`: network interfaces that carry it and groups whose rules
/// reference it. Best effort, since this only improves an error.
async fn holders(c: &AwsClients, id: &str) -> Vec<String> {
    let interfaces = interfaces_using(&c.ec2, "group-id", id);
    let referencing = |name: &'static str| async move {
        c.ec2
            .describe_security_groups()
            .filters(filter(name, [id]))
            .send()
            .await
            .map(|answer| {
                answer
                    .security_groups()
                    .iter()
                    .map(|group| {
                        format!(
                            "a rule of security group {} ({})",
                            group.group_id().unwrap_or("?"),
                            group.group_name().unwrap_or("?")
                        )
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    let (interfaces, ingress, egress) = tokio::join!(
        interfaces,
        referencing("ip-permission.group-id"),
        referencing("egress.ip-permission.group-id")
    );
    let groups: BTreeSet<String> = ingress.into_iter().chain(egress).collect();
    interfaces.into_iter().chain(groups).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles() -> BTreeMap<String, Role> {
        BTreeMap::from([
            ("sg-alb".to_owned(), Role::Alb),
            ("sg-ecs".to_owned(), Role::Ecs),
        ])
    }

    #[test]
    fn a_permission_becomes_one_rule_per_source() {
        let permission = IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(8080)
            .to_port(8080)
            .user_id_group_pairs(
                UserIdGroupPair::builder()
                    .group_id("sg-alb")
                    .description("from alb")
                    .build(),
            )
            .user_id_group_pairs(UserIdGroupPair::builder().group_id("sg-other").build())
            .ip_ranges(
                IpRange::builder()
                    .cidr_ip("10.0.0.0/8")
                    .description("")
                    .build(),
            )
            .ipv6_ranges(Ipv6Range::builder().cidr_ipv6("2001:db8::/32").build())
            .prefix_list_ids(PrefixListId::builder().prefix_list_id("pl-1").build())
            .build();
        let rules = rules_of(Role::Ecs, Direction::Ingress, &permission, &roles());
        let sources: Vec<(&Source, Option<&str>)> = rules
            .iter()
            .map(|r| (&r.source, r.description.as_deref()))
            .collect();
        assert_eq!(
            sources,
            [
                (&Source::Cidr("10.0.0.0/8".into()), None),
                (&Source::Cidr("2001:db8::/32".into()), None),
                (&Source::Group(Role::Alb), Some("from alb")),
                (&Source::ForeignGroup("sg-other".into()), None),
                (&Source::PrefixList("pl-1".into()), None),
            ]
        );
    }

    #[test]
    fn all_traffic_has_no_ports() {
        let permission = IpPermission::builder()
            .ip_protocol("-1")
            .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
            .build();
        let rules = rules_of(Role::Alb, Direction::Egress, &permission, &roles());
        assert_eq!(rules, [Rule::default_egress(Role::Alb)]);

        let ids = BTreeMap::from([(Role::Alb, "sg-alb".to_owned())]);
        let back = permissions(&[&rules[0]], &ids).expect("permissions");
        assert_eq!(back, [permission]);
    }

    #[test]
    fn permissions_group_rules_by_port_and_split_ip_families() {
        let rule = |port: i32, source: Source| Rule {
            group: Role::Alb,
            direction: Direction::Ingress,
            from_port: port,
            to_port: port,
            protocol: "tcp".into(),
            source,
            description: Some("d".into()),
        };
        let a = rule(443, Source::Cidr("0.0.0.0/0".into()));
        let b = rule(443, Source::Cidr("::/0".into()));
        let d = rule(80, Source::Group(Role::Ecs));
        let ids = BTreeMap::from([
            (Role::Alb, "sg-alb".to_owned()),
            (Role::Ecs, "sg-ecs".to_owned()),
        ]);
        let built = permissions(&[&a, &b, &d], &ids).expect("permissions");
        assert_eq!(built.len(), 2);
        assert_eq!(built[0].from_port(), Some(80));
        assert_eq!(built[0].user_id_group_pairs()[0].group_id(), Some("sg-ecs"));
        assert_eq!(built[1].ip_ranges()[0].cidr_ip(), Some("0.0.0.0/0"));
        assert_eq!(built[1].ipv6_ranges()[0].cidr_ipv6(), Some("::/0"));

        let missing = permissions(&[&d], &BTreeMap::new()).unwrap_err();
        assert!(missing
            .to_string()
            .contains("ecs security group does not exist"));
    }
}
