//! The AWS calls of `atlas_service`: the task definition, the owned target group, the
//! listener rule and the ECS service, each created, read, changed and deleted here.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, Compatibility, DeploymentCircuitBreaker,
    DeploymentConfiguration, LaunchType, LoadBalancer, NetworkConfiguration, NetworkMode,
    PropagateTags, ServiceConnectConfiguration, ServiceField, TaskDefinition, TaskDefinitionField,
    TaskDefinitionStatus,
};
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, HostHeaderConditionConfig, ProtocolEnum, RuleCondition, TargetTypeEnum,
};
use futures::future::try_join_all;
use futures::stream::{self, StreamExt, TryStreamExt};
use tokio_util::sync::CancellationToken;

use super::model::{self, Container, ServiceConnect};
use crate::aws::{
    elb_claim, pause, retry_while, AwsClients, AwsError, Batched, Claim, ElbKind, Interrupted,
};

/// The tag that marks what an `atlas_service` made (the service, its task definition
/// revisions, its owned target group and its listener rule) with `<cluster
/// name>/<service name>`. A rule of the
/// same service found at plan time (as when a tainted service is replaced) is not a
/// conflict, and what a create that was interrupted before Terraform saved its state
/// left is taken over by the next create instead of being duplicated or orphaned.
pub(crate) const OWNER_TAG: &str = "atlas:service";

/// What the service is asked to be.
#[derive(Debug, Clone)]
pub(crate) struct ServiceSpec {
    /// The service name, also the task family and container name.
    pub(crate) name: String,
    /// The cluster ARN or name.
    pub(crate) cluster: String,
    /// Private subnets.
    pub(crate) subnets: Vec<String>,
    /// Security groups.
    pub(crate) groups: Vec<String>,
    /// Desired task count.
    pub(crate) desired_count: i64,
    /// The task definition ARN.
    pub(crate) task_definition: String,
    /// Service Connect, if on.
    pub(crate) service_connect: Option<ServiceConnect>,
    /// The target group and container port the service registers with, if routed.
    pub(crate) load_balancer: Option<(String, i64)>,
    /// Tags of the service.
    pub(crate) tags: BTreeMap<String, String>,
    /// The [`OWNER_TAG`] value.
    pub(crate) owner: String,
}

/// The service as ECS reports it.
#[derive(Debug, Clone)]
pub(crate) struct ServiceView {
    /// The service ARN.
    pub(crate) arn: String,
    /// The cluster ARN.
    pub(crate) cluster_arn: Option<String>,
    /// Desired task count.
    pub(crate) desired_count: i64,
    /// Subnets of the awsvpc configuration.
    pub(crate) subnets: Vec<String>,
    /// Security groups of the awsvpc configuration.
    pub(crate) groups: Vec<String>,
    /// The task definition ARN.
    pub(crate) task_definition: String,
    /// The first load balancer's target group.
    pub(crate) target_group: Option<String>,
    /// Service Connect on the PRIMARY deployment.
    pub(crate) service_connect: Option<ServiceConnectConfiguration>,
    /// Tags, without the [`OWNER_TAG`].
    pub(crate) tags: BTreeMap<String, String>,
    /// The [`OWNER_TAG`] value, on services this provider created.
    pub(crate) owner: Option<String>,
    /// Whether the deployment is steady: one deployment, COMPLETED (or, where ECS does
    /// not report rollout states, every desired task running).
    pub(crate) steady: bool,
    /// What the PRIMARY deployment is doing, for diagnostics.
    pub(crate) rollout: String,
}

/// A listener rule as ELBv2 reports it.
#[derive(Debug, Clone)]
pub(crate) struct RuleView {
    /// The host names of its host-header conditions.
    pub(crate) hostnames: Vec<String>,
    /// The target group it forwards to.
    pub(crate) target_group: Option<String>,
    /// Its priority.
    pub(crate) priority: Option<i64>,
}

fn ecs_tags(tags: &BTreeMap<String, String>) -> Vec<aws_sdk_ecs::types::Tag> {
    tags.iter()
        .map(|(k, v)| aws_sdk_ecs::types::Tag::builder().key(k).value(v).build())
        .collect()
}

fn elb_tags(tags: &BTreeMap<String, String>) -> Vec<aws_sdk_elasticloadbalancingv2::types::Tag> {
    tags.iter()
        .map(|(k, v)| {
            aws_sdk_elasticloadbalancingv2::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
        })
        .collect()
}

/// The task definition as `atlas_service` registers it.
pub(crate) struct TaskSpec<'a> {
    /// The family, which is the service name.
    pub(crate) name: &'a str,
    /// The one container.
    pub(crate) container: &'a Container,
    /// The execution role, if any.
    pub(crate) execution_role_arn: Option<&'a str>,
    /// The task role, if any.
    pub(crate) task_role_arn: Option<&'a str>,
    /// Tags of the revision.
    pub(crate) tags: &'a BTreeMap<String, String>,
    /// The [`OWNER_TAG`] value.
    pub(crate) owner: String,
}

/// Registers a new revision of the task family; returns its ARN.
pub(crate) async fn register_task_definition(
    aws: &AwsClients,
    task: &TaskSpec<'_>,
) -> Result<String, AwsError> {
    let operation = "RegisterTaskDefinition";
    let name = task.name;
    let container = task.container;
    let (execution_role_arn, task_role_arn) = (task.execution_role_arn, task.task_role_arn);
    let mut tags = task.tags.clone();
    tags.insert(OWNER_TAG.to_owned(), task.owner.clone());
    tracing::debug!(family = %name, "registering task definition");
    let answer = aws
        .ecs
        .register_task_definition()
        .family(name)
        .network_mode(NetworkMode::Awsvpc)
        .requires_compatibilities(Compatibility::Fargate)
        .cpu(container.cpu.to_string())
        .memory(container.memory.to_string())
        .container_definitions(model::container_definition(name, container, &aws.region))
        .set_execution_role_arn(execution_role_arn.map(str::to_owned))
        .set_task_role_arn(task_role_arn.map(str::to_owned))
        .set_tags(Some(ecs_tags(&tags)))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk(operation, Some(name), e))?;
    answer
        .task_definition()
        .and_then(|t| t.task_definition_arn())
        .map(str::to_owned)
        .ok_or_else(|| AwsError::missing(operation, Some(name), "taskDefinitionArn"))
}

/// The task definition, or `None` when it does not exist.
pub(crate) async fn describe_task_definition(
    aws: &AwsClients,
    arn: &str,
) -> Result<Option<TaskDefinition>, AwsError> {
    match aws
        .ecs
        .describe_task_definition()
        .task_definition(arn)
        .send()
        .await
    {
        Ok(answer) => Ok(answer.task_definition().cloned()),
        Err(e) => {
            let e = AwsError::from_sdk("DescribeTaskDefinition", Some(arn), e);
            // ClientException: "Unable to describe task definition", the one code ECS
            // gives for an unknown family or revision.
            if e.is_code(&["ClientException"]) {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}

/// The ACTIVE revisions of the task family `name` (exactly that family), oldest first.
async fn active_revisions(aws: &AwsClients, name: &str) -> Result<Vec<String>, AwsError> {
    let mut arns = Vec::new();
    let mut token = None;
    loop {
        let answer = aws
            .ecs
            .list_task_definitions()
            .family_prefix(name)
            .status(TaskDefinitionStatus::Active)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ListTaskDefinitions", Some(name), e))?;
        arns.extend(
            answer
                .task_definition_arns()
                .iter()
                // The prefix also matches longer family names, which are not ours.
                .filter(|arn| model::family_revision(arn).is_some_and(|(f, _)| f == name))
                .cloned(),
        );
        token = answer.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    Ok(arns)
}

/// The [`OWNER_TAG`] of a revision; `None` when it has none (or is gone).
async fn revision_owner(aws: &AwsClients, arn: &str) -> Result<Option<String>, AwsError> {
    let answer = match aws
        .ecs
        .describe_task_definition()
        .task_definition(arn)
        .include(TaskDefinitionField::Tags)
        .send()
        .await
    {
        Ok(answer) => answer,
        Err(e) => {
            let e = AwsError::from_sdk("DescribeTaskDefinition", Some(arn), e);
            if e.is_code(&["ClientException"]) {
                return Ok(None);
            }
            return Err(e);
        }
    };
    Ok(answer
        .tags()
        .iter()
        .find(|t| t.key() == Some(OWNER_TAG))
        .and_then(|t| t.value())
        .map(str::to_owned))
}

/// Deregisters one revision; one already gone or inactive is done.
pub(crate) async fn deregister_revision(aws: &AwsClients, arn: &str) -> Result<(), AwsError> {
    tracing::debug!(task_definition = %arn, "deregistering task definition");
    match aws
        .ecs
        .deregister_task_definition()
        .task_definition(arn)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = AwsError::from_sdk("DeregisterTaskDefinition", Some(arn), e);
            // ClientException: the revision is already gone or inactive.
            if e.is_code(&["ClientException"]) {
                Ok(())
            } else {
                Err(e)
            }
        }
    }
}

/// Deregisters the ACTIVE revisions of the family `name` that this service registered
/// (its [`OWNER_TAG`]) and no longer needs: every one but those in `keep`. They are what
/// an interrupted create or update registered before Terraform saved its state, and
/// revisions older than the one a rollback would return to.
pub(crate) async fn deregister_stale_revisions(
    aws: &AwsClients,
    name: &str,
    owner: &str,
    keep: &[&str],
) -> Result<(), AwsError> {
    let arns = active_revisions(aws, name).await?;
    let candidates = arns.into_iter().filter(|arn| !keep.contains(&arn.as_str()));
    deregister_where(aws, candidates, |theirs| theirs == Some(owner)).await
}

/// Deregisters every ACTIVE revision of the family `name` that this service registered,
/// or that carries no owner (registered before revisions were marked); a revision of a
/// same-named service in another cluster is left alone.
pub(crate) async fn deregister_family(
    aws: &AwsClients,
    name: &str,
    owner: &str,
) -> Result<(), AwsError> {
    let arns = active_revisions(aws, name).await?;
    deregister_where(aws, arns, |theirs| theirs.is_none_or(|o| o == owner)).await
}

/// How many revisions are looked at and deregistered at once: a family that piled up
/// revisions goes in a fraction of the time, well inside ECS's request rates.
const REVISIONS_AT_ONCE: usize = 4;

/// Deregisters those of `arns` whose [`OWNER_TAG`] (`None` when untagged) `ours`
/// accepts, a few at a time.
async fn deregister_where(
    aws: &AwsClients,
    arns: impl IntoIterator<Item = String>,
    ours: impl Fn(Option<&str>) -> bool,
) -> Result<(), AwsError> {
    let ours = &ours;
    stream::iter(arns)
        .map(|arn| async move {
            if ours(revision_owner(aws, &arn).await?.as_deref()) {
                deregister_revision(aws, &arn).await?;
            }
            Ok::<(), AwsError>(())
        })
        .buffer_unordered(REVISIONS_AT_ONCE)
        .try_collect()
        .await
}

/// The VPC of a subnet.
pub(crate) async fn subnet_vpc(aws: &AwsClients, subnet: &str) -> Result<String, AwsError> {
    let operation = "DescribeSubnets";
    let answer = aws
        .ec2
        .describe_subnets()
        .subnet_ids(subnet)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk(operation, Some(subnet), e))?;
    answer
        .subnets()
        .first()
        .and_then(|s| s.vpc_id())
        .map(str::to_owned)
        .ok_or_else(|| AwsError::missing(operation, Some(subnet), "vpcId"))
}

/// Creates the target group the service owns; returns its ARN.
pub(crate) async fn create_target_group(
    aws: &AwsClients,
    name: &str,
    vpc_id: &str,
    port: i64,
    health_check_path: &str,
    tags: &BTreeMap<String, String>,
    owner: &str,
) -> Result<String, AwsError> {
    let operation = "CreateTargetGroup";
    // The group this service made before its create was interrupted is taken over; a
    // group of that name that it did not make is refused.
    match elb_claim(&aws.elbv2, ElbKind::TargetGroup, name, OWNER_TAG, owner).await? {
        Claim::Free => {}
        Claim::Ours(arn) => {
            tracing::debug!(target_group_arn = %arn, "taking over the target group of an interrupted create");
            set_health_check_path(aws, &arn, health_check_path).await?;
            return Ok(arn);
        }
        Claim::Theirs(arn) => {
            return Err(AwsError::InvalidInput {
                detail: format!(
                    "a target group named {name:?} ({arn}) already exists and this service \
                     did not create it; delete it, or rename the service"
                ),
            })
        }
    }
    let mut tags = tags.clone();
    tags.insert(OWNER_TAG.to_owned(), owner.to_owned());
    tracing::debug!(target_group = %name, vpc_id, "creating target group");
    let answer = aws
        .elbv2
        .create_target_group()
        .name(name)
        .protocol(ProtocolEnum::Http)
        .port(port as i32)
        .vpc_id(vpc_id)
        .target_type(TargetTypeEnum::Ip)
        .health_check_path(health_check_path)
        .set_tags(Some(elb_tags(&tags)))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk(operation, Some(name), e))?;
    answer
        .target_groups()
        .first()
        .and_then(|t| t.target_group_arn())
        .map(str::to_owned)
        .ok_or_else(|| AwsError::missing(operation, Some(name), "targetGroupArn"))
}

/// The health check path of a target group; `None` when the group does not exist.
///
/// Read together with the other target groups read at the same time, or alone when that
/// call fails.
pub(crate) async fn target_group_health_path(
    aws: &AwsClients,
    arn: &str,
) -> Result<Option<Option<String>>, AwsError> {
    let elbv2 = aws.elbv2.clone();
    let batched = aws
        .batches
        .target_groups
        .read("", arn, move |keys| target_groups_by_arn(elbv2, keys))
        .await;
    // A target group that is gone fails the whole call, so one missing from a good answer
    // is not known to be gone: it is asked for alone, like one whose batch failed.
    let group = match batched {
        Batched::Found(group) => Some(group),
        Batched::Missing | Batched::Failed => {
            match target_groups_by_arn(aws.elbv2.clone(), vec![arn.to_owned()]).await {
                Ok(mut found) => found.remove(arn),
                Err(e) if e.is_code(&["TargetGroupNotFound"]) => None,
                Err(e) => return Err(e),
            }
        }
    };
    Ok(group.map(|g| g.health_check_path().map(str::to_owned)))
}

/// Target groups by ARN, twenty per call; one that is gone fails the call.
async fn target_groups_by_arn(
    elbv2: aws_sdk_elasticloadbalancingv2::Client,
    arns: Vec<String>,
) -> Result<HashMap<String, aws_sdk_elasticloadbalancingv2::types::TargetGroup>, AwsError> {
    let calls = arns.chunks(20).map(|chunk| {
        let request = elbv2
            .describe_target_groups()
            .set_target_group_arns(Some(chunk.to_vec()));
        let first = chunk[0].clone();
        async move {
            request
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("DescribeTargetGroups", Some(&first), e))
        }
    });
    Ok(try_join_all(calls)
        .await?
        .iter()
        .flat_map(|a| a.target_groups())
        .filter_map(|t| Some((t.target_group_arn()?.to_owned(), t.clone())))
        .collect())
}

/// Sets the health check path of the owned target group.
pub(crate) async fn set_health_check_path(
    aws: &AwsClients,
    arn: &str,
    path: &str,
) -> Result<(), AwsError> {
    tracing::debug!(target_group_arn = %arn, "modifying target group health check");
    aws.elbv2
        .modify_target_group()
        .target_group_arn(arn)
        .health_check_path(path)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("ModifyTargetGroup", Some(arn), e))
}

/// Deletes a target group the service owns, waiting while the load balancer still lets
/// go of it; a group already gone is done.
pub(crate) async fn delete_target_group(
    aws: &AwsClients,
    arn: &str,
    deadline: Instant,
    cancel: &CancellationToken,
) -> Result<(), AwsError> {
    tracing::debug!(target_group_arn = %arn, "deleting target group");
    // ResourceInUse: the rule or the service's registration is released a little after
    // they are deleted.
    let result = retry_while(&["ResourceInUse"], deadline, cancel, || async {
        aws.elbv2
            .delete_target_group()
            .target_group_arn(arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("DeleteTargetGroup", Some(arn), e))
    })
    .await;
    match result {
        Err(e) if e.is_code(&["TargetGroupNotFound"]) => Ok(()),
        other => other,
    }
}

/// Every non-default rule of a listener, by ARN, read together with the other reads of
/// the same listener's rules made at the same time (the plan-time host name checks of
/// the services on one listener share one read), or alone when that read fails.
pub(crate) async fn shared_listener_rules(
    aws: &AwsClients,
    listener_arn: &str,
) -> Result<Vec<(String, RuleView)>, AwsError> {
    let clients = aws.clone();
    let batched = aws
        .batches
        .listener_rules
        .read(listener_arn, listener_arn, move |keys| async move {
            let mut found = HashMap::new();
            for key in keys {
                let rules = listener_rules(&clients, &key).await?;
                found.insert(key, rules);
            }
            Ok(found)
        })
        .await;
    match batched {
        Batched::Found(rules) => Ok(rules),
        Batched::Missing | Batched::Failed => listener_rules(aws, listener_arn).await,
    }
}

/// Every non-default rule of a listener, by ARN.
pub(crate) async fn listener_rules(
    aws: &AwsClients,
    listener_arn: &str,
) -> Result<Vec<(String, RuleView)>, AwsError> {
    let mut rules = Vec::new();
    let mut marker = None;
    loop {
        let answer = aws
            .elbv2
            .describe_rules()
            .listener_arn(listener_arn)
            .set_marker(marker)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DescribeRules", Some(listener_arn), e))?;
        for rule in answer.rules() {
            if rule.is_default() == Some(true) {
                continue;
            }
            if let Some(arn) = rule.rule_arn() {
                rules.push((arn.to_owned(), rule_view(rule)));
            }
        }
        marker = answer.next_marker().map(str::to_owned);
        if marker.is_none() {
            break;
        }
    }
    Ok(rules)
}

fn rule_view(rule: &aws_sdk_elasticloadbalancingv2::types::Rule) -> RuleView {
    let hostnames = rule
        .conditions()
        .iter()
        .filter(|c| c.field() == Some("host-header"))
        .flat_map(|c| {
            let configured = c.host_header_config().map(|h| h.values().to_vec());
            configured
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| c.values().to_vec())
        })
        .collect();
    let target_group = rule.actions().iter().find_map(|a| {
        a.target_group_arn().map(str::to_owned).or_else(|| {
            a.forward_config()
                .and_then(|f| f.target_groups().first())
                .and_then(|t| t.target_group_arn())
                .map(str::to_owned)
        })
    });
    RuleView {
        hostnames,
        target_group,
        priority: rule.priority().and_then(|p| p.parse().ok()),
    }
}

fn host_condition(hostnames: &[String]) -> RuleCondition {
    RuleCondition::builder()
        .field("host-header")
        .host_header_config(
            HostHeaderConditionConfig::builder()
                .set_values(Some(hostnames.to_vec()))
                .build(),
        )
        .build()
}

fn forward(target_group: &str) -> Action {
    Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .target_group_arn(target_group)
        .build()
}

/// Creates the hostname rule at the first free priority from the derived one; returns
/// the rule ARN and its priority.
pub(crate) async fn create_rule(
    aws: &AwsClients,
    listener_arn: &str,
    hostnames: &[String],
    target_group: &str,
    owner: &str,
    tags: &BTreeMap<String, String>,
) -> Result<(String, i64), AwsError> {
    let operation = "CreateRule";
    // The rule this service made before its create was interrupted: changed to what is
    // asked, rather than a second rule made beside it.
    let mut rules = listener_rules(aws, listener_arn).await?;
    if let Some((arn, priority)) = owned_rule(aws, &rules, hostnames, owner).await? {
        tracing::debug!(rule_arn = %arn, "taking over the listener rule of an interrupted create");
        modify_rule(aws, &arn, hostnames, target_group).await?;
        return Ok((arn, priority));
    }
    let mut tags = tags.clone();
    tags.insert(OWNER_TAG.to_owned(), owner.to_owned());
    for attempt in 0..5 {
        if attempt > 0 {
            rules = listener_rules(aws, listener_arn).await?;
        }
        let taken: Vec<i64> = rules.iter().filter_map(|(_, rule)| rule.priority).collect();
        let Some(priority) = model::first_free_priority(hostnames, &taken) else {
            return Err(AwsError::InvalidInput {
                detail: format!("listener {listener_arn} has no free rule priority"),
            });
        };
        tracing::debug!(listener_arn = %listener_arn, priority, "creating listener rule");
        match aws
            .elbv2
            .create_rule()
            .listener_arn(listener_arn)
            .priority(priority as i32)
            .conditions(host_condition(hostnames))
            .actions(forward(target_group))
            .set_tags(Some(elb_tags(&tags)))
            .send()
            .await
        {
            Ok(answer) => {
                let arn = answer
                    .rules()
                    .first()
                    .and_then(|r| r.rule_arn())
                    .ok_or_else(|| AwsError::missing(operation, Some(listener_arn), "ruleArn"))?;
                return Ok((arn.to_owned(), priority));
            }
            Err(e) => {
                let e = AwsError::from_sdk(operation, Some(listener_arn), e);
                // PriorityInUse: another rule took the priority since the listing; look
                // again.
                if !e.is_code(&["PriorityInUse"]) {
                    return Err(e);
                }
            }
        }
    }
    Err(AwsError::InvalidInput {
        detail: format!("every free priority of listener {listener_arn} was taken while trying"),
    })
}

/// Of a listener's `rules`, one for one of `hostnames` that carries `owner`, with its
/// priority.
async fn owned_rule(
    aws: &AwsClients,
    rules: &[(String, RuleView)],
    hostnames: &[String],
    owner: &str,
) -> Result<Option<(String, i64)>, AwsError> {
    let wanted = model::normalized_hostnames(hostnames);
    let candidates: Vec<(String, i64)> = rules
        .iter()
        .filter(|(_, rule)| {
            model::normalized_hostnames(&rule.hostnames)
                .iter()
                .any(|h| wanted.contains(h))
        })
        .filter_map(|(arn, rule)| Some((arn.clone(), rule.priority?)))
        .collect();
    if candidates.is_empty() {
        return Ok(None);
    }
    let arns: Vec<String> = candidates.iter().map(|(arn, _)| arn.clone()).collect();
    let owners = rule_owners(aws, &arns).await?;
    Ok(candidates
        .into_iter()
        .find(|(arn, _)| owners.get(arn).map(String::as_str) == Some(owner)))
}

/// The [`OWNER_TAG`] of each ELBv2 rule or target group, where it has one.
pub(crate) async fn rule_owners(
    aws: &AwsClients,
    arns: &[String],
) -> Result<BTreeMap<String, String>, AwsError> {
    crate::aws::elb_tag_values(&aws.elbv2, arns, OWNER_TAG).await
}

/// Sets the host names and target of an existing rule.
pub(crate) async fn modify_rule(
    aws: &AwsClients,
    rule_arn: &str,
    hostnames: &[String],
    target_group: &str,
) -> Result<(), AwsError> {
    tracing::debug!(rule_arn = %rule_arn, "modifying listener rule");
    aws.elbv2
        .modify_rule()
        .rule_arn(rule_arn)
        .conditions(host_condition(hostnames))
        .actions(forward(target_group))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("ModifyRule", Some(rule_arn), e))
}

/// The rule, or `None` when it does not exist.
///
/// Read together with the other rules read at the same time, or alone when that call
/// fails.
pub(crate) async fn describe_rule(
    aws: &AwsClients,
    rule_arn: &str,
) -> Result<Option<RuleView>, AwsError> {
    let elbv2 = aws.elbv2.clone();
    let batched = aws
        .batches
        .rules
        .read("", rule_arn, move |keys| rules_by_arn(elbv2, keys))
        .await;
    // A rule that is gone fails the whole call, so one missing from a good answer is not
    // known to be gone (a state without its rule would make a second one): it is asked
    // for alone, like one whose batch failed.
    let rule = match batched {
        Batched::Found(rule) => Some(rule),
        Batched::Missing | Batched::Failed => {
            match rules_by_arn(aws.elbv2.clone(), vec![rule_arn.to_owned()]).await {
                Ok(mut found) => found.remove(rule_arn),
                Err(e) if e.is_code(&["RuleNotFound", "ListenerNotFound"]) => None,
                Err(e) => return Err(e),
            }
        }
    };
    Ok(rule.as_ref().map(rule_view))
}

/// Rules by ARN, twenty per call; one that is gone fails the call.
async fn rules_by_arn(
    elbv2: aws_sdk_elasticloadbalancingv2::Client,
    arns: Vec<String>,
) -> Result<HashMap<String, aws_sdk_elasticloadbalancingv2::types::Rule>, AwsError> {
    let calls = arns.chunks(20).map(|chunk| {
        let request = elbv2.describe_rules().set_rule_arns(Some(chunk.to_vec()));
        let first = chunk[0].clone();
        async move {
            request
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("DescribeRules", Some(&first), e))
        }
    });
    Ok(try_join_all(calls)
        .await?
        .iter()
        .flat_map(|a| a.rules())
        .filter_map(|r| Some((r.rule_arn()?.to_owned(), r.clone())))
        .collect())
}

/// Deletes a rule; a rule already gone is done.
pub(crate) async fn delete_rule(aws: &AwsClients, rule_arn: &str) -> Result<(), AwsError> {
    tracing::debug!(rule_arn = %rule_arn, "deleting listener rule");
    match aws.elbv2.delete_rule().rule_arn(rule_arn).send().await {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = AwsError::from_sdk("DeleteRule", Some(rule_arn), e);
            if e.is_code(&["RuleNotFound", "ListenerNotFound"]) {
                Ok(())
            } else {
                Err(e)
            }
        }
    }
}

fn network(spec: &ServiceSpec) -> Result<NetworkConfiguration, AwsError> {
    let vpc = AwsVpcConfiguration::builder()
        .set_subnets(Some(spec.subnets.clone()))
        .set_security_groups(Some(spec.groups.clone()))
        .assign_public_ip(AssignPublicIp::Disabled)
        .build()
        .map_err(|e| AwsError::InvalidInput {
            detail: format!("the network configuration is incomplete: {e}"),
        })?;
    Ok(NetworkConfiguration::builder()
        .awsvpc_configuration(vpc)
        .build())
}

fn load_balancers(spec: &ServiceSpec) -> Vec<LoadBalancer> {
    spec.load_balancer
        .iter()
        .map(|(tg, port)| {
            LoadBalancer::builder()
                .target_group_arn(tg)
                .container_name(&spec.name)
                .container_port(*port as i32)
                .build()
        })
        .collect()
}

fn deployment_configuration() -> DeploymentConfiguration {
    DeploymentConfiguration::builder()
        .deployment_circuit_breaker(
            DeploymentCircuitBreaker::builder()
                .enable(true)
                .rollback(true)
                .build(),
        )
        .build()
}

fn service_connect(spec: &ServiceSpec) -> ServiceConnectConfiguration {
    match &spec.service_connect {
        Some(sc) => model::service_connect_configuration(sc),
        None => ServiceConnectConfiguration::builder()
            .enabled(false)
            .build(),
    }
}

/// Creates the ECS service; returns its ARN.
pub(crate) async fn create_service(
    aws: &AwsClients,
    spec: &ServiceSpec,
) -> Result<String, AwsError> {
    let operation = "CreateService";
    tracing::debug!(service = %spec.name, cluster = %spec.cluster, "creating ecs service");
    let mut request = aws
        .ecs
        .create_service()
        .cluster(&spec.cluster)
        .service_name(&spec.name)
        .task_definition(&spec.task_definition)
        .desired_count(spec.desired_count as i32)
        .launch_type(LaunchType::Fargate)
        .network_configuration(network(spec)?)
        .deployment_configuration(deployment_configuration())
        .set_load_balancers(Some(load_balancers(spec)).filter(|l| !l.is_empty()))
        .propagate_tags(PropagateTags::Service)
        .set_tags(Some(ecs_tags(&owned_tags(spec))));
    if spec.service_connect.is_some() {
        request = request.service_connect_configuration(service_connect(spec));
    }
    let answer = request
        .send()
        .await
        .map_err(|e| AwsError::from_sdk(operation, Some(&spec.name), e))?;
    answer
        .service()
        .and_then(|s| s.service_arn())
        .map(str::to_owned)
        .ok_or_else(|| AwsError::missing(operation, Some(&spec.name), "serviceArn"))
}

fn owned_tags(spec: &ServiceSpec) -> BTreeMap<String, String> {
    let mut tags = spec.tags.clone();
    tags.insert(OWNER_TAG.to_owned(), spec.owner.clone());
    tags
}

/// Rolls the service to `spec` in place.
pub(crate) async fn update_service(
    aws: &AwsClients,
    arn: &str,
    spec: &ServiceSpec,
) -> Result<(), AwsError> {
    tracing::debug!(service_arn = %arn, "updating ecs service");
    aws.ecs
        .update_service()
        .cluster(&spec.cluster)
        .service(arn)
        .task_definition(&spec.task_definition)
        .desired_count(spec.desired_count as i32)
        .network_configuration(network(spec)?)
        .deployment_configuration(deployment_configuration())
        .set_load_balancers(Some(load_balancers(spec)))
        .service_connect_configuration(service_connect(spec))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("UpdateService", Some(arn), e))
}

/// Replaces the service's tags with `tags`.
pub(crate) async fn sync_tags(
    aws: &AwsClients,
    arn: &str,
    have: &BTreeMap<String, String>,
    want: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let remove: Vec<String> = have
        .keys()
        .filter(|k| !want.contains_key(*k))
        .cloned()
        .collect();
    if !remove.is_empty() {
        aws.ecs
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(remove))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("UntagResource", Some(arn), e))?;
    }
    let add: BTreeMap<String, String> = want
        .iter()
        .filter(|(k, v)| have.get(*k) != Some(v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !add.is_empty() {
        aws.ecs
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(ecs_tags(&add)))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("TagResource", Some(arn), e))?;
    }
    Ok(())
}

/// The service, or `None` when it does not exist or is no longer ACTIVE.
///
/// Read together with the other services of the cluster that are read at the same time
/// (one DescribeServices for up to ten), or alone when that call fails.
pub(crate) async fn describe_service(
    aws: &AwsClients,
    cluster: &str,
    service: &str,
) -> Result<Option<ServiceView>, AwsError> {
    let (ecs, group) = (aws.ecs.clone(), cluster.to_owned());
    let batched = aws
        .batches
        .services
        .read(cluster, service, move |keys| {
            services_by_key(ecs, group, keys)
        })
        .await;
    let found = match batched {
        Batched::Found(found) => found,
        Batched::Missing => return Ok(None),
        Batched::Failed => {
            let alone = services_by_key(
                aws.ecs.clone(),
                cluster.to_owned(),
                vec![service.to_owned()],
            );
            match alone.await {
                Ok(mut found) => match found.remove(service) {
                    Some(found) => found,
                    None => return Ok(None),
                },
                // ClusterNotFoundException: the cluster went, and the service with it.
                Err(e) if e.is_code(&["ClusterNotFoundException"]) => return Ok(None),
                Err(e) => return Err(e),
            }
        }
    };
    Ok(service_view(&found, service))
}

/// The services of `cluster` that `keys` name (ARNs or names), by key; DescribeServices
/// takes up to ten per call.
async fn services_by_key(
    ecs: aws_sdk_ecs::Client,
    cluster: String,
    keys: Vec<String>,
) -> Result<HashMap<String, aws_sdk_ecs::types::Service>, AwsError> {
    let calls = keys.chunks(10).map(|chunk| {
        let request = ecs
            .describe_services()
            .cluster(&cluster)
            .set_services(Some(chunk.to_vec()))
            .include(ServiceField::Tags);
        let first = chunk[0].clone();
        async move {
            request
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("DescribeServices", Some(&first), e))
        }
    });
    let answers = try_join_all(calls).await?;
    let described: Vec<_> = answers.iter().flat_map(|a| a.services()).collect();
    // Each key its own match: two reads may name one service differently.
    Ok(keys
        .iter()
        .filter_map(|key| {
            let item = described.iter().find(|s| names_service(key, s))?;
            Some((key.clone(), (*item).clone()))
        })
        .collect())
}

/// Whether `key` (a service ARN or name, as a read asked for it) is `service`.
fn names_service(key: &str, service: &aws_sdk_ecs::types::Service) -> bool {
    service.service_arn() == Some(key)
        || service.service_name() == Some(key)
        || service.service_name() == key.rsplit('/').next()
}

/// The view of a described service; `None` unless it is ACTIVE.
fn service_view(found: &aws_sdk_ecs::types::Service, service: &str) -> Option<ServiceView> {
    // DRAINING: being deleted; INACTIVE: deleted.
    if found.status() != Some("ACTIVE") {
        return None;
    }
    let vpc = found
        .network_configuration()
        .and_then(|n| n.awsvpc_configuration());
    let primary = found
        .deployments()
        .iter()
        .find(|d| d.status() == Some("PRIMARY"));
    let rollout = primary
        .and_then(|d| d.rollout_state())
        .map(|s| s.as_str().to_owned());
    let running = primary.map_or(0, |d| d.running_count());
    let steady = found.deployments().len() == 1
        && match rollout.as_deref() {
            Some(state) => state == "COMPLETED",
            None => running >= found.desired_count(),
        };
    Some(ServiceView {
        arn: found.service_arn().unwrap_or(service).to_owned(),
        cluster_arn: found.cluster_arn().map(str::to_owned),
        desired_count: i64::from(found.desired_count()),
        subnets: vpc.map(|v| v.subnets().to_vec()).unwrap_or_default(),
        groups: vpc
            .map(|v| v.security_groups().to_vec())
            .unwrap_or_default(),
        task_definition: found.task_definition().unwrap_or_default().to_owned(),
        target_group: found
            .load_balancers()
            .first()
            .and_then(|l| l.target_group_arn())
            .map(str::to_owned),
        service_connect: primary.and_then(|d| d.service_connect_configuration().cloned()),
        tags: found
            .tags()
            .iter()
            .filter(|t| t.key() != Some(OWNER_TAG))
            .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
            .collect(),
        owner: found
            .tags()
            .iter()
            .find(|t| t.key() == Some(OWNER_TAG))
            .and_then(|t| t.value())
            .map(str::to_owned),
        steady,
        rollout: format!(
            "{} deployment(s), the primary {} with {running} of {} tasks running",
            found.deployments().len(),
            rollout.as_deref().unwrap_or("without a rollout state"),
            found.desired_count()
        ),
    })
}

/// Polls the service until its deployment is steady, or the deadline.
pub(crate) async fn wait_steady(
    aws: &AwsClients,
    cluster: &str,
    arn: &str,
    deadline: Instant,
    cancel: &CancellationToken,
) -> Result<(), AwsError> {
    let operation = "DescribeServices";
    let mut delay = Duration::from_secs(1);
    loop {
        let Some(view) = describe_service(aws, cluster, arn).await? else {
            return Err(AwsError::item(
                operation,
                Some(arn),
                Some("MISSING"),
                Some("the service disappeared while waiting for it to be steady"),
            ));
        };
        if view.steady {
            return Ok(());
        }
        tracing::debug!(service_arn = %arn, rollout = %view.rollout, "waiting for a steady deployment");
        match pause(delay, deadline, cancel).await {
            Ok(()) => {}
            Err(Interrupted::Cancelled) => {
                return Err(AwsError::Cancelled {
                    operation,
                    resource: Some(arn.to_owned()),
                })
            }
            Err(Interrupted::Deadline) => {
                return Err(AwsError::Timeout {
                    operation,
                    resource: Some(arn.to_owned()),
                    waiting_for: format!("a steady deployment (now {})", view.rollout),
                    last: None,
                })
            }
        }
        delay = (delay * 2).min(Duration::from_secs(15));
    }
}

/// Scales the service to zero, deletes it and waits until ECS shows it INACTIVE; a
/// service already gone is done.
pub(crate) async fn delete_service(
    aws: &AwsClients,
    cluster: &str,
    arn: &str,
    deadline: Instant,
    cancel: &CancellationToken,
) -> Result<(), AwsError> {
    let gone = |e: &AwsError| {
        e.is_code(&[
            "ServiceNotFoundException",
            "ServiceNotActiveException",
            "ClusterNotFoundException",
        ])
    };
    tracing::debug!(service_arn = %arn, "scaling ecs service to zero");
    if let Err(e) = aws
        .ecs
        .update_service()
        .cluster(cluster)
        .service(arn)
        .desired_count(0)
        .send()
        .await
    {
        let e = AwsError::from_sdk("UpdateService", Some(arn), e);
        if gone(&e) {
            return Ok(());
        }
        return Err(e);
    }
    tracing::debug!(service_arn = %arn, "deleting ecs service");
    if let Err(e) = aws
        .ecs
        .delete_service()
        .cluster(cluster)
        .service(arn)
        .force(true)
        .send()
        .await
    {
        let e = AwsError::from_sdk("DeleteService", Some(arn), e);
        if !gone(&e) {
            return Err(e);
        }
    }
    let mut delay = Duration::from_secs(1);
    loop {
        let answer = aws
            .ecs
            .describe_services()
            .cluster(cluster)
            .services(arn)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DescribeServices", Some(arn), e));
        let status = match answer {
            Ok(answer) => answer
                .services()
                .first()
                .and_then(|s| s.status())
                .map(str::to_owned),
            Err(e) if e.is_code(&["ClusterNotFoundException"]) => None,
            Err(e) => return Err(e),
        };
        match status.as_deref() {
            None | Some("INACTIVE") => return Ok(()),
            Some(status) => {
                tracing::debug!(service_arn = %arn, status, "waiting for the service to be inactive");
                match pause(delay, deadline, cancel).await {
                    Ok(()) => {}
                    Err(Interrupted::Cancelled) => {
                        return Err(AwsError::Cancelled {
                            operation: "DescribeServices",
                            resource: Some(arn.to_owned()),
                        })
                    }
                    Err(Interrupted::Deadline) => {
                        return Err(AwsError::Timeout {
                            operation: "DescribeServices",
                            resource: Some(arn.to_owned()),
                            waiting_for: format!("the service to be INACTIVE (it is {status})"),
                            last: None,
                        })
                    }
                }
                delay = (delay * 2).min(Duration::from_secs(15));
            }
        }
    }
}
