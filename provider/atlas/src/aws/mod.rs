//! Everything the resources need from AWS beyond the SDK calls themselves: the clients,
//! one error type, the retry rules for eventual consistency, waiters, tagging, and the
//! batching of reads that sibling resources make together.
//!
//! Resources call the SDK directly for the operations they own, and come here for every
//! decision that must be the same everywhere: which errors are retried, how long a wait
//! may take, how an object is tagged, and how a failure is reported.

mod batch;
mod ec2;
mod elb;
mod error;
mod retry;
mod tags;
mod wait;

pub(crate) use batch::{Batched, Batchers};
pub(crate) use ec2::{filter, interfaces_using};
pub(crate) use elb::{elb_claim, Claim, ElbKind};
pub(crate) use error::AwsError;
pub(crate) use retry::{pause, retry_when, retry_while, Interrupted};
pub(crate) use tags::{ec2_tag, ec2_tag_map, elb_tag_values, tag_spec, TagDiff, NAME_TAG};
pub(crate) use wait::{wait_nat_gateways, NatTarget};

/// The AWS clients of one provider configuration.
#[derive(Debug, Clone)]
pub(crate) struct AwsClients {
    /// EC2: VPCs, subnets, gateways, route tables, endpoints, flow logs.
    pub(crate) ec2: aws_sdk_ec2::Client,
    /// ECS: clusters, task definitions and services.
    pub(crate) ecs: aws_sdk_ecs::Client,
    /// Elastic Load Balancing v2: the ALB, its listeners, rules and target groups.
    pub(crate) elbv2: aws_sdk_elasticloadbalancingv2::Client,
    /// Cloud Map: the HTTP namespace Service Connect uses.
    pub(crate) servicediscovery: aws_sdk_servicediscovery::Client,
    /// CloudWatch Logs: the flow log group.
    pub(crate) logs: aws_sdk_cloudwatchlogs::Client,
    /// IAM: the flow log delivery role.
    pub(crate) iam: aws_sdk_iam::Client,
    /// Kafka (MSK): the public access of existing clusters.
    pub(crate) kafka: aws_sdk_kafka::Client,
    /// The region the clients talk to (`eu-west-1`), empty if the configuration has none.
    pub(crate) region: String,
    /// The reads that sibling resources make together, answered by one call each.
    pub(crate) batches: std::sync::Arc<Batchers>,
}

impl AwsClients {
    /// Clients for every service the provider uses, sharing one configuration.
    pub(crate) fn new(config: &aws_types::SdkConfig) -> Self {
        AwsClients {
            ec2: aws_sdk_ec2::Client::new(config),
            ecs: aws_sdk_ecs::Client::new(config),
            elbv2: aws_sdk_elasticloadbalancingv2::Client::new(config),
            servicediscovery: aws_sdk_servicediscovery::Client::new(config),
            logs: aws_sdk_cloudwatchlogs::Client::new(config),
            iam: aws_sdk_iam::Client::new(config),
            kafka: aws_sdk_kafka::Client::new(config),
            region: config.region().map(ToString::to_string).unwrap_or_default(),
            batches: std::sync::Arc::default(),
        }
    }
}
