//! The prerequisites of `atlas_service` tests, made through the AWS SDK (and boto3 for
//! the one ACM certificate): a VPC with two private subnets and a group, an ECS cluster
//! whose Service Connect default is a Cloud Map HTTP namespace, and an internet-facing
//! ALB with an HTTPS listener forwarding to a default target group.
//!
//! They stand in for `atlas_network`, `atlas_cluster` and `atlas_ingress`, so that the
//! service tests depend on nothing but the emulator.

use aws_sdk_ecs::types::ClusterServiceConnectDefaultsRequest;
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, Certificate, LoadBalancerSchemeEnum, LoadBalancerTypeEnum,
    ProtocolEnum, TargetTypeEnum,
};

use crate::{Emulator, Workspace, REGION};

/// The name of the test cluster and of its namespace.
pub const CLUSTER: &str = "atlas-test";

/// Everything the test made, by id.
#[derive(Debug, Clone)]
pub struct ServiceFixture {
    /// The VPC.
    pub vpc_id: String,
    /// Two private subnets in two zones.
    pub subnet_ids: Vec<String>,
    /// The tasks' security group.
    pub security_group_id: String,
    /// The cluster ARN.
    pub cluster_arn: String,
    /// The Cloud Map namespace ARN, the cluster's Service Connect default.
    pub namespace_arn: String,
    /// The HTTPS listener ARN.
    pub listener_arn: String,
    /// The listener's default target group ARN.
    pub default_target_group_arn: String,
}

impl ServiceFixture {
    /// Makes every prerequisite on `emulator`.
    ///
    /// # Panics
    ///
    /// When the emulator refuses any of it.
    pub async fn create(emulator: &Emulator) -> ServiceFixture {
        let config = emulator.sdk_config().await;
        let ec2 = aws_sdk_ec2::Client::new(&config);
        let ecs = aws_sdk_ecs::Client::new(&config);
        let elbv2 = aws_sdk_elasticloadbalancingv2::Client::new(&config);
        let sd = aws_sdk_servicediscovery::Client::new(&config);

        let vpc_id = ec2
            .create_vpc()
            .cidr_block("10.42.0.0/16")
            .send()
            .await
            .expect("create the VPC")
            .vpc()
            .and_then(|v| v.vpc_id())
            .expect("a VPC id")
            .to_owned();
        let mut subnet_ids = Vec::new();
        for (i, zone) in ["a", "b"].iter().enumerate() {
            let subnet = ec2
                .create_subnet()
                .vpc_id(&vpc_id)
                .cidr_block(format!("10.42.{}.0/24", i + 1))
                .availability_zone(format!("{REGION}{zone}"))
                .send()
                .await
                .expect("create a subnet");
            subnet_ids.push(
                subnet
                    .subnet()
                    .and_then(|s| s.subnet_id())
                    .expect("a subnet id")
                    .to_owned(),
            );
        }
        let security_group_id = ec2
            .create_security_group()
            .group_name("atlas-test-tasks")
            .description("tasks")
            .vpc_id(&vpc_id)
            .send()
            .await
            .expect("create the security group")
            .group_id()
            .expect("a group id")
            .to_owned();

        let operation = sd
            .create_http_namespace()
            .name(CLUSTER)
            .send()
            .await
            .expect("create the namespace")
            .operation_id()
            .expect("an operation id")
            .to_owned();
        let namespace_id = sd
            .get_operation()
            .operation_id(&operation)
            .send()
            .await
            .expect("get the namespace operation")
            .operation()
            .and_then(|o| o.targets())
            .and_then(|t| t.get(&aws_sdk_servicediscovery::types::OperationTargetType::Namespace))
            .expect("the namespace id")
            .to_owned();
        let namespace_arn = sd
            .get_namespace()
            .id(&namespace_id)
            .send()
            .await
            .expect("get the namespace")
            .namespace()
            .and_then(|n| n.arn())
            .expect("a namespace ARN")
            .to_owned();
        let cluster_arn = ecs
            .create_cluster()
            .cluster_name(CLUSTER)
            .service_connect_defaults(
                ClusterServiceConnectDefaultsRequest::builder()
                    .namespace(&namespace_arn)
                    .build()
                    .expect("service connect defaults"),
            )
            .send()
            .await
            .expect("create the cluster")
            .cluster()
            .and_then(|c| c.cluster_arn())
            .expect("a cluster ARN")
            .to_owned();

        let certificate_arn = emulator.create_certificate("*.example.com");
        let alb = elbv2
            .create_load_balancer()
            .name("atlas-test")
            .set_subnets(Some(subnet_ids.clone()))
            .security_groups(&security_group_id)
            .scheme(LoadBalancerSchemeEnum::InternetFacing)
            .r#type(LoadBalancerTypeEnum::Application)
            .send()
            .await
            .expect("create the ALB");
        let alb_arn = alb.load_balancers()[0]
            .load_balancer_arn()
            .expect("an ALB ARN")
            .to_owned();
        let default_target_group_arn = elbv2
            .create_target_group()
            .name("atlas-test-default")
            .protocol(ProtocolEnum::Http)
            .port(8080)
            .vpc_id(&vpc_id)
            .target_type(TargetTypeEnum::Ip)
            .health_check_path("/health")
            .send()
            .await
            .expect("create the default target group")
            .target_groups()[0]
            .target_group_arn()
            .expect("a target group ARN")
            .to_owned();
        let listener_arn = elbv2
            .create_listener()
            .load_balancer_arn(&alb_arn)
            .protocol(ProtocolEnum::Https)
            .port(443)
            .certificates(
                Certificate::builder()
                    .certificate_arn(&certificate_arn)
                    .build(),
            )
            .ssl_policy("ELBSecurityPolicy-TLS13-1-2-2021-06")
            .default_actions(
                Action::builder()
                    .r#type(ActionTypeEnum::Forward)
                    .target_group_arn(&default_target_group_arn)
                    .build(),
            )
            .send()
            .await
            .expect("create the HTTPS listener")
            .listeners()[0]
            .listener_arn()
            .expect("a listener ARN")
            .to_owned();

        ServiceFixture {
            vpc_id,
            subnet_ids,
            security_group_id,
            cluster_arn,
            namespace_arn,
            listener_arn,
            default_target_group_arn,
        }
    }

    /// Writes `terraform.tfvars` with the fixture's ids for the `service` root.
    pub fn write_tfvars(&self, workspace: &Workspace<'_>) {
        let list = |items: &[String]| {
            let quoted: Vec<String> = items.iter().map(|i| format!("\"{i}\"")).collect();
            format!("[{}]", quoted.join(", "))
        };
        workspace.write_file(
            "terraform.tfvars",
            &format!(
                "cluster_arn              = \"{}\"\n\
                 default_target_group_arn = \"{}\"\n\
                 listener_arn             = \"{}\"\n\
                 security_group_ids       = {}\n\
                 subnet_ids               = {}\n",
                self.cluster_arn,
                self.default_target_group_arn,
                self.listener_arn,
                list(std::slice::from_ref(&self.security_group_id)),
                list(&self.subnet_ids),
            ),
        );
    }
}
