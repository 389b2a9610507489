//! `atlas_cluster`: an ECS cluster and the Cloud Map HTTP namespace its services connect
//! through.
//!
//! Service Connect needs a namespace before the first service asks for it, so the
//! resource creates the namespace first and then the cluster with that namespace as its
//! Service Connect default, together with the Container Insights setting. The state holds
//! what AWS has: the insights setting and the cluster's default namespace are read back on
//! every refresh, so a change made outside Terraform shows as an in-place update that the
//! apply repairs.
//!
//! The namespace carries the tag `atlas:cluster = <cluster name>`. A create that stopped
//! after the namespace (or a cluster deleted outside Terraform) leaves a marked namespace
//! that the next create takes over instead of failing on the duplicate name.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ecs::types::{
    Cluster, ClusterField, ClusterServiceConnectDefaultsRequest, ClusterSetting, ClusterSettingName,
};
use aws_sdk_servicediscovery::types::{
    FilterCondition, NamespaceFilter, NamespaceFilterName, OperationStatus, OperationTargetType,
};
use tfplugin::diag::Diagnostics;
use tfplugin::resource::{Context, Plan, Resource, Timeouts};
use tfplugin::schema::{Attribute, Block, Schema};
use tfplugin::validate;
use tfplugin::value::{AttributePath, Type, Value};

use crate::aws::{pause, retry_while, AwsError, Interrupted, TagDiff};
use crate::convert;
use crate::provider::Shared;
use crate::tags::{merge, plan_tags_all, TagsValidator};

/// The tag that marks a namespace as the one of the cluster it names, and the cluster
/// itself as made by this resource. ECS answers CreateCluster for an existing name with
/// that cluster; the resource takes one over only when it carries this tag with its
/// name (one left by an apply interrupted before Terraform saved its state) and refuses
/// any other. Kept out of `tags_all`.
const CLUSTER_TAG: &str = "atlas:cluster";

/// The ECS cluster setting value for Container Insights on.
const INSIGHTS_ENABLED: &str = "enabled";

/// The ECS cluster setting value for Container Insights off.
const INSIGHTS_DISABLED: &str = "disabled";

/// The `atlas_cluster` resource.
#[derive(Debug)]
pub(crate) struct ClusterResource {
    shared: Arc<Shared>,
}

impl ClusterResource {
    /// The resource, reading the provider configuration from `shared`.
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        ClusterResource { shared }
    }
}

impl ClusterResource {
    /// The state of a cluster found gone. While its namespace still exists the resource
    /// stays in state without a cluster ARN, so the plan replaces it and a destroy
    /// deletes the namespace; otherwise it leaves state.
    async fn cluster_gone(
        &self,
        aws: &crate::aws::AwsClients,
        current: &Value,
        name: &str,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let namespace = match convert::opt_string(current, "namespace_id") {
            Some(id) => match get_namespace(&aws.servicediscovery, &id).await {
                Ok(namespace) => namespace,
                Err(e) => {
                    read_failed(diags, name, &e);
                    return Some(current.clone());
                }
            },
            None => None,
        };
        let Some(namespace) = namespace else {
            diags.warning(
                "Cluster Gone",
                format!(
                    "The ECS cluster {name:?} and its namespace no longer exist, so this \
                     atlas_cluster was removed from state. The next apply creates them again."
                ),
            );
            return None;
        };
        tracing::debug!(cluster = %name, namespace_id = %namespace.id, "cluster gone, namespace left");
        let mut state = current.clone();
        set_namespace(&mut state, Some(&namespace));
        tfplugin::plan::set_attr(&mut state, "arn", Value::Null);
        tfplugin::plan::set_attr(&mut state, "default_namespace_arn", Value::Null);
        Some(state)
    }
}

fn computed_id(name: &str, description: &str) -> Attribute {
    Attribute::computed(name, Type::String)
        .description(description)
        .use_state_for_unknown()
}

#[async_trait]
impl Resource for ClusterResource {
    fn type_name(&self) -> &'static str {
        "atlas_cluster"
    }

    fn schema(&self) -> Schema {
        Schema::new(Block::new(vec![
            computed_id("id", "The cluster name, also the import id."),
            Attribute::required("name", Type::String)
                .description("The ECS cluster name: 1 to 255 letters, digits, hyphens and underscores.")
                .requires_replace()
                .validate(validate::string_length(1, 255))
                .validate(validate::chars(is_cluster_name_char, "letters, digits, hyphens and underscores")),
            Attribute::optional("container_insights", Type::Bool)
                .description("Whether CloudWatch Container Insights is `enabled` on the cluster (else `disabled`). Changes in place. A setting of `enhanced` made outside Terraform reads as `false`.")
                .default(Value::Bool(true)),
            Attribute::optional_computed("namespace_name", Type::String)
                .description("The name of the Cloud Map HTTP namespace created for Service Connect; defaults to `name`.")
                .requires_replace()
                .validate(validate::string_length(1, 1024))
                .validate(validate::chars(|c| c.is_ascii_graphic(), "printable ASCII characters without spaces")),
            Attribute::optional("tags", Type::map(Type::String))
                .description("Tags of the cluster and the namespace, over the provider's `default_tags`.")
                .validate(TagsValidator),
            Attribute::computed("tags_all", Type::map(Type::String))
                .description("The tags on the cluster and the namespace: `default_tags` merged with `tags`."),
            computed_id("arn", "The cluster's ARN."),
            computed_id("namespace_arn", "The ARN of the cluster's Cloud Map HTTP namespace."),
            computed_id("namespace_id", "The id of the cluster's Cloud Map HTTP namespace (`ns-...`)."),
            Attribute::computed("default_namespace_arn", Type::String)
                .description("The Service Connect default namespace of the cluster as AWS reports it; planned as `namespace_arn`, so a change made outside Terraform shows as a difference."),
        ])
        .description("An ECS cluster with Container Insights and a Cloud Map HTTP namespace as its Service Connect default."))
    }

    fn timeouts(&self) -> Option<Timeouts> {
        Some(Timeouts {
            create: Duration::from_secs(10 * 60),
            read: Duration::from_secs(5 * 60),
            update: Duration::from_secs(10 * 60),
            delete: Duration::from_secs(20 * 60),
        })
    }

    async fn modify_plan(&self, _ctx: &Context, plan: &mut Plan<'_>, _diags: &mut Diagnostics) {
        let name = plan.get("name").clone();
        if name.is_known() && !name.is_null() {
            plan.set("id", name.clone());
        }
        // The namespace follows the name unless it is configured.
        if plan.config.get("namespace_name").is_none_or(Value::is_null) {
            plan.set("namespace_name", name);
        }

        plan_tags_all(plan, &self.shared.default_tags());

        // A cluster found gone (its namespace left) is replaced: the create makes both.
        if !plan.is_create() && plan.prior.get("arn").is_none_or(Value::is_null) {
            plan.set("arn", Value::unknown());
            plan.requires_replace.push(AttributePath::new().attr("arn"));
        }

        // A namespace found gone is created again by the update.
        if !plan.is_create() && plan.prior.get("namespace_id").is_none_or(Value::is_null) {
            plan.set("namespace_id", Value::unknown());
            plan.set("namespace_arn", Value::unknown());
        }
        let namespace_arn = plan.get("namespace_arn").clone();
        plan.set("default_namespace_arn", namespace_arn);
    }

    async fn create(
        &self,
        ctx: &Context,
        planned: &Value,
        _config: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let configured = self.shared.get(diags)?;
        let aws = &configured.aws;
        let spec = Spec::from_value(planned, &configured.default_tags);

        // 1. No other cluster of this name: ECS would answer CreateCluster with it. One
        // that carries this resource's owner tag was left by an apply interrupted before
        // Terraform saved it: it is taken over.
        let adopted = match describe_cluster(&aws.ecs, &spec.name).await {
            Ok(None) => None,
            Ok(Some(found)) if found.owner.as_deref() == Some(spec.name.as_str()) => {
                tracing::info!(cluster = %spec.name, "taking over a cluster an interrupted apply left");
                Some(found)
            }
            Ok(Some(_)) => {
                diags.error(
                    "Cluster Already Exists",
                    format!(
                        "An active ECS cluster named {:?} already exists. Import it with \
                         `terraform import <address> {}`, or choose another name.",
                        spec.name, spec.name
                    ),
                );
                return None;
            }
            Err(e) => {
                creation_failed(diags, &spec, &e);
                return None;
            }
        };

        // 2. The namespace: taken over when an earlier attempt left it, else created.
        tracing::debug!(cluster = %spec.name, namespace = %spec.namespace_name, "creating cluster namespace");
        let namespace = match ensure_namespace(&aws.servicediscovery, &spec, ctx).await {
            Ok(namespace) => namespace,
            Err(e) => {
                creation_failed(diags, &spec, &e);
                return None;
            }
        };

        // 3. The cluster, with the namespace as its Service Connect default.
        tracing::debug!(cluster = %spec.name, namespace_id = %namespace.id, "creating ecs cluster");
        let created = match adopted {
            Some(found) => Ok(found),
            None => create_cluster(&aws.ecs, &spec, &namespace.arn, ctx).await,
        };
        let found = match created {
            Ok(found) => found,
            Err(e) => {
                creation_failed(diags, &spec, &e);
                // The namespace stays in state (tainted, without a cluster ARN): the
                // next apply replaces it and a destroy removes it.
                let mut state = planned.clone();
                set_namespace(&mut state, Some(&namespace));
                tfplugin::plan::set_attr(&mut state, "arn", Value::Null);
                tfplugin::plan::set_attr(&mut state, "default_namespace_arn", Value::Null);
                return Some(state);
            }
        };
        Some(state_value(planned, &found, Some(&namespace)))
    }

    async fn read(
        &self,
        _ctx: &Context,
        current: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let configured = self.shared.get(diags)?;
        let aws = &configured.aws;
        let name =
            convert::opt_string(current, "name").unwrap_or_else(|| convert::string(current, "id"));

        let found = match describe_cluster(&aws.ecs, &name).await {
            Ok(Some(found)) => found,
            Ok(None) => return self.cluster_gone(aws, current, &name, diags).await,
            Err(e) => {
                read_failed(diags, &name, &e);
                return Some(current.clone());
            }
        };
        let namespace = match convert::opt_string(current, "namespace_id") {
            Some(id) => match get_namespace(&aws.servicediscovery, &id).await {
                Ok(namespace) => namespace,
                Err(e) => {
                    read_failed(diags, &name, &e);
                    return Some(current.clone());
                }
            },
            None => None,
        };
        if namespace.is_none() {
            diags.warning(
                "Cluster Namespace Gone",
                format!(
                    "The Cloud Map namespace of ECS cluster {name:?} no longer exists. The next \
                     apply creates it again and makes it the cluster's Service Connect default."
                ),
            );
        }
        Some(state_value(current, &found, namespace.as_ref()))
    }

    async fn update(
        &self,
        ctx: &Context,
        prior: &Value,
        planned: &Value,
        _config: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let configured = self.shared.get(diags)?;
        let aws = &configured.aws;
        let spec = Spec::from_value(planned, &configured.default_tags);
        let mut state = prior.clone();
        let failed = |diags: &mut Diagnostics, what: &str, e: &AwsError| {
            diags.error(
                "Cluster Update Failed",
                format!(
                    "{what} of ECS cluster {:?} failed: {e}. The state keeps what was done \
                     before; the next plan shows what still differs.",
                    spec.name
                ),
            );
        };

        // 1. A namespace found gone comes back first, so the cluster can point at it.
        let namespace = match namespace_from(prior) {
            Some(namespace) => namespace,
            None => match ensure_namespace(&aws.servicediscovery, &spec, ctx).await {
                Ok(namespace) => {
                    set_namespace(&mut state, Some(&namespace));
                    namespace
                }
                Err(e) => {
                    failed(diags, "Creating the namespace", &e);
                    return Some(state);
                }
            },
        };
        let cluster_arn = convert::string(prior, "arn");

        // 2. Tags, on the cluster and the namespace.
        let old_tags = convert::string_map(prior.get("tags_all"));
        if old_tags != spec.tags {
            let diff = TagDiff::between(&old_tags, &spec.tags);
            if let Err(e) = update_tags(aws, &cluster_arn, &namespace.arn, &diff).await {
                failed(diags, "Updating the tags", &e);
                return Some(state);
            }
            tfplugin::plan::set_attr(
                &mut state,
                "tags",
                planned.get("tags").cloned().unwrap_or(Value::Null),
            );
            tfplugin::plan::set_attr(&mut state, "tags_all", convert::map(&spec.tags));
        }

        // 3. Container Insights.
        if convert::bool_or(prior, "container_insights", true) != spec.container_insights {
            tracing::debug!(cluster = %spec.name, enabled = spec.container_insights, "updating container insights");
            let setting = insights_setting(spec.container_insights);
            let result = aws
                .ecs
                .update_cluster_settings()
                .cluster(&spec.name)
                .settings(setting)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("UpdateClusterSettings", Some(&spec.name), e));
            if let Err(e) = result {
                failed(diags, "Changing Container Insights", &e);
                return Some(state);
            }
            tfplugin::plan::set_attr(
                &mut state,
                "container_insights",
                Value::Bool(spec.container_insights),
            );
        }

        // 4. The Service Connect default namespace.
        if convert::opt_string(prior, "default_namespace_arn").as_deref() != Some(&namespace.arn) {
            tracing::debug!(cluster = %spec.name, namespace_arn = %namespace.arn, "updating service connect default namespace");
            if let Err(e) = set_default_namespace(&aws.ecs, &spec.name, &namespace.arn).await {
                failed(diags, "Setting the Service Connect default namespace", &e);
                return Some(state);
            }
        }

        let mut next = planned.clone();
        set_namespace(&mut next, Some(&namespace));
        tfplugin::plan::set_attr(&mut next, "arn", Value::string(&cluster_arn));
        tfplugin::plan::set_attr(
            &mut next,
            "default_namespace_arn",
            Value::string(&namespace.arn),
        );
        Some(next)
    }

    async fn delete(&self, ctx: &Context, prior: &Value, diags: &mut Diagnostics) {
        let Some(configured) = self.shared.get(diags) else {
            return;
        };
        let aws = &configured.aws;
        let name = convert::string(prior, "name");

        // 1. The cluster; one that still runs services stays, and so does its namespace.
        tracing::debug!(cluster = %name, "deleting ecs cluster");
        if let Err(e) = delete_cluster(&aws.ecs, &name, ctx).await {
            let (summary, hint) = if matches!(e, AwsError::StillInUse { .. }) {
                (
                    "Cluster Still Has Services",
                    "Delete its services first (destroy the atlas_service resources that use \
                     it), then destroy again.",
                )
            } else {
                (
                    "Cluster Deletion Failed",
                    "Destroy again once the cause is fixed.",
                )
            };
            diags.error(
                summary,
                format!("Deleting ECS cluster {name:?} failed: {e}. {hint}"),
            );
            return;
        }

        // 2. The namespace.
        if let Some(id) = convert::opt_string(prior, "namespace_id") {
            tracing::debug!(namespace_id = %id, "deleting cluster namespace");
            if let Err(e) = delete_namespace(&aws.servicediscovery, &id, ctx).await {
                diags.error(
                    "Cluster Namespace Deletion Failed",
                    format!(
                        "ECS cluster {name:?} was deleted, but deleting its Cloud Map namespace \
                         {id} failed: {e}. Delete the namespace's services, then destroy again."
                    ),
                );
            }
        }
    }

    async fn import(&self, _ctx: &Context, id: &str, diags: &mut Diagnostics) -> Option<Value> {
        if id.is_empty() || !id.chars().all(is_cluster_name_char) || id.len() > 255 {
            diags.error(
                "Invalid Import ID",
                format!("The import id must be an ECS cluster name, but it is {id:?}."),
            );
            return None;
        }
        let configured = self.shared.get(diags)?;
        let aws = &configured.aws;
        let found = match describe_cluster(&aws.ecs, id).await {
            Ok(Some(found)) => found,
            Ok(None) => {
                diags.error(
                    "Cannot Import Cluster",
                    format!("No active ECS cluster {id:?} exists in this region."),
                );
                return None;
            }
            Err(e) => {
                diags.error(
                    "Cannot Import Cluster",
                    format!("Reading ECS cluster {id:?} failed: {e}."),
                );
                return None;
            }
        };
        // The namespace is the cluster's Service Connect default.
        let namespace = match found.default_namespace.as_deref().and_then(namespace_id_of) {
            Some(namespace_id) => match get_namespace(&aws.servicediscovery, namespace_id).await {
                Ok(namespace) => namespace,
                Err(e) => {
                    diags.error(
                        "Cannot Import Cluster",
                        format!("Reading the namespace of ECS cluster {id:?} failed: {e}."),
                    );
                    return None;
                }
            },
            None => None,
        };

        let mut base = tfplugin::plan::null_object(&self.schema().value_type());
        let set =
            |v: &mut Value, name: &str, value: Value| tfplugin::plan::set_attr(v, name, value);
        // The runtime adds the timeouts block to the schema; it must be present, null.
        set(&mut base, tfplugin::plan::TIMEOUTS_BLOCK, Value::Null);
        set(&mut base, "name", Value::string(id));
        set(
            &mut base,
            "namespace_name",
            namespace
                .as_ref()
                .map_or(Value::string(id), |n| Value::string(&n.name)),
        );
        // Tags that equal a provider default tag are taken to come from it.
        let defaults = &configured.default_tags;
        let own: BTreeMap<String, String> = found
            .tags
            .iter()
            .filter(|(key, value)| defaults.get(*key) != Some(*value))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        set(
            &mut base,
            "tags",
            if own.is_empty() {
                Value::Null
            } else {
                convert::map(&own)
            },
        );
        set(&mut base, "tags_all", convert::map(&found.tags));
        Some(state_value(&base, &found, namespace.as_ref()))
    }
}

/// Whether `c` may appear in an ECS cluster (or service) name.
pub(crate) fn is_cluster_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

// ---------------------------------------------------------------------------------------
// the model

/// What the configuration asks for.
#[derive(Debug, Clone)]
struct Spec {
    name: String,
    namespace_name: String,
    container_insights: bool,
    /// `default_tags` merged with `tags`.
    tags: BTreeMap<String, String>,
}

impl Spec {
    fn from_value(planned: &Value, default_tags: &BTreeMap<String, String>) -> Self {
        let name = convert::string(planned, "name");
        Spec {
            namespace_name: convert::opt_string(planned, "namespace_name")
                .unwrap_or_else(|| name.clone()),
            name,
            container_insights: convert::bool_or(planned, "container_insights", true),
            tags: merge(default_tags, &convert::string_map(planned.get("tags"))),
        }
    }

    /// The namespace's tags: the cluster's, and the marker that finds it again.
    fn namespace_tags(&self) -> BTreeMap<String, String> {
        let mut tags = self.tags.clone();
        tags.insert(CLUSTER_TAG.to_owned(), self.name.clone());
        tags
    }
}

/// A cluster as the resource sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FoundCluster {
    arn: String,
    /// The `containerInsights` setting (`enabled`, `disabled`, `enhanced`), if any.
    insights: Option<String>,
    /// The Service Connect default namespace's ARN, if any.
    default_namespace: Option<String>,
    /// The cluster's tags, without [`CLUSTER_TAG`].
    tags: BTreeMap<String, String>,
    /// The name in its [`CLUSTER_TAG`], if it has one: then this resource created it.
    owner: Option<String>,
}

impl FoundCluster {
    fn from_cluster(cluster: &Cluster) -> Result<Self, AwsError> {
        let arn = cluster
            .cluster_arn()
            .ok_or_else(|| {
                AwsError::missing("DescribeClusters", cluster.cluster_name(), "clusterArn")
            })?
            .to_owned();
        let insights = cluster
            .settings()
            .iter()
            .find(|s| s.name() == Some(&ClusterSettingName::ContainerInsights))
            .and_then(|s| s.value())
            .map(str::to_owned);
        Ok(FoundCluster {
            arn,
            insights,
            default_namespace: cluster
                .service_connect_defaults()
                .and_then(|d| d.namespace())
                .map(str::to_owned),
            tags: cluster
                .tags()
                .iter()
                .filter(|t| t.key() != Some(CLUSTER_TAG))
                .filter_map(|t| {
                    Some((
                        t.key()?.to_owned(),
                        t.value().unwrap_or_default().to_owned(),
                    ))
                })
                .collect(),
            owner: cluster
                .tags()
                .iter()
                .find(|t| t.key() == Some(CLUSTER_TAG))
                .and_then(|t| t.value().map(str::to_owned)),
        })
    }

    /// Whether Container Insights counts as on: only `enabled` does, so `enhanced` set
    /// outside Terraform shows as a difference and the apply sets it back to `enabled`.
    fn insights_enabled(&self) -> bool {
        self.insights.as_deref() == Some(INSIGHTS_ENABLED)
    }
}

/// A Cloud Map namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Namespace {
    id: String,
    arn: String,
    name: String,
}

/// The namespace id at the end of a namespace ARN (`...:namespace/ns-abc`).
fn namespace_id_of(arn: &str) -> Option<&str> {
    let (_, id) = arn.rsplit_once("namespace/")?;
    (!id.is_empty()).then_some(id)
}

fn insights_setting(enabled: bool) -> ClusterSetting {
    ClusterSetting::builder()
        .name(ClusterSettingName::ContainerInsights)
        .value(if enabled {
            INSIGHTS_ENABLED
        } else {
            INSIGHTS_DISABLED
        })
        .build()
}

fn ecs_tags(tags: &BTreeMap<String, String>) -> Vec<aws_sdk_ecs::types::Tag> {
    tags.iter()
        .map(|(k, v)| aws_sdk_ecs::types::Tag::builder().key(k).value(v).build())
        .collect()
}

fn cloud_map_tags(
    tags: &BTreeMap<String, String>,
) -> Result<Vec<aws_sdk_servicediscovery::types::Tag>, AwsError> {
    tags.iter()
        .map(|(k, v)| {
            aws_sdk_servicediscovery::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| AwsError::InvalidInput {
                    detail: format!("tag {k:?}: {e}"),
                })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// AWS calls

/// The namespace of `spec`: one named so and marked as this cluster's when it exists,
/// else a new one once `CreateHttpNamespace` has finished.
async fn ensure_namespace(
    sd: &aws_sdk_servicediscovery::Client,
    spec: &Spec,
    ctx: &Context,
) -> Result<Namespace, AwsError> {
    if let Some(namespace) = find_marked_namespace(sd, spec).await? {
        tracing::debug!(namespace_id = %namespace.id, "taking over the namespace of an earlier create");
        return Ok(namespace);
    }
    let operation = "CreateHttpNamespace";
    let answer = sd
        .create_http_namespace()
        .name(&spec.namespace_name)
        .description(format!(
            "Service Connect namespace of ECS cluster {}",
            spec.name
        ))
        .set_tags(Some(cloud_map_tags(&spec.namespace_tags())?))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk(operation, Some(&spec.namespace_name), e))?;
    let operation_id = answer
        .operation_id()
        .ok_or_else(|| AwsError::missing(operation, Some(&spec.namespace_name), "OperationId"))?;
    let targets = wait_operation(sd, operation_id, ctx).await?;
    let id = targets
        .get(&OperationTargetType::Namespace)
        .ok_or_else(|| {
            AwsError::missing("GetOperation", Some(operation_id), "the NAMESPACE target")
        })?;
    get_namespace(sd, id).await?.ok_or_else(|| {
        AwsError::item(
            "GetNamespace",
            Some(id),
            Some("NamespaceNotFound"),
            Some("the namespace just created is gone"),
        )
    })
}

/// An HTTP namespace named `spec.namespace_name` that carries this cluster's marker tag.
async fn find_marked_namespace(
    sd: &aws_sdk_servicediscovery::Client,
    spec: &Spec,
) -> Result<Option<Namespace>, AwsError> {
    let operation = "ListNamespaces";
    let filter = NamespaceFilter::builder()
        .name(NamespaceFilterName::Name)
        .values(&spec.namespace_name)
        .condition(FilterCondition::Eq)
        .build()
        .map_err(|e| AwsError::InvalidInput {
            detail: e.to_string(),
        })?;
    let mut pages = sd.list_namespaces().filters(filter).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk(operation, None, e))?;
        for summary in page.namespaces() {
            // Filters are applied client-side too: the name filter is an exact match.
            if summary.name() != Some(spec.namespace_name.as_str()) {
                continue;
            }
            let (Some(id), Some(arn)) = (summary.id(), summary.arn()) else {
                continue;
            };
            let tags = sd
                .list_tags_for_resource()
                .resource_arn(arn)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("ListTagsForResource", Some(arn), e))?;
            let marked = tags
                .tags()
                .iter()
                .any(|t| t.key() == CLUSTER_TAG && t.value() == spec.name);
            if marked {
                return Ok(Some(Namespace {
                    id: id.to_owned(),
                    arn: arn.to_owned(),
                    name: spec.namespace_name.clone(),
                }));
            }
        }
    }
    Ok(None)
}

/// The namespace `id`, or `None` when it does not exist.
async fn get_namespace(
    sd: &aws_sdk_servicediscovery::Client,
    id: &str,
) -> Result<Option<Namespace>, AwsError> {
    let operation = "GetNamespace";
    let answer = match sd.get_namespace().id(id).send().await {
        Ok(answer) => answer,
        Err(e) => {
            let e = AwsError::from_sdk(operation, Some(id), e);
            // NamespaceNotFound: deleted, or never existed.
            if e.is_code(&["NamespaceNotFound"]) {
                return Ok(None);
            }
            return Err(e);
        }
    };
    let namespace = answer
        .namespace()
        .ok_or_else(|| AwsError::missing(operation, Some(id), "Namespace"))?;
    Ok(Some(Namespace {
        id: id.to_owned(),
        arn: namespace
            .arn()
            .ok_or_else(|| AwsError::missing(operation, Some(id), "Arn"))?
            .to_owned(),
        name: namespace.name().unwrap_or_default().to_owned(),
    }))
}

/// Polls a Cloud Map operation until it succeeds, and returns its targets.
async fn wait_operation(
    sd: &aws_sdk_servicediscovery::Client,
    operation_id: &str,
    ctx: &Context,
) -> Result<std::collections::HashMap<OperationTargetType, String>, AwsError> {
    let operation = "GetOperation";
    let mut delay = Duration::from_millis(500);
    loop {
        let answer = sd
            .get_operation()
            .operation_id(operation_id)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(operation, Some(operation_id), e))?;
        let op = answer
            .operation()
            .ok_or_else(|| AwsError::missing(operation, Some(operation_id), "Operation"))?;
        match op.status() {
            Some(OperationStatus::Success) => return Ok(op.targets().cloned().unwrap_or_default()),
            Some(OperationStatus::Fail) => {
                return Err(AwsError::item(
                    operation,
                    Some(operation_id),
                    Some(op.error_code().unwrap_or("FAIL")),
                    op.error_message(),
                ));
            }
            _ => {}
        }
        tracing::debug!(operation_id, status = ?op.status(), "waiting for cloud map operation");
        if let Err(stop) = pause(delay, ctx.deadline(), ctx.cancel_token()).await {
            return Err(interrupted(
                stop,
                operation,
                operation_id,
                "the Cloud Map operation to succeed",
            ));
        }
        delay = (delay * 2).min(Duration::from_secs(10));
    }
}

fn interrupted(
    stop: Interrupted,
    operation: &'static str,
    resource: &str,
    waiting_for: &str,
) -> AwsError {
    match stop {
        Interrupted::Cancelled => AwsError::Cancelled {
            operation,
            resource: Some(resource.to_owned()),
        },
        Interrupted::Deadline => AwsError::Timeout {
            operation,
            resource: Some(resource.to_owned()),
            waiting_for: waiting_for.to_owned(),
            last: None,
        },
    }
}

async fn create_cluster(
    ecs: &aws_sdk_ecs::Client,
    spec: &Spec,
    namespace_arn: &str,
    ctx: &Context,
) -> Result<FoundCluster, AwsError> {
    let operation = "CreateCluster";
    let mut marked = spec.tags.clone();
    marked.insert(CLUSTER_TAG.to_owned(), spec.name.clone());
    let defaults = ClusterServiceConnectDefaultsRequest::builder()
        .namespace(namespace_arn)
        .build()
        .map_err(|e| AwsError::InvalidInput {
            detail: e.to_string(),
        })?;
    let answer = retry_while(
        // A namespace just created may not be visible to ECS yet.
        &["NamespaceNotFoundException"],
        ctx.deadline(),
        ctx.cancel_token(),
        || async {
            ecs.create_cluster()
                .cluster_name(&spec.name)
                .settings(insights_setting(spec.container_insights))
                .service_connect_defaults(defaults.clone())
                .set_tags(Some(ecs_tags(&marked)))
                .send()
                .await
                .map_err(|e| AwsError::from_sdk(operation, Some(&spec.name), e))
        },
    )
    .await?;
    let cluster = answer
        .cluster()
        .ok_or_else(|| AwsError::missing(operation, Some(&spec.name), "cluster"))?;
    let mut found = FoundCluster::from_cluster(cluster)?;
    // CreateCluster answers before every field is filled in; what was asked is what is set.
    found.insights = Some(
        insights_setting(spec.container_insights)
            .value()
            .unwrap_or_default()
            .to_owned(),
    );
    found.default_namespace = Some(namespace_arn.to_owned());
    found.tags = spec.tags.clone();
    found.owner = Some(spec.name.clone());
    Ok(found)
}

/// The ACTIVE cluster `name`, or `None` when it is missing or no longer active.
async fn describe_cluster(
    ecs: &aws_sdk_ecs::Client,
    name: &str,
) -> Result<Option<FoundCluster>, AwsError> {
    let operation = "DescribeClusters";
    let answer = ecs
        .describe_clusters()
        .clusters(name)
        .include(ClusterField::Settings)
        .include(ClusterField::Tags)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk(operation, Some(name), e))?;
    // A missing cluster comes back as a failure with reason MISSING, not as an error.
    let Some(cluster) = answer
        .clusters()
        .iter()
        .find(|c| c.cluster_name() == Some(name) || c.cluster_arn() == Some(name))
    else {
        if let Some(failure) = answer
            .failures()
            .iter()
            .find(|f| f.reason() != Some("MISSING"))
        {
            return Err(AwsError::item(
                operation,
                Some(name),
                failure.reason(),
                failure.detail(),
            ));
        }
        return Ok(None);
    };
    if cluster.status() == Some("INACTIVE") {
        return Ok(None);
    }
    FoundCluster::from_cluster(cluster).map(Some)
}

async fn set_default_namespace(
    ecs: &aws_sdk_ecs::Client,
    name: &str,
    namespace_arn: &str,
) -> Result<(), AwsError> {
    let defaults = ClusterServiceConnectDefaultsRequest::builder()
        .namespace(namespace_arn)
        .build()
        .map_err(|e| AwsError::InvalidInput {
            detail: e.to_string(),
        })?;
    ecs.update_cluster()
        .cluster(name)
        .service_connect_defaults(defaults)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("UpdateCluster", Some(name), e))?;
    Ok(())
}

async fn update_tags(
    aws: &crate::aws::AwsClients,
    cluster_arn: &str,
    namespace_arn: &str,
    diff: &TagDiff,
) -> Result<(), AwsError> {
    if !diff.removed.is_empty() {
        aws.ecs
            .untag_resource()
            .resource_arn(cluster_arn)
            .set_tag_keys(Some(diff.removed.clone()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("UntagResource", Some(cluster_arn), e))?;
        aws.servicediscovery
            .untag_resource()
            .resource_arn(namespace_arn)
            .set_tag_keys(Some(diff.removed.clone()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("UntagResource", Some(namespace_arn), e))?;
    }
    if !diff.upserted.is_empty() {
        aws.ecs
            .tag_resource()
            .resource_arn(cluster_arn)
            .set_tags(Some(ecs_tags(&diff.upserted)))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("TagResource", Some(cluster_arn), e))?;
        aws.servicediscovery
            .tag_resource()
            .resource_arn(namespace_arn)
            .set_tags(Some(cloud_map_tags(&diff.upserted)?))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("TagResource", Some(namespace_arn), e))?;
    }
    Ok(())
}

/// Deletes the cluster; one already gone counts as deleted. A cluster that still has
/// services fails with [`AwsError::StillInUse`] naming them.
async fn delete_cluster(
    ecs: &aws_sdk_ecs::Client,
    name: &str,
    ctx: &Context,
) -> Result<(), AwsError> {
    let operation = "DeleteCluster";
    let result = retry_while(
        // Tasks still stopping, or an update of the cluster still running, end by
        // themselves.
        &["ClusterContainsTasksException", "UpdateInProgressException"],
        ctx.deadline(),
        ctx.cancel_token(),
        || async {
            ecs.delete_cluster()
                .cluster(name)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk(operation, Some(name), e))
        },
    )
    .await;
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.is_code(&["ClusterNotFoundException"]) => Ok(()),
        Err(e) if e.is_code(&["ClusterContainsServicesException"]) => Err(AwsError::StillInUse {
            operation,
            resource: name.to_owned(),
            holders: list_services(ecs, name).await.unwrap_or_default(),
            last: Box::new(e),
        }),
        Err(e) => Err(e),
    }
}

/// The services of a cluster, as `service <name>`.
async fn list_services(ecs: &aws_sdk_ecs::Client, cluster: &str) -> Result<Vec<String>, AwsError> {
    let mut holders = Vec::new();
    let mut pages = ecs.list_services().cluster(cluster).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("ListServices", Some(cluster), e))?;
        for arn in page.service_arns() {
            let name = arn.rsplit('/').next().unwrap_or(arn);
            holders.push(format!("service {name}"));
        }
    }
    Ok(holders)
}

/// Deletes the namespace and waits for the deletion; one already gone counts as deleted.
async fn delete_namespace(
    sd: &aws_sdk_servicediscovery::Client,
    id: &str,
    ctx: &Context,
) -> Result<(), AwsError> {
    let operation = "DeleteNamespace";
    let result = retry_while(
        // ResourceInUse: the Service Connect services ECS registered in the namespace are
        // removed asynchronously after their ECS services are gone.
        &["ResourceInUse"],
        ctx.deadline(),
        ctx.cancel_token(),
        || async {
            sd.delete_namespace()
                .id(id)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk(operation, Some(id), e))
        },
    )
    .await;
    let answer = match result {
        Ok(answer) => answer,
        Err(e) if e.is_code(&["NamespaceNotFound"]) => return Ok(()),
        Err(e) => return Err(e),
    };
    if let Some(operation_id) = answer.operation_id() {
        wait_operation(sd, operation_id, ctx).await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// converters

fn namespace_from(value: &Value) -> Option<Namespace> {
    Some(Namespace {
        id: convert::opt_string(value, "namespace_id")?,
        arn: convert::opt_string(value, "namespace_arn")?,
        name: convert::string(value, "namespace_name"),
    })
}

fn set_namespace(state: &mut Value, namespace: Option<&Namespace>) {
    let set = |v: &mut Value, name: &str, value: Value| tfplugin::plan::set_attr(v, name, value);
    set(
        state,
        "namespace_id",
        namespace.map_or(Value::Null, |n| Value::string(&n.id)),
    );
    set(
        state,
        "namespace_arn",
        namespace.map_or(Value::Null, |n| Value::string(&n.arn)),
    );
}

/// The state for what AWS has, keeping the rest of `base` (such as its timeouts).
fn state_value(base: &Value, found: &FoundCluster, namespace: Option<&Namespace>) -> Value {
    let mut state = base.clone();
    let name = convert::opt_string(base, "name").unwrap_or_default();
    let set = |v: &mut Value, name: &str, value: Value| tfplugin::plan::set_attr(v, name, value);
    set(&mut state, "id", Value::string(&name));
    set(&mut state, "arn", Value::string(&found.arn));
    set(
        &mut state,
        "container_insights",
        Value::Bool(found.insights_enabled()),
    );
    set(
        &mut state,
        "default_namespace_arn",
        convert::opt(&found.default_namespace),
    );
    // Tags added or changed outside Terraform show as a difference of tags_all.
    set(&mut state, "tags_all", convert::map(&found.tags));
    set_namespace(&mut state, namespace);
    if let Some(namespace) = namespace {
        set(&mut state, "namespace_name", Value::string(&namespace.name));
    }
    state
}

// ---------------------------------------------------------------------------------------
// diagnostics

fn creation_failed(diags: &mut Diagnostics, spec: &Spec, e: &AwsError) {
    let hint = if e.is_code(&["NamespaceAlreadyExists"]) {
        format!(
            " A Cloud Map namespace named {:?} already exists and does not belong to this \
             cluster: choose another namespace_name, or delete that namespace.",
            spec.namespace_name
        )
    } else {
        " What was created so far is kept in state, so the next apply continues from it and a \
         destroy removes it."
            .to_owned()
    };
    diags.error(
        "Cluster Creation Failed",
        format!("Creating ECS cluster {:?} failed: {e}.{hint}", spec.name),
    );
}

fn read_failed(diags: &mut Diagnostics, name: &str, e: &AwsError) {
    diags.error(
        "Cannot Read Cluster",
        format!("Reading ECS cluster {name:?} failed: {e}."),
    );
}

#[cfg(test)]
mod tests {
    use aws_sdk_ecs::types::{ClusterServiceConnectDefaults, Tag};

    use super::*;

    fn cluster(insights: Option<&str>, namespace: Option<&str>) -> Cluster {
        let mut builder = Cluster::builder()
            .cluster_name("atlas")
            .cluster_arn("arn:aws:ecs:eu-west-1:123456789012:cluster/atlas")
            .status("ACTIVE")
            .tags(Tag::builder().key("team").value("core").build());
        if let Some(value) = insights {
            builder = builder.settings(
                ClusterSetting::builder()
                    .name(ClusterSettingName::ContainerInsights)
                    .value(value)
                    .build(),
            );
        }
        if let Some(arn) = namespace {
            builder = builder.service_connect_defaults(
                ClusterServiceConnectDefaults::builder()
                    .namespace(arn)
                    .build(),
            );
        }
        builder.build()
    }

    #[test]
    fn cluster_names_allow_letters_digits_hyphens_and_underscores() {
        assert!("atlas-staging_2".chars().all(is_cluster_name_char));
        assert!(!"atlas staging".chars().all(is_cluster_name_char));
        assert!(!"atlas.staging".chars().all(is_cluster_name_char));
    }

    #[test]
    fn only_enabled_counts_as_insights_on() {
        let on = FoundCluster::from_cluster(&cluster(Some("enabled"), None)).unwrap();
        assert!(on.insights_enabled());
        for setting in [Some("disabled"), Some("enhanced"), None] {
            let found = FoundCluster::from_cluster(&cluster(setting, None)).unwrap();
            assert!(!found.insights_enabled(), "{setting:?}");
        }
    }

    #[test]
    fn reads_the_default_namespace_and_tags() {
        let arn = "arn:aws:servicediscovery:eu-west-1:123456789012:namespace/ns-abc";
        let found = FoundCluster::from_cluster(&cluster(Some("enabled"), Some(arn))).unwrap();
        assert_eq!(found.default_namespace.as_deref(), Some(arn));
        assert_eq!(found.tags["team"], "core");
        assert_eq!(namespace_id_of(arn), Some("ns-abc"));
        assert_eq!(
            namespace_id_of("arn:aws:servicediscovery:eu-west-1:1:namespace/"),
            None
        );
    }

    #[test]
    fn namespace_name_defaults_to_the_cluster_name_and_carries_the_marker() {
        let planned = Value::object([
            ("name", Value::string("atlas")),
            ("namespace_name", Value::Null),
            ("container_insights", Value::Bool(false)),
            (
                "tags",
                convert::map(&BTreeMap::from([("team".to_owned(), "core".to_owned())])),
            ),
        ]);
        let defaults = BTreeMap::from([("env".to_owned(), "staging".to_owned())]);
        let spec = Spec::from_value(&planned, &defaults);
        assert_eq!(spec.namespace_name, "atlas");
        assert!(!spec.container_insights);
        assert_eq!(spec.tags.len(), 2);
        assert_eq!(spec.namespace_tags()[CLUSTER_TAG], "atlas");
        assert!(!spec.tags.contains_key(CLUSTER_TAG));
    }

    #[test]
    fn the_state_shows_what_aws_has() {
        let arn = "arn:aws:servicediscovery:eu-west-1:123456789012:namespace/ns-other";
        let found = FoundCluster::from_cluster(&cluster(Some("disabled"), Some(arn))).unwrap();
        let base = Value::object([
            ("name", Value::string("atlas")),
            ("container_insights", Value::Bool(true)),
            ("default_namespace_arn", Value::string("arn:mine")),
        ]);
        let ns = Namespace {
            id: "ns-abc".into(),
            arn: "arn:mine".into(),
            name: "atlas".into(),
        };
        let state = state_value(&base, &found, Some(&ns));
        assert_eq!(state.get("container_insights"), Some(&Value::Bool(false)));
        assert_eq!(
            state.get("default_namespace_arn"),
            Some(&Value::string(arn))
        );
        assert_eq!(state.get("namespace_id"), Some(&Value::string("ns-abc")));
        assert_eq!(state.get("id"), Some(&Value::string("atlas")));
    }
}
