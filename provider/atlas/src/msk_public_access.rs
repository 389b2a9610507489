//! `atlas_msk_public_access`: the public-access setting of an existing MSK cluster.
//!
//! AWS lets a provisioned cluster get service-provided public broker addresses only as
//! an update after creation, one connectivity change at a time, and only when clients
//! must authenticate over TLS. The resource owns that one setting of a cluster it does
//! not create: it checks the cluster before changing anything, makes the change with the
//! cluster's current version, waits for the cluster to be `ACTIVE` again, and reads the
//! result back together with the public IAM bootstrap broker string that clients use.
//! Destroying the resource turns public access off again.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_kafka::types::{ClientBroker, Cluster, ClusterState, ClusterType};
use aws_sdk_kafka::types::{ConnectivityInfo, PublicAccess};
use tfplugin::diag::Diagnostics;
use tfplugin::resource::{Context, Plan, Resource, Timeouts};
use tfplugin::schema::{Attribute, Block, Schema};
use tfplugin::validate;
use tfplugin::value::{Type, Value};

use crate::aws::{pause, AwsError, Interrupted};
use crate::convert;
use crate::provider::Shared;

/// The public access type that gives every broker a public address.
const PUBLIC: &str = "SERVICE_PROVIDED_EIPS";

/// The public access type of a cluster reachable from its VPC only.
const DISABLED: &str = "DISABLED";

/// The `atlas_msk_public_access` resource.
#[derive(Debug)]
pub(crate) struct MskPublicAccessResource {
    shared: Arc<Shared>,
}

impl MskPublicAccessResource {
    /// The resource, reading the provider configuration from `shared`.
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        MskPublicAccessResource { shared }
    }
}

#[async_trait]
impl Resource for MskPublicAccessResource {
    fn type_name(&self) -> &'static str {
        "atlas_msk_public_access"
    }

    fn schema(&self) -> Schema {
        Schema::new(Block::new(vec![
            Attribute::computed("id", Type::String)
                .description("The cluster's ARN, also the import id.")
                .use_state_for_unknown(),
            Attribute::required("cluster_arn", Type::String)
                .description("The ARN of the provisioned MSK cluster.")
                .requires_replace()
                .validate(validate::string_length(20, 2048))
                .validate(validate::regex(r"^arn:[a-z-]+:kafka:", "an MSK cluster ARN")),
            Attribute::required("enabled", Type::Bool)
                .description("Whether the brokers have service-provided public addresses (`SERVICE_PROVIDED_EIPS`). AWS allows this only when clients authenticate with IAM, SASL/SCRAM or TLS, encryption in transit is TLS only and unauthenticated access is off."),
            Attribute::computed("public_access_type", Type::String)
                .description("The cluster's public access type as AWS reports it: `SERVICE_PROVIDED_EIPS` or `DISABLED`."),
            Attribute::computed("bootstrap_brokers_public_sasl_iam", Type::String)
                .description("The public bootstrap brokers for IAM authentication (`host:9198`, one per broker); null while public access is off or IAM authentication is not enabled."),
            Attribute::computed("current_version", Type::String)
                .description("The cluster's current version, which changes with every update of the cluster."),
        ])
        .description("The public-access setting of an existing MSK cluster: service-provided public broker addresses, or none."))
    }

    fn timeouts(&self) -> Option<Timeouts> {
        // A connectivity change rolls through every broker; AWS takes tens of minutes.
        Some(Timeouts {
            create: Duration::from_secs(90 * 60),
            read: Duration::from_secs(5 * 60),
            update: Duration::from_secs(90 * 60),
            delete: Duration::from_secs(90 * 60),
        })
    }

    async fn modify_plan(&self, _ctx: &Context, plan: &mut Plan<'_>, _diags: &mut Diagnostics) {
        let arn = plan.get("cluster_arn").clone();
        if arn.is_known() && !arn.is_null() {
            plan.set("id", arn);
        }
        if let Some(enabled) = plan.get("enabled").as_bool() {
            plan.set(
                "public_access_type",
                Value::string(public_access_type(enabled)),
            );
            if !enabled {
                plan.set("bootstrap_brokers_public_sasl_iam", Value::Null);
            }
        }
    }

    async fn create(
        &self,
        ctx: &Context,
        planned: &Value,
        _config: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let configured = self.shared.get(diags)?;
        let arn = convert::string(planned, "cluster_arn");
        let enabled = convert::bool_or(planned, "enabled", false);
        let kafka = &configured.aws.kafka;

        let view = converge(kafka, ctx, &arn, enabled, diags).await?;

        let bootstrap = match public_bootstrap(kafka, &view).await {
            Ok(bootstrap) => bootstrap,
            Err(e) => {
                read_failed(diags, &arn, &e);
                None
            }
        };
        Some(state_value(planned, &view, bootstrap))
    }

    async fn read(
        &self,
        _ctx: &Context,
        current: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let configured = self.shared.get(diags)?;
        let arn = convert::opt_string(current, "cluster_arn")
            .unwrap_or_else(|| convert::string(current, "id"));
        let kafka = &configured.aws.kafka;

        let view = match describe(kafka, &arn).await {
            Ok(Some(view)) => view,
            Ok(None) => {
                diags.warning(
                    "MSK Cluster Gone",
                    format!(
                        "The MSK cluster {arn} no longer exists, so its atlas_msk_public_access \
                         was removed from state. Remove the resource from the configuration, or \
                         point it at another cluster."
                    ),
                );
                return None;
            }
            Err(e) => {
                read_failed(diags, &arn, &e);
                return Some(current.clone());
            }
        };

        match public_bootstrap(kafka, &view).await {
            Ok(bootstrap) => Some(state_value(current, &view, bootstrap)),
            Err(e) => {
                read_failed(diags, &arn, &e);
                Some(current.clone())
            }
        }
    }

    async fn update(
        &self,
        ctx: &Context,
        prior: &Value,
        planned: &Value,
        config: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        // Only `enabled` changes in place, and create already converges on it.
        match self.create(ctx, planned, config, diags).await {
            Some(state) => Some(state),
            None => Some(prior.clone()),
        }
    }

    async fn delete(&self, ctx: &Context, prior: &Value, diags: &mut Diagnostics) {
        let Some(configured) = self.shared.get(diags) else {
            return;
        };
        let arn = convert::string(prior, "cluster_arn");
        // Turning public access off on a cluster that is gone has nothing left to do.
        let _ = converge(&configured.aws.kafka, ctx, &arn, false, diags).await;
    }

    async fn import(&self, _ctx: &Context, id: &str, diags: &mut Diagnostics) -> Option<Value> {
        if !id.starts_with("arn:") || !id.contains(":kafka:") {
            diags.error(
                "Invalid Import ID",
                format!("The import id must be an MSK cluster ARN, but it is {id:?}."),
            );
            return None;
        }
        let mut state = tfplugin::plan::null_object(&self.schema().value_type());
        // The runtime adds the timeouts block to the schema; it must be present, null.
        tfplugin::plan::set_attr(&mut state, tfplugin::plan::TIMEOUTS_BLOCK, Value::Null);
        tfplugin::plan::set_attr(&mut state, "id", Value::string(id));
        tfplugin::plan::set_attr(&mut state, "cluster_arn", Value::string(id));
        Some(state)
    }
}

/// Brings the cluster's public access to `enabled`, one connectivity change at most, and
/// returns the cluster as it is afterwards. `None` after an error diagnostic, and when
/// turning public access off on a cluster that no longer exists (with no diagnostic).
async fn converge(
    kafka: &aws_sdk_kafka::Client,
    ctx: &Context,
    arn: &str,
    enabled: bool,
    diags: &mut Diagnostics,
) -> Option<ClusterView> {
    let wanted = public_access_type(enabled);

    // 1. The cluster as it is, checked before anything changes.
    let view = match describe(kafka, arn).await {
        Ok(Some(view)) => view,
        Ok(None) if !enabled => {
            tracing::debug!(cluster_arn = %arn, "msk cluster already gone");
            return None;
        }
        Ok(None) => {
            diags.error(
                "MSK Cluster Not Found",
                format!("No MSK cluster {arn} exists in this account and region. Check the ARN."),
            );
            return None;
        }
        Err(e) => {
            read_failed(diags, arn, &e);
            return None;
        }
    };
    if view.public_access_type == wanted {
        tracing::debug!(cluster_arn = %arn, public_access_type = wanted, "public access already as wanted");
        return Some(view);
    }
    if let Some(reason) = view.refusal(enabled) {
        let summary = if view.state == ClusterState::Active {
            "Public Access Not Allowed"
        } else {
            "MSK Cluster Not Active"
        };
        diags.error(
            summary,
            format!("The public access of MSK cluster {arn} cannot be set to {wanted}: {reason}."),
        );
        return None;
    }

    // 2. The change, against the version just read: AWS refuses it if anything else
    //    changed the cluster since.
    tracing::debug!(cluster_arn = %arn, public_access_type = wanted, current_version = %view.current_version, "updating msk connectivity");
    let operation_arn = match kafka
        .update_connectivity()
        .cluster_arn(arn)
        .current_version(&view.current_version)
        .connectivity_info(
            ConnectivityInfo::builder()
                .public_access(PublicAccess::builder().r#type(wanted).build())
                .build(),
        )
        .send()
        .await
    {
        Ok(answer) => answer
            .cluster_operation_arn()
            .unwrap_or_default()
            .to_owned(),
        Err(e) => {
            let e = AwsError::from_sdk("UpdateConnectivity", Some(arn), e);
            update_failed(diags, arn, wanted, &e);
            return None;
        }
    };

    // 3. Wait for the cluster to be ACTIVE again, at a new version.
    let view = match wait_active(kafka, arn, &view.current_version, ctx).await {
        Ok(view) => view,
        Err(e) => {
            update_failed(diags, arn, wanted, &e);
            return None;
        }
    };

    // 4. The change must show: a failed operation also ends with an ACTIVE cluster.
    if view.public_access_type != wanted {
        diags.error(
            "MSK Public Access Update Failed",
            format!(
                "The connectivity update of MSK cluster {arn} ended, but its public access is \
                 {} rather than {wanted}. See the cluster operation {operation_arn} for why, \
                 then apply again.",
                view.public_access_type
            ),
        );
        return None;
    }
    Some(view)
}

/// What the resource needs to know about a cluster.
#[derive(Debug, Clone)]
struct ClusterView {
    arn: String,
    state: ClusterState,
    cluster_type: Option<ClusterType>,
    current_version: String,
    public_access_type: String,
    /// Why AWS would refuse public access, if it would.
    public_access_blocker: Option<&'static str>,
    iam_enabled: bool,
}

impl ClusterView {
    fn from_cluster(arn: &str, cluster: &Cluster) -> Result<Self, AwsError> {
        let operation = "DescribeClusterV2";
        let provisioned = cluster.provisioned();
        let auth = provisioned.and_then(|p| p.client_authentication());
        let sasl = auth.and_then(|a| a.sasl());
        let iam_enabled = sasl
            .and_then(|s| s.iam())
            .and_then(|i| i.enabled())
            .unwrap_or(false);
        let scram_enabled = sasl
            .and_then(|s| s.scram())
            .and_then(|s| s.enabled())
            .unwrap_or(false);
        let tls_enabled = auth.and_then(|a| a.tls()).is_some_and(|tls| {
            tls.enabled().unwrap_or(false) || !tls.certificate_authority_arn_list().is_empty()
        });
        let unauthenticated = auth
            .and_then(|a| a.unauthenticated())
            .and_then(|u| u.enabled())
            .unwrap_or(false);
        // AWS's default for encryption in transit between clients and brokers is TLS only.
        let client_broker = provisioned
            .and_then(|p| p.encryption_info())
            .and_then(|e| e.encryption_in_transit())
            .and_then(|e| e.client_broker())
            .cloned()
            .unwrap_or(ClientBroker::Tls);
        let public_access_blocker = if unauthenticated {
            Some("unauthenticated access is enabled; turn it off first")
        } else if client_broker != ClientBroker::Tls {
            Some("encryption in transit between clients and brokers must be TLS only")
        } else if !(iam_enabled || scram_enabled || tls_enabled) {
            Some("clients must authenticate with IAM, SASL/SCRAM or TLS, and none is enabled")
        } else {
            None
        };
        let public_access_type = provisioned
            .and_then(|p| p.broker_node_group_info())
            .and_then(|b| b.connectivity_info())
            .and_then(|c| c.public_access())
            .and_then(|p| p.r#type())
            .unwrap_or(DISABLED)
            .to_owned();
        Ok(ClusterView {
            arn: arn.to_owned(),
            state: cluster
                .state()
                .cloned()
                .ok_or_else(|| AwsError::missing(operation, Some(arn), "state"))?,
            cluster_type: cluster.cluster_type().cloned(),
            current_version: cluster
                .current_version()
                .ok_or_else(|| AwsError::missing(operation, Some(arn), "currentVersion"))?
                .to_owned(),
            public_access_type,
            public_access_blocker,
            iam_enabled,
        })
    }

    /// Why the public access cannot be changed now, if it cannot.
    fn refusal(&self, enabled: bool) -> Option<String> {
        if self.cluster_type == Some(ClusterType::Serverless) {
            return Some("it is a serverless cluster, which has no public access".to_owned());
        }
        if self.state != ClusterState::Active {
            return Some(format!(
                "the cluster is {}, and AWS changes connectivity only while it is ACTIVE; \
                 apply again once it is",
                self.state.as_str()
            ));
        }
        if enabled {
            return self.public_access_blocker.map(str::to_owned);
        }
        None
    }
}

/// The cluster, or `None` when it does not exist.
async fn describe(
    kafka: &aws_sdk_kafka::Client,
    arn: &str,
) -> Result<Option<ClusterView>, AwsError> {
    let operation = "DescribeClusterV2";
    tracing::trace!(cluster_arn = %arn, "describing msk cluster");
    let answer = match kafka.describe_cluster_v2().cluster_arn(arn).send().await {
        Ok(answer) => answer,
        Err(e) => {
            let e = AwsError::from_sdk(operation, Some(arn), e);
            // NotFoundException: the cluster was deleted, or never existed.
            if e.is_code(&["NotFoundException"]) {
                return Ok(None);
            }
            return Err(e);
        }
    };
    let cluster = answer
        .cluster_info()
        .ok_or_else(|| AwsError::missing(operation, Some(arn), "clusterInfo"))?;
    if cluster.state() == Some(&ClusterState::Deleting) {
        return Ok(None);
    }
    ClusterView::from_cluster(arn, cluster).map(Some)
}

/// The public IAM bootstrap broker string, when public access is on and IAM enabled.
async fn public_bootstrap(
    kafka: &aws_sdk_kafka::Client,
    view: &ClusterView,
) -> Result<Option<String>, AwsError> {
    if view.public_access_type != PUBLIC || !view.iam_enabled {
        return Ok(None);
    }
    let answer = kafka
        .get_bootstrap_brokers()
        .cluster_arn(&view.arn)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("GetBootstrapBrokers", Some(&view.arn), e))?;
    Ok(answer
        .bootstrap_broker_string_public_sasl_iam()
        .map(str::to_owned))
}

/// Polls the cluster until it is `ACTIVE` at a version other than `old_version`.
///
/// Right after `UpdateConnectivity` the cluster may still show its old state for a
/// moment, so a cluster `ACTIVE` at the old version counts as not started yet.
async fn wait_active(
    kafka: &aws_sdk_kafka::Client,
    arn: &str,
    old_version: &str,
    ctx: &Context,
) -> Result<ClusterView, AwsError> {
    let operation = "DescribeClusterV2";
    let mut delay = Duration::from_secs(1);
    loop {
        let Some(view) = describe(kafka, arn).await? else {
            return Err(AwsError::item(
                operation,
                Some(arn),
                Some("NotFoundException"),
                Some("the cluster was deleted during the connectivity update"),
            ));
        };
        match view.state {
            ClusterState::Active if view.current_version != old_version => return Ok(view),
            ClusterState::Failed => {
                return Err(AwsError::item(
                    operation,
                    Some(arn),
                    Some("FAILED"),
                    Some("the cluster failed during the connectivity update"),
                ));
            }
            _ => {}
        }

        tracing::debug!(cluster_arn = %arn, state = view.state.as_str(), "waiting for msk cluster");
        if let Err(stop) = pause(delay, ctx.deadline(), ctx.cancel_token()).await {
            return Err(match stop {
                Interrupted::Cancelled => AwsError::Cancelled {
                    operation,
                    resource: Some(arn.to_owned()),
                },
                Interrupted::Deadline => AwsError::Timeout {
                    operation,
                    resource: Some(arn.to_owned()),
                    waiting_for: format!(
                        "the cluster to be ACTIVE (it is {})",
                        view.state.as_str()
                    ),
                    last: None,
                },
            });
        }
        delay = (delay * 2).min(Duration::from_secs(30));
    }
}

fn public_access_type(enabled: bool) -> &'static str {
    if enabled {
        PUBLIC
    } else {
        DISABLED
    }
}

/// The state for `view`, keeping the rest of `base` (such as its timeouts).
fn state_value(base: &Value, view: &ClusterView, bootstrap: Option<String>) -> Value {
    let mut state = base.clone();
    let mut set = |name: &str, value: Value| tfplugin::plan::set_attr(&mut state, name, value);
    set("id", Value::string(&view.arn));
    set("cluster_arn", Value::string(&view.arn));
    set("enabled", Value::Bool(view.public_access_type == PUBLIC));
    set(
        "public_access_type",
        Value::string(&view.public_access_type),
    );
    set("current_version", Value::string(&view.current_version));
    set(
        "bootstrap_brokers_public_sasl_iam",
        convert::opt(&bootstrap),
    );
    state
}

fn read_failed(diags: &mut Diagnostics, arn: &str, e: &AwsError) {
    diags.error(
        "Cannot Read MSK Cluster",
        format!("Reading MSK cluster {arn} failed: {e}."),
    );
}

fn update_failed(diags: &mut Diagnostics, arn: &str, wanted: &str, e: &AwsError) {
    diags.error(
        "MSK Public Access Update Failed",
        format!(
            "Setting the public access of MSK cluster {arn} to {wanted} failed: {e}. The next \
             plan shows what still differs; apply again once the cluster is ACTIVE."
        ),
    );
}

#[cfg(test)]
mod tests {
    use aws_sdk_kafka::types::{
        BrokerNodeGroupInfo, ClientAuthentication, EncryptionInTransit, EncryptionInfo, Iam,
        Provisioned, Sasl, Unauthenticated,
    };

    use super::*;

    const ARN: &str = "arn:aws:kafka:eu-west-1:123456789012:cluster/c/1";

    fn cluster(state: ClusterState, auth: ClientAuthentication, tls_only: bool) -> Cluster {
        let client_broker = if tls_only {
            ClientBroker::Tls
        } else {
            ClientBroker::TlsPlaintext
        };
        let provisioned = Provisioned::builder()
            .broker_node_group_info(
                BrokerNodeGroupInfo::builder()
                    .instance_type("kafka.m5.large")
                    .client_subnets("subnet-1")
                    .build(),
            )
            .client_authentication(auth)
            .encryption_info(
                EncryptionInfo::builder()
                    .encryption_in_transit(
                        EncryptionInTransit::builder()
                            .client_broker(client_broker)
                            .build(),
                    )
                    .build(),
            )
            .number_of_broker_nodes(3)
            .build();
        Cluster::builder()
            .cluster_arn(ARN)
            .cluster_type(ClusterType::Provisioned)
            .state(state)
            .current_version("K1")
            .provisioned(provisioned)
            .build()
    }

    fn iam() -> ClientAuthentication {
        ClientAuthentication::builder()
            .sasl(
                Sasl::builder()
                    .iam(Iam::builder().enabled(true).build())
                    .build(),
            )
            .build()
    }

    fn view(cluster: &Cluster) -> ClusterView {
        ClusterView::from_cluster(ARN, cluster).unwrap()
    }

    #[test]
    fn iam_over_tls_allows_public_access() {
        let view = view(&cluster(ClusterState::Active, iam(), true));
        assert_eq!(view.public_access_type, DISABLED);
        assert!(view.iam_enabled);
        assert_eq!(view.refusal(true), None);
    }

    #[test]
    fn unauthenticated_access_forbids_public_access_but_not_turning_it_off() {
        let auth = ClientAuthentication::builder()
            .sasl(
                Sasl::builder()
                    .iam(Iam::builder().enabled(true).build())
                    .build(),
            )
            .unauthenticated(Unauthenticated::builder().enabled(true).build())
            .build();
        let view = view(&cluster(ClusterState::Active, auth, true));
        assert!(view.refusal(true).unwrap().contains("unauthenticated"));
        assert_eq!(view.refusal(false), None);
    }

    #[test]
    fn plaintext_listener_forbids_public_access() {
        let view = view(&cluster(ClusterState::Active, iam(), false));
        assert!(view.refusal(true).unwrap().contains("TLS only"));
    }

    #[test]
    fn no_client_authentication_forbids_public_access() {
        let auth = ClientAuthentication::builder().build();
        let view = view(&cluster(ClusterState::Active, auth, true));
        assert!(view
            .refusal(true)
            .unwrap()
            .contains("IAM, SASL/SCRAM or TLS"));
    }

    #[test]
    fn a_cluster_not_active_refuses_any_change() {
        let view = view(&cluster(ClusterState::Updating, iam(), true));
        assert!(view.refusal(true).unwrap().contains("UPDATING"));
        assert!(view.refusal(false).unwrap().contains("UPDATING"));
    }
}
